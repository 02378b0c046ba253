"""Sales territories, the reps assigned to them and the customer accounts they own; the
rules that assign accounts to territories; quota plans and their quotas.

Ownership is effective-dated on both sides (``TerritoryAssignment`` for reps,
``AccountAssignment`` for accounts), so history never moves when the map is redrawn.
``valid_to`` is the last day, inclusive; empty means open-ended.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.roles import EXECUTIVE, PLANNER, SALES_MANAGER, SALES_REP
from core.scoping import ScopedQuerySet

ALL_SALES_ROWS = frozenset({"admin", PLANNER, EXECUTIVE, "erp"})


def valid_on(day: dt.date, prefix: str = "") -> Q:
    """Rows whose [valid_from, valid_to] interval contains ``day``."""
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": day})
    )


def managed_subtree_q(user, field: str = "") -> Q:
    """Territories in the subtrees of the nodes ``user`` manages (as a Q on ``field``path)."""
    paths = list(Territory.objects.filter(manager=user).values_list("path", flat=True))
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}path__startswith": path})
    return q


def rep_territory_ids(user, day: dt.date) -> list[int]:
    return list(TerritoryAssignment.objects.filter(valid_on(day), rep=user).values_list("territory_id", flat=True))


def subtree_rep_ids_q(user, day: dt.date, field: str = "") -> Q:
    """Users assigned (on ``day``) to a territory in ``user``'s managed subtrees, or reporting
    to ``user`` directly, as a Q on ``field`` (a user foreign key, e.g. ``"rep"``)."""
    in_subtree = TerritoryAssignment.objects.filter(valid_on(day), managed_subtree_q(user, "territory__"))
    prefix = f"{field}__" if field else ""
    return Q(**{f"{prefix}pk__in": in_subtree.values("rep_id")}) | Q(**{f"{prefix}profile__manager": user})


class TerritoryQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS | {"ops_lead"}

    def scoped_to(self, user, roles):
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user)
        if SALES_REP in roles:
            q |= Q(pk__in=rep_territory_ids(user, timezone.localdate()))
        return self.filter(q)


class Territory(BaseModel):
    """A node of the sales map: region → district → territory, any depth."""

    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_territories",
        verbose_name=_("manager"),
    )
    level = models.CharField(
        max_length=32, blank=True, help_text="region, district, territory, ...", verbose_name=_("level")
    )
    # Materialised path of codes ("/EMEA/UK/UK-N/") for subtree queries; kept by services.
    path = models.CharField(max_length=1000, db_index=True, editable=False, verbose_name=_("path"))

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class TerritoryAssignmentQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS | {"ops_lead"}

    def scoped_to(self, user, roles):
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user, "territory__")
        if SALES_REP in roles:
            q |= Q(rep=user)  # a rep sees their own assignments, not their colleagues' shares
        return self.filter(q)


class TerritoryAssignment(BaseModel):
    class Role(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        OVERLAY = "overlay", _("Overlay")

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="territory_assignments", verbose_name=_("rep")
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("territory")
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PRIMARY, verbose_name=_("role"))
    share = models.DecimalField(
        max_digits=5, decimal_places=2, default=100, help_text="credit share, %", verbose_name=_("share")
    )
    valid_from = models.DateField(verbose_name=_("valid from"))
    valid_to = models.DateField(null=True, blank=True, verbose_name=_("valid to"))

    objects = TerritoryAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory assignment")
        verbose_name_plural = _("territory assignments")
        ordering = ["territory__path", "valid_from", "rep__username"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "territory", "valid_from"], name="assignment_natural_key"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=100), name="assignment_share_range"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="assignment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep} → {self.territory.code} ({self.role} {self.share} %)"


class AccountQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS

    def owned_by(self, territory_q: Q, day: dt.date) -> AccountQuerySet:
        owners = AccountAssignment.objects.filter(valid_on(day), territory_q, account=OuterRef("pk"))
        return self.filter(Exists(owners))

    def scoped_to(self, user, roles):
        today = timezone.localdate()
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= Q(pk__in=self.owned_by(managed_subtree_q(user, "territory__"), today).values("pk"))
        if SALES_REP in roles:
            q |= Q(pk__in=self.owned_by(Q(territory_id__in=rep_territory_ids(user, today)), today).values("pk"))
        return self.filter(q)


class Account(BaseModel):
    """A customer."""

    external_id = models.CharField(max_length=64, unique=True, verbose_name=_("external ID"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    industry = models.CharField(max_length=100, blank=True, verbose_name=_("industry"))
    country = models.CharField(max_length=64, blank=True, verbose_name=_("country"))
    region = models.CharField(max_length=100, blank=True, verbose_name=_("region"))
    state = models.CharField(max_length=100, blank=True, verbose_name=_("state"))
    city = models.CharField(max_length=100, blank=True, verbose_name=_("city"))
    postal_code = models.CharField(max_length=20, blank=True, verbose_name=_("postal code"))
    potential = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("potential"))
    exclude_from_realignment = models.BooleanField(default=False, verbose_name=_("exclude from realignment"))

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class AccountAssignment(BaseModel):
    """Which territory owns an account, from ``valid_from`` to ``valid_to`` (inclusive)."""

    class Source(models.TextChoices):
        RULE = "rule", _("Assignment rule")
        MANUAL = "manual", _("Manual")
        IMPORT = "import", _("Import")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="assignments")
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="account_assignments")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        verbose_name = _("account assignment")
        verbose_name_plural = _("account assignments")
        ordering = ["account_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["account", "valid_from"], name="account_assignment_one_start"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="account_assignment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.territory_id} from {self.valid_from}"


class AssignmentRuleQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(managed_subtree_q(user, "territory__"))
        return self.none()


class AssignmentRule(BaseModel):
    """Accounts matching every non-empty criterion belong to ``territory``.

    Higher ``priority`` wins; rules naming accounts win over geography; several top rules of
    different territories are a conflict (see ``territories.rules``).
    """

    code = models.CharField(max_length=64, unique=True)
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="rules")
    priority = models.IntegerField(default=0)
    # External ids separated by ";" (the bulk contract's list format; see ``named_account_ids``).
    named_accounts = models.TextField(blank=True)
    country = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_prefix = models.CharField(max_length=20, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    valid_from = models.DateField(null=True, blank=True)

    objects = AssignmentRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} → {self.territory_id} (priority {self.priority})"

    @property
    def named_account_ids(self) -> list[str]:
        return [part.strip() for part in self.named_accounts.split(";") if part.strip()]


class QuotaPlanQuerySet(ScopedQuerySet):
    visible_to_all = True  # the plan header; its quotas are scoped

    def latest_first(self) -> QuotaPlanQuerySet:
        return self.order_by("-fiscal_year", "-id")


class QuotaPlan(BaseModel):
    """One version of the quotas of a fiscal year: draft → submitted → approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    fiscal_year = models.PositiveSmallIntegerField(help_text="calendar year in which the fiscal year starts")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    revenue_target = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, help_text="company top-down revenue target"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = QuotaPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota plan")
        verbose_name_plural = _("quota plans")
        ordering = ["-fiscal_year", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "approved"]), name="quota_plan_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False), name="quota_plan_approved_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} FY{self.fiscal_year} ({self.status})"


class QuotaQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS

    def scoped_to(self, user, roles):
        today = timezone.localdate()
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user, "territory__") | Q(
                Q(rep__isnull=False) & subtree_rep_ids_q(user, today, "rep")
            )
        if SALES_REP in roles:
            q |= Q(rep=user)
        return self.filter(q)

    def units_by_family(self) -> QuotaQuerySet:
        return self.filter(measure=Quota.Measure.UNITS, family__isnull=False)


class Quota(BaseModel):
    """A target for one rep *or* one territory, one period, one measure (and product family)."""

    class Measure(models.TextChoices):
        REVENUE = "revenue", _("Revenue")
        UNITS = "units", _("Units")
        MARGIN = "margin", _("Margin")

    plan = models.ForeignKey(QuotaPlan, on_delete=models.CASCADE, related_name="quotas")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="quotas"
    )
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="quotas")
    period_start = models.DateField()
    measure = models.CharField(max_length=10, choices=Measure.choices, default=Measure.REVENUE)
    family = models.ForeignKey(
        "inventory.ProductFamily", null=True, blank=True, on_delete=models.PROTECT, related_name="quotas"
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    full_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, help_text="before the new-hire ramp"
    )

    objects = QuotaQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["plan", "period_start", "measure", "id"]
        # The natural key (plan, owner, period, measure, family) holds NULLs, which unique
        # constraints treat as distinct: one partial constraint per owner × family shape.
        constraints = [
            models.CheckConstraint(
                condition=Q(rep__isnull=True, territory__isnull=False) | Q(rep__isnull=False, territory__isnull=True),
                name="quota_one_owner",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_amount_not_negative"),
            models.CheckConstraint(condition=Q(measure__in=["revenue", "units", "margin"]), name="quota_measure_valid"),
            models.UniqueConstraint(
                fields=["plan", "rep", "period_start", "measure", "family"],
                condition=Q(rep__isnull=False, family__isnull=False),
                name="quota_rep_family",
            ),
            models.UniqueConstraint(
                fields=["plan", "rep", "period_start", "measure"],
                condition=Q(rep__isnull=False, family__isnull=True),
                name="quota_rep",
            ),
            models.UniqueConstraint(
                fields=["plan", "territory", "period_start", "measure", "family"],
                condition=Q(territory__isnull=False, family__isnull=False),
                name="quota_territory_family",
            ),
            models.UniqueConstraint(
                fields=["plan", "territory", "period_start", "measure"],
                condition=Q(territory__isnull=False, family__isnull=True),
                name="quota_territory",
            ),
        ]
        indexes = [models.Index(fields=["plan", "measure", "period_start"])]

    def __str__(self) -> str:
        owner = f"rep {self.rep_id}" if self.rep_id else f"territory {self.territory_id}"
        return f"{self.plan_id} {owner} {self.period_start} {self.measure} {self.amount}"


class QuotaTargetQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(managed_subtree_q(user, "territory__"))
        return self.none()


class QuotaTarget(BaseModel):
    """A top-down annual target for a territory node (a region, say) in a plan, with the basis
    it was allocated by; the bottom-up roll-up of the plan's quotas is compared with it."""

    plan = models.ForeignKey(QuotaPlan, on_delete=models.CASCADE, related_name="targets")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="quota_targets")
    measure = models.CharField(max_length=10, choices=Quota.Measure.choices, default=Quota.Measure.REVENUE)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    basis = models.CharField(max_length=10, blank=True, help_text="even, history, forecast or potential")

    objects = QuotaTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota target")
        verbose_name_plural = _("quota targets")
        ordering = ["plan", "territory__path", "measure"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "territory", "measure"], name="quota_target_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_target_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.territory_id} {self.measure} {self.amount}"
