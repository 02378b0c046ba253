"""Dependency outages answer 503, never a 500: the database, the cache (Redis) or the task
queue being down is told as such — JSON ``{"error": {"code": "service_unavailable", ...}}``
with ``Retry-After`` for the API, a plain page for people — and nothing half-done is left.

``core.middleware.DependencyOutageMiddleware`` turns outages raised by views into that
answer; ``core.views.server_error`` (``handler500``) does it for outages raised elsewhere
in the request (the session read by the sign-in check, the session saved on the way out).
"""

from __future__ import annotations

import logging

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as QueueOperationalError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
API_PREFIXES = ("/api/",)

MESSAGES = {
    "database": lambda: _("The database is not reachable right now, so this request could not be served."),
    "cache": lambda: _("The shared cache (Redis) is not reachable right now, so this request could not be served."),
    "queue": lambda: _("The task queue (Redis) is not reachable right now, so this request could not be served."),
}


def dependency_of(exc: BaseException | None) -> str | None:
    """Which dependency an exception says is down (following its causes), or None for a bug."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return "database"
        if isinstance(exc, QueueOperationalError):
            return "queue"
        if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
            return "cache"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def outage_response(request: HttpRequest, dependency: str, exc: BaseException) -> HttpResponse:
    log.warning(
        "503 for %s %s: the %s is down (%s: %s)",
        request.method,
        request.path,
        dependency,
        type(exc).__name__,
        str(exc)[:300],
    )
    message = MESSAGES[dependency]()
    if request.path.startswith(API_PREFIXES):
        response = JsonResponse(
            {
                "error": {
                    "code": "service_unavailable",
                    "message": message,
                    "details": {"dependency": dependency, "retry_after_seconds": RETRY_AFTER_SECONDS},
                }
            },
            status=503,
        )
    else:
        # Rendered without the request's context processors: they read the database.
        response = HttpResponse(
            render_to_string("503.html", {"message": message, "retry_url": request.path}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
