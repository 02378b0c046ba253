"""``Idempotency-Key`` for API operations that start something (a forecast run, a plan run):
the rule of ``core.idempotency``, applied around the view's action."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from core import idempotency
from core.errors import ApplicationError

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes retries safe: the same key and body replay the first response "
    "(`Idempotent-Replayed: true`); the same key with another body → 409.",
)


def idempotent(request, action: Callable[[], Response]) -> Response:
    """Run ``action`` (the view's work, returning its response) once per ``Idempotency-Key``
    and body. Only a 2xx response is stored; errors (409 run in progress, 503 queue down, 400)
    are not, so a retry tries again."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return action()
    idempotency.check_key(key)
    # The raw body is read before the parsers consume it (request.data then reads the copy).
    fingerprint = idempotency.body_fingerprint("POST", request.path, request.content_type, request.body)
    owner = idempotency.owner_key(request.user, getattr(request.user, "api_client", None))
    record = idempotency.live_record(owner, key)
    if record is not None:
        return _replayed(*idempotency.replay(record, fingerprint))
    try:
        with transaction.atomic():
            response = action()
            if 200 <= response.status_code < 300:
                idempotency.record_response(
                    owner=owner,
                    key=key,
                    path=request.path,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    body=response.data,
                )
    except (IntegrityError, ApplicationError) as exc:
        # A twin request with this key got there first (its run is the active one, or its
        # record the unique one): answer what it answered.
        record = idempotency.live_record(owner, key)
        if record is None or (isinstance(exc, ApplicationError) and exc.code != "run_in_progress"):
            raise
        return _replayed(*idempotency.replay(record, fingerprint))
    return response


def _replayed(status: int, body: dict) -> Response:
    response = Response(body, status=status)
    response["Idempotent-Replayed"] = "true"
    if isinstance(body, dict) and body.get("url"):
        response["Location"] = body["url"]
    return response
