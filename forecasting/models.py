"""Forecast runs and what they produce: forecasts per series and level, per-series model
choice and backtest accuracy, realised accuracy by lag.

Forecast quantities are statistical estimates in each product's unit of measure and are
stored as floats; money is never stored here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import RunRecord
from core.roles import ADMIN, EXECUTIVE, OPS_LEAD, PLANNER, SALES_MANAGER
from core.scoping import ScopedQuerySet
from territories.models import managed_subtree_q

DEMAND_ROLES = frozenset({ADMIN, PLANNER, OPS_LEAD, EXECUTIVE, "erp"})


class ForecastRunQuerySet(ScopedQuerySet):
    all_rows_roles = DEMAND_ROLES | {SALES_MANAGER}

    def finished(self) -> ForecastRunQuerySet:
        return self.filter(status__in=[ForecastRun.Status.COMPLETED, ForecastRun.Status.COMPLETED_WITH_ERRORS])


class ForecastRun(RunRecord):
    as_of = models.DateField(help_text="history up to the end of the month before this date")
    horizon = models.PositiveSmallIntegerField(default=18)
    season_length = models.PositiveSmallIntegerField(default=12)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    series_total = models.PositiveIntegerField(default=0)
    series_done = models.PositiveIntegerField(default=0)
    series_failed = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)

    objects = ForecastRunQuerySet.as_manager()

    class Meta(RunRecord.Meta):
        verbose_name = _("forecast run")
        verbose_name_plural = _("forecast runs")
        pass

    def __str__(self) -> str:
        return f"forecast run {self.pk} ({self.status})"


class ForecastChunk(models.Model):
    """One slice of a run's series, processed by one Celery task; written at most once.

    Its state lives here, not in the broker: ``pending`` (to do), ``running`` (claimed by one
    delivery, which beats ``heartbeat_at``), ``done`` or ``failed`` (its series recorded as
    failed after ``RUN_MAX_ATTEMPTS`` claims). A pending chunk whose message was lost, or a
    running one whose worker went silent, is sent again by the reaper."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    series_keys = models.JSONField(help_text="[product_id, territory_id or null] pairs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times a worker claimed it")
    claimed_by = models.CharField(max_length=80, blank=True, help_text="claim token of the delivery at work")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    error = models.TextField(blank=True, help_text="error of its latest failed attempt")
    partials = models.JSONField(
        default=dict, blank=True, help_text="sums per hierarchy level, added up by the run's finishing step"
    )

    class Meta:
        verbose_name = _("forecast chunk")
        verbose_name_plural = _("forecast chunks")
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="forecast_chunk_unique")]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="forecast_chunk_liveness")]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index} ({self.status})"


class Level(models.TextChoices):
    PRODUCT_TERRITORY = "product_territory", _("Product × territory")
    PRODUCT = "product", _("Product")
    TERRITORY = "territory", _("Territory")
    FAMILY = "family", _("Product family")
    REGION = "region", _("Region")
    FAMILY_REGION = "family_region", _("Family × region")
    TOTAL = "total", _("Total")


class ForecastSeriesQuerySet(ScopedQuerySet):
    all_rows_roles = DEMAND_ROLES

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(managed_subtree_q(user, "territory__"))
        return self.none()


class ForecastSeries(models.Model):
    """The model chosen for one product × territory series in a run, and why."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="series")
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="empty: sales credited to no territory",
    )
    status = models.CharField(max_length=10, default="ok", help_text="ok or failed")
    model = models.CharField(max_length=40, blank=True)
    demand_class = models.CharField(max_length=16, blank=True)
    history_class = models.CharField(max_length=16, blank=True)
    history_periods = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="why this model, or the fallback reason")
    smape = models.FloatField(null=True, blank=True)
    mase = models.FloatField(null=True, blank=True)
    wape = models.FloatField(null=True, blank=True)
    bias = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    objects = ForecastSeriesQuerySet.as_manager()

    class Meta:
        verbose_name = _("forecast series")
        verbose_name_plural = _("forecast series")
        ordering = ["run", "product_id", "territory_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "product", "territory"], name="forecast_series_unique"),
            # NULLs are distinct in a unique index: the territory-less series needs its own.
            models.UniqueConstraint(
                fields=["run", "product"],
                condition=models.Q(territory__isnull=True),
                name="forecast_series_unique_no_territory",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.product_id}×{self.territory_id} {self.model}"


class ForecastQuerySet(ScopedQuerySet):
    all_rows_roles = DEMAND_ROLES

    def scoped_to(self, user, roles):
        if SALES_MANAGER in roles:
            return self.filter(managed_subtree_q(user, "territory__"))
        return self.none()


class Forecast(models.Model):
    """A forecast for one series key and period at one level of the hierarchy."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="forecasts")
    level = models.CharField(max_length=20, choices=Level.choices)
    series_key = models.CharField(max_length=200, help_text="natural key of the series at its level")
    product = models.ForeignKey("inventory.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(
        "inventory.ProductFamily", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="leaf territory, or the region at region levels",
    )
    period_start = models.DateField()
    point = models.FloatField()
    lo80 = models.FloatField()
    hi80 = models.FloatField()
    lo95 = models.FloatField()
    hi95 = models.FloatField()
    model = models.CharField(max_length=40, blank=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["run", "level", "series_key", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["run", "level", "series_key", "period_start"], name="forecast_unique"),
        ]
        indexes = [
            models.Index(fields=["run", "level", "product"]),
            models.Index(fields=["run", "level", "territory"]),
        ]

    def __str__(self) -> str:
        return f"{self.series_key} {self.period_start}: {self.point:.1f}"


class ForecastAccuracy(models.Model):
    """Accuracy of a run's forecasts: from its backtest, or realised once actuals arrived."""

    class Source(models.TextChoices):
        BACKTEST = "backtest", _("Backtest")
        REALISED = "realised", _("Realised")

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="accuracy")
    level = models.CharField(max_length=20, choices=Level.choices)
    series_key = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices)
    lag = models.PositiveSmallIntegerField(null=True, blank=True, help_text="months ahead; empty = all")
    n = models.PositiveIntegerField(default=0)
    mape = models.FloatField(null=True, blank=True)
    smape = models.FloatField(null=True, blank=True)
    wape = models.FloatField(null=True, blank=True)
    mase = models.FloatField(null=True, blank=True)
    bias = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("forecast accuracy")
        verbose_name_plural = _("forecast accuracies")
        ordering = ["run", "level", "series_key", "source", "lag"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "level", "series_key", "source", "lag"], name="forecast_accuracy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.series_key} {self.source} lag {self.lag}"
