"""``Idempotency-Key`` on writes: the same key and body answer the stored first response; the
same key with another body answers 409. One owner for the rule, used by bulk ingestion
(``core.bulk.service.BulkRequest``) and by the run starts (``core.api.idempotency``).

Keys belong to their owner (an API client, or a signed-in user) and live
``IDEMPOTENCY_KEY_TTL_HOURS``; only successful responses are stored, so a retry after an
error tries again.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import ApplicationError
from core.models import ApiClient, IdempotencyRecord

MAX_KEY_LENGTH = 255


def owner_key(user, client: ApiClient | None) -> str:
    return f"client:{client.pk}" if client is not None else f"user:{user.pk}"


def body_fingerprint(method: str, path: str, content_type: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method, path, (content_type or "").split(";")[0].strip().lower()):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(gettext("Idempotency-Key is at most 255 characters."), code="invalid_idempotency_key")


def live_record(owner: str, key: str) -> IdempotencyRecord | None:
    horizon = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    return IdempotencyRecord.objects.filter(client_key=owner, key=key, created_at__gte=horizon).first()


def replay(record: IdempotencyRecord, fingerprint: str) -> tuple[int, dict]:
    """The stored first response (status, body), or 409 when the key came with another body."""
    if record.body_hash != fingerprint:
        raise ApplicationError(
            gettext(
                "This Idempotency-Key was already used with a different request body. Use a new key for a new request."
            ),
            code="idempotency_key_reused",
            status=409,
            details={"idempotency_key": record.key, "first_used_at": record.created_at.isoformat()},
        )
    return record.status_code, record.response_body


def record_response(*, owner: str, key: str, path: str, fingerprint: str, status: int, body: dict) -> None:
    """Store the first response to ``key`` (call in the transaction of the write it answers;
    a concurrent twin then fails on the unique key instead of writing twice)."""
    IdempotencyRecord.objects.filter(  # an expired record of the same key makes way for this one
        client_key=owner,
        key=key,
        created_at__lt=timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS),
    ).delete()
    IdempotencyRecord.objects.create(
        client_key=owner,
        key=key,
        method="POST",
        path=path,
        body_hash=fingerprint,
        status_code=status,
        response_body=body,
        created_at=timezone.now(),
    )
