"""Webhook subscriptions of the ERP, the events the apps emit and their deliveries.

An app calls ``webhooks.services.event_emit`` inside its own transaction: the event and one
delivery per subscribed endpoint are written with the business change (a transactional
outbox) and sent by Celery tasks after the commit, so a slow or failing endpoint never holds
up the run that emitted the event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.scoping import ScopedQuerySet

#: Event types, part of the API contract.
EVENT_TYPES = ("plan.published", "plan_run.finished", "forecast_run.finished", "alert.created", "alert.resolved")


class SubscriptionQuerySet(ScopedQuerySet):
    def scoped_to(self, user, roles):
        # An ERP client (or anyone granted webhooks:write) sees the subscriptions it made.
        return self.filter(created_by=user)

    def active(self) -> SubscriptionQuerySet:
        return self.filter(is_active=True)


class WebhookSubscription(BaseModel):
    url = models.URLField(max_length=500, verbose_name=_("URL"))
    events = models.JSONField(default=list, help_text="event types sent to the URL", verbose_name=_("events"))
    # The signing secret has to be kept readable to sign each delivery (HMAC); it is shown
    # once, when the subscription is created, and never again by the API.
    secret = models.CharField(max_length=100, verbose_name=_("secret"))
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"


class WebhookEvent(models.Model):
    """Something that happened, as sent to the subscribers (``{"id", "type", "created", "data"}``)."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    created = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class DeliveryQuerySet(ScopedQuerySet):
    def scoped_to(self, user, roles):
        return self.filter(subscription__created_by=user)

    def due(self, now) -> DeliveryQuerySet:
        return self.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one subscription, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("last status code"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    # An attempt claims the row for a while, so a retry task and the sweeper never send the
    # same delivery at the same moment.
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]), name="webhook_delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"
