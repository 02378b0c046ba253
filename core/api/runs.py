"""API helpers shared by the operations that start a run (forecast runs, plan runs)."""

from __future__ import annotations

from rest_framework import serializers

from core.errors import ApplicationError


def stalled_field() -> serializers.BooleanField:
    """A run's ``stalled`` (``RunRecord.is_stalled``), the same on every run resource."""
    return serializers.BooleanField(
        source="is_stalled",
        read_only=True,
        help_text="active, but no sign of life for RUN_STALE_SECONDS (no worker took it, or it went silent); "
        "the reaper sends its work again",
    )


def absolute_urls(exc: ApplicationError, request) -> ApplicationError:
    """The 409 of a second start names the active run by path; the API answers full URLs, as
    in its 202 (``url`` polls the run, ``page_url`` shows it to a person)."""
    if isinstance(exc.details, dict):
        for field in ("url", "page_url"):
            if isinstance(exc.details.get(field), str) and exc.details[field].startswith("/"):
                exc.details[field] = request.build_absolute_uri(exc.details[field])
    return exc
