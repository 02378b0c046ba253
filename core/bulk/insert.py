"""Append many new rows to a table fast: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

For results a job writes once (forecasts, plan lines), where an ORM ``bulk_create`` spends
most of its time building model instances. Columns are db column names; NaN/None is NULL;
text columns (``text_columns``) keep empty strings as empty strings.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
from django.db import connection


def insert_frame(table: str, frame: pd.DataFrame, *, text_columns: tuple[str, ...] = (),
                 decimals: int | None = None) -> int:
    """Insert every row of ``frame``; ``decimals`` rounds float columns first (short floats
    format several times faster, and a forecast needs no 17 significant digits)."""
    if frame.empty:
        return 0
    qn = connection.ops.quote_name
    if decimals is not None:
        floats = frame.select_dtypes("float").columns
        frame = frame.assign(**{c: frame[c].round(decimals) for c in floats})
    columns = list(frame.columns)
    cols_sql = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False, na_rep="", quoting=csv.QUOTE_MINIMAL,
                         date_format="%Y-%m-%d")
            buffer.seek(0)
            keep = f", FORCE_NOT_NULL ({', '.join(qn(c) for c in text_columns)})" if text_columns else ""
            raw = cursor.cursor
            while hasattr(raw, "cursor") and not hasattr(raw, "copy_expert"):
                raw = raw.cursor
            raw.copy_expert(f"COPY {qn(table)} ({cols_sql}) FROM STDIN WITH (FORMAT csv, NULL ''{keep})", buffer)
        else:
            values = frame.astype(object).where(frame.notna(), None)
            for column in values.columns:
                if values[column].map(lambda v: hasattr(v, "isoformat")).any():
                    values[column] = values[column].map(lambda v: v.isoformat() if v is not None else None)
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {qn(table)} ({cols_sql}) VALUES ({placeholders})",
                               list(values.itertuples(index=False, name=None)))
    return len(frame)
