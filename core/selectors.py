"""Reads for the core pages (the home pages are the dashboards app's)."""

from __future__ import annotations


def recent_ingest_batches(*, user, limit: int = 20) -> list:
    """The latest bulk ingestion batches the user may see (API and upload), newest first."""
    from core.models import IngestBatch

    return list(IngestBatch.objects.for_user(user).select_related("client", "user").order_by("-id")[:limit])
