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
from dataclasses import dataclass

import pandas as pd
from django.db import connection
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


def upsert_frame(spec: ResourceSpec, frame: pd.DataFrame) -> UpsertCounts:
    """Upsert ``frame`` (db column → value) into ``spec.table``; call inside a transaction."""
    if frame.empty:
        return UpsertCounts(0, 0, 0)
    columns = list(frame.columns)
    key = list(spec.key_columns)
    table = _qn(spec.table)
    cols_sql = ", ".join(_qn(c) for c in columns)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
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
            changed = " OR ".join(f"t.{_qn(c)} IS DISTINCT FROM excluded.{_qn(c)}" for c in updatable) or "FALSE"
            cursor.execute(
                f"""WITH up AS (
                      INSERT INTO {table} AS t ({cols_sql}, created_at, updated_at)
                      SELECT {cols_sql}, %s, %s FROM {STAGE}
                      ON CONFLICT ({conflict}) DO UPDATE SET {set_sql} WHERE {changed}
                      RETURNING (xmax = 0) AS inserted)
                    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up""",
                [now, now],
            )
            created, updated = cursor.fetchone()
        else:
            match = " AND ".join(f"t.{_qn(c)} = s.{_qn(c)}" for c in key)
            cursor.execute(f"SELECT count(*) FROM {STAGE} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})")
            created = cursor.fetchone()[0]
            changed = " OR ".join(f"NOT ({table}.{_qn(c)} IS excluded.{_qn(c)})" for c in updatable) or "0"
            cursor.execute(
                f"""INSERT INTO {table} ({cols_sql}, created_at, updated_at)
                    SELECT {cols_sql}, %s, %s FROM {STAGE} WHERE true
                    ON CONFLICT ({conflict}) DO UPDATE SET {set_sql} WHERE {changed}""",
                [now, now],
            )
            cursor.execute("SELECT changes()")
            updated = cursor.fetchone()[0] - created
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return UpsertCounts(created=created, updated=updated, unchanged=total - created - updated)


def _copy_into_stage(cursor, spec: ResourceSpec, frame: pd.DataFrame, columns: list[str]) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, quoting=csv.QUOTE_ALL, na_rep="")
    buffer.seek(0)
    # Quoted "" is an empty string for text columns and NULL for every other column.
    nullable = [c for c in columns if c not in _text_columns(spec)]
    force_null = f", FORCE_NULL ({', '.join(_qn(c) for c in nullable)})" if nullable else ""
    sql = (f"COPY {STAGE} ({', '.join(_qn(c) for c in columns)}) FROM STDIN "
           f"WITH (FORMAT csv, NULL ''{force_null})")
    raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
    while hasattr(raw, "cursor") and not hasattr(raw, "copy_expert"):
        raw = raw.cursor
    raw.copy_expert(sql, buffer)
