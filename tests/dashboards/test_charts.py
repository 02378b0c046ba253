"""The dashboards' maths by hand-worked cases (no database)."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from dashboards import charts

D = dt.date


def test_attainment_to_date_sums_the_months_up_to_as_of_and_sorts_lowest_first():
    frame = pd.DataFrame(
        {
            "owner": ["a", "a", "a", "b", "b"],
            "owner_name": ["Ann", "Ann", "Ann", "Bob", "Bob"],
            "period_start": [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 1, 1), D(2026, 2, 1)],
            "quota": [Decimal(100), Decimal(100), Decimal(100), Decimal(50), None],
            "actual": [Decimal(90), Decimal(120), Decimal(999), Decimal(20), Decimal(30)],
        }
    )
    out = charts.attainment_to_date(frame, as_of=D(2026, 2, 15))
    assert list(out["owner"]) == ["b", "a"]
    bob, ann = out.iloc[0], out.iloc[1]
    assert bob["quota"] == Decimal(50) and bob["actual"] == Decimal(50) and bob["attainment_pct"] == 100.0
    assert ann["quota"] == Decimal(200) and ann["actual"] == Decimal(210) and ann["attainment_pct"] == 105.0
    bars = charts.attainment_bars(out, chart_id="x", unit="money")
    assert bars["facts"]["below"] == 0 and bars["series"][1]["data"] == [50.0, 210.0]


def test_pace_to_quota_projects_the_year_at_the_pace_so_far():
    months = [D(2026, m, 1) for m in range(1, 5)]
    quota = {m: Decimal(100) for m in months}
    actual = {D(2026, 1, 1): Decimal(80), D(2026, 2, 1): Decimal(100), D(2026, 3, 1): Decimal(5000)}
    chart = charts.pace_to_quota(months, quota, actual, as_of=D(2026, 2, 20))
    f = chart["facts"]
    assert f["ytd_actual"] == 180 and f["ytd_quota"] == 200 and f["ytd_pct"] == 90.0
    assert f["projected"] == 360 and f["projected_pct"] == 90.0
    assert f["needed_per_month"] == 110.0 and f["remaining_months"] == 2
    cum = next(s for s in chart["series"] if s["key"] == "cum_actual")["data"]
    assert cum == [80.0, 180.0, None, None]  # March is in the future: its 5000 is not shown


def test_pace_to_quota_leaves_months_without_a_statement_out_instead_of_counting_zero():
    months = [D(2026, m, 1) for m in range(1, 5)]
    quota = {m: Decimal(100) for m in months}
    chart = charts.pace_to_quota(months, quota, {D(2026, 3, 1): Decimal(120)}, as_of=D(2026, 3, 10))
    f = chart["facts"]
    assert f["ytd_pct"] == 120.0 and f["unknown_months"] == 2 and f["known_months"] == 1
    assert f["projected"] == 480.0
    assert next(s for s in chart["series"] if s["key"] == "actual")["data"] == [None, None, 120.0, None]


def test_forecast_bands_are_the_roots_of_the_summed_squares():
    months = [D(2026, 7, 1), D(2026, 8, 1)]
    forecast = pd.DataFrame(
        {
            "period_start": [D(2026, 7, 1)],
            "point": [100.0],
            "lo80_sq": [9.0],
            "hi80_sq": [16.0],
            "lo95_sq": [400.0],
            "hi95_sq": [900.0],
        }
    )
    chart = charts.forecast_target_actual(
        months, forecast, {D(2026, 7, 1): 130.0}, {D(2026, 7, 1): 95.0}, as_of=D(2026, 7, 31)
    )
    data = {s["key"]: s["data"] for s in chart["series"]}
    assert data["actual"] == [95.0, None]  # nothing is known after July yet
    partial = charts.forecast_target_actual(
        months, forecast, {}, {D(2026, 7, 1): 95.0, D(2026, 8, 1): 3.0}, as_of=D(2026, 8, 5)
    )
    assert {s["key"]: s["data"] for s in partial["series"]}["actual"] == [95.0, None]  # August is not over
    assert data["lo80"] == [97.0, None] and data["hi80"] == [104.0, None]
    assert data["lo95"] == [80.0, None] and data["hi95"] == [130.0, None]
    assert chart["facts"]["target_gap"] == 30.0


def test_bottleneck_trend_picks_the_highest_peaks():
    loads = pd.DataFrame(
        {
            "work_center": ["A", "A", "B", "B", "C", "C"],
            "period_start": [D(2026, 1, 1), D(2026, 2, 1)] * 3,
            "utilisation": [0.5, 1.2, 0.9, 0.95, 0.1, None],
        }
    )
    chart = charts.bottleneck_trend(loads, top=2)
    assert [s["key"] for s in chart["series"]] == ["A", "B"]
    assert chart["series"][0]["data"] == [50.0, 120.0]
    assert chart["facts"] == {"work_centers": 2, "peak": 120.0, "peak_name": "A", "over": 1}


def test_stock_by_age_values_at_cost():
    buckets = pd.DataFrame({"product_sku": ["X", "Y"], "b1": [10.0, 0.0], "b2": [0.0, 1.0], "b3": [2.0, 0.0]})
    chart = charts.stock_by_age(buckets, {"X": Decimal("2.50"), "Y": Decimal(100)}, ["b1", "b2", "b3"])
    assert chart["series"][0]["data"] == [25.0, 100.0, 5.0]
    assert chart["facts"]["aged"] == 5.0 and chart["facts"]["total"] == 130.0


@pytest.mark.parametrize(("bias", "direction"), [(7.0, "over"), (-3.0, "under"), (0.2, "balanced")])
def test_accuracy_trend_says_which_way_the_forecast_leans(bias, direction):
    rows = [
        {"run_id": 2, "as_of": D(2026, 6, 1), "wape": 20.0, "bias": bias},
        {"run_id": 1, "as_of": D(2026, 5, 1), "wape": 25.0, "bias": 1.0},
    ]
    chart = charts.accuracy_trend(rows)
    assert chart["labels"] == ["#1 2026-05", "#2 2026-06"]
    assert chart["facts"]["wape"] == 20.0 and chart["facts"]["direction"] == direction
    assert chart["facts"]["change"] == -5.0


def test_table_lists_the_chart_numbers_row_by_row():
    chart = charts.severity_counts({"critical": 2, "info": 1})
    assert charts.table(chart, {"open": "Open"}, "Severity") == {
        "headers": ["Severity", "Open"],
        "rows": [["critical", 2], ["warning", 0], ["info", 1]],
    }
