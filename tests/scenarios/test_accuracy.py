"""Forecast value added worked by hand: 3 products, 4 months, lags 1 and 2, a month nobody
bought anything (February) and a month whose actuals are not in yet (April)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scenarios.accuracy import forecast_value_added

JAN, FEB, MAR, APR = (dt.date(2027, m, 1) for m in (1, 2, 3, 4))
FAMILY = {"P1": "A", "P2": "A", "P3": "B"}
N = np.nan
#: (month, lag, product, naive, statistical, sales override, consensus)
FORECASTS = [
    (JAN, 1, "P1", 10, 12, N, 12),
    (JAN, 1, "P2", 5, 5, 8, 6),
    (JAN, 1, "P3", 0, 2, N, 2),
    (FEB, 1, "P1", 10, 8, N, 8),
    (FEB, 1, "P2", 4, 4, N, 4),
    (FEB, 1, "P3", 0, 0, N, 0),
    (MAR, 1, "P1", 10, 10, 14, 12),
    (MAR, 1, "P2", 5, 6, N, 6),
    (MAR, 1, "P3", 2, 1, N, 1),
    (APR, 1, "P1", 99, 99, N, 99),
    (FEB, 2, "P1", 10, 9, N, 9),
    (FEB, 2, "P2", 4, 3, N, 3),
    (FEB, 2, "P3", 0, 1, N, 1),
    (MAR, 2, "P1", 10, 11, 13, 12),
    (MAR, 2, "P2", 5, 6, N, 5),
    (MAR, 2, "P3", 2, 2, N, 2),
]
#: units sold; February: none at all
ACTUALS = [(JAN, "P1", 12), (JAN, "P2", 6), (MAR, "P1", 12), (MAR, "P2", 6), (MAR, "P3", 2), (APR, "P1", 50)]


def frames():
    forecasts = pd.DataFrame(
        [
            {
                "period_start": m,
                "lag": lag,
                "territory": sku,
                "family_code": FAMILY[sku],
                "region_code": "R1",
                "naive": n,
                "statistical": s,
                "sales_override": o,
                "consensus": c,
            }
            for m, lag, sku, n, s, o, c in FORECASTS
        ]
    )
    actuals = pd.DataFrame(
        [
            {"period_start": m, "territory": sku, "family_code": FAMILY[sku], "region_code": "R1", "units": u}
            for m, sku, u in ACTUALS
        ]
    )
    return forecasts, actuals


def test_total_at_lag_1_by_hand():
    forecasts, actuals = frames()
    result = forecast_value_added(forecasts, actuals, lag=1, level="total", months=12, actuals_through=MAR)
    [row] = result["rows"]
    # per month (naive, statistical, sales override, consensus | actual):
    #   Jan 15 19 22 20 | 18;  Feb 14 12 12 12 | 0;  Mar 17 17 21 19 | 20;  April not in yet
    # Σ|error|: naive 3+14+3 = 20, statistical 1+12+3 = 16, override 4+12+1 = 17, consensus 2+12+1 = 15; Σ actual 38
    assert row["key"] == "total" and row["months"] == 3 and row["actual_units"] == 38
    assert (row["naive_wape"], row["statistical_wape"], row["sales_override_wape"], row["consensus_wape"]) == (
        52.63,
        42.11,
        44.74,
        39.47,
    )
    assert (row["naive_bias"], row["statistical_bias"], row["sales_override_bias"], row["consensus_bias"]) == (
        21.05,
        26.32,
        44.74,
        34.21,
    )
    assert (row["fva_statistical"], row["fva_sales_override"], row["fva_consensus"]) == (10.52, -2.63, 2.64)
    assert [t["period_start"] for t in result["trend"]] == [JAN, FEB, MAR]
    assert result["trend"][1]["naive_wape"] is None  # nothing sold in February: no WAPE of its own
    assert result["trend"][0]["statistical_wape"] == pytest.approx(round(100 / 18, 2))


def test_families_at_lag_2_and_the_window():
    forecasts, actuals = frames()
    rows = {
        r["key"]: r
        for r in forecast_value_added(forecasts, actuals, lag=2, level="family", months=12, actuals_through=MAR)["rows"]
    }
    # A: Feb 14 12 12 12 | 0, Mar 15 17 19 17 | 18 → errors 17, 13, 13, 13 of 18
    assert (rows["A"]["naive_wape"], rows["A"]["statistical_wape"], rows["A"]["consensus_wape"]) == (
        94.44,
        72.22,
        72.22,
    )
    assert (rows["A"]["fva_statistical"], rows["A"]["fva_sales_override"], rows["A"]["fva_consensus"]) == (
        22.22,
        0.0,
        0.0,
    )
    assert rows["A"]["sales_override_bias"] == 72.22  # Feb +12, Mar +1 of 18
    # B: Feb 0 1 1 1 | 0, Mar 2 2 2 2 | 2 → naive perfect, statistical 1 off of 2
    assert (rows["B"]["naive_wape"], rows["B"]["statistical_wape"], rows["B"]["fva_statistical"]) == (0.0, 50.0, -50.0)
    last_two = forecast_value_added(forecasts, actuals, lag=1, level="total", months=2, actuals_through=MAR)
    assert last_two["rows"][0]["months"] == 2 and last_two["rows"][0]["naive_wape"] == 85.0  # (14 + 3) / 20


def test_nothing_measured_without_actuals():
    forecasts, actuals = frames()
    assert forecast_value_added(forecasts, actuals, lag=1, level="region", months=12, actuals_through=None) == {
        "rows": [],
        "trend": [],
    }
    only_zero = forecast_value_added(
        forecasts, actuals.iloc[0:0], lag=1, level="region", months=12, actuals_through=FEB
    )
    assert only_zero["rows"][0]["statistical_wape"] is None and only_zero["rows"][0]["months"] == 2
