"""The one exception type services raise for business-rule failures."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A failure a user can act on; the API renders it as ``{"error": {...}}``."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid", details: Any = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details if details is not None else {}
        if status is not None:
            self.status_code = status


class ServiceUnavailable(ApplicationError):
    """A dependency (database, queue, cache) is down: 503 with ``Retry-After``; nothing was done."""

    status_code = 503

    def __init__(self, message: str, *, dependency: str, retry_after: int = 30):
        super().__init__(
            message, code="service_unavailable", details={"dependency": dependency, "retry_after_seconds": retry_after}
        )
        self.dependency = dependency
        self.retry_after = retry_after
