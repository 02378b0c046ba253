from django.contrib import admin

from scenarios.models import QuotaChangeRequest, Scenario


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "cycle", "status", "finished_at", "promoted_at")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = ("kpis", "alerts", "family_months", "base", "promotion", "promoted_at", "promoted_by")


@admin.register(QuotaChangeRequest)
class QuotaChangeRequestAdmin(admin.ModelAdmin):
    """Quota change requests from promoted scenarios: the sales managers accept or reject them
    here and change the quota plan themselves."""

    list_display = (
        "id",
        "cycle",
        "family",
        "territory",
        "period_from",
        "period_to",
        "factor",
        "status",
        "requested_by",
    )
    list_filter = ("status",)
    list_editable = ("status",)
