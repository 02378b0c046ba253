"""Bulk upserts that need more than one table or a check across rows and the database:
territories (tree paths), territory assignments (primary shares), quotas (plan status,
nullable key parts) and users (groups and profile).

Same contract as ``core.bulk.service.bulk_ingest`` — JSON or CSV, all or nothing, every bad
row listed as ``{row, field, code, message}``, ``Idempotency-Key`` replay — built from its
pieces; only the write step is the resource's own function.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.bulk.service import (
    MAX_ERRORS_LISTED,
    IngestOutcome,
    _live_record,
    _owner_key,
    _replay,
    body_fingerprint,
    parse_body,
    reference_maps,
)
from core.bulk.spec import ResourceSpec
from core.bulk.validation import ERROR_COLUMNS, BatchShapeError, validate_batch
from core.bulk.writer import UpsertCounts
from core.errors import ApplicationError
from core.models import ApiClient, IdempotencyRecord, IngestBatch


class RowErrors(Exception):
    """Raised by a write step: these rows are invalid against the database; roll back."""

    def __init__(self, errors: pd.DataFrame):
        super().__init__(f"{len(errors)} row errors")
        self.errors = errors[ERROR_COLUMNS].sort_values(["row", "field"], kind="stable").reset_index(drop=True)


def row_errors(rows, field: str, code: str, messages) -> pd.DataFrame:
    rows = list(rows)
    if isinstance(messages, str):
        messages = [messages] * len(rows)
    return pd.DataFrame({"row": rows, "field": field, "code": code, "message": list(messages)})


Writer = Callable[[pd.DataFrame, pd.DataFrame], UpsertCounts]
"""``write(typed, stored)``: ``typed`` holds every field by API name (references as ids),
``stored`` the db columns; returns the counts or raises :class:`RowErrors`."""


def _reject(*, spec, client, user, source, kind, key, rows, errors: pd.DataFrame, started) -> ApplicationError:
    listed = errors.head(MAX_ERRORS_LISTED).to_dict("records")
    for item in listed:
        item["row"] = int(item["row"])
    batch = IngestBatch.objects.create(
        resource=spec.name, client=client, user=user if client is None else None, source=source, content_type=kind,
        idempotency_key=key or "", status=IngestBatch.Status.REJECTED, rows=rows, error_count=len(errors),
        errors=listed[:100], duration_ms=int((time.monotonic() - started) * 1000))
    bad_rows = errors["row"].nunique()
    return ApplicationError(
        f"{bad_rows:,} of {rows:,} rows are invalid; nothing was written.", code="invalid_rows",
        details={"batch_id": batch.pk, "rows": rows, "invalid_rows": int(bad_rows), "error_count": len(errors),
                 "errors": listed, "truncated": len(errors) > len(listed)})


def dedicated_bulk_ingest(*, spec: ResourceSpec, write: Writer, body: bytes, content_type: str, user,
                          client: ApiClient | None = None, idempotency_key: str | None = None, path: str = "",
                          source: str = "api") -> IngestOutcome:
    started = time.monotonic()
    owner = _owner_key(user, client)
    fingerprint = body_fingerprint("POST", path or spec.name, content_type, body)
    if idempotency_key:
        if len(idempotency_key) > 255:
            raise ApplicationError("Idempotency-Key is at most 255 characters.", code="invalid_idempotency_key")
        record = _live_record(owner, idempotency_key)
        if record is not None:
            return _replay(record, fingerprint)

    frame = parse_body(body, content_type)
    kind = "csv" if "csv" in (content_type or "") else "json"
    try:
        validated = validate_batch(frame, spec, reference_maps(spec), max_rows=settings.API_MAX_BULK_ROWS)
    except BatchShapeError as exc:
        raise ApplicationError(exc.message, code="invalid_columns", details=exc.details) from exc
    common = {"spec": spec, "client": client, "user": user, "source": source, "kind": kind, "key": idempotency_key,
              "rows": validated.rows, "started": started}
    if not validated.ok:
        raise _reject(errors=validated.errors, **common)
    if validated.rows == 0:
        counts = UpsertCounts(0, 0, 0)

    typed = _typed(frame, spec, validated.frame) if validated.rows else pd.DataFrame()
    try:
        with transaction.atomic():
            if validated.rows:
                counts = write(typed, validated.frame)
            batch = IngestBatch.objects.create(
                resource=spec.name, client=client, user=user if client is None else None, source=source,
                content_type=kind, idempotency_key=idempotency_key or "", status=IngestBatch.Status.APPLIED,
                rows=validated.rows, created=counts.created, updated=counts.updated, unchanged=counts.unchanged,
                duration_ms=int((time.monotonic() - started) * 1000))
            body_out = {"batch_id": batch.pk, "resource": spec.name, "status": batch.status,
                        "rows": validated.rows, "created": counts.created, "updated": counts.updated,
                        "unchanged": counts.unchanged}
            if idempotency_key:
                IdempotencyRecord.objects.create(
                    client_key=owner, key=idempotency_key, method="POST", path=path or spec.name,
                    body_hash=fingerprint, status_code=200, response_body=body_out, created_at=timezone.now())
    except RowErrors as exc:
        raise _reject(errors=exc.errors, **common) from exc
    except IntegrityError as exc:
        if idempotency_key and (record := _live_record(owner, idempotency_key)) is not None:
            return _replay(record, fingerprint)
        raise ApplicationError(f"The database refused the batch; nothing was written: {exc}",
                               code="constraint_violation", status=409) from exc
    return IngestOutcome(status=200, body=body_out)


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
