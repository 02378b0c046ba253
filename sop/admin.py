from django.contrib import admin

from sop.models import (
    CapacityAlert,
    CapacityCalendar,
    CycleCalendarDay,
    PlanCycle,
    PlanRun,
    Plant,
    Routing,
    WorkCenter,
)


@admin.register(Plant)
class PlantAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(WorkCenter)
class WorkCenterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "plant")
    list_filter = ("plant",)
    search_fields = ("code", "name")


@admin.register(CapacityCalendar)
class CapacityCalendarAdmin(admin.ModelAdmin):
    list_display = (
        "work_center",
        "period_start",
        "available_hours",
        "shifts",
        "hours_per_shift",
        "working_days",
        "efficiency",
        "downtime_hours",
    )
    list_filter = ("work_center__plant",)
    search_fields = ("work_center__code",)
    list_select_related = ("work_center",)


@admin.register(Routing)
class RoutingAdmin(admin.ModelAdmin):
    list_display = ("product", "work_center", "hours_per_unit")
    search_fields = ("product__sku", "work_center__code")
    raw_id_fields = ("product",)
    list_select_related = ("product", "work_center")


@admin.register(PlanRun)
class PlanRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "percent",
        "as_of",
        "trigger",
        "plan_lines_count",
        "alerts_raised",
        "alerts_resolved",
        "finished_at",
    )
    list_filter = ("status", "trigger")


@admin.register(CapacityAlert)
class CapacityAlertAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "severity", "status", "period_start", "amount", "unit", "assignee", "run")
    list_filter = ("type", "severity", "status")
    search_fields = ("fingerprint", "message")
    raw_id_fields = (
        "product",
        "work_center",
        "family",
        "territory",
        "assignee",
        "acknowledged_by",
        "resolved_by",
        "run",
        "first_run",
        "resolved_by_run",
    )


@admin.register(CycleCalendarDay)
class CycleCalendarDayAdmin(admin.ModelAdmin):
    """The cycle calendar: the working day of the run month each stage is due on. Checked when
    a cycle is opened (``sop.cycle_services.cycle_calendar_get``: offsets in order, 1–40)."""

    list_display = ("stage", "working_day")


@admin.register(PlanCycle)
class PlanCycleAdmin(admin.ModelAdmin):
    list_display = ("month", "stage", "status", "published_at", "lines_count")
    readonly_fields = ("revision", "lines_count", "warnings")
