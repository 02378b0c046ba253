"""Bulk upserts that need more than one table or a check across rows and the database:
territories (tree paths), territory assignments (primary shares), quotas (plan status,
nullable key parts) and users (groups and profile).

Same contract as ``core.bulk.service.bulk_ingest`` — JSON or CSV, all or nothing, every bad
row listed as ``{row, field, code, message}``, ``Idempotency-Key`` replay — built from its
pieces; only the write step is the resource's own function.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.conf import settings

from core.bulk.service import BulkRequest, IngestOutcome, RowErrors, parse_body, reference_maps
from core.bulk.spec import ResourceSpec
from core.bulk.validation import BatchShapeError, validate_batch
from core.bulk.writer import UpsertCounts
from core.errors import ApplicationError

__all__ = ["RowErrors", "Writer", "dedicated_bulk_ingest"]


Writer = Callable[[pd.DataFrame, pd.DataFrame], UpsertCounts]
"""``write(typed, stored)``: ``typed`` holds every field by API name (references as ids),
``stored`` the db columns; returns the counts or raises :class:`RowErrors`."""


def dedicated_bulk_ingest(
    *,
    spec: ResourceSpec,
    write: Writer,
    body: bytes,
    content_type: str,
    user,
    client=None,
    idempotency_key: str | None = None,
    path: str = "",
    source: str = "api",
) -> IngestOutcome:
    request, replayed = BulkRequest.open(
        resource=spec.name,
        body=body,
        content_type=content_type,
        user=user,
        client=client,
        idempotency_key=idempotency_key,
        path=path,
        source=source,
    )
    if replayed is not None:
        return replayed
    frame = parse_body(body, content_type)
    try:
        validated = validate_batch(frame, spec, reference_maps(spec), max_rows=settings.API_MAX_BULK_ROWS)
    except BatchShapeError as exc:
        raise ApplicationError(exc.message, code="invalid_columns", details=exc.details) from exc
    if not validated.ok:
        raise request.reject(validated.rows, validated.errors)
    if validated.rows == 0:
        return request.apply(0, lambda: UpsertCounts(0, 0, 0))
    typed = _typed(frame, spec, validated.frame)
    return request.apply(validated.rows, lambda: write(typed, validated.frame))


def _typed(frame: pd.DataFrame, spec: ResourceSpec, stored: pd.DataFrame) -> pd.DataFrame:
    """Every field by API name: stored columns as validated, the rest as sent (stripped)."""
    frame = frame.reset_index(drop=True)
    out = {}
    for f in spec.fields:
        if f.db_column and f.db_column in stored.columns:
            out[f.name] = stored[f.db_column]
        elif f.name in frame.columns:
            out[f.name] = frame[f.name].astype("string").fillna("").str.strip().astype(object)
        else:
            out[f.name] = pd.Series([f.default or ""] * len(frame), dtype=object)
    return pd.DataFrame(out)
