"""One error body everywhere: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.bulk.body import too_large
from core.errors import ApplicationError

MESSAGES = {
    "not_authenticated": "Authentication credentials were not provided. Send 'Authorization: Bearer <token>'.",
    "authentication_failed": "The token is invalid, expired or revoked.",
}


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):  # Django refused a form body: JSON, not its HTML 400
        length = context["request"].META.get("CONTENT_LENGTH") or "0"
        exc = too_large(int(length) if length.isdigit() else 0, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, OverflowError):  # a number past 64 bits in a path or body (SQLite cannot bind it)
        exc = ApplicationError(gettext("A number in the request is out of range."), code="out_of_range")
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)  # a dependency outage (core.errors.ServiceUnavailable)
        _render_as_json(context)  # ?format=xlsx|csv asked for the data, not for its error
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django's 500 handling and logging see it

    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "validation_error", "The request is not valid.", response.data
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        message = MESSAGES.get(code, str(detail))
        details = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after_seconds": int(exc.wait + 0.999)}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    response.data = error_body(code, message, details)
    _render_as_json(context)
    return response


def _render_as_json(context) -> None:
    """An error answers in JSON even to ``?format=csv`` (a CSV of the error body helps nobody)."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
