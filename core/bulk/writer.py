"""Write a validated batch: stage it, then one set-based upsert by natural key.

PostgreSQL: ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT
DO UPDATE … WHERE IS DISTINCT FROM`` — unchanged rows are not touched (their
``updated_at`` stays, so incremental sync does not resend them) and ``xmax = 0`` tells
inserts from updates. SQLite: the same statement shape fed by ``executemany`` into the
staging table. This module is the one place with SQL for bulk writes.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from core.bulk.cache import table_version
from core.bulk.spec import ReferenceGuard, ResourceSpec
from core.errors import ApplicationError

STAGE = "_bulk_stage"
UNIQUE_VIOLATION = "23505"
COPY_CHUNK = 1 << 20  # bytes per write to the server during COPY (psycopg2's default is 8 KB)
# Tables whose last batch in this process met existing keys: their next batch skips the
# optimistic COPY (which would fail) and goes straight to the upsert.
_recent_conflict: dict[str, bool] = {}


@dataclass(frozen=True)
class UpsertCounts:
    created: int
    updated: int
    unchanged: int


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _text_columns(spec: ResourceSpec) -> set[str]:
    return {f.db_column for f in spec.stored_fields if f.kind in ("str", "choice", "list") and f.ref is None}


def _insert_defaults(spec: ResourceSpec, columns: list[str]) -> dict[str, object]:
    """Model defaults of the table's columns the batch does not carry (e.g. a flag only the app
    sets): Django applies them in Python, so the INSERT must name them; updates leave them."""
    model = _model_for_table(spec.table)
    if model is None:
        return {}
    defaults = {}
    for f in model._meta.concrete_fields:
        if (
            f.column in columns
            or f.primary_key
            or f.column in ("created_at", "updated_at")
            or not f.has_default()
            or callable(f.default)
        ):
            continue
        defaults[f.column] = f.get_db_prep_save(f.get_default(), connection)
    return defaults


@functools.cache
def _model_for_table(table: str):
    """The model stored in ``table`` (models are fixed once the app registry is ready)."""
    return next((m for m in apps.get_models() if m._meta.db_table == table), None)


def _db_stamped(spec: ResourceSpec) -> bool:
    """True when the database fills created_at/updated_at itself (``db_default``)."""
    model = _model_for_table(spec.table)
    if model is None:
        return False
    fields = {f.column: f for f in model._meta.concrete_fields}
    return all(c in fields and fields[c].has_db_default() for c in ("created_at", "updated_at"))


def verify_references(
    cursor, guard: ReferenceGuard, frame: pd.DataFrame, known_versions: dict[str, tuple] | None = None
) -> None:
    """Inside the write transaction: hold the guard's lock shared (deletes of referenced rows
    wait for this batch, and this batch waits for a delete in flight), then check that every
    id the batch references still exists. Validation read them before the transaction began:
    a table whose version (``core.bulk.cache.table_version``) is still the one validation
    read has lost no row since, so its ids need no look-up."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [guard.lock_key])
    for column, table in guard.tables:
        if column not in _names(frame):
            continue
        known = (known_versions or {}).get(table)
        model = _model_for_table(table) if known is not None else None
        if model is not None and table_version(model) == known:
            continue
        if isinstance(frame, pa.Table):
            ids = pc.unique(pc.drop_null(frame.column(column))).to_numpy()
        else:
            ids = pd.unique(frame[column].dropna().to_numpy(dtype="int64", na_value=0))
        if not len(ids):
            continue
        found: set[int] = set()
        for start in range(0, len(ids), 10_000):
            chunk = [int(i) for i in ids[start : start + 10_000]]
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT id FROM {_qn(table)} WHERE id = ANY(%s)", [chunk])
            else:
                cursor.execute(f"SELECT id FROM {_qn(table)} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(row[0] for row in cursor.fetchall())
        missing = sorted(set(int(i) for i in ids) - found)
        if missing:
            label = table.split("_", 1)[-1]
            raise ApplicationError(
                f"{len(missing)} referenced {label} record(s) were deleted while this batch was being "
                "validated; nothing was written. Send the batch again.",
                code="reference_deleted",
                status=409,
                details={"table": table, "ids": missing[:100]},
            )


def _names(frame: pd.DataFrame | pa.Table) -> list[str]:
    return frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)


def _arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow batch (``core.bulk.columnar``) as the object frame the SQLite path writes."""
    return pd.DataFrame({name: pd.Series(table.column(name).to_pylist(), dtype=object) for name in table.column_names})


def _arrow_csv(table: pa.Table) -> bytes:
    """The table as CSV for ``COPY … (FORMAT csv, FORCE_NOT_NULL (text columns))``: NULL is an
    empty cell. Unquoted when no cell holds a comma, quote or line break (PostgreSQL parses
    unquoted cells ~5 % faster); else every string cell is quoted. A one-column table is
    always quoted (a line of just ``\\.`` would end the COPY)."""
    sink = io.BytesIO()
    if table.num_columns > 1:
        try:
            pa_csv.write_csv(
                table, sink, pa_csv.WriteOptions(include_header=False, batch_size=1 << 16, quoting_style="none")
            )
            return sink.getvalue()
        except pa.ArrowInvalid:
            sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False, batch_size=1 << 16))
    return sink.getvalue()


def _copy_arrow(cursor, target: str, table: pa.Table, columns: list[str], text_columns: set[str]) -> None:
    """COPY an Arrow table into ``target`` (quoted name) ``columns``. Text columns hold no NULL
    (an empty text cell is an empty string), so they are FORCE_NOT_NULL: an unquoted empty
    cell there is ''."""
    force = [_qn(c) for c in columns if c in text_columns]
    options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(force)})" if force else "")
    _raw_cursor(cursor).copy_expert(
        f"COPY {target} ({', '.join(_qn(c) for c in columns)}) FROM STDIN WITH ({options})",
        io.BytesIO(_arrow_csv(table)),
        size=COPY_CHUNK,
    )


def upsert_frame(
    spec: ResourceSpec, frame: pd.DataFrame | pa.Table, *, known_versions: dict[str, tuple] | None = None
) -> UpsertCounts:
    """Upsert ``frame`` (db column → value) into ``spec.table``; call inside a transaction.
    ``frame`` is a pandas frame, or an Arrow table from the columnar path (``core.bulk.columnar``).
    ``known_versions``: versions of referenced tables the batch was validated against."""
    if len(frame) == 0:
        return UpsertCounts(0, 0, 0)
    if isinstance(frame, pa.Table) and connection.vendor != "postgresql":
        frame = _arrow_to_frame(frame)
    if spec.reference_guard is not None:
        with connection.cursor() as cursor:
            verify_references(cursor, spec.reference_guard, frame, known_versions)
    columns = _names(frame)
    key = list(spec.key_columns)
    table = _qn(spec.table)
    cols_sql = ", ".join(_qn(c) for c in columns)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    defaults = _insert_defaults(spec, columns)
    insert_sql = ", ".join(_qn(c) for c in [*columns, "created_at", "updated_at", *defaults])
    insert_params = [now, now, *defaults.values()]
    select_extra = ", ".join(["%s"] * len(insert_params))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(key) == 1 and not _recent_conflict.get(spec.table):
            # Optimistic: a feed of new lines is COPYed straight into the table (no staging, no
            # look-up of 50k keys first: that look-up alone cost a quarter of the database time).
            # A key that exists already (an update, or a concurrent batch inserted it) aborts
            # the COPY at its savepoint and the batch takes the upsert below; the next batches
            # of this table go straight to the upsert until one of them is all new again.
            try:
                with transaction.atomic():
                    appended = _append(cursor, spec, frame, now, defaults)
            except connection.Database.IntegrityError as exc:
                if getattr(exc, "pgcode", None) != UNIQUE_VIOLATION:
                    raise
                _recent_conflict[spec.table] = True
                appended = False
            if appended:
                return UpsertCounts(created=len(frame), updated=0, unchanged=0)
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT {cols_sql} FROM {table} WHERE 1 = 0")
        if connection.vendor == "postgresql":
            _copy_into_stage(cursor, spec, frame, columns)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            values = frame.astype(object).where(frame.notna(), None)
            for column in set(columns) - _text_columns(spec):
                values[column] = values[column].where(values[column] != "", None)
            rows = values.itertuples(index=False, name=None)
            cursor.executemany(f"INSERT INTO {STAGE} ({cols_sql}) VALUES ({placeholders})", list(rows))

        updatable = [c for c in columns if c not in key]
        set_sql = ", ".join(f"{_qn(c)} = excluded.{_qn(c)}" for c in updatable + ["updated_at"])
        conflict = ", ".join(_qn(c) for c in key)
        total = len(frame)
        if connection.vendor == "postgresql":
            # Rows go in key order: concurrent batches with overlapping keys lock them in the same
            # order (no deadlock), and the unique index inserts stay local.
            changed = " OR ".join(f"t.{_qn(c)} IS DISTINCT FROM excluded.{_qn(c)}" for c in updatable) or "FALSE"
            cursor.execute(
                f"""WITH up AS (
                      INSERT INTO {table} AS t ({insert_sql})
                      SELECT {cols_sql}, {select_extra} FROM {STAGE} ORDER BY {conflict}
                      ON CONFLICT ({conflict}) DO UPDATE SET {set_sql} WHERE {changed}
                      RETURNING (xmax = 0) AS inserted)
                    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up""",
                insert_params,
            )
            created, updated = cursor.fetchone()
        else:
            match = " AND ".join(f"t.{_qn(c)} = s.{_qn(c)}" for c in key)
            cursor.execute(f"SELECT count(*) FROM {STAGE} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})")
            created = cursor.fetchone()[0]
            changed = " OR ".join(f"NOT ({table}.{_qn(c)} IS excluded.{_qn(c)})" for c in updatable) or "0"
            cursor.execute(
                f"""INSERT INTO {table} ({insert_sql})
                    SELECT {cols_sql}, {select_extra} FROM {STAGE} WHERE true
                    ON CONFLICT ({conflict}) DO UPDATE SET {set_sql} WHERE {changed}""",
                insert_params,
            )
            cursor.execute("SELECT changes()")
            updated = cursor.fetchone()[0] - created
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    if created == total:
        _recent_conflict.pop(spec.table, None)
    return UpsertCounts(created=created, updated=updated, unchanged=total - created - updated)


def _append(cursor, spec: ResourceSpec, frame: pd.DataFrame, now, defaults: dict) -> bool:
    """COPY the batch straight into the table (call in a savepoint: an existing key raises
    a unique violation). False, with nothing sent, when a cell's type needs the staged path."""
    # Timestamps the database fills itself are left out of the COPY (less text to build and parse).
    stamps = [] if _db_stamped(spec) else ["created_at", "updated_at"]
    names = [*_names(frame), *stamps, *defaults]
    if isinstance(frame, pa.Table):
        extra = [now.isoformat()] * len(stamps) + [None if v is None else str(v) for v in defaults.values()]
        for i, value in enumerate(extra):
            frame = frame.append_column(f"_constant_{i}", pa.repeat(pa.scalar(value, pa.string()), len(frame)))
        _copy_arrow(cursor, _qn(spec.table), frame, names, _text_columns(spec))
        return True
    columns = ", ".join(_qn(c) for c in names)
    constants = [now.isoformat()] * len(stamps)
    constants += ["\\N" if v is None else str(v).translate(COPY_ESCAPES) for v in defaults.values()]
    try:
        text = _copy_text(frame, _text_columns(spec), constants=constants, plain=_plain_columns(spec))
    except (TypeError, ValueError):  # cells of an unexpected type: the staged path handles them
        return False
    _raw_cursor(cursor).copy_expert(
        f"COPY {_qn(spec.table)} ({columns}) FROM STDIN WITH (FORMAT text)", io.BytesIO(text.encode()), size=COPY_CHUNK
    )
    return True


def _raw_cursor(cursor):
    raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
    while hasattr(raw, "cursor") and not hasattr(raw, "copy_expert"):
        raw = raw.cursor
    return raw


def _copy_into_stage(cursor, spec: ResourceSpec, frame: pd.DataFrame | pa.Table, columns: list[str]) -> None:
    if isinstance(frame, pa.Table):
        _copy_arrow(cursor, STAGE, frame, columns, _text_columns(spec))
        return
    text_columns = _text_columns(spec)
    try:
        buffer = io.StringIO(_copy_text(frame, text_columns, plain=_plain_columns(spec)))
        sql = f"COPY {STAGE} ({', '.join(_qn(c) for c in columns)}) FROM STDIN WITH (FORMAT text)"
    except (TypeError, ValueError):  # cells of an unexpected type: let pandas write CSV
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, quoting=csv.QUOTE_ALL, na_rep="")
        buffer.seek(0)
        # Quoted "" is an empty string for text columns and NULL for every other column.
        nullable = [c for c in columns if c not in text_columns]
        force_null = f", FORCE_NULL ({', '.join(_qn(c) for c in nullable)})" if nullable else ""
        sql = f"COPY {STAGE} ({', '.join(_qn(c) for c in columns)}) FROM STDIN WITH (FORMAT csv, NULL ''{force_null})"
    _raw_cursor(cursor).copy_expert(sql, buffer, size=COPY_CHUNK)


COPY_SPECIALS = re.compile(r"[\\\t\n\r]")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


INT_TEXT_CAP = 1 << 20  # ids below this have their text memoised (≈ 60 MB at most)
_int_text = np.empty(0, dtype=object)


def _ints_as_text(numbers: np.ndarray) -> np.ndarray:
    """Decimal text of int64 values; ids (small, non-negative, repeated across batches) come
    from a memo grown on demand, an array look-up instead of a str() per cell."""
    global _int_text
    if not len(numbers):
        return np.empty(0, dtype=object)
    low, high = int(numbers.min()), int(numbers.max())
    if low < 0 or high >= INT_TEXT_CAP:
        return np.array(list(map(str, numbers.tolist())), dtype=object)
    memo = _int_text
    if high >= len(memo):
        memo = np.array(list(map(str, range(min(INT_TEXT_CAP, max(high + 1, 2 * len(memo)))))), dtype=object)
        _int_text = memo
    return memo[numbers]


def _plain_columns(spec: ResourceSpec) -> set[str]:
    """Columns whose validated text cannot hold a tab, newline or backslash (numbers, dates,
    choices): their cells need no escaping check."""
    return {f.db_column for f in spec.stored_fields if f.kind in ("decimal", "date", "choice", "int", "bool")}


def _copy_text(
    frame: pd.DataFrame, text_columns: set[str], constants: list[str] = (), plain: set[str] = frozenset()
) -> str:
    """The frame in COPY text format, built column by column: ``\\N`` is NULL; an empty cell
    is an empty string in a text column and NULL in any other. ``constants`` (already in COPY
    text) are appended to every row; ``plain`` columns skip the escaping check."""
    cells = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series.dtype):
            raise TypeError(f"{column}: boolean cells")
        if pd.api.types.is_numeric_dtype(series.dtype):
            missing = series.isna().to_numpy()
            numbers = series.to_numpy(dtype="float64" if series.dtype.kind == "f" else "int64", na_value=0)
            if series.dtype.kind == "f" and not np.array_equal(numbers, np.trunc(numbers)):
                values = np.array(list(map(repr, numbers.tolist())), dtype=object)  # shortest exact text
            else:  # ids and counts (a float column of ids comes from blank references)
                values = _ints_as_text(numbers.astype("int64"))
            values[missing] = "\\N"
        else:
            values = series.to_numpy(dtype=object).copy()
            values[pd.isna(values)] = ""
            if column not in plain and COPY_SPECIALS.search("".join(values)):
                values = np.array([v.translate(COPY_ESCAPES) for v in values], dtype=object)
            if column not in text_columns:
                values[values == ""] = "\\N"
        cells.append(values)
    cells += [np.full(len(frame), constant, dtype=object) for constant in constants]
    return "\n".join(map("\t".join, zip(*cells, strict=True))) + "\n"
