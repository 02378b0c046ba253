"""What-if scenarios: a named list of deltas on a cycle's plan inputs (never a copy of the
data), run in memory through the same reconciliation; a scenario stores only its results (its
KPIs and a family × month summary), and the base it was compared with is stored once per set
of inputs (``ScenarioBase``). Promoting a scenario turns its changes into the cycle's
decisions, consensus edits and a quota change request (``QuotaChangeRequest``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, RunRecord
from core.scoping import ScopedQuerySet

#: who sees scenarios and their results: the people of the S&OP cycle and ERP clients
SCENARIO_ROLES = frozenset({"admin", "planner", "ops_lead", "executive", "sales_manager", "erp"})


class ScenarioQuerySet(ScopedQuerySet):
    all_rows_roles = SCENARIO_ROLES


class ScenarioBase(BaseModel):
    """The KPIs of the unchanged inputs of a cycle (or of the latest plan), computed once per
    distinct set of inputs (``fingerprint``: a hash of the input frames and the horizon)."""

    cycle = models.ForeignKey("sop.PlanCycle", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    as_of = models.DateField()
    kpis = models.JSONField(default=dict)
    alerts = models.JSONField(default=dict)
    family_months = models.JSONField(default=list)

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        verbose_name = _("scenario base")
        verbose_name_plural = _("scenario bases")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["fingerprint"], name="scenario_base_fingerprint")]

    def __str__(self) -> str:
        return f"base {self.fingerprint[:8]} ({self.as_of})"


class Scenario(RunRecord):
    """A named list of changes (``scenarios.deltas``); running it is a run like plan runs
    (status, percent, heartbeat), and its results are its KPIs and family × month figures."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    cycle = models.ForeignKey(
        "sop.PlanCycle",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scenarios",
        help_text="empty: on the latest plan",
        verbose_name=_("cycle"),
    )
    changes = models.JSONField(default=list, verbose_name=_("changes"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    as_of = models.DateField(null=True, blank=True, help_text="the plan date of the last run", verbose_name=_("as of"))
    base = models.ForeignKey(
        ScenarioBase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("base")
    )
    kpis = models.JSONField(default=dict, blank=True, verbose_name=_("KPIs"))
    alerts = models.JSONField(default=dict, blank=True, verbose_name=_("alerts"))
    family_months = models.JSONField(default=list, blank=True, verbose_name=_("family months"))
    warnings = models.JSONField(default=list, blank=True, verbose_name=_("warnings"))
    promoted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("promoted at"))
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("promoted by"),
    )
    promotion = models.JSONField(
        default=dict, blank=True, help_text="what promoting it created", verbose_name=_("promotion")
    )

    objects = ScenarioQuerySet.as_manager()

    class Meta(RunRecord.Meta):
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def status_label(self) -> str:
        return {
            "draft": _("Draft"),
            "queued": _("Queued"),
            "running": _("Running"),
            "completed": _("Completed"),
            "completed_with_errors": _("Completed with warnings"),
            "failed": _("Failed"),
        }.get(self.status, self.status)


class QuotaChangeRequest(BaseModel):
    """A proposed change of unit quotas (from a promoted scenario's ``target`` changes), for
    the sales managers to decide in the quota plan; it never edits quotas itself."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    cycle = models.ForeignKey("sop.PlanCycle", on_delete=models.CASCADE, related_name="+", verbose_name=_("cycle"))
    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="quota_requests", verbose_name=_("scenario")
    )
    family = models.ForeignKey(
        "inventory.ProductFamily", on_delete=models.CASCADE, related_name="+", verbose_name=_("family")
    )
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("territory"),
    )
    period_from = models.DateField(verbose_name=_("period from"))
    period_to = models.DateField(verbose_name=_("period to"))
    factor = models.DecimalField(max_digits=8, decimal_places=4, verbose_name=_("factor"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota change request")
        verbose_name_plural = _("quota change requests")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(factor__gt=0), name="quota_change_factor_positive"),
            models.CheckConstraint(
                condition=Q(period_to__gte=models.F("period_from")), name="quota_change_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"quota change {self.family_id} ×{self.factor}"
