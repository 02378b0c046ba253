from django.contrib import admin

from core.models import AuditEvent, Comment, OrganisationSettings, Period, Profile


@admin.register(OrganisationSettings)
class OrganisationSettingsAdmin(admin.ModelAdmin):
    list_display = ("name", "currency", "planning_bucket", "fiscal_year_start_month", "demo_seed")


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ("label", "start", "end", "kind")
    date_hierarchy = "start"


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "manager", "title", "hire_date")
    search_fields = ("user__username", "user__last_name")
    raw_id_fields = ("user", "manager")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("created_at", "author", "content_type", "object_id", "text")
    list_filter = ("content_type",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "actor_label", "action", "content_type", "object_id")
    list_filter = ("action", "content_type")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
