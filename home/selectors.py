"""Reads for the data page: the ingestion batches in the viewer's scope, never anyone else's."""

from __future__ import annotations

from core.models import IngestBatch


def recent_ingest_batches(*, user, limit: int = 20) -> list:
    """The latest bulk ingestion batches the user may see (API and upload), newest first."""
    return list(IngestBatch.objects.for_user(user).select_related("client", "user").order_by("-id")[:limit])
