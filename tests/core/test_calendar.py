"""The one calendar (core/calendar.py): pure, no database."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core import calendar as cal


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 1)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 1)),
        (dt.date(2026, 1, 15), -1, dt.date(2025, 12, 1)),
        (dt.date(2026, 6, 1), -24, dt.date(2024, 6, 1)),
        (dt.date(2026, 6, 30), 0, dt.date(2026, 6, 1)),
    ],
)
def test_add_months_steps_whole_months_and_names_them_by_their_first_day(day, months, expected):
    assert cal.add_months(day, months) == expected


def test_ordinals_round_trip_and_count_months():
    for day in (dt.date(1999, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 6, 15)):
        assert cal.ordinal_month(cal.month_ordinal(day)) == cal.month_start(day)
    assert cal.month_ordinal(dt.date(2027, 1, 1)) - cal.month_ordinal(dt.date(2026, 12, 31)) == 1
    assert cal.months_between(dt.date(2026, 11, 30), dt.date(2027, 2, 1)) == 3
    assert cal.month_ordinal(pd.Timestamp("2026-03-09")) == cal.month_ordinal(dt.date(2026, 3, 1))


def test_month_bounds_know_leap_years():
    assert cal.month_bounds(dt.date(2028, 2, 10)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert cal.month_bounds(dt.date(2026, 2, 10)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert cal.month_end(dt.date(2026, 12, 1)) == dt.date(2026, 12, 31)


def test_ranges_and_the_horizon():
    assert cal.month_range(dt.date(2026, 11, 20), dt.date(2027, 2, 3)) == [
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 1),
    ]
    assert cal.month_range(dt.date(2026, 3, 1), dt.date(2026, 2, 1)) == []
    periods = cal.horizon_periods(dt.date(2026, 6, 15), 24)
    assert len(periods) == 24 and periods[0] == dt.date(2026, 6, 1) and periods[-1] == dt.date(2028, 5, 1)
    assert cal.horizon_months(24) == 24
    assert cal.horizon_months(None) == cal.horizon_months(0) == cal.DEFAULT_HORIZON


def test_history_window_is_the_complete_months_before_as_of():
    assert cal.history_window(dt.date(2026, 6, 15), 36) == (dt.date(2023, 6, 1), dt.date(2026, 5, 31))


def test_month_ordinals_vectorised_agree_with_the_scalar_one():
    days = [dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 7, 4)]
    expected = [cal.month_ordinal(d) for d in days]
    assert cal.month_ordinals(pd.Series(days)).tolist() == expected
    assert cal.month_ordinals(pd.Series(pd.to_datetime(days))).tolist() == expected
    assert cal.month_ordinals(pd.Series(days, dtype=object)).dtype == np.int64
