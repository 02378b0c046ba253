"""Hand-worked cases of the inventory metrics (no database)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from inventory.calculations import (
    DAYS_PER_PERIOD,
    aging_buckets,
    days_of_supply,
    demand_until,
    forecast_sigma_from_wape,
    inventory_metrics,
    inventory_positions,
    lot_ages,
    policy_by_product,
    safety_stock,
)

AS_OF = dt.date(2027, 6, 30)


def lots_aged(ages_and_qty: list[tuple[int, float]], *, sku: str = "A") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_sku": sku,
            "received_on": [AS_OF - dt.timedelta(days=age) for age, _ in ages_and_qty],
            "quantity": [q for _, q in ages_and_qty],
        }
    )


def forecast(rows: list[tuple[str, dt.date, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["product_sku", "period_start", "forecast_qty"])


# --- available ----------------------------------------------------------------------------


def test_available_is_on_hand_minus_allocated_summed_over_locations():
    snapshots = pd.DataFrame(
        {
            "product_sku": ["A", "A", "B"],
            "location_code": ["WH1", "WH2", "WH1"],
            "on_hand": [100, 50, 10],
            "allocated": [30, 0, 12],
            "on_order": [40, 0, 0],
        }
    )

    out = inventory_positions(snapshots).set_index("product_sku")
    assert out.loc["A", "available_qty"] == 120  # on order is not available
    assert out.loc["B", "available_qty"] == -2
    by_location = inventory_positions(snapshots, by_location=True)
    assert len(by_location) == 3


# --- days of supply -----------------------------------------------------------------------


def test_days_of_supply_uses_the_actual_days_of_each_month():
    # March: 310 units over 31 days = 10/day; April: 600 units over 30 days = 20/day.
    fc = forecast(
        [
            ("A", dt.date(2027, 3, 1), 310),
            ("A", dt.date(2027, 4, 1), 600),
            ("B", dt.date(2027, 3, 1), 310),
        ]
    )
    positions = pd.DataFrame({"product_sku": ["A", "B"], "available_qty": [410, 310]})

    out = days_of_supply(positions, fc, as_of=dt.date(2027, 3, 1)).set_index("product_sku")
    # A: 310 last all of March (31 days), the other 100 at 20/day in April: 5 more days.
    assert out.loc["A", "days_of_supply"] == pytest.approx(36)
    assert out.loc["A", "daily_demand"] == pytest.approx(10)
    assert out.loc["B", "days_of_supply"] == pytest.approx(31)


def test_days_of_supply_counts_from_as_of_within_the_month():
    # February 2027 has 28 days: 280 units = 10/day. From Feb 15, 14 days are left (15–28).
    fc = forecast([("A", dt.date(2027, 2, 1), 280), ("A", dt.date(2027, 3, 1), 310)])
    positions = pd.DataFrame({"product_sku": ["A"], "available_qty": [100]})

    out = days_of_supply(positions, fc, as_of=dt.date(2027, 2, 15))
    assert out.loc[0, "days_of_supply"] == pytest.approx(10)

    positions = pd.DataFrame({"product_sku": ["A"], "available_qty": [200]})
    out = days_of_supply(positions, fc, as_of=dt.date(2027, 2, 15))
    assert out.loc[0, "days_of_supply"] == pytest.approx(20)  # 14 days of February + 6 of March


def test_days_of_supply_edges():
    fc = forecast([("A", dt.date(2027, 3, 1), 310)])
    positions = pd.DataFrame({"product_sku": ["A", "A2", "B", "C"], "available_qty": [620, 0, 50, -5]})
    out = days_of_supply(positions, fc, as_of=dt.date(2027, 3, 1)).set_index("product_sku")

    # Beyond the last forecast month the average rate (10/day) continues: 31 + 31 days.
    assert out.loc["A", "days_of_supply"] == pytest.approx(62)
    assert out.loc["A2", "days_of_supply"] == 0
    assert math.isinf(out.loc["B", "days_of_supply"])  # stock and no demand
    assert out.loc["C", "days_of_supply"] == 0  # nothing available


def test_demand_until_prorates_months_by_their_days():
    fc = forecast([("A", dt.date(2027, 3, 1), 310), ("A", dt.date(2027, 4, 1), 300)])
    # 17 days of March (15th–31st) at 10/day + 9 days of April at 10/day.
    got = demand_until(fc, pd.Index(["A"]), as_of=dt.date(2027, 3, 15), end=dt.date(2027, 4, 10))
    assert got[0] == pytest.approx(260)


# --- aging --------------------------------------------------------------------------------


def test_aging_bucket_boundaries():
    lots = lots_aged([(0, 1), (90, 2), (91, 4), (180, 8), (181, 16), (365, 32), (366, 64)])

    out = aging_buckets(lots, as_of=AS_OF).iloc[0]
    assert out["qty_0_90"] == 1 + 2  # 90 days is still in the first bucket
    assert out["qty_91_180"] == 4 + 8
    assert out["qty_181_365"] == 16 + 32
    assert out["qty_over_365"] == 64
    assert out["total_qty"] == 127


def test_lots_received_after_as_of_are_not_in_stock():
    lots = lots_aged([(-3, 100), (10, 5)])

    out = aging_buckets(lots, as_of=AS_OF).iloc[0]
    assert out["total_qty"] == 5


def test_fifo_keeps_the_newest_lots_up_to_on_hand():
    # Lots of 100 (400 days), 50 (100 days), 30 (10 days); 60 on hand: the 30 newest units
    # and 30 of the 100-day lot remain, the oldest lot was consumed first.
    lots = lots_aged([(400, 100), (100, 50), (10, 30)])
    on_hand = pd.DataFrame({"product_sku": ["A"], "on_hand": [60]})

    out = aging_buckets(lots, as_of=AS_OF, on_hand=on_hand).iloc[0]
    assert (out["qty_0_90"], out["qty_91_180"], out["qty_over_365"]) == (30, 30, 0)
    assert out["qty_unknown_age"] == 0

    more = aging_buckets(lots, as_of=AS_OF, on_hand=on_hand.assign(on_hand=200)).iloc[0]
    assert more["qty_over_365"] == 100
    assert more["qty_unknown_age"] == 20  # on hand the lots do not explain
    assert more["total_qty"] == 200


def test_fifo_runs_per_location_when_both_frames_have_one():
    lots = pd.concat(
        [
            lots_aged([(400, 10), (5, 10)]).assign(location_code="WH1"),
            lots_aged([(400, 10)]).assign(location_code="WH2"),
        ]
    )
    on_hand = pd.DataFrame({"product_sku": ["A", "A"], "location_code": ["WH1", "WH2"], "on_hand": [10, 10]})

    ages = lot_ages(lots, as_of=AS_OF, on_hand=on_hand)
    assert ages["remaining_qty"].tolist() == [10, 0, 10]  # WH1: newest lot; WH2: its only lot
    out = aging_buckets(lots, as_of=AS_OF, on_hand=on_hand, by_location=True).set_index("location_code")
    assert out.loc["WH1", "qty_0_90"] == 10
    assert out.loc["WH2", "qty_over_365"] == 10


# --- safety stock -------------------------------------------------------------------------


def test_safety_stock_is_z_sigma_root_lead_time():
    # 95 % → z = 1.6449; σ = 10 units per period; lead time 2 periods (2 average months).
    got = safety_stock(sigma=10.0, lead_time_days=2 * DAYS_PER_PERIOD, service_level=0.95)
    assert got == pytest.approx(1.644854 * 10 * math.sqrt(2), rel=1e-6)  # 23.26


def test_safety_stock_vectorised_with_fixed_values_and_floor_at_zero():
    got = safety_stock(
        sigma=np.array([10.0, 10.0, 10.0, np.nan]),
        lead_time_days=np.array([DAYS_PER_PERIOD, DAYS_PER_PERIOD, DAYS_PER_PERIOD, 30.0]),
        service_level=np.array([0.5, 0.4, 0.9, 0.9]),
        fixed=np.array([np.nan, np.nan, 77.0, np.nan]),
    )
    assert got.tolist() == pytest.approx([0.0, 0.0, 77.0, 0.0])


def test_safety_stock_rejects_a_service_level_of_one():
    with pytest.raises(ValueError):
        safety_stock(sigma=1.0, lead_time_days=10, service_level=1.0)


def test_safety_stock_is_fixed_where_given_else_z_sigma_root_lead_time():
    policies = pd.DataFrame(
        {
            "product_sku": ["A", "A", "B", "C"],
            "location_code": ["W1", "W2", "W1", "W1"],
            "lead_time_days": [30.4375, 60.875, 0.0, 10.0],
            "service_level": [0.95, 0.90, None, None],
            "safety_stock": [None, None, 12.0, None],
            "max_build_ahead_periods": [1, 3, 0, 2],
        }
    )
    sigma = pd.DataFrame({"product_sku": ["A", "B"], "sigma": [10.0, 99.0]})
    out = policy_by_product(policies, sigma).set_index("product_sku")
    # A: longest lead time (2 months) and highest service level (95 %): 1.645 × 10 × √2
    assert out.loc["A", "safety_stock"] == pytest.approx(1.6449 * 10 * math.sqrt(2), abs=0.01)
    assert out.loc["A", "max_build_ahead_periods"] == 3
    assert out.loc["B", "safety_stock"] == 12  # fixed wins
    assert out.loc["C", "safety_stock"] == 0  # no service level, no σ: no buffer


def test_sigma_from_wape_is_1_25_mean_absolute_error_over_root_k_series():
    wape = pd.DataFrame({"product_sku": ["A", "A", "B", "C"], "wape": [20.0, 40.0, 500.0, 10.0]})
    forecast = pd.DataFrame({"product_sku": ["A", "A", "B", "D"], "forecast_qty": [90.0, 110.0, 10.0, 5.0]})
    out = forecast_sigma_from_wape(wape, forecast).set_index("product_sku")["sigma"]
    # A: mean WAPE 30 %, mean month 100, two series: 1.25 × 0.3 × 100 / √2
    assert out["A"] == pytest.approx(1.25 * 0.3 * 100 / math.sqrt(2))
    assert out["B"] == pytest.approx(1.25 * 2.0 * 10)  # WAPE capped at 200 %
    assert out["C"] == 0  # no forecast: no error to buffer
    assert "D" not in out  # no backtest: no σ (the policy then uses 0)
    assert forecast_sigma_from_wape(wape.iloc[:0], forecast).empty


# --- metrics per product ------------------------------------------------------------------


def test_inventory_metrics_excess_and_aged_stock():
    as_of = dt.date(2027, 1, 1)
    snapshots = pd.DataFrame(
        {
            "product_sku": ["A", "B"],
            "location_code": ["WH1", "WH1"],
            "on_hand": [1000, 40],
            "allocated": [100, 0],
        }
    )
    lots = pd.DataFrame(
        {
            "product_sku": ["A", "A", "A", "B"],
            "location_code": "WH1",
            "received_on": [as_of - dt.timedelta(days=d) for d in (400, 200, 10, 5)],
            "quantity": [300, 200, 500, 40],
        }
    )
    # A sells 31 units in each of the 31-day months and 28/30 in the others: 1 per day.
    months = pd.date_range("2027-01-01", periods=12, freq="MS").date
    fc = forecast([("A", m, pd.Timestamp(m).days_in_month) for m in months])
    products = pd.DataFrame(
        {
            "product_sku": ["A", "B"],
            "family_code": ["F", "F"],
            "unit_cost": [2.0, 1.0],
            "unit_price": [5.0, 3.0],
        }
    )

    out = inventory_metrics(snapshots=snapshots, lots=lots, forecast=fc, products=products, as_of=as_of).set_index(
        "product_sku"
    )
    a = out.loc["A"]
    assert a["available_qty"] == 900
    assert a["days_of_supply"] == pytest.approx(900)  # 1 unit a day, extrapolated past the year
    assert a["cover_demand_qty"] == pytest.approx(181)  # 1 January – 1 July 2027
    assert a["excess_qty"] == pytest.approx(719)
    assert a["excess_value"] == pytest.approx(1438)
    assert a["aged_qty"] == 500  # lots of 400 and 200 days: older than 180
    assert a["qty_over_365"] == 300
    assert a["aged_value"] == 1000
    b = out.loc["B"]
    assert math.isinf(b["days_of_supply"])
    assert b["excess_qty"] == 40
    assert b["aged_qty"] == 0
