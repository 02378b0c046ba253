from django.contrib import admin

from compensation.models import CompAssignment, CompPeriod, CompPlan, Dispute, Spiff, Statement
from compensation.services import comp_plan_changed


@admin.register(CompPlan)
class CompPlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "version",
        "valid_from",
        "valid_to",
        "measure",
        "basis",
        "tier_on",
        "mode",
        "cap_kind",
        "draw_kind",
    )
    search_fields = ("code", "name")
    readonly_fields = ("version",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            comp_plan_changed(plan=obj, fields=form.changed_data, actor=request.user)


@admin.register(CompAssignment)
class CompAssignmentAdmin(admin.ModelAdmin):
    list_display = ("rep", "plan", "valid_from", "valid_to", "quota")
    list_filter = ("plan",)
    search_fields = ("rep__username",)
    raw_id_fields = ("rep",)


@admin.register(Spiff)
class SpiffAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "start", "end", "kind", "amount", "budget", "budget_used")
    readonly_fields = ("budget_used", "source_alert_id", "created_by")


@admin.register(CompPeriod)
class CompPeriodAdmin(admin.ModelAdmin):
    list_display = ("period_start", "status", "run_status", "statement_count", "closed_at")

    def has_change_permission(self, request, obj=None):
        return False  # periods close through the period-close page or the API


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ("rep", "period_start", "plan_code", "status", "total")
    list_filter = ("status", "period_start")

    def has_change_permission(self, request, obj=None):
        return False  # statements are computed; closed ones are immutable

    def has_add_permission(self, request):
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ("id", "line", "raised_by", "status", "answered_by", "created_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Dispute._meta.fields]
