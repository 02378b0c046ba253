"""Sales territories, the reps assigned to them and the customer accounts they own.

Ownership is effective-dated on both sides (``TerritoryAssignment`` for reps,
``AccountAssignment`` for accounts), so history never moves when the map is redrawn.
``valid_to`` is the last day, inclusive; empty means open-ended.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

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
    return list(
        TerritoryAssignment.objects.filter(valid_on(day), rep=user).values_list("territory_id", flat=True)
    )


class TerritoryQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS | {"ops_lead"}

    def scoped_to(self, user, roles):
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user)
        if SALES_REP in roles:
            q |= Q(pk__in=rep_territory_ids(user, dt.date.today()))
        return self.filter(q)


class Territory(BaseModel):
    """A node of the sales map: region → district → territory, any depth."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_territories"
    )
    level = models.CharField(max_length=32, blank=True, help_text="region, district, territory, ...")
    # Materialised path of codes ("/EMEA/UK/UK-N/") for subtree queries; kept by services.
    path = models.CharField(max_length=1000, db_index=True, editable=False)

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class TerritoryAssignment(BaseModel):
    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary"
        OVERLAY = "overlay", "Overlay"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="territory_assignments")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PRIMARY)
    share = models.DecimalField(max_digits=5, decimal_places=2, default=100, help_text="credit share, %")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    objects = TerritoryQuerySet.as_manager()  # same visibility as territories

    class Meta:
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
        today = dt.date.today()
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= Q(pk__in=self.owned_by(managed_subtree_q(user, "territory__"), today).values("pk"))
        if SALES_REP in roles:
            q |= Q(pk__in=self.owned_by(Q(territory_id__in=rep_territory_ids(user, today)), today).values("pk"))
        return self.filter(q)


class Account(BaseModel):
    """A customer."""

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    potential = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    exclude_from_realignment = models.BooleanField(default=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class AccountAssignment(BaseModel):
    """Which territory owns an account, from ``valid_from`` to ``valid_to`` (inclusive)."""

    class Source(models.TextChoices):
        RULE = "rule", "Assignment rule"
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="assignments")
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="account_assignments")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)

    class Meta:
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
