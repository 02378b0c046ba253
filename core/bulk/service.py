"""Bulk ingestion: parse → validate (all rows) → upsert, all or nothing, idempotent.

The one entry point for the API's ``POST /api/v1/<resource>/bulk``, the CSV upload page and
scripts. An ``Idempotency-Key`` response is stored in the same transaction as the write.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from core import idempotency
from core.bulk import columnar
from core.bulk.body import too_deep
from core.bulk.cache import cached_with_version
from core.bulk.spec import ResourceSpec
from core.bulk.validation import (
    ERROR_COLUMNS,
    BatchShapeError,
    RefMap,
    Validated,
    check_columns,
    validate_batch,
)
from core.bulk.writer import UpsertCounts, upsert_frame
from core.errors import ApplicationError
from core.idempotency import body_fingerprint
from core.idempotency import live_record as _live_record
from core.idempotency import owner_key as _owner_key
from core.models import ApiClient, IdempotencyRecord, IngestBatch

MAX_ERRORS_LISTED = 1000


@dataclass
class IngestOutcome:
    status: int
    body: dict
    replayed: bool = False


CSV_TYPES = ("text/csv", "application/csv")
JSON_TYPES = ("application/json", "")


def media_type(content_type: str) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def parse_json_rows(body: bytes) -> list[dict]:
    """The rows of a JSON array of objects, numbers kept as text (money keeps every digit)."""
    try:
        data = json.loads(body or b"null", parse_float=str, parse_int=str)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApplicationError(f"The JSON body cannot be read: {exc}", code="malformed_json") from exc
    except RecursionError as exc:  # json's C decoder stops at the interpreter's recursion limit
        raise too_deep(None) from exc
    if not isinstance(data, list):
        raise ApplicationError(gettext("The JSON body must be an array of objects, one per row."), code="not_an_array")
    bad = [i for i, row in enumerate(data) if not isinstance(row, dict)]
    if bad:
        raise ApplicationError(
            f"Row {bad[0]} is not a JSON object; every row must be an object of field → value.",
            code="row_not_object",
            details={"rows": bad[:MAX_ERRORS_LISTED]},
        )
    if SURROGATE_ESCAPE.search(body or b""):  # rare: only then look at every text value
        _refuse_cells(
            len(data),
            [
                (i, field, "invalid_character", "holds an unpaired surrogate (\\uD800–\\uDFFF): not valid Unicode")
                for i, row in enumerate(data)
                for field, value in row.items()
                if isinstance(value, str) and not _encodable(value)
            ],
        )
    return data


SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def invalid_rows(rows: int, errors: pd.DataFrame, batch_id: int | None = None) -> ApplicationError:
    """The 400 for a batch with bad rows: every error (``row, field, code, message``), the first
    1,000 listed, and the recorded batch when there is one. Nothing was written."""
    listed = errors.head(MAX_ERRORS_LISTED).to_dict("records")
    for item in listed:
        item["row"] = int(item["row"])
    bad_rows = int(errors["row"].nunique())
    details = {
        "rows": rows,
        "invalid_rows": bad_rows,
        "error_count": len(errors),
        "errors": listed,
        "truncated": len(errors) > len(listed),
    }
    return ApplicationError(
        f"{bad_rows:,} of {rows:,} rows are invalid; nothing was written.",
        code="invalid_rows",
        details={"batch_id": batch_id, **details} if batch_id else details,
    )


def _refuse_cells(rows: int, cells: list[tuple[int, str, str, str]]) -> None:
    """400 naming each (row, field) whose JSON value no field can take; nothing is written."""
    if cells:
        raise invalid_rows(rows, pd.DataFrame(cells, columns=ERROR_COLUMNS))


def _not_utf8(body: bytes) -> ApplicationError:
    """400 naming the first byte that is not UTF-8 and its row (0 = the first data row)."""
    try:
        body.decode("utf-8-sig")
        where, details = "", {}
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if body.startswith(b"\xef\xbb\xbf") else 0)
        line = body[:start].count(b"\n")
        where = (
            f": byte 0x{body[start]:02x} in the header"
            if line == 0
            else f": byte 0x{body[start]:02x} in row {line - 1} (line {line + 1})"
        )
        details = {"row": line - 1 if line else None, "line": line + 1, "byte": f"0x{body[start]:02x}"}
    return ApplicationError(
        f"The CSV body is not UTF-8{where}. Export the file as UTF-8 (e.g. "
        "'CSV UTF-8' in a spreadsheet) and send it again.",
        code="malformed_csv",
        details=details,
    )


def parse_body(body: bytes, content_type: str, *, rows: list[dict] | None = None) -> pd.DataFrame:
    """A text DataFrame from a JSON array of objects or a CSV document with a header row.
    ``rows``: the JSON body already decoded by :func:`parse_json_rows`."""
    kind = media_type(content_type)
    if kind in CSV_TYPES:
        _refuse_ragged_rows(body)
        try:
            # Every cell as text, empty cells as "" (na_filter off: no NA detection pass at all).
            return pd.read_csv(
                io.BytesIO(body),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=True,
                encoding="utf-8-sig",
            )
        except pd.errors.EmptyDataError as exc:
            raise ApplicationError(
                gettext("The CSV body is empty: send a header row and data rows."), code="empty_body"
            ) from exc
        except UnicodeDecodeError as exc:
            raise _not_utf8(body) from exc
        except pd.errors.ParserError as exc:
            raise ApplicationError(f"The CSV body cannot be read: {exc}", code="malformed_csv") from exc
    if kind in JSON_TYPES:
        data = rows if rows is not None else parse_json_rows(body)
        frame = pd.DataFrame.from_records(data) if data else pd.DataFrame()
        if len(frame) != len(data):  # only empty objects: rows without fields
            frame = pd.DataFrame(index=range(len(data)))
        for column in frame.columns:
            if pd.api.types.infer_dtype(frame[column], skipna=False) == "string":
                continue  # all text already (numbers arrive as text): nothing to convert
            objects = frame[column].map(lambda v: isinstance(v, dict)).to_numpy(dtype=bool)
            _refuse_cells(
                len(frame),
                [
                    (
                        int(i),
                        str(column),
                        "invalid_type",
                        "a JSON object is not a value: send text, a number or a boolean",
                    )
                    for i in frame.index[objects]
                ],
            )
            if frame[column].map(lambda v: isinstance(v, dict | list)).any():
                frame[column] = frame[column].map(lambda v: ";".join(map(str, v)) if isinstance(v, list) else v)
            frame[column] = frame[column].map(
                lambda v: "" if v is None else ("true" if v is True else "false" if v is False else v)
            )
        return frame.astype(object)
    raise ApplicationError(
        f"Unsupported content type '{kind}': send application/json or text/csv.",
        code="unsupported_media_type",
        status=415,
    )


def _refuse_ragged_rows(body: bytes) -> None:
    """400 naming every CSV row whose cell count differs from the header's: pandas would
    read a row with one cell too many as shifted by one (the first cell taken as an index)
    and fill a row with too few with blanks. Blank lines are skipped, as pandas skips them,
    so row numbers agree with the batch's."""
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, skipinitialspace=True)
    errors, index, header = [], 0, None
    try:
        for cells in reader:
            if not cells or cells == [""]:
                continue
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                missing = f": '{header[len(cells)]}' and later cells are missing" if len(cells) < len(header) else ""
                errors.append(
                    (
                        index,
                        "_row",
                        "wrong_cell_count",
                        f"has {len(cells)} cells but the header has {len(header)}{missing}; "
                        "quote values holding commas",
                    )
                )
            index += 1
    except UnicodeDecodeError as exc:
        raise _not_utf8(body) from exc
    except csv.Error as exc:
        raise ApplicationError(
            f"The CSV body cannot be read at line {reader.line_num}: {exc}",
            code="malformed_csv",
            details={"line": reader.line_num},
        ) from exc
    if errors:
        raise invalid_rows(index, pd.DataFrame(errors, columns=ERROR_COLUMNS))


def reference_maps(spec: ResourceSpec) -> dict[str, dict[str, int]]:
    """{ref table: {natural key: id}} for every reference of the spec (cached per process
    while the referenced table is unchanged: ``core.bulk.cache``)."""
    return reference_maps_and_versions(spec)[0]


def reference_maps_and_versions(spec: ResourceSpec) -> tuple[dict[str, dict[str, int]], dict[str, tuple]]:
    """The maps, and the version of each referenced db table they were read at."""
    maps, versions = {}, {}
    for f in spec.fields:
        if f.ref is not None and f.ref.table not in maps:
            model = apps.get_model(f.ref.model)
            maps[f.ref.table], version = cached_with_version(
                f"refs:{f.ref.model}:{f.ref.key}",
                model,
                lambda model=model, key=f.ref.key: RefMap((str(k), v) for k, v in model.objects.values_list(key, "id")),
            )
            if version is not None:
                versions[model._meta.db_table] = version
    return maps, versions


def _replay(record: IdempotencyRecord, fingerprint: str) -> IngestOutcome:
    status, body = idempotency.replay(record, fingerprint)
    return IngestOutcome(status=status, body=body, replayed=True)


class RowErrors(Exception):
    """Raised by a write step: these rows are invalid against the database; roll back and
    answer 400 listing them (``row, field, code, message``)."""

    def __init__(self, errors: pd.DataFrame):
        super().__init__(f"{len(errors)} row errors")
        self.errors = errors[ERROR_COLUMNS].sort_values(["row", "field"], kind="stable").reset_index(drop=True)


@dataclass
class BulkRequest:
    """One bulk write: who sent it, its ``Idempotency-Key`` and body fingerprint, its clock.
    Every bulk endpoint (the generic upsert and the resources with their own write step)
    opens one, then either rejects it (a recorded ``IngestBatch``, 400 listing the rows) or
    applies it (the write, the batch and the idempotency record in one transaction)."""

    resource: str
    user: object
    client: ApiClient | None
    source: str
    kind: str  # "csv" | "json"
    idempotency_key: str
    path: str
    owner: str
    fingerprint: str
    started: float

    @classmethod
    def open(
        cls,
        *,
        resource: str,
        body: bytes,
        content_type: str,
        user,
        client: ApiClient | None,
        idempotency_key: str | None,
        path: str,
        source: str,
    ) -> tuple[BulkRequest, IngestOutcome | None]:
        """The request, and the stored first response when its key was used before."""
        started = time.monotonic()
        owner = _owner_key(user, client)
        path = path or resource
        request = cls(
            resource=resource,
            user=user,
            client=client,
            source=source,
            kind="csv" if media_type(content_type) in CSV_TYPES else "json",
            idempotency_key=idempotency_key or "",
            path=path,
            owner=owner,
            fingerprint=body_fingerprint("POST", path, content_type, body),
            started=started,
        )
        if idempotency_key:
            idempotency.check_key(idempotency_key)
            record = _live_record(owner, idempotency_key)
            if record is not None:
                return request, _replay(record, request.fingerprint)
        return request, None

    def _batch(self, **fields) -> IngestBatch:
        return IngestBatch.objects.create(
            resource=self.resource,
            client=self.client,
            user=self.user if self.client is None else None,
            source=self.source,
            content_type=self.kind,
            idempotency_key=self.idempotency_key,
            duration_ms=int((time.monotonic() - self.started) * 1000),
            **fields,
        )

    def reject(self, rows: int, errors: pd.DataFrame | list[dict]) -> ApplicationError:
        """Record the rejected batch; the 400 to raise (:func:`invalid_rows`)."""
        errors = pd.DataFrame(errors, columns=ERROR_COLUMNS) if isinstance(errors, list) else errors
        first = errors.head(100).to_dict("records")
        for item in first:
            item["row"] = int(item["row"])
        batch = self._batch(status=IngestBatch.Status.REJECTED, rows=rows, error_count=len(errors), errors=first)
        return invalid_rows(rows, errors, batch_id=batch.pk)

    def apply(self, rows: int, write: Callable[[], UpsertCounts]) -> IngestOutcome:
        """Run ``write`` and record the batch (and the key's response) in one transaction.
        ``write`` may raise :class:`RowErrors` (rolled back, recorded as rejected)."""
        try:
            with transaction.atomic():
                counts = write()
                batch = self._batch(
                    status=IngestBatch.Status.APPLIED,
                    rows=rows,
                    created=counts.created,
                    updated=counts.updated,
                    unchanged=counts.unchanged,
                )
                body_out = {
                    "batch_id": batch.pk,
                    "resource": self.resource,
                    "status": batch.status,
                    "rows": rows,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                }
                if self.idempotency_key:
                    idempotency.record_response(
                        owner=self.owner,
                        key=self.idempotency_key,
                        path=self.path,
                        fingerprint=self.fingerprint,
                        status=200,
                        body=body_out,
                    )
        except RowErrors as exc:
            raise self.reject(rows, exc.errors) from exc
        except IntegrityError as exc:
            # A concurrent request with the same key won the race: answer what it answered.
            if self.idempotency_key and (record := _live_record(self.owner, self.idempotency_key)) is not None:
                return _replay(record, self.fingerprint)
            raise ApplicationError(
                f"The database refused the batch; nothing was written: {exc}", code="constraint_violation", status=409
            ) from exc
        return IngestOutcome(status=200, body=body_out)


@contextlib.contextmanager
def _without_cycle_collection():
    """A batch allocates millions of short-lived objects (cells, rows), none in reference
    cycles: the cyclic collector would walk every live object of the process several times
    per batch for nothing. Reference counting still frees them; collection resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


Writer = Callable[[pd.DataFrame, pd.DataFrame], UpsertCounts]
"""A resource's own write step, for what needs more than one table or a check across rows and
the database (territories, assignments, quotas, users, comp plans): ``write(typed, stored)``
— ``typed`` every field by API name (references as ids), ``stored`` the db columns — returns
the counts or raises :class:`RowErrors`."""


def bulk_ingest(
    *,
    spec: ResourceSpec,
    body: bytes,
    content_type: str,
    user,
    client: ApiClient | None = None,
    idempotency_key: str | None = None,
    path: str = "",
    source: str = "api",
    write: Writer | None = None,
) -> IngestOutcome:
    """One batch of ``spec``, all or nothing: open (key check, replay), validate (every bad row
    named), then the generic upsert — or the resource's own ``write`` step."""
    with _without_cycle_collection():
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
        try:
            if write is None:
                validated, versions = _validate(spec, body, content_type)
            else:
                frame = parse_body(body, content_type)
                validated = validate_batch(frame, spec, reference_maps(spec), max_rows=settings.API_MAX_BULK_ROWS)
        except BatchShapeError as exc:
            raise ApplicationError(exc.message, code="invalid_columns", details=exc.details) from exc
        if not validated.ok:
            raise request.reject(validated.rows, validated.errors)
        if write is None:
            return request.apply(validated.rows, lambda: upsert_frame(spec, validated.frame, known_versions=versions))
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


def _validate(spec: ResourceSpec, body: bytes, content_type: str) -> tuple[Validated, dict[str, tuple]]:
    """The checked batch and the versions of the reference tables it was checked against.
    A batch first tries the columnar path; when that declines (a doubtful cell, a quirk of the
    body), the exact pandas path reads it and names every error. Body errors come before any
    database read."""
    table = rows = frame = None
    media = media_type(content_type)
    if settings.BULK_COLUMNAR and columnar.eligible(spec):
        if media in CSV_TYPES:
            table = columnar.read_csv(body)
        elif media in JSON_TYPES:
            rows = parse_json_rows(body)  # decoded once, for either path
            table = columnar.from_rows(rows)
    if table is not None:
        check_columns(table.column_names, table.num_rows, spec, settings.API_MAX_BULK_ROWS)
    else:
        frame = parse_body(body, content_type, rows=rows)
    context = spec.load_context() if spec.load_context else {}
    refs, versions = reference_maps_and_versions(spec)
    if table is not None:
        fast = columnar.validate(table, spec, refs, context)
        if fast is not None:
            return Validated(frame=fast, errors=pd.DataFrame(columns=ERROR_COLUMNS), rows=table.num_rows), versions
        frame = parse_body(body, content_type, rows=rows)
    return validate_batch(frame, spec, refs, max_rows=settings.API_MAX_BULK_ROWS, context=context), versions
