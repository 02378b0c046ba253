"""Month arithmetic and the planning horizon: the one calendar of the planner (pure, no Django).

A month is named by its first day (``dt.date``); ``month_ordinal`` numbers months
consecutively (``year * 12 + month - 1``) so spans and steps are plain integer sums. "Today"
is never read here: callers pass ``as_of`` (``django.utils.timezone.localdate()`` at the edge).
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange

import numpy as np
import pandas as pd

# Months planned and forecast when the organisation has not set its own horizon.
DEFAULT_HORIZON = 18


def month_ordinal(day: dt.date) -> int:
    """Consecutive month number of ``day`` (any date-like with ``year`` and ``month``)."""
    return day.year * 12 + day.month - 1


def ordinal_month(ordinal: int) -> dt.date:
    """First day of the month numbered ``ordinal`` (the inverse of :func:`month_ordinal`)."""
    return dt.date(ordinal // 12, ordinal % 12 + 1, 1)


def month_start(day: dt.date) -> dt.date:
    """First day of the month of ``day``."""
    return dt.date(day.year, day.month, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """First day of the month ``months`` after (negative: before) the month of ``day``."""
    return ordinal_month(month_ordinal(day) + months)


def month_end(day: dt.date) -> dt.date:
    """Last day of the month of ``day``."""
    return dt.date(day.year, day.month, monthrange(day.year, day.month)[1])


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the month of ``day``."""
    return month_start(day), month_end(day)


def months_between(first: dt.date, last: dt.date) -> int:
    """Months from the month of ``first`` to the month of ``last`` (0 for the same month)."""
    return month_ordinal(last) - month_ordinal(first)


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from the month of ``first`` to the month of ``last``, both included."""
    return months_from(first, months_between(first, last) + 1)


def months_from(first: dt.date, count: int) -> list[dt.date]:
    """``count`` consecutive months starting with the month of ``first``."""
    start = month_ordinal(first)
    return [ordinal_month(start + i) for i in range(max(count, 0))]


def horizon_periods(as_of: dt.date, count: int) -> list[dt.date]:
    """The planning horizon of a run as of ``as_of``: ``count`` months from ``as_of``'s month."""
    return months_from(as_of, count)


def horizon_months(setting: int | None) -> int:
    """The horizon in months from the organisation's setting (unset or 0: the default)."""
    return int(setting) if setting else DEFAULT_HORIZON


def history_window(as_of: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The ``months`` complete months before ``as_of``'s month: (first day, last day)."""
    first_of_this = month_start(as_of)
    return add_months(first_of_this, -months), first_of_this - dt.timedelta(days=1)


def month_ordinals(dates) -> np.ndarray:
    """:func:`month_ordinal` of each of ``dates`` (a Series or array of dates or timestamps),
    as int64; vectorised."""
    values = pd.Series(dates)
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values.astype(object))
    return (values.dt.year * 12 + values.dt.month - 1).to_numpy(dtype=np.int64)
