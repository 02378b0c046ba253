"""Forecast value added (FVA) by lag: did each step of the demand process make the forecast
better or worse? (pure: pandas/numpy, no Django)

Inputs
------
``forecasts`` — what a published cycle said about one month, one row per grain cell:
    ``family_code, region_code`` (None: no territory), ``territory`` (any key),
    ``period_start``, ``lag`` (1 = made the month before, i.e. the cycle's first month), and the
    measures ``naive, statistical, sales_override, consensus`` (units). An empty
    ``sales_override`` means the sales managers left the statistical forecast as it was, so
    that step's forecast is the statistical one.
    Optional ``manager``: the sales manager answerable for the territory (level ``sales_manager``);
    optional ``planner``: the demand planner answerable for the family (level ``planner``).
``actuals`` — units sold: ``family_code, region_code, territory, period_start, units`` (and
    ``manager`` and ``planner`` like the forecasts).
``actuals_through`` — the last month whose actuals are complete; later months are not measured.

Method
------
For the chosen ``lag``, forecasts and actuals are summed to ``level`` (``family``, ``region``,
``planner``, ``sales_manager`` or ``total``) × month; a cell with a forecast but no actual sold 0 units (and is measured:
its whole forecast is error). Only the last ``months`` months that have forecasts at this lag
and complete actuals count. Per level key, over those months:

    WAPE = Σ |forecast − actual| ÷ Σ actual × 100   (None when nothing was sold)
    bias = Σ (forecast − actual) ÷ Σ actual × 100   (+: over-forecast)
    FVA  = WAPE of the step before − WAPE of the step, in percentage points (+: the step helped):
           statistical over naive, sales override over statistical, consensus over statistical.

``trend`` gives the same per month over every key (the total), for the chart.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

STEPS = ("naive", "statistical", "sales_override", "consensus")
#: each step and the step it is measured against
FVA_PAIRS = {"statistical": "naive", "sales_override": "statistical", "consensus": "statistical"}
LEVEL_KEYS = {
    "family": "family_code",
    "region": "region_code",
    "planner": "planner",
    "sales_manager": "manager",
    "total": None,
}
METRICS = tuple([f"{s}_wape" for s in STEPS] + [f"{s}_bias" for s in STEPS] + [f"fva_{s}" for s in FVA_PAIRS])


def _percent(numerator: float, denominator: float) -> float | None:
    if denominator <= 0:
        return None
    return round(100.0 * numerator / denominator, 2)


def _cells(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    *,
    lag: int,
    level: str,
    actuals_through: dt.date | None,
    months: int,
) -> pd.DataFrame:
    """Level key × month: the four forecasts and the actual, for the months measured."""
    key = LEVEL_KEYS[level]
    at_lag = forecasts[forecasts["lag"] == lag].copy()
    if actuals_through is None or at_lag.empty:
        return pd.DataFrame(columns=["key", "period_start", *STEPS, "actual"])
    at_lag = at_lag[[p <= actuals_through for p in at_lag["period_start"]]]
    window = sorted(set(at_lag["period_start"]))[-months:] if months > 0 else []
    at_lag = at_lag[at_lag["period_start"].isin(window)]
    at_lag["sales_override"] = at_lag["sales_override"].where(at_lag["sales_override"].notna(), at_lag["statistical"])
    sold = actuals[actuals["period_start"].isin(window)]
    group_of = (lambda f: f[key].astype(object).where(f[key].notna(), None)) if key else (lambda f: "total")
    f = at_lag.assign(key=group_of(at_lag)) if len(at_lag) else at_lag.assign(key=[])
    a = sold.assign(key=group_of(sold)) if len(sold) else sold.assign(key=[])
    f_sum = f.groupby(["key", "period_start"], dropna=False)[list(STEPS)].sum()
    a_sum = a.groupby(["key", "period_start"], dropna=False)["units"].sum().rename("actual")
    # Sales in a month the cycle forecast for another key still count (forecast 0 there).
    cells = f_sum.join(a_sum, how="outer").fillna(0.0).reset_index()
    return cells[cells["period_start"].isin(window)]


def _metrics(cells: pd.DataFrame) -> dict:
    actual = float(cells["actual"].sum())
    out: dict = {}
    for step in STEPS:
        error = cells[step].to_numpy(dtype=float) - cells["actual"].to_numpy(dtype=float)
        out[f"{step}_wape"] = _percent(float(np.abs(error).sum()), actual)
        out[f"{step}_bias"] = _percent(float(error.sum()), actual)
    for step, before in FVA_PAIRS.items():
        a, b = out[f"{before}_wape"], out[f"{step}_wape"]
        out[f"fva_{step}"] = None if a is None or b is None else round(a - b, 2)
    return out


def forecast_value_added(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    *,
    lag: int,
    level: str,
    months: int,
    actuals_through: dt.date | None,
) -> dict:
    """``{"rows": [...], "trend": [...]}``: per level key its metrics (``METRICS``), the months
    measured and the units sold; per month the total's WAPE of each step."""
    if level not in LEVEL_KEYS:
        raise ValueError(f"level must be one of {sorted(LEVEL_KEYS)}")
    cells = _cells(forecasts, actuals, lag=lag, level=level, actuals_through=actuals_through, months=months)
    rows = []
    for key, part in cells.groupby("key", dropna=False, sort=False):
        rows.append(
            {
                "key": None if key is None or (isinstance(key, float) and np.isnan(key)) else key,
                "months": int(part["period_start"].nunique()),
                "actual_units": round(float(part["actual"].sum()), 2),
                **_metrics(part),
            }
        )
    rows.sort(key=lambda r: (r["key"] is None, str(r["key"])))
    trend = []
    for period, part in cells.groupby("period_start", sort=True):
        metrics = _metrics(part)
        trend.append({"period_start": period, **{f"{s}_wape": metrics[f"{s}_wape"] for s in STEPS}})
    return {"rows": rows, "trend": trend}
