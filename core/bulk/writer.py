"""Write a validated batch: stage it, then one set-based upsert by natural key.

PostgreSQL: ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT
DO UPDATE … WHERE IS DISTINCT FROM`` — unchanged rows are not touched (their
``updated_at`` stays, so incremental sync does not resend them) and ``xmax = 0`` tells
inserts from updates. SQLite: the same statement shape fed by ``executemany`` into the
staging table. This module is the one place with SQL for bulk writes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from core.bulk.spec import ResourceSpec

STAGE = "_bulk_stage"


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
    model = next((m for m in apps.get_models() if m._meta.db_table == spec.table), None)
    if model is None:
        return {}
    defaults = {}
    for f in model._meta.concrete_fields:
        if (f.column in columns or f.primary_key or f.column in ("created_at", "updated_at")
                or not f.has_default() or callable(f.default)):
            continue
        defaults[f.column] = f.get_db_prep_save(f.get_default(), connection)
    return defaults


def upsert_frame(spec: ResourceSpec, frame: pd.DataFrame) -> UpsertCounts:
    """Upsert ``frame`` (db column → value) into ``spec.table``; call inside a transaction."""
    if frame.empty:
        return UpsertCounts(0, 0, 0)
    columns = list(frame.columns)
    key = list(spec.key_columns)
    table = _qn(spec.table)
    cols_sql = ", ".join(_qn(c) for c in columns)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    defaults = _insert_defaults(spec, columns)
    insert_sql = ", ".join(_qn(c) for c in [*columns, "created_at", "updated_at", *defaults])
    insert_params = [now, now, *defaults.values()]
    select_extra = ", ".join(["%s"] * len(insert_params))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(key) == 1:
            # Batches of different workers write in parallel (the database is most of the cost
            # and needs both cores). A concurrent batch may insert one of these keys between the
            # check and the COPY: the savepoint then falls back to the upsert below.
            try:
                with transaction.atomic():
                    appended = _append_if_all_new(cursor, spec, frame, key[0], now, defaults)
            except connection.Database.IntegrityError:
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
    return UpsertCounts(created=created, updated=updated, unchanged=total - created - updated)


def _append_if_all_new(cursor, spec: ResourceSpec, frame: pd.DataFrame, key: str, now, defaults: dict) -> bool:
    """A batch of new keys only (a feed of new order lines) is COPYed straight into the table: no
    staging table, no speculative inserts. False (nothing written) when any key already exists."""
    if frame[key].isna().any():
        return False
    keys = frame[key].tolist()
    table = _qn(spec.table)
    cursor.execute(f"SELECT 1 FROM {table} WHERE {_qn(key)} = ANY(%s) LIMIT 1", [keys])
    if cursor.fetchone() is not None:
        return False
    constants = [now.isoformat(), now.isoformat()]
    constants += ["\\N" if v is None else str(v).translate(COPY_ESCAPES) for v in defaults.values()]
    try:
        text = _copy_text(frame, _text_columns(spec), constants=constants)
    except (TypeError, ValueError):  # cells of an unexpected type: the staged path handles them
        return False
    columns = ", ".join(_qn(c) for c in [*frame.columns, "created_at", "updated_at", *defaults])
    _raw_cursor(cursor).copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT text)", io.StringIO(text))
    return True


def _raw_cursor(cursor):
    raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
    while hasattr(raw, "cursor") and not hasattr(raw, "copy_expert"):
        raw = raw.cursor
    return raw


def _copy_into_stage(cursor, spec: ResourceSpec, frame: pd.DataFrame, columns: list[str]) -> None:
    text_columns = _text_columns(spec)
    try:
        buffer = io.StringIO(_copy_text(frame, text_columns))
        sql = f"COPY {STAGE} ({', '.join(_qn(c) for c in columns)}) FROM STDIN WITH (FORMAT text)"
    except (TypeError, ValueError):  # cells of an unexpected type: let pandas write CSV
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, quoting=csv.QUOTE_ALL, na_rep="")
        buffer.seek(0)
        # Quoted "" is an empty string for text columns and NULL for every other column.
        nullable = [c for c in columns if c not in text_columns]
        force_null = f", FORCE_NULL ({', '.join(_qn(c) for c in nullable)})" if nullable else ""
        sql = (f"COPY {STAGE} ({', '.join(_qn(c) for c in columns)}) FROM STDIN "
               f"WITH (FORMAT csv, NULL ''{force_null})")
    _raw_cursor(cursor).copy_expert(sql, buffer)


COPY_SPECIALS = re.compile(r"[\\\t\n\r]")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(frame: pd.DataFrame, text_columns: set[str], constants: list[str] = ()) -> str:
    """The frame in COPY text format, built column by column: ``\\N`` is NULL; an empty cell
    is an empty string in a text column and NULL in any other. ``constants`` (already in COPY
    text) are appended to every row."""
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
                values = numbers.astype("int64").astype(str).astype(object)
            values[missing] = "\\N"
        else:
            values = series.to_numpy(dtype=object).copy()
            values[pd.isna(values)] = ""
            if COPY_SPECIALS.search("".join(values)):
                values = np.array([v.translate(COPY_ESCAPES) for v in values], dtype=object)
            if column not in text_columns:
                values[values == ""] = "\\N"
        cells.append(values)
    cells += [np.full(len(frame), constant, dtype=object) for constant in constants]
    return "\n".join(map("\t".join, zip(*cells, strict=True))) + "\n"
