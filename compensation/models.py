"""Commission plans and who is on them, credited sales, pay periods, statements and disputes.

Money is ``DecimalField`` everywhere (never float). A closed ``Statement`` keeps the canonical
JSON of ``compensation.calculations.render_statement`` in ``rendered``: it is what was paid and
is never rewritten; later corrections are adjustment lines of a later statement.

Who sees pay (one rule, applied by every QuerySet below through ``pay_visibility_q``):
- a rep: their own rows only;
- a sales manager: their own rows, plus the rows of every rep who held a territory assignment
  (any role) in a territory of the manager's subtree (``Territory.manager`` and its
  descendants) at some time during the row's dates (a statement's period, a credit's date, an
  assignment's validity). A rep who moves region stays visible to the old manager for the
  periods spent there and not for later ones;
- admin and API clients holding the ``comp:read`` scope (role ``erp``): every row;
- planners, ops leads and executives: nothing at all, not even totals.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.roles import ADMIN, ERP, SALES_MANAGER
from core.scoping import ScopedQuerySet
from territories.models import TerritoryAssignment, managed_subtree_q

PAY_ALL_ROWS = frozenset({ADMIN, ERP})
FAR_FUTURE = dt.date(9999, 12, 31)


def pay_visibility_q(user, roles, *, rep: str = "rep", start: str, end: str | None) -> Q:
    """Rows of ``user`` themself, and for a manager the rows of reps assigned in their subtree
    during [start, end] (``end`` empty/None = open-ended)."""
    q = Q(**{rep: user.pk})
    if SALES_MANAGER in roles:
        end_ref = Coalesce(OuterRef(end), Value(FAR_FUTURE)) if end else OuterRef(start)
        in_subtree = TerritoryAssignment.objects.filter(
            managed_subtree_q(user, "territory__"), rep=OuterRef(rep), valid_from__lte=end_ref
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef(start)))
        q |= Q(Exists(in_subtree))
    return q


class PayQuerySet(ScopedQuerySet):
    all_rows_roles = PAY_ALL_ROWS
    rep_field = "rep"
    start_field = "period_start"
    end_field: str | None = "period_end"

    def scoped_to(self, user, roles):
        return self.filter(
            pay_visibility_q(user, roles, rep=self.rep_field, start=self.start_field, end=self.end_field)
        )


class CompPlanQuerySet(ScopedQuerySet):
    """Plans: a rep sees the plans they are assigned to, a manager those of their reps."""

    all_rows_roles = PAY_ALL_ROWS

    def scoped_to(self, user, roles):
        visible = CompAssignment.objects.for_user(user).values("plan_id")
        return self.filter(pk__in=visible)


class CompPlan(BaseModel):
    """A commission plan version (terms in ``compensation.plans``). ``version`` goes up when a
    term changes; statements record the version they were computed with."""

    class Measure(models.TextChoices):
        REVENUE = "revenue", _("Revenue")
        MARGIN = "margin", _("Margin")
        UNITS = "units", _("Units")

    class Basis(models.TextChoices):
        TRANSACTION = "transaction", _("Each credited line on its own")
        PERIOD = "period", _("The period's total or attainment")

    class TierOn(models.TextChoices):
        AMOUNT = "amount", _("Amount")
        ATTAINMENT = "attainment", _("Attainment %")

    class Mode(models.TextChoices):
        WHOLE = "whole", _("Whole amount at the reached tier")
        MARGINAL = "marginal", _("Each bracket at its own rate")

    class CapKind(models.TextChoices):
        NONE = "", _("No cap")
        PAYOUT = "payout", _("Max payout per period")
        ATTAINMENT = "attainment", _("Max attainment % counted")

    class DrawKind(models.TextChoices):
        NONE = "", _("No draw")
        RECOVERABLE = "recoverable", _("Recoverable")
        NON_RECOVERABLE = "non_recoverable", _("Non-recoverable")

    class OnTermination(models.TextChoices):
        DUE = "due", _("Balance due")
        FORGIVEN = "forgiven", _("Balance forgiven")

    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    valid_from = models.DateField(verbose_name=_("valid from"))
    valid_to = models.DateField(null=True, blank=True, verbose_name=_("valid to"))
    measure = models.CharField(
        max_length=10, choices=Measure.choices, default=Measure.REVENUE, verbose_name=_("measure")
    )
    basis = models.CharField(max_length=12, choices=Basis.choices, default=Basis.PERIOD, verbose_name=_("basis"))
    tier_on = models.CharField(max_length=10, choices=TierOn.choices, default=TierOn.AMOUNT, verbose_name=_("tier on"))
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.WHOLE, verbose_name=_("mode"))
    tiers = models.JSONField(
        default=list,
        help_text='[{"from": "0", "to": "100", "rate": "3"}, ...]; '
        'rates in % (money per unit for units); "to" empty = no upper bound',
        verbose_name=_("tiers"),
    )
    threshold = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="attainment % below which nothing is paid",
        verbose_name=_("threshold"),
    )
    cap_kind = models.CharField(
        max_length=10, choices=CapKind.choices, default=CapKind.NONE, blank=True, verbose_name=_("cap kind")
    )
    cap_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("cap value"))
    base_rate = models.DecimalField(
        max_digits=9,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="rate a supply-constrained family earns at most",
        verbose_name=_("base rate"),
    )
    family_rules = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"family": "PMP", "multiplier": "1.2", "constrained": false}]',
        verbose_name=_("family rules"),
    )
    draw_kind = models.CharField(
        max_length=16, choices=DrawKind.choices, default=DrawKind.NONE, blank=True, verbose_name=_("draw kind")
    )
    draw_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("draw amount")
    )
    draw_recovery_cap_pct = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, verbose_name=_("draw recovery cap (%)")
    )
    draw_on_termination = models.CharField(
        max_length=10, choices=OnTermination.choices, default=OnTermination.DUE, verbose_name=_("draw on termination")
    )
    ytd_true_up = models.BooleanField(
        default=False, help_text="add a YTD true-up line each period", verbose_name=_("year-to-date true-up")
    )

    objects = CompPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("compensation plan")
        verbose_name_plural = _("compensation plans")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="comp_plan_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(cap_kind="") | Q(cap_value__gt=0), name="comp_plan_cap_has_value"),
            models.CheckConstraint(condition=Q(draw_kind="") | Q(draw_amount__gte=0), name="comp_plan_draw_has_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class CompAssignmentQuerySet(PayQuerySet):
    start_field = "valid_from"
    end_field = "valid_to"

    def overlapping(self, start: dt.date, end: dt.date) -> CompAssignmentQuerySet:
        return self.filter(valid_from__lte=end).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))


class CompAssignment(BaseModel):
    """A rep on a plan from ``valid_from`` to ``valid_to`` (inclusive; empty = open-ended).

    ``quota``: the rep's quota per pay period on the plan's measure, needed by plans with tiers
    on attainment, a threshold or an attainment cap. When several assignments of a rep overlap
    one period, the one starting last applies to the whole period.
    """

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comp_assignments", verbose_name=_("rep")
    )
    plan = models.ForeignKey(CompPlan, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("plan"))
    valid_from = models.DateField(verbose_name=_("valid from"))
    valid_to = models.DateField(null=True, blank=True, verbose_name=_("valid to"))
    quota = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="per pay period, on the plan's measure",
        verbose_name=_("quota"),
    )

    objects = CompAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("compensation plan assignment")
        verbose_name_plural = _("compensation plan assignments")
        ordering = ["rep__username", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "plan", "valid_from"], name="comp_assignment_natural_key"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="comp_assignment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep} on {self.plan.code} from {self.valid_from}"


class SpiffQuerySet(ScopedQuerySet):
    """SPIFF programmes are announcements to the whole sales force: no individual pay."""

    all_rows_roles = PAY_ALL_ROWS | {SALES_MANAGER, "sales_rep", "ops_lead"}

    def active_between(self, start: dt.date, end: dt.date) -> SpiffQuerySet:
        return self.filter(start__lte=end, end__gte=start)


class Spiff(BaseModel):
    """A sales incentive on listed SKUs/families in a date window (``compensation.plans.Spiff``)."""

    class Kind(models.TextChoices):
        PER_UNIT = "per_unit", _("Amount per unit")
        PERCENT_OF_REVENUE = "percent_of_revenue", _("% of revenue")

    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, blank=True, verbose_name=_("name"))
    start = models.DateField(verbose_name=_("start"))
    end = models.DateField(verbose_name=_("end"))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PER_UNIT, verbose_name=_("kind"))
    amount = models.DecimalField(max_digits=12, decimal_places=4, verbose_name=_("amount"))
    skus = models.JSONField(default=list, blank=True, verbose_name=_("SKUs"))
    families = models.JSONField(default=list, blank=True, verbose_name=_("families"))
    margin_floor_pct = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="no SPIFF when revenue < cost × (1 + x %)",
        verbose_name=_("margin floor (%)"),
    )
    budget = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("budget"))
    budget_used = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=0,
        help_text="paid on closed statements so far",
        verbose_name=_("budget used"),
    )
    include_overlay = models.BooleanField(default=False, verbose_name=_("include overlay"))
    source_alert_id = models.IntegerField(
        null=True, blank=True, help_text="the aged-stock alert it answers", verbose_name=_("source alert ID")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = SpiffQuerySet.as_manager()

    class Meta:
        verbose_name = _("SPIFF")
        verbose_name_plural = _("SPIFFs")
        ordering = ["-start", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="spiff_dates_ordered"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="spiff_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class CompPeriodQuerySet(ScopedQuerySet):
    """Pay periods and their close status carry no pay: every comp user sees them."""

    all_rows_roles = PAY_ALL_ROWS | {SALES_MANAGER, "sales_rep"}


class CompPeriod(BaseModel):
    """A pay period (a calendar month) and the state of its close run."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class RunStatus(models.TextChoices):
        IDLE = "idle", _("Idle")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    period_start = models.DateField(unique=True, verbose_name=_("period start"))
    period_end = models.DateField(verbose_name=_("period end"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    run_status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.IDLE, verbose_name=_("run status")
    )
    run_error = models.TextField(blank=True, verbose_name=_("run error"))
    run_started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("run started at"))
    run_finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("run finished at"))
    computed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("computed at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("closed by"),
    )
    statement_count = models.PositiveIntegerField(default=0, verbose_name=_("statements"))
    # SPIFF budget used (by SPIFF code) before this period: a recomputation of the period
    # after close gives the budgets to the same sales as at close.
    spiff_budget_before = models.JSONField(default=dict, blank=True, verbose_name=_("SPIFF budget before"))
    spiff_budget_after = models.JSONField(default=dict, blank=True, verbose_name=_("SPIFF budget after"))

    objects = CompPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("compensation period")
        verbose_name_plural = _("compensation periods")
        ordering = ["period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="comp_period_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m} ({self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class CreditQuerySet(PayQuerySet):
    start_field = "date"
    end_field = None

    def in_period(self, start: dt.date, end: dt.date) -> CreditQuerySet:
        return self.filter(date__gte=start, date__lte=end)


class Credit(models.Model):
    """One sales line credited to one person: the primary/overlay reps of the territory owning
    the account on the order date, and (``rollup``) every manager above a primary rep.

    ``amount``/``quantity`` are the credited values (line × share / 100, exact); returns are
    negative like their line. ``date`` is the line's order date (the return date for returns).
    """

    class Role(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        OVERLAY = "overlay", _("Overlay")
        ROLLUP = "rollup", _("Manager roll-up")

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Sale")
        RETURN = "return", _("Return")

    sales_line = models.ForeignKey("sales.SalesOrderLine", on_delete=models.CASCADE, related_name="credits")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credits")
    role = models.CharField(max_length=10, choices=Role.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CREDIT)
    share = models.DecimalField(max_digits=5, decimal_places=2)
    distance = models.PositiveSmallIntegerField(default=0, help_text="levels above the rep (roll-up)")
    territory = models.ForeignKey("territories.Territory", null=True, on_delete=models.SET_NULL, related_name="+")
    date = models.DateField()
    period_start = models.DateField(db_index=True)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CreditQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit")
        verbose_name_plural = _("credits")
        ordering = ["date", "sales_line_id", "rep_id"]
        constraints = [
            models.UniqueConstraint(fields=["sales_line", "rep", "role"], name="credit_line_rep_role"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=100), name="credit_share_range"),
        ]
        indexes = [models.Index(fields=["rep", "period_start"])]

    def __str__(self) -> str:
        return f"{self.sales_line_id} → {self.rep_id} ({self.role} {self.share} %)"


class StatementQuerySet(PayQuerySet):
    def closed(self) -> StatementQuerySet:
        return self.filter(status=Statement.Status.CLOSED)


class Statement(BaseModel):
    """A rep's statement for one pay period. ``draft`` statements are recomputed freely; a
    ``closed`` one is locked: ``rendered`` holds the canonical JSON paid on, never rewritten."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CLOSED = "closed", _("Closed")

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="statements", verbose_name=_("rep")
    )
    period = models.ForeignKey(
        CompPeriod, on_delete=models.PROTECT, related_name="statements", verbose_name=_("period")
    )
    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(verbose_name=_("period end"))
    plan = models.ForeignKey(
        CompPlan, null=True, on_delete=models.SET_NULL, related_name="statements", verbose_name=_("plan")
    )
    plan_code = models.CharField(max_length=64, verbose_name=_("plan code"))
    plan_version = models.PositiveIntegerField(default=1, verbose_name=_("plan version"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status"))
    total = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("total"))
    credited = models.DecimalField(max_digits=18, decimal_places=2, default=0, verbose_name=_("credited"))
    quota = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("quota"))
    attainment = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, verbose_name=_("attainment")
    )
    draw_balance_prior = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, verbose_name=_("draw balance prior")
    )
    draw_balance_carried = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, verbose_name=_("draw balance carried")
    )
    notes = models.JSONField(default=list, blank=True, verbose_name=_("notes"))
    rendered = models.TextField(
        blank=True, help_text="canonical JSON at close (render_statement)", verbose_name=_("rendered")
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-period_start", "rep__username"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "period"], name="statement_one_per_rep_period"),
            models.CheckConstraint(condition=Q(status="draft") | ~Q(rendered=""), name="statement_closed_rendered"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id}@{self.period_start} ({self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class StatementLineQuerySet(PayQuerySet):
    rep_field = "statement__rep"
    start_field = "statement__period_start"
    end_field = "statement__period_end"


class StatementLine(models.Model):
    """One line of a statement, in the order the calculation gave it."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    component = models.CharField(max_length=16)
    description = models.TextField()
    base = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    rate_unit = models.CharField(max_length=10, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    source_ids = models.JSONField(default=list, blank=True, help_text="sales-line external ids")
    corrects = models.CharField(max_length=120, blank=True, help_text="rep@period_start of the statement corrected")
    corrects_component = models.CharField(max_length=16, blank=True)

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="statement_line_position"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}#{self.position} {self.component}"


class DisputeQuerySet(PayQuerySet):
    rep_field = "line__statement__rep"
    start_field = "line__statement__period_start"
    end_field = "line__statement__period_end"


class Dispute(BaseModel):
    """A rep questions a statement line; a manager or admin answers; then it is closed.
    Every step is recorded as a ``core.AuditEvent`` (texts and statuses, never amounts)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("line"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    reason = models.TextField(verbose_name=_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    answer = models.TextField(blank=True, verbose_name=_("answer"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    objects = DisputeQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"dispute {self.pk} ({self.status})"
