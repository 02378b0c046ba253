"""Attainment: credited actuals against quota per owner × period, and year to date.

Inputs
------
``actuals``: ``owner`` (rep username or territory code), ``period_start`` (first day of the
    period; :func:`month_start` maps order dates), ``amount`` (``Decimal``; returns are
    negative and so reduce attainment), optional ``status`` (``cancelled`` rows are dropped,
    so a cancelled order stops counting), plus the ``by`` columns. Typically the credit rows
    of ``ownership.credit_lines`` (``rep_username`` renamed to ``owner``, or ``credited_to``
    from ``roll_up_credits``) with ``amount`` or ``quantity`` as the measure.
``quotas``: ``owner``, ``period_start``, ``amount`` (missing = no quota set), plus the ``by``
    columns (e.g. ``measure``, ``family_code``).

Output of :func:`attainment`, one row per owner × ``by`` × period present in either input,
sorted by owner, ``by``, period: ``owner``, the ``by`` columns, ``period_start``,
``fiscal_year_start``, ``quota`` (``Decimal``, ``None`` when not set), ``actual``
(``Decimal``), ``attainment_pct`` (actual / quota × 100 rounded half up to 0.01; ``None`` when
the quota is 0 or not set), ``ytd_quota``, ``ytd_actual``, ``ytd_attainment_pct`` (running sums
within the fiscal year, which starts on the first day of ``fiscal_year_start_month``;
``ytd_quota`` is ``None`` until a quota has been set in that year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from territories.money import ZERO, decimal_column, percent_of
from territories.ownership import as_dates, as_timestamps

CANCELLED = "cancelled"


def month_start(dates: pd.Series) -> pd.Series:
    """First day of each date's month, as ``datetime.date`` (``None`` when missing)."""
    stamps = as_timestamps(dates)
    months = stamps.to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    return as_dates(pd.Series(months, index=dates.index))


def fiscal_year_start(periods: pd.Series, *, fiscal_year_start_month: int) -> pd.Series:
    """First day of the fiscal year containing each date, as ``datetime.date``."""
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError("fiscal_year_start_month must be 1..12")
    stamps = pd.to_datetime(periods.astype(object))
    years = stamps.dt.year - (stamps.dt.month < fiscal_year_start_month).astype(int)
    return pd.Series(
        [dt.date(int(y), fiscal_year_start_month, 1) for y in years],
        index=periods.index,
        dtype=object,
    )


def attainment(
    actuals: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    fiscal_year_start_month: int,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Quota, actual and attainment % per owner × ``by`` × period, with year to date.

    See the module docstring for the columns.
    """
    keys = ["owner", *by, "period_start"]
    act = actuals
    if "status" in act.columns:
        act = act.loc[act["status"].astype(str).str.casefold() != CANCELLED]
    act = act[keys].assign(amount=decimal_column(act["amount"]).to_numpy())
    act["period_start"] = as_dates(act["period_start"])
    actual = act.groupby(keys)["amount"].sum().rename("actual")

    quo = quotas.loc[quotas["amount"].notna()]
    quo = quo[keys].assign(amount=decimal_column(quo["amount"]).to_numpy())
    quo["period_start"] = as_dates(quo["period_start"])
    quota = quo.groupby(keys)["amount"].sum().rename("quota")

    out = pd.concat([quota, actual], axis=1).sort_index().reset_index()
    out["quota"] = out["quota"].astype(object).where(out["quota"].notna(), None)
    out["actual"] = decimal_column(out["actual"]).to_numpy()
    out["fiscal_year_start"] = fiscal_year_start(out["period_start"], fiscal_year_start_month=fiscal_year_start_month)
    out["attainment_pct"] = [None if q is None else percent_of(a, q) for q, a in zip(out["quota"], out["actual"])]

    # Running totals within owner × by × fiscal year (rows are already in period order).
    group = out[["owner", *by, "fiscal_year_start"]].apply(tuple, axis=1) if len(out) else []
    ytd_quota: list[Decimal | None] = []
    ytd_actual: list[Decimal] = []
    previous = None
    run_quota: Decimal | None = None
    run_actual = ZERO
    for key, q, a in zip(group, out["quota"], out["actual"]):
        if key != previous:
            previous, run_quota, run_actual = key, None, ZERO
        if q is not None:
            run_quota = q if run_quota is None else run_quota + q
        run_actual += a
        ytd_quota.append(run_quota)
        ytd_actual.append(run_actual)
    out["ytd_quota"] = pd.Series(ytd_quota, index=out.index, dtype=object)
    out["ytd_actual"] = pd.Series(ytd_actual, index=out.index, dtype=object)
    out["ytd_attainment_pct"] = [None if q is None else percent_of(a, q) for q, a in zip(ytd_quota, ytd_actual)]
    columns = [
        *keys,
        "fiscal_year_start",
        "quota",
        "actual",
        "attainment_pct",
        "ytd_quota",
        "ytd_actual",
        "ytd_attainment_pct",
    ]
    return out[columns].astype(object)
