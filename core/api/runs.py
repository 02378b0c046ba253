"""API helpers shared by the operations that start a run (forecast runs, plan runs)."""

from __future__ import annotations

from core.errors import ApplicationError


def absolute_urls(exc: ApplicationError, request) -> ApplicationError:
    """The 409 of a second start names the active run by path; the API answers full URLs, as
    in its 202 (``url`` polls the run, ``page_url`` shows it to a person)."""
    if isinstance(exc.details, dict):
        for field in ("url", "page_url"):
            if isinstance(exc.details.get(field), str) and exc.details[field].startswith("/"):
                exc.details[field] = request.build_absolute_uri(exc.details[field])
    return exc
