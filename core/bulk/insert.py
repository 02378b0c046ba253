"""The one helper that writes computed rows: append a frame to a table, ``COPY`` on
PostgreSQL, ``executemany`` on SQLite.

For results a job writes once (forecasts, plan lines, loads, family plan, a period's credits,
a cycle's demand plan), where an ORM ``bulk_create`` spends most of its time building model
instances and an upsert looks up keys that cannot exist yet (the caller deleted the run's or
period's rows first). Columns are db column names; NaN/None/``pd.NA`` is NULL; text columns
(``text_columns``) keep empty strings as empty strings. Cells may be numbers, ``Decimal``,
``str``, ``datetime.date`` (or ``datetime64`` at midnight, written as a date) and nullable
integers (``Int64``). ``constants`` adds columns with one value for every row, such as
``created_at``/``updated_at`` (Django sets ``auto_now`` stamps in Python, so a raw insert must
name them): pass ``constants=stamps()``.

Imports or user data do not come here: they go through ``core.bulk`` specs (validation, row
errors, upserts by key).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection
from django.utils import timezone

SQLITE_CHUNK = 5000  # rows per executemany (keeps the parameter list of one call bounded)
COPY_CHUNK = 1 << 20  # bytes per write to the server during COPY (psycopg2's default is 8 KB)


def stamps(*columns: str) -> dict[str, dt.datetime]:
    """``{"created_at": now, "updated_at": now}`` (or the ``columns`` named) for ``constants``."""
    now = timezone.now()
    return dict.fromkeys(columns or ("created_at", "updated_at"), now)


def _raw_cursor(cursor):
    raw = cursor.cursor
    while hasattr(raw, "cursor") and not hasattr(raw, "copy_expert"):
        raw = raw.cursor
    return raw


def _constant(value: object) -> object:
    """One constant as the backend takes it (a datetime in the form Django stores it)."""
    if isinstance(value, dt.datetime):
        if connection.vendor == "postgresql":
            return value.isoformat()
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _arrow_csv(frame: pd.DataFrame) -> io.BytesIO | None:
    """CSV of an all-numeric/date frame written by Arrow (~6x faster than pandas: measured on
    a new cycle's ~270k rows, bench/cycle.py); ``None`` when a column is of another kind."""
    numeric = all(
        pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        or str(frame[c].dtype).startswith("datetime64")
        for c in frame.columns
    )
    if not numeric:
        return None
    dates = [c for c in frame.columns if str(frame[c].dtype).startswith("datetime64")]
    arrow = pa.Table.from_pandas(
        frame.assign(**{c: frame[c].astype("datetime64[s]") for c in dates}), preserve_index=False
    )
    for name in dates:
        i = arrow.schema.get_field_index(name)
        arrow = arrow.set_column(i, name, arrow.column(name).cast(pa.timestamp("s")).cast(pa.date32()))
    sink = io.BytesIO()
    pa_csv.write_csv(arrow, sink, pa_csv.WriteOptions(include_header=False, batch_size=1 << 16, quoting_style="none"))
    sink.seek(0)
    return sink


def insert_frame(
    table: str,
    frame: pd.DataFrame,
    *,
    text_columns: tuple[str, ...] = (),
    decimals: int | None = None,
    constants: Mapping[str, object] | None = None,
) -> int:
    """Insert every row of ``frame`` into ``table``; returns the number of rows.

    ``decimals`` rounds float columns first (short floats format several times faster, and a
    forecast needs no 17 significant digits). Call inside the caller's transaction."""
    if frame.empty:
        return 0
    qn = connection.ops.quote_name
    if decimals is not None:
        floats = frame.select_dtypes("float").columns
        frame = frame.assign(**{c: frame[c].round(decimals) for c in floats})
    dates = [c for c in frame.columns if str(frame[c].dtype).startswith("datetime64")]
    for column in dates:  # a date column held as datetime64 (a month start): written as a date
        cells = frame[column].dropna()
        if frame[column].dt.tz is not None or (cells != cells.dt.normalize()).any():
            raise ValueError(f"{column}: datetime64 cells must be dates at midnight; pass datetimes as constants")
    fast = connection.vendor == "postgresql" and not constants and _arrow_csv(frame)
    if not fast:
        if dates:
            frame = frame.assign(**{c: frame[c].dt.date for c in dates})
        if constants:
            frame = frame.assign(**{c: _constant(v) for c, v in constants.items()})
    columns = list(frame.columns)
    cols_sql = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if fast:
                buffer = fast
            else:
                buffer = io.BytesIO(
                    frame.to_csv(index=False, header=False, na_rep="", quoting=csv.QUOTE_MINIMAL).encode()
                )
            keep = f", FORCE_NOT_NULL ({', '.join(qn(c) for c in text_columns)})" if text_columns else ""
            _raw_cursor(cursor).copy_expert(
                f"COPY {qn(table)} ({cols_sql}) FROM STDIN WITH (FORMAT csv, NULL ''{keep})", buffer, size=COPY_CHUNK
            )
        else:
            values = frame.astype(object).where(frame.notna(), None)
            for column in values.columns:
                if values[column].map(lambda v: isinstance(v, dt.date)).any():
                    values[column] = values[column].map(lambda v: v.isoformat() if v is not None else None)
            placeholders = ", ".join(["%s"] * len(columns))
            rows = list(values.itertuples(index=False, name=None))
            sql = f"INSERT INTO {qn(table)} ({cols_sql}) VALUES ({placeholders})"
            for i in range(0, len(rows), SQLITE_CHUNK):
                cursor.executemany(sql, rows[i : i + SQLITE_CHUNK])
    return len(frame)
