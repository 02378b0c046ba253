"""core.bulk.insert.insert_frame: the one writer of computed rows (COPY on PostgreSQL,
executemany on SQLite). Rows are read back raw and compared cell by cell."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.bulk.insert import insert_frame, stamps

pytestmark = pytest.mark.django_db

TABLE = "test_insert_frame_rows"


@pytest.fixture
def table():
    qn = connection.ops.quote_name
    numeric = "numeric(18, 6)" if connection.vendor == "postgresql" else "decimal"
    stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {qn(TABLE)} (n bigint NOT NULL, ref bigint NULL, label varchar(20) NOT NULL, "
            f"amount {numeric} NULL, qty double precision NULL, day date NULL, created_at {stamp} NULL)"
        )
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {qn(TABLE)}")


def _rows(columns: str = "n, ref, label, amount, qty, day") -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(TABLE)} ORDER BY n")
        return cursor.fetchall()


def _day(value) -> str | None:
    return None if value is None else str(value)[:10]


def test_mixed_cells_round_trip(table):
    frame = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "ref": pd.array([10, None, 30], dtype="Int64"),
            "label": ["a, with comma", "", 'quote "q"'],
            "amount": [Decimal("1.250000"), None, Decimal("-0.000001")],
            "qty": [0.5, np.nan, 1e-7],
            "day": [dt.date(2026, 1, 1), None, dt.date(2026, 12, 31)],
        }
    )
    assert insert_frame(table, frame, text_columns=("label",)) == 3
    rows = _rows()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[1] for r in rows] == [10, None, 30]
    assert [r[2] for r in rows] == ["a, with comma", "", 'quote "q"']  # empty text stays empty, not NULL
    assert [None if r[3] is None else Decimal(str(r[3])) for r in rows] == [Decimal("1.25"), None, Decimal("-0.000001")]
    assert [r[4] for r in rows] == [0.5, None, 1e-7]
    assert [_day(r[5]) for r in rows] == ["2026-01-01", None, "2026-12-31"]


def test_numeric_frame_with_month_starts_and_rounding(table):
    # the demand plan's shape: ints, floats, datetime64 month starts (Arrow CSV on PostgreSQL)
    frame = pd.DataFrame(
        {
            "n": np.arange(1, 4, dtype="int64"),
            "qty": [1.23456, np.nan, 2.00005],
            "day": pd.to_datetime(["2026-01-01", "2026-02-01", None]),
        }
    )
    assert insert_frame(table, frame.assign(label="x"), decimals=4) == 3
    rows = _rows()
    assert [r[4] for r in rows] == [1.2346, None, 2.0]  # 2.00005 is 2.0000499999... in binary
    assert [_day(r[5]) for r in rows] == ["2026-01-01", "2026-02-01", None]


def test_constants_add_stamps_to_every_row(table):
    before = timezone.now().replace(microsecond=0)
    insert_frame(table, pd.DataFrame({"n": [1, 2], "label": ["a", "b"]}), constants=stamps("created_at"))
    stamps_read = [r[0] for r in _rows("created_at")]
    assert len(set(stamps_read)) == 1
    value = stamps_read[0]
    value = parse_datetime(value) if isinstance(value, str) else value
    value = value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
    assert before <= value <= timezone.now()


def test_empty_frame_writes_nothing_and_times_are_refused_in_date_columns(table):
    assert insert_frame(table, pd.DataFrame({"n": [], "label": []})) == 0
    with pytest.raises(ValueError, match="day: datetime64 cells must be dates at midnight"):
        insert_frame(table, pd.DataFrame({"n": [1], "label": ["a"], "day": pd.to_datetime(["2026-01-01 10:00"])}))
    assert _rows() == []


def test_sqlite_writes_in_chunks(table, monkeypatch):
    import core.bulk.insert as module

    monkeypatch.setattr(module, "SQLITE_CHUNK", 2)
    insert_frame(table, pd.DataFrame({"n": range(1, 6), "label": list("abcde")}))
    assert [r[2] for r in _rows()] == list("abcde")
