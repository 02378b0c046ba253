"""Webhook writes: subscriptions, the outbox (``event_emit``) and delivery attempts.

``event_emit`` is what other apps call, inside their own transaction; it never sends
anything itself. Deliveries go out from ``webhooks.tasks`` after the commit: one POST per
attempt, retried with exponential backoff (``webhooks.signing.RETRY_DELAYS``, 8 attempts over
about 11 hours); the sweeper task picks up any delivery whose task was lost.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib import error as urlerror
from urllib import request as urlrequest

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMIN, ERP, has_role
from webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEvent, WebhookSubscription
from webhooks.signing import (
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    UnsafeDestination,
    check_destination,
    new_secret,
    retry_delay,
    signature,
)

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
CLAIM_SECONDS = 60


def _destination_message(exc: UnsafeDestination) -> str:
    messages = {
        "scheme": _("The URL must use https."),
        "no_host": _("The URL has no host."),
        "credentials": _("The URL may not carry a user name or password."),
        "bad_port": _("The URL's port is not a number between 0 and 65535."),
        "unresolvable": _("The host '%(host)s' cannot be resolved."),
        "private_address": _(
            "The host '%(host)s' resolves to %(address)s, an address inside a private network; "
            "webhooks go to public https endpoints only."
        ),
    }
    return messages.get(exc.code, str(exc)) % exc.params if exc.params else messages.get(exc.code, str(exc))


def resolve_host(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def destination_check(url: str, *, resolve: Callable[[str, int], Iterable[str]] = resolve_host) -> None:
    """Refuse URLs outside the rules (https, public addresses) with a 400 naming the reason."""
    try:
        check_destination(url, resolve=resolve, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS)
    except UnsafeDestination as exc:
        raise ApplicationError(_destination_message(exc), code="unsafe_url", details={"url": url}) from exc


@transaction.atomic
def subscription_create(
    *, url: str, events: list[str], user, resolve: Callable[[str, int], Iterable[str]] = resolve_host
) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to ``events``. Returns the subscription and its secret (shown once)."""
    if not has_role(user, ADMIN, ERP):
        raise ApplicationError(_("Only admins and ERP clients manage webhooks."), code="permission_denied", status=403)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if not events or unknown:
        raise ApplicationError(
            _("Choose one or more events among: %(known)s.") % {"known": ", ".join(EVENT_TYPES)},
            code="invalid_events",
            details={"events": unknown or events},
        )
    destination_check(url, resolve=resolve)
    secret = new_secret()
    subscription = WebhookSubscription.objects.create(
        url=url,
        events=sorted(set(events), key=EVENT_TYPES.index),
        secret=secret,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return subscription, secret


# ---------------------------------------------------------------------------------------
# The outbox
# ---------------------------------------------------------------------------------------


def _subscribers(event_type: str) -> list[int]:
    # JSON containment is not portable (SQLite): the list of active subscriptions is short.
    return [
        pk for pk, events in WebhookSubscription.objects.active().values_list("id", "events") if event_type in events
    ]


def events_emit(*, type: str, items: list[dict], now: dt.datetime | None = None) -> int:
    """Record one event per item of ``data`` and its deliveries, sent after the commit.

    Cheap when nobody listens: nothing is written unless a subscription wants ``type``.
    Returns the number of events recorded.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    subscribers = _subscribers(type) if items else []
    if not subscribers:
        return 0
    now = now or timezone.now()
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                event_id=f"evt_{uuid.uuid4().hex}",
                type=type,
                created=now,
                data=json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
            )
            for data in items
        ]
    )
    if any(e.pk is None for e in events):  # backends that do not return ids on bulk insert
        events = list(WebhookEvent.objects.filter(event_id__in=[e.event_id for e in events]))
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription_id=sub, event=event, next_attempt_at=now)
            for event in events
            for sub in subscribers
        ]
    )
    ids = [d.pk for d in deliveries if d.pk is not None] or list(
        WebhookDelivery.objects.filter(event__in=events).values_list("id", flat=True)
    )
    transaction.on_commit(lambda: deliveries_enqueue(ids))
    return len(events)


def event_emit(*, type: str, data: dict, now: dt.datetime | None = None) -> int:
    """Record one event (see :func:`events_emit`)."""
    return events_emit(type=type, items=[data], now=now)


def deliveries_enqueue(ids: list[int]) -> None:
    """Hand deliveries to the workers; a broker outage only delays them (the sweeper)."""
    # Here, not at the top: webhooks.tasks imports this module.
    from webhooks.tasks import (
        webhook_deliver_task,  # tasks import this module: the cycle is the task's
    )

    for delivery_id in ids:
        try:
            webhook_deliver_task.delay(delivery_id)
        except Exception:  # the broker is down: the delivery stays due and the sweeper sends it
            log.warning("webhook delivery %s not queued; the sweeper will send it", delivery_id, exc_info=True)


# ---------------------------------------------------------------------------------------
# Delivery attempts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str = ""


class _NoRedirect(urlrequest.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer (3xx), never followed: it could point inside


def http_post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    opener = urlrequest.build_opener(_NoRedirect())
    req = urlrequest.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(req, timeout=TIMEOUT_SECONDS) as response:
            return PostResult(response.status)
    except urlerror.HTTPError as exc:
        return PostResult(exc.code, f"HTTP {exc.code}")
    except (urlerror.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return PostResult(None, f"{type(exc).__name__}: {reason}"[:500])


def delivery_body(event: WebhookEvent) -> bytes:
    payload = {"id": event.event_id, "type": event.type, "created": event.created.isoformat(), "data": event.data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    until = now + dt.timedelta(seconds=CLAIM_SECONDS)
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=until)
    )


def delivery_attempt(
    *,
    delivery_id: int,
    now: dt.datetime | None = None,
    post: Callable[[str, bytes, dict[str, str]], PostResult] = http_post,
    resolve: Callable[[str, int], Iterable[str]] = resolve_host,
) -> int | None:
    """Send one delivery once. Returns the seconds until the next attempt, or None when it is
    delivered, has failed for good, is not due yet, or is being sent by another call."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = delivery_body(delivery.event)
    try:
        # Checked again at each attempt: a name may resolve elsewhere since subscribing.
        check_destination(subscription.url, resolve=resolve, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS)
    except UnsafeDestination as exc:
        result = PostResult(None, _destination_message(exc))
    else:
        if not subscription.is_active:
            result = PostResult(None, _("The subscription was switched off."))
        else:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "sop-planner-webhooks/1",
                SIGNATURE_HEADER: signature(subscription.secret, int(now.timestamp()), body),
                "X-SOP-Event": delivery.event.type,
                "X-SOP-Delivery": str(delivery.pk),
            }
            result = post(subscription.url, body, headers)
    attempts = delivery.attempts + 1
    ok = result.status_code is not None and 200 <= result.status_code < 300
    delay = None if ok else retry_delay(attempts)
    fields = {
        "attempts": attempts,
        "last_status_code": result.status_code,
        "last_error": result.error,
        "last_attempt_at": now,
        "claimed_until": None,
    }
    if ok:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif delay is None or not subscription.is_active:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        delay = None
    else:
        fields.update(next_attempt_at=now + dt.timedelta(seconds=delay))
    WebhookDelivery.objects.filter(pk=delivery_id).update(**fields)
    if not ok:
        log.info(
            "webhook delivery %s attempt %s/%s failed: %s %s",
            delivery_id,
            attempts,
            MAX_ATTEMPTS,
            result.status_code,
            result.error,
        )
    return delay


def deliveries_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries whose next attempt is due and nobody is sending (the sweeper's list)."""
    return list(
        WebhookDelivery.objects.due(now or timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
