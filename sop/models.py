"""Sales history, production capacity, plan runs with their stored results, and capacity alerts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now

from core.db import ByteOrderCharField, DateRangeIndex
from core.models import BaseModel, RunRecord
from core.roles import SALES_MANAGER, SALES_REP
from core.scoping import ScopedQuerySet
from territories.models import ALL_SALES_ROWS, TerritoryAssignment, managed_subtree_q


class SalesOrderLineQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS

    def scoped_to(self, user, roles):
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user, "territory__")
        if SALES_REP in roles:
            # A rep sees the lines of territories they were assigned to on the order date.
            on_order_date = TerritoryAssignment.objects.filter(
                rep=user, territory=OuterRef("territory"), valid_from__lte=OuterRef("order_date")
            ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("order_date")))
            q |= Q(Exists(on_order_date))
        return self.filter(q)

    def counting(self) -> SalesOrderLineQuerySet:
        """Lines that count as demand and sales credit (cancelled ones do not)."""
        return self.exclude(status=SalesOrderLine.Status.CANCELLED)

    def between(self, start: dt.date, end: dt.date) -> SalesOrderLineQuerySet:
        return self.filter(order_date__gte=start, order_date__lte=end)


class SalesOrderLine(BaseModel):
    """One line of a customer order. Returns carry a negative quantity and amount."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        SHIPPED = "shipped", "Shipped"
        INVOICED = "invoiced", "Invoiced"
        RETURNED = "returned", "Returned"
        CANCELLED = "cancelled", "Cancelled"

    # Every index costs each ingested line (bench/README.md, "Ingestion"): a B-tree on a column
    # that does not follow arrival order costs about as much as the row itself. So the table
    # keeps the primary key, the unique natural key and, on PostgreSQL, two BRIN indexes
    # (order_date for date ranges, updated_at for incremental sync: near free to maintain).
    # Reads by product, account or territory aggregate over date ranges or scan (0.1 s for
    # one product × territory series at 1M lines). The references are checked by the
    # ingestion (validated, then locked and re-verified in the write transaction) and guarded
    # against deletion by database triggers instead of per-row foreign-key triggers, which
    # cost more than the insert itself (migration 0004, sop/db_guards.py).
    external_id = ByteOrderCharField(max_length=64)
    order_date = models.DateField()
    ship_date = models.DateField(null=True, blank=True)
    account = models.ForeignKey("territories.Account", on_delete=models.PROTECT, related_name="sales_lines",
                                db_index=False, db_constraint=False)
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="sales_lines",
                                db_index=False, db_constraint=False)
    quantity = models.DecimalField(max_digits=16, decimal_places=3)
    net_amount = models.DecimalField(max_digits=16, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices)
    # The territory that owned the account on the order date: credit never moves with a
    # later realignment. Maintained by the ingestion and realignment services.
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="sales_lines",
        db_index=False, db_constraint=False,
    )
    # The database fills both timestamps when a bulk COPY leaves them out; no B-tree on
    # updated_at (a BRIN index on PostgreSQL, a plain one on SQLite: migration 0004).
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    objects = SalesOrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["order_date", "external_id"]
        indexes = [
            DateRangeIndex(fields=["order_date"], name="sales_line_order_date_range"),
            DateRangeIndex(fields=["updated_at"], name="sales_line_updated_range"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="sales_line_external_id_unique"),
            models.CheckConstraint(
                condition=(Q(status="returned") & Q(quantity__lt=0) & Q(net_amount__lte=0))
                | (~Q(status="returned") & Q(quantity__gt=0) & Q(net_amount__gte=0)),
                name="sales_line_sign_by_status",
                violation_error_message="Returned lines carry a negative quantity and amount; "
                "other lines a positive quantity and a non-negative amount.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "shipped", "invoiced", "returned", "cancelled"]),
                name="sales_line_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(ship_date__isnull=True) | Q(ship_date__gte=models.F("order_date")),
                name="sales_line_ships_after_order",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


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
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)

    objects = SupplyQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WorkCenter(BaseModel):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    plant = models.ForeignKey(Plant, on_delete=models.PROTECT, related_name="work_centers")

    objects = SupplyQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CapacityCalendar(BaseModel):
    """Hours a work center can work in a period (month).

    Either pushed as ``available_hours`` by the ERP, or built by the operations lead from
    shifts × hours per shift × working days × efficiency − planned downtime.
    """

    work_center = models.ForeignKey(WorkCenter, on_delete=models.CASCADE, related_name="calendar")
    period_start = models.DateField(help_text="first day of the month")
    available_hours = models.DecimalField(max_digits=12, decimal_places=2)
    shifts = models.PositiveSmallIntegerField(null=True, blank=True)
    hours_per_shift = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(null=True, blank=True)
    efficiency = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    downtime_hours = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    objects = SupplyQuerySet.as_manager()

    class Meta:
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

    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="routings")
    work_center = models.ForeignKey(WorkCenter, on_delete=models.CASCADE, related_name="routings")
    hours_per_unit = models.DecimalField(max_digits=10, decimal_places=4)

    objects = SupplyQuerySet.as_manager()

    class Meta:
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

    as_of = models.DateField()
    horizon_start = models.DateField(help_text="first day of the month of as_of")
    horizon_periods = models.PositiveSmallIntegerField(default=18)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    forecast_run = models.ForeignKey("forecasting.ForecastRun", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="plan_runs", help_text="the forecast whose demand was planned")
    products_count = models.PositiveIntegerField(default=0)
    work_centers_count = models.PositiveIntegerField(default=0)
    plan_lines_count = models.PositiveIntegerField(default=0)
    alerts_raised = models.PositiveIntegerField(default=0)
    alerts_updated = models.PositiveIntegerField(default=0)
    alerts_resolved = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta(RunRecord.Meta):
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
    target_gap = models.FloatField()
    buildability_gap = models.FloatField(null=True)
    not_buildable_qty = models.FloatField()

    objects = PlanQuerySet.as_manager()

    class Meta:
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
        CAPACITY_OVERLOAD = "capacity_overload", "Capacity overload"
        CAPACITY_UNDERLOAD = "capacity_underload", "Capacity underload"
        STOCKOUT_RISK = "stockout_risk", "Stock-out risk"
        EXCESS_STOCK = "excess_stock", "Excess stock"
        AGED_STOCK = "aged_stock", "Aged stock"
        TARGET_NOT_BUILDABLE = "target_not_buildable", "Target not buildable"
        TARGET_AT_RISK = "target_at_risk", "Target at risk"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        WARNING = "warning", "Warning"
        INFO = "info", "Info"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    fingerprint = models.CharField(max_length=200)
    type = models.CharField(max_length=24, choices=Type.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    work_center = models.ForeignKey(WorkCenter, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("inventory.Product", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    family = models.ForeignKey("inventory.ProductFamily", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    territory = models.ForeignKey("territories.Territory", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    period_start = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    unit = models.CharField(max_length=10, help_text="hours or units")
    value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    message = models.TextField()
    suggestion = models.TextField(blank=True)
    run = models.ForeignKey(PlanRun, null=True, on_delete=models.SET_NULL, related_name="alerts",
                            help_text="the latest run that raised or updated it")
    first_run = models.ForeignKey(PlanRun, null=True, on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_alerts")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_by_run = models.ForeignKey(PlanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                        help_text="set when a rerun found the cause gone")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    objects = CapacityAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "type"]),
            models.Index(fields=["period_start"]),
        ]
        constraints = [
            # One unresolved alert per cause: reruns update it instead of adding another.
            models.UniqueConstraint(fields=["fingerprint"], condition=~Q(status="resolved"),
                                    name="capacity_alert_one_active_per_fingerprint"),
            models.CheckConstraint(condition=Q(status__in=["open", "acknowledged", "resolved"]),
                                   name="capacity_alert_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.fingerprint} ({self.status})"
