"""Core records shared by every app: organisation settings, planning periods, user profiles,
comments and the audit trail."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.runs import stale_before
from core.scoping import ScopedQuerySet  # noqa: E402


class BaseModel(models.Model):
    """Timestamps on every business record; ``updated_at`` drives incremental API sync."""

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class RunRecord(BaseModel):
    """A long job recorded as a row: status, percent done, what started it, when, and why it
    failed. Forecast runs and plan runs share it, so pages, APIs and polling read them alike."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        COMPLETED_WITH_ERRORS = "completed_with_errors", _("Completed with errors")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Nightly schedule")
        USER = "user", _("User (page)")
        API = "api", _("API")
        COMMAND = "command", _("Command line")
        PIPELINE = "pipeline", _("Planning pipeline")

    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.QUEUED, db_index=True, verbose_name=_("status")
    )
    percent = models.FloatField(default=0, verbose_name=_("percent"))
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.USER, verbose_name=_("trigger"))
    parameters = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    # Liveness (core/runs.py): the last sign of life of the run's work, how many times a
    # worker took its current step, and which delivery holds it now.
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="last sign of life: a step started or finished, a heartbeat",
        verbose_name=_("heartbeat at"),
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="times a worker took the run's own step", verbose_name=_("attempts")
    )
    claimed_by = models.CharField(
        max_length=80, blank=True, help_text="claim token of the delivery at work", verbose_name=_("claimed by")
    )

    ACTIVE_STATUSES = ("queued", "running")

    class Meta:
        abstract = True
        ordering = ["-id"]

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def last_sign_of_life(self) -> dt.datetime | None:
        return self.heartbeat_at or self.created_at

    @property
    def is_stalled(self) -> bool:
        """Active, but nothing happened for ``RUN_STALE_SECONDS``: no worker took it, or the
        one that did went silent. The reaper sends such work again."""
        last = self.last_sign_of_life
        return self.is_active and last is not None and last < stale_before()

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class OrganisationSettings(BaseModel):
    """One row: the company's currency, planning calendar and demo marker."""

    class Bucket(models.TextChoices):
        MONTH = "month", _("Month")
        WEEK = "week", _("Week")

    name = models.CharField(max_length=200, default="My company", verbose_name=_("name"))
    currency = models.CharField(max_length=3, default="USD", verbose_name=_("currency"))
    planning_bucket = models.CharField(
        max_length=10, choices=Bucket.choices, default=Bucket.MONTH, verbose_name=_("planning bucket")
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(default=1, verbose_name=_("fiscal year start month"))
    plan_horizon_periods = models.PositiveSmallIntegerField(default=18, verbose_name=_("plan horizon (periods)"))
    demo_seed = models.IntegerField(
        null=True, blank=True, help_text="Set when demo data is loaded.", verbose_name=_("demo seed")
    )
    demo_scale = models.CharField(max_length=10, blank=True, verbose_name=_("demo scale"))

    class Meta:
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="org_fiscal_month_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Profile(BaseModel):
    """Sales-org facts about a user that HR/CRM systems keep in sync."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("manager"),
    )
    title = models.CharField(max_length=100, blank=True, verbose_name=_("title"))
    hire_date = models.DateField(null=True, blank=True, verbose_name=_("hire date"))
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="language of the pages; blank follows the browser (Accept-Language)",
        verbose_name=_("language"),
    )
    is_demo = models.BooleanField(default=False, verbose_name=_("demo"))

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Comment(BaseModel):
    """A remark on any plan object (alert, plan line, statement line, ...)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, verbose_name=_("content type"))
    object_id = models.CharField(max_length=64, verbose_name=_("object ID"))
    target = GenericForeignKey("content_type", "object_id")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name=_("author"))
    text = models.TextField(verbose_name=_("text"))
    # A comment a job wrote (author None) may name a message of its app's catalogue (e.g.
    # sop.alert_messages) so each reader gets it in their language; ``text`` holds the English.
    text_key = models.CharField(max_length=60, blank=True, default="", verbose_name=_("message key"))
    text_params = models.JSONField(default=dict, blank=True, verbose_name=_("message parameters"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class AuditEvent(models.Model):
    """Who changed what, when, with the values before and after. Append-only."""

    content_type = models.ForeignKey(ContentType, null=True, on_delete=models.SET_NULL, verbose_name=_("content type"))
    object_id = models.CharField(max_length=64, blank=True, verbose_name=_("object ID"))
    target = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    actor_label = models.CharField(
        max_length=150, blank=True, help_text="API client or system job", verbose_name=_("actor label")
    )
    action = models.CharField(max_length=64, verbose_name=_("action"))
    before = models.JSONField(null=True, blank=True, verbose_name=_("before"))
    after = models.JSONField(null=True, blank=True, verbose_name=_("after"))
    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("at"))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or self.actor_label} {self.action}"


class ApiClient(BaseModel):
    """An ERP or other system that talks to the API with scoped Bearer tokens.

    Each client acts through its own service user (role ``erp``), so every queryset's
    ``for_user`` applies to machine calls exactly as to people.
    """

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client", verbose_name=_("user")
    )
    scopes = models.JSONField(default=list, help_text='e.g. ["master:write", "sales:write"]', verbose_name=_("scopes"))
    rate_limit = models.CharField(
        max_length=20, blank=True, help_text="e.g. 120/min; empty = default", verbose_name=_("rate limit")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now: dt.datetime) -> ApiTokenQuerySet:
        # A client switched off, or its service user deactivated (e.g. by an administrator in
        # the users admin), ends every token of that client.
        return self.filter(revoked_at__isnull=True, client__is_active=True, client__user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(BaseModel):
    """A Bearer token. Only its SHA-256 is stored; the clear token is shown once at creation."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("client"))
    prefix = models.CharField(
        max_length=16, db_index=True, help_text="first characters, to recognise it", verbose_name=_("prefix")
    )
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.client.name} {self.prefix}…"


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an ``Idempotency-Key`` header.

    Saved in the same transaction as the write it answers, so a retry either finds the
    stored response or finds nothing was written.
    """

    client_key = models.CharField(
        max_length=150, help_text="client or user the key belongs to", verbose_name=_("client key")
    )
    key = models.CharField(max_length=255, verbose_name=_("key"))
    method = models.CharField(max_length=10, verbose_name=_("method"))
    path = models.CharField(max_length=500, verbose_name=_("path"))
    body_hash = models.CharField(max_length=64, verbose_name=_("body hash"))
    status_code = models.PositiveSmallIntegerField(verbose_name=_("status code"))
    response_body = models.JSONField(verbose_name=_("response body"))
    created_at = models.DateTimeField(db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["client_key", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.client_key}:{self.key}"


class IngestBatchQuerySet(ScopedQuerySet):
    all_rows_roles = frozenset({"admin", "planner", "ops_lead", "executive"})

    def scoped_to(self, user, roles):
        # An API client sees its own batches; anyone sees the batches they uploaded.
        client = getattr(user, "api_client", None)
        if client is not None:
            return self.filter(client=client)
        return self.filter(user=user)


class IngestBatch(BaseModel):
    """One bulk upsert request: who sent it, what it did, how it ended."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    resource = models.CharField(max_length=64, db_index=True, verbose_name=_("resource"))
    client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("client"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("user")
    )
    source = models.CharField(max_length=10, default="api", help_text="api or upload", verbose_name=_("source"))
    content_type = models.CharField(max_length=20, default="json", verbose_name=_("content type"))
    idempotency_key = models.CharField(max_length=255, blank=True, verbose_name=_("idempotency key"))
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    rows = models.PositiveIntegerField(default=0, verbose_name=_("rows"))
    created = models.PositiveIntegerField(default=0, verbose_name=_("created"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    error_count = models.PositiveIntegerField(default=0, verbose_name=_("error count"))
    errors = models.JSONField(default=list, blank=True, help_text="first row errors", verbose_name=_("errors"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration (ms)"))

    objects = IngestBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"batch {self.pk} {self.resource} {self.status}"
