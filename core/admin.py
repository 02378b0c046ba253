from django.contrib import admin

from core.models import AuditEvent, Comment, OrganisationSettings, Profile


@admin.register(OrganisationSettings)
class OrganisationSettingsAdmin(admin.ModelAdmin):
    list_display = ("name", "currency", "planning_bucket", "fiscal_year_start_month", "demo_seed")


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


from django import forms  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from core.api.permissions import SCOPES, scopes_clean  # noqa: E402
from core.errors import ApplicationError  # noqa: E402
from core.models import ApiClient, ApiToken, IdempotencyRecord, IngestBatch  # noqa: E402
from core.services import api_token_revoke  # noqa: E402


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    fields = ("prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # tokens are issued by `manage.py create_api_client` (shown once)


class ApiClientForm(forms.ModelForm):
    """Scopes as check boxes; an empty or unknown scope list is refused with the reason."""

    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("A write scope includes its read scope; plans:run and forecasts:run include plans:read."),
    )

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "rate_limit", "is_active")

    def clean_scopes(self):
        try:
            return scopes_clean(self.cleaned_data.get("scopes") or [])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ("name", "scopes", "rate_limit", "is_active", "created_at")
    readonly_fields = ("user",)
    inlines = [ApiTokenInline]

    def has_add_permission(self, request):
        return False  # `manage.py create_api_client` creates the service user and shows the token once


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("client", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("client",)
    readonly_fields = ("client", "prefix", "token_hash", "last_used_at")
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)

    def has_add_permission(self, request):
        return False


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "resource",
        "client",
        "user",
        "status",
        "rows",
        "created",
        "updated",
        "unchanged",
        "error_count",
        "duration_ms",
        "created_at",
    )
    list_filter = ("resource", "status", "source")
    readonly_fields = [f.name for f in IngestBatch._meta.fields]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("client_key", "key", "path", "status_code", "created_at")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
