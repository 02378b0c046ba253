"""Production capacity, plan runs with their stored results, and capacity alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, RunRecord
from core.roles import SALES_MANAGER
from core.scoping import ScopedQuerySet
from territories.models import ALL_SALES_ROWS, managed_subtree_q

# ---------------------------------------------------------------------------------------
# Production capacity
# ---------------------------------------------------------------------------------------

#: roles that see all supply data (capacity, plans, all alerts)
SUPPLY_ROWS = frozenset({"admin", "ops_lead", "planner", "executive", "erp"})
#: roles that may acknowledge, assign and resolve alerts
ALERT_HANDLERS = frozenset({"admin", "ops_lead", "planner"})


class SupplyQuerySet(ScopedQuerySet):
    all_rows_roles = SUPPLY_ROWS


class PlanQuerySet(ScopedQuerySet):
    """Plan runs and family plans: sales managers read them too (quotas are checked on them)."""

    all_rows_roles = SUPPLY_ROWS | {SALES_MANAGER}


class Plant(BaseModel):
    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    objects = SupplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("plant")
        verbose_name_plural = _("plants")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WorkCenter(BaseModel):
    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    plant = models.ForeignKey(Plant, on_delete=models.PROTECT, related_name="work_centers", verbose_name=_("plant"))

    objects = SupplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("work center")
        verbose_name_plural = _("work centers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CapacityCalendar(BaseModel):
    """Hours a work center can work in a period (month).

    Either pushed as ``available_hours`` by the ERP, or built by the operations lead from
    shifts × hours per shift × working days × efficiency − planned downtime.
    """

    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.CASCADE, related_name="calendar", verbose_name=_("work center")
    )
    period_start = models.DateField(help_text="first day of the month", verbose_name=_("period start"))
    available_hours = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("available hours"))
    shifts = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("shifts"))
    hours_per_shift = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, verbose_name=_("hours per shift")
    )
    working_days = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("working days"))
    efficiency = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, verbose_name=_("efficiency")
    )
    downtime_hours = models.DecimalField(max_digits=10, decimal_places=2, default=0, verbose_name=_("downtime hours"))

    objects = SupplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("capacity calendar")
        verbose_name_plural = _("capacity calendars")
        ordering = ["work_center_id", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["work_center", "period_start"], name="capacity_calendar_key"),
            models.CheckConstraint(condition=Q(available_hours__gte=0), name="capacity_hours_non_negative"),
            models.CheckConstraint(condition=Q(period_start__day=1), name="capacity_period_month_start"),
        ]

    def __str__(self) -> str:
        return f"{self.work_center_id} {self.period_start}: {self.available_hours} h"


class Routing(BaseModel):
    """Hours one unit of a product takes on a work center."""

    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="routings", verbose_name=_("product")
    )
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.CASCADE, related_name="routings", verbose_name=_("work center")
    )
    hours_per_unit = models.DecimalField(max_digits=10, decimal_places=4, verbose_name=_("hours per unit"))

    objects = SupplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        ordering = ["product_id", "work_center_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "work_center"], name="routing_key"),
            models.CheckConstraint(condition=Q(hours_per_unit__gt=0), name="routing_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}→{self.work_center_id}: {self.hours_per_unit} h/unit"


# ---------------------------------------------------------------------------------------
# Plan runs and their stored results
# ---------------------------------------------------------------------------------------


class PlanRun(RunRecord):
    """One reconciliation of demand and targets against inventory and capacity."""

    as_of = models.DateField(verbose_name=_("as of"))
    horizon_start = models.DateField(help_text="first day of the month of as_of", verbose_name=_("horizon start"))
    horizon_periods = models.PositiveSmallIntegerField(default=18, verbose_name=_("horizon periods"))
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("triggered by"),
    )
    forecast_run = models.ForeignKey(
        "forecasting.ForecastRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_runs",
        help_text="the forecast whose demand was planned",
        verbose_name=_("forecast run"),
    )
    products_count = models.PositiveIntegerField(default=0, verbose_name=_("products"))
    work_centers_count = models.PositiveIntegerField(default=0, verbose_name=_("work centers"))
    plan_lines_count = models.PositiveIntegerField(default=0, verbose_name=_("plan lines"))
    alerts_raised = models.PositiveIntegerField(default=0, verbose_name=_("alerts raised"))
    alerts_updated = models.PositiveIntegerField(default=0, verbose_name=_("alerts updated"))
    alerts_resolved = models.PositiveIntegerField(default=0, verbose_name=_("alerts resolved"))
    warnings = models.JSONField(default=list, blank=True, verbose_name=_("warnings"))

    objects = PlanQuerySet.as_manager()

    class Meta(RunRecord.Meta):
        verbose_name = _("plan run")
        verbose_name_plural = _("plan runs")
        pass

    def __str__(self) -> str:
        return f"plan run {self.pk} ({self.status})"

    @property
    def is_stalled(self) -> bool:
        """A plan run waiting for its forecast run is as stalled as that run."""
        if self.status == self.Status.QUEUED and self.forecast_run_id and self.forecast_run.is_active:
            return self.forecast_run.is_stalled
        return super().is_stalled


class PlanLine(BaseModel):
    """Supply plan of one product in one period (unconstrained need and constrained plan)."""

    run = models.ForeignKey(PlanRun, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    demand_qty = models.FloatField()
    forecast_qty = models.FloatField()
    target_qty = models.FloatField()
    safety_stock = models.FloatField()
    projected_inventory_before = models.FloatField()
    production_required = models.FloatField()
    constrained_production = models.FloatField()
    prebuild_qty = models.FloatField()
    pulled_forward_qty = models.FloatField()
    shortfall_qty = models.FloatField()
    projected_inventory_after = models.FloatField()
    feasible_qty = models.FloatField()
    unserved_qty = models.FloatField()

    objects = SupplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        ordering = ["run", "product_id", "period_start"]
        constraints = [models.UniqueConstraint(fields=["run", "product", "period_start"], name="plan_line_key")]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.product_id} {self.period_start}"


class WorkCenterLoad(BaseModel):
    """Load of one work center in one period."""

    run = models.ForeignKey(PlanRun, on_delete=models.CASCADE, related_name="loads")
    work_center = models.ForeignKey(WorkCenter, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    available_hours = models.FloatField()
    load_hours = models.FloatField()
    constrained_load_hours = models.FloatField()
    utilisation = models.FloatField(null=True)
    constrained_utilisation = models.FloatField(null=True)
    overload_hours = models.FloatField()
    prebuilt_hours = models.FloatField()
    shortfall_hours = models.FloatField()
    free_hours = models.FloatField()

    objects = SupplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("work center load")
        verbose_name_plural = _("work center loads")
        ordering = ["run", "work_center_id", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["run", "work_center", "period_start"], name="work_center_load_key")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.work_center_id} {self.period_start}"


class FamilyPlan(BaseModel):
    """Family × period: demand, targets, quota and what the plants can build."""

    run = models.ForeignKey(PlanRun, on_delete=models.CASCADE, related_name="family_lines")
    family = models.ForeignKey("inventory.ProductFamily", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    demand_qty = models.FloatField()
    forecast_qty = models.FloatField()
    target_qty = models.FloatField()
    quota_qty = models.FloatField(null=True)
    feasible_qty = models.FloatField()
    unserved_qty = models.FloatField()
    buildability_gap = models.FloatField(null=True)
    not_buildable_qty = models.FloatField()

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("family plan")
        verbose_name_plural = _("family plans")
        ordering = ["run", "family_id", "period_start"]
        constraints = [models.UniqueConstraint(fields=["run", "family", "period_start"], name="family_plan_key")]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.family_id} {self.period_start}"


# ---------------------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------------------

TARGET_ALERT_TYPES = ("target_not_buildable", "target_at_risk")


class CapacityAlertQuerySet(ScopedQuerySet):
    all_rows_roles = SUPPLY_ROWS

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            # A sales manager sees the target alerts of the territories they manage, nothing else.
            return self.filter(Q(type__in=TARGET_ALERT_TYPES) & managed_subtree_q(user, "territory__"))
        return self.none()

    def active(self) -> CapacityAlertQuerySet:
        return self.exclude(status=CapacityAlert.Status.RESOLVED)


class CapacityAlert(BaseModel):
    """Something an operations lead (or a sales manager, for targets) should act on."""

    class Type(models.TextChoices):
        CAPACITY_OVERLOAD = "capacity_overload", _("Capacity overload")
        CAPACITY_UNDERLOAD = "capacity_underload", _("Capacity underload")
        STOCKOUT_RISK = "stockout_risk", _("Stock-out risk")
        EXCESS_STOCK = "excess_stock", _("Excess stock")
        AGED_STOCK = "aged_stock", _("Aged stock")
        TARGET_NOT_BUILDABLE = "target_not_buildable", _("Target not buildable")
        TARGET_AT_RISK = "target_at_risk", _("Target at risk")
        DEAL_AT_RISK = "deal_at_risk", _("Deal at risk")  # raised by the CRM (crm.hooks)

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("Critical")
        WARNING = "warning", _("Warning")
        INFO = "info", _("Info")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    fingerprint = models.CharField(max_length=200, verbose_name=_("fingerprint"))
    type = models.CharField(max_length=24, choices=Type.choices, verbose_name=_("type"))
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    work_center = models.ForeignKey(
        WorkCenter, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("work center")
    )
    product = models.ForeignKey(
        "inventory.Product",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product"),
    )
    family = models.ForeignKey(
        "inventory.ProductFamily",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("family"),
    )
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("territory"),
    )
    period_start = models.DateField(null=True, blank=True, verbose_name=_("period start"))
    amount = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("amount"))
    unit = models.CharField(max_length=10, help_text="hours or units", verbose_name=_("unit"))
    value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("value"))
    message = models.TextField(
        help_text="in English (the API's words); people read message_key in their language", verbose_name=_("message")
    )
    suggestion = models.TextField(blank=True, verbose_name=_("suggestion"))
    # The words for people: a key of sop.alert_messages and its parameters (empty on alerts
    # stored before keys existed, which show their English text).
    message_key = models.CharField(max_length=60, blank=True, default="", verbose_name=_("message key"))
    message_params = models.JSONField(default=dict, blank=True, verbose_name=_("message parameters"))
    suggestion_key = models.CharField(max_length=60, blank=True, default="", verbose_name=_("suggestion key"))
    suggestion_params = models.JSONField(default=dict, blank=True, verbose_name=_("suggestion parameters"))
    run = models.ForeignKey(
        PlanRun,
        null=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        help_text="the latest run that raised or updated it",
        verbose_name=_("run"),
    )
    first_run = models.ForeignKey(
        PlanRun, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("first run")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_alerts",
        verbose_name=_("assignee"),
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_by_run = models.ForeignKey(
        PlanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="set when a rerun found the cause gone",
        verbose_name=_("resolved by run"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolution = models.TextField(blank=True, verbose_name=_("resolution"))

    objects = CapacityAlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("capacity alert")
        verbose_name_plural = _("capacity alerts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "type"]),
            models.Index(fields=["period_start"]),
        ]
        constraints = [
            # One unresolved alert per cause: reruns update it instead of adding another.
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=~Q(status="resolved"),
                name="capacity_alert_one_active_per_fingerprint",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "acknowledged", "resolved"]), name="capacity_alert_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.fingerprint} ({self.status})"


# ---------------------------------------------------------------------------------------
# The monthly S&OP cycle: stages, decisions, the demand plan and its edits
# ---------------------------------------------------------------------------------------

#: roles that take part in the cycle and read it (reps do not)
CYCLE_ROLES = frozenset({"admin", "planner", "ops_lead", "executive", SALES_MANAGER, "erp"})
#: roles that read every row of a cycle's demand plan (sales managers read their subtree)
DEMAND_PLAN_ROWS = frozenset({"admin", "planner", "ops_lead", "executive", "erp"})


class CycleQuerySet(ScopedQuerySet):
    all_rows_roles = CYCLE_ROLES

    def open(self) -> CycleQuerySet:
        return self.exclude(status=PlanCycle.Status.PUBLISHED)

    def published(self) -> CycleQuerySet:
        return self.filter(status=PlanCycle.Status.PUBLISHED)


class PlanCycle(BaseModel):
    """One month's S&OP cycle. ``month`` is the first month it plans (``2027-03-01`` plans the
    horizon from March 2027); it is worked in the month before (``sop.cycle_calendar``)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PUBLISHED = "published", _("Published")

    month = models.DateField(unique=True, verbose_name=_("month"))
    stage = models.CharField(max_length=20, default="data", verbose_name=_("stage"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    horizon_periods = models.PositiveSmallIntegerField(verbose_name=_("horizon periods"))
    # Cycle-wide edit counter: each edit takes the next value and stamps it on the demand
    # plan rows it changed, so an aggregate row's etag is max(revision) + count of its rows.
    revision = models.PositiveBigIntegerField(default=0, verbose_name=_("revision"))
    forecast_run = models.ForeignKey(
        "forecasting.ForecastRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the forecast the demand plan started from",
        verbose_name=_("forecast run"),
    )
    plan_run = models.ForeignKey(
        PlanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the cycle's latest plan run (reconciles the consensus)",
        verbose_name=_("plan run"),
    )
    previous_cycle = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the last published cycle this one started from",
        verbose_name=_("previous cycle"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("published by"),
    )
    lines_count = models.PositiveIntegerField(default=0, verbose_name=_("lines"))
    warnings = models.JSONField(default=list, blank=True, verbose_name=_("warnings"))
    history_through = models.DateField(
        null=True,
        blank=True,
        help_text="last month of the sales history stored with the cycle (DemandPlanActual); "
        "the demand review reads the months after it from the sales lines",
        verbose_name=_("history through"),
    )

    objects = CycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan cycle")
        verbose_name_plural = _("plan cycles")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="plan_cycle_month_start"),
            models.CheckConstraint(condition=Q(status__in=["open", "published"]), name="plan_cycle_status_valid"),
        ]

    def __str__(self) -> str:
        return f"S&OP cycle {self.month:%Y-%m}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class CycleCalendarDay(BaseModel):
    """The editable cycle calendar: the working day of the run month each stage is due on
    (missing stages take ``sop.cycle_calendar.DEFAULT_CALENDAR``)."""

    stage = models.CharField(max_length=20, unique=True, verbose_name=_("stage"))
    working_day = models.PositiveSmallIntegerField(verbose_name=_("working day"))

    objects = CycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("cycle calendar day")
        verbose_name_plural = _("cycle calendar days")
        ordering = ["working_day"]

    def __str__(self) -> str:
        return f"{self.stage}: working day {self.working_day}"


class CycleStage(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("In progress")
        DONE = "done", _("Done")

    cycle = models.ForeignKey(PlanCycle, on_delete=models.CASCADE, related_name="stages")
    code = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField()
    owner_role = models.CharField(max_length=20)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="optional: the person who owns the stage",
    )
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True, help_text="the latest comment: on completion or on a send-back")

    objects = CycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("cycle stage")
        verbose_name_plural = _("cycle stages")
        ordering = ["cycle", "position"]
        constraints = [models.UniqueConstraint(fields=["cycle", "code"], name="cycle_stage_key")]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.code} ({self.status})"


class Decision(BaseModel):
    """A decision of the cycle's meetings, with what it concerns."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    cycle = models.ForeignKey(PlanCycle, on_delete=models.CASCADE, related_name="decisions")
    topic = models.CharField(max_length=200)
    decision = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    family = models.ForeignKey(
        "inventory.ProductFamily", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey("inventory.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    work_center = models.ForeignKey(WorkCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    alert = models.ForeignKey(CapacityAlert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["cycle", "status", "due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "done", "dropped"]), name="decision_status_valid"),
        ]

    def __str__(self) -> str:
        return self.topic


class DemandPlanLineQuerySet(ScopedQuerySet):
    all_rows_roles = DEMAND_PLAN_ROWS

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(managed_subtree_q(user, "territory__"))
        return self.none()


def _loose_key(to, *, null: bool = False) -> models.ForeignKey:
    """A reference with no database foreign key and no index, for the cycle's bulk rows
    (written with COPY by ``sop.demand_plan_store`` only, deleted with their cycle)."""
    return models.ForeignKey(
        to, null=null, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )


class DemandPlanLine(models.Model):
    """The demand plan of a cycle at the forecast's grain: product × territory × month.

    ``family`` and ``region`` are copied from the product and the territory when the cycle is
    created, so every level is a GROUP BY over this table without joins. The references have
    no database foreign keys: a cycle writes ~270k rows with COPY on the large demo and the
    per-row triggers would cost more than the rows (the same trade as the sales lines); the
    rows are written by ``sop.demand_plan_store`` only and deleted with their cycle.
    """

    cycle = _loose_key(PlanCycle)
    product = _loose_key("inventory.Product")
    # Empty: the product's sales credited to no territory, forecast as a series of their own
    # (a company without territories plans product × no territory); the region is then empty too.
    territory = _loose_key("territories.Territory", null=True)
    family = _loose_key("inventory.ProductFamily")
    region = _loose_key("territories.Territory", null=True)
    period_start = models.DateField()
    statistical = models.FloatField(help_text="the forecast run's point forecast, units")
    naive = models.FloatField(help_text="seasonal naive: the same month a year before, units")
    target = models.FloatField(null=True, help_text="units from the quota plan; empty: no quota")
    sales_override = models.BigIntegerField(null=True, help_text="the sales managers' input, whole units")
    consensus = models.BigIntegerField(help_text="the agreed demand, whole units")
    feasible = models.FloatField(null=True, help_text="what the cycle's plan run can supply")
    revision = models.PositiveBigIntegerField(default=0)

    objects = DemandPlanLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("demand plan line")
        verbose_name_plural = _("demand plan lines")
        ordering = ["cycle", "product_id", "territory_id", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "product", "territory", "period_start"], name="demand_plan_line_key"
            ),
            # NULLs are distinct in the key above: one row of no territory per product and month.
            models.UniqueConstraint(
                fields=["cycle", "product", "period_start"],
                condition=Q(territory__isnull=True),
                name="demand_plan_line_key_no_territory",
            ),
        ]
        indexes = [
            models.Index(fields=["cycle", "family", "period_start"], name="demand_plan_family"),
            models.Index(fields=["cycle", "territory", "period_start"], name="demand_plan_territory"),
        ]

    def __str__(self) -> str:
        return f"cycle {self.cycle_id} {self.product_id}×{self.territory_id} {self.period_start}"


class DemandPlanActualQuerySet(ScopedQuerySet):
    """Visible as the sales lines it sums are: all of it to the roles that see every sales
    line, their subtrees to sales managers, nothing to others (the operations lead sees the
    demand plan, not the sales history, as on the sales lines)."""

    all_rows_roles = ALL_SALES_ROWS

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(managed_subtree_q(user, "territory__"))
        return self.none()


class DemandPlanActual(models.Model):
    """Units sold per family × territory × month before a cycle, for the demand review's
    history chart: stored when the cycle opens, for the months its forecast was fitted on
    (up to ``PlanCycle.history_through``), so the page sums a few thousand rows instead of
    grouping the whole sales-line table on every load (bench/README.md, "S&OP cycle").

    Demand as the forecast counts it: booked, shipped and invoiced lines. The family is the
    product's when the cycle opened (as on its demand plan rows), the territory the line's
    (empty: sales credited to no territory), the region the territory's root. Written with
    COPY by ``sop.demand_plan_store`` and deleted with the cycle, hence no database keys.
    """

    cycle = _loose_key(PlanCycle)
    family = _loose_key("inventory.ProductFamily")
    territory = _loose_key("territories.Territory", null=True)
    region = _loose_key("territories.Territory", null=True)
    period_start = models.DateField()
    units = models.FloatField()

    objects = DemandPlanActualQuerySet.as_manager()

    class Meta:
        verbose_name = _("demand plan actual")
        verbose_name_plural = _("demand plan actuals")
        ordering = ["cycle", "period_start", "family_id", "territory_id"]
        indexes = [models.Index(fields=["cycle", "period_start"], name="demand_plan_actual_month")]

    def __str__(self) -> str:
        return f"cycle {self.cycle_id} {self.family_id}×{self.territory_id} {self.period_start}: {self.units}"


class DemandPlanEditQuerySet(ScopedQuerySet):
    all_rows_roles = DEMAND_PLAN_ROWS

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(user=user)
        return self.none()


class DemandPlanEdit(models.Model):
    """The audit of one demand plan edit: who, when, at which level and keys, which period and
    measure, the aggregate before and after, why. The rows it changed carry its ``revision``."""

    cycle = models.ForeignKey(PlanCycle, on_delete=models.CASCADE, related_name="edits")
    revision = models.PositiveBigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10)
    keys = models.JSONField(default=dict)
    period_start = models.DateField()
    measure = models.CharField(max_length=20)
    before = models.FloatField(null=True)
    after = models.FloatField()
    reason = models.TextField()
    rows_changed = models.PositiveIntegerField(default=0)

    objects = DemandPlanEditQuerySet.as_manager()

    class Meta:
        verbose_name = _("demand plan edit")
        verbose_name_plural = _("demand plan edits")
        ordering = ["cycle", "-revision"]
        constraints = [models.UniqueConstraint(fields=["cycle", "revision"], name="demand_plan_edit_revision")]

    def __str__(self) -> str:
        return f"cycle {self.cycle_id} r{self.revision} {self.measure} {self.level}"
