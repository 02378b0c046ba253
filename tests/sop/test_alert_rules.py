"""Hand-worked cases of the alert rules (no database)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from sop.alert_messages import alert_text
from sop.alert_rules import ALERT_COLUMNS, AlertThresholds, derive_alerts, utilisation_level
from tests.sop.test_reconciliation import FEB, MAR, plan


def one(alerts: pd.DataFrame, type_: str, **match: object) -> pd.Series:
    rows = alerts.loc[alerts["type"] == type_]
    for column, value in match.items():
        rows = rows.loc[rows[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def text(alert: pd.Series, field: str = "message") -> str:
    """The English text of a message (the stored ``message``/``suggestion``, the API's words)."""
    return alert_text(alert[f"{field}_key"], alert[f"{field}_params"])


def types(alerts: pd.DataFrame) -> list[str]:
    return sorted(alerts["type"])


def quotas(*rows: tuple[str | None, dt.date, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"family_code": "FAM", "territory_code": t, "period_start": p, "quota_qty": q} for t, p, q in rows]
    )


# --- the acceptance cases of issue 5 ------------------------------------------------------


def test_overload_of_150_percent_is_a_critical_alert_of_50_hours():
    result = plan(periods=[MAR], demand={"A": [150]}, routings=[("A", "WC1", 1.0)], capacity={"WC1": [100]})

    alerts = derive_alerts(result, work_center_names={"WC1": "Assembly line 2"}, currency="EUR")

    overload = one(alerts, "capacity_overload")
    assert overload["severity"] == "critical"
    assert overload["work_center_code"] == "WC1"
    assert overload["period_start"] == MAR
    assert overload["amount"] == pytest.approx(50)
    assert overload["unit"] == "hours"
    assert overload["value"] == pytest.approx(500)  # 50 units short × 10
    assert text(overload) == (
        "Assembly line 2 is loaded at 150 % in 2027-03: 50 h over the 100 h available. 50 h cannot be built in time."
    )
    assert "Add 50 h of capacity" in text(overload, "suggestion")
    assert overload["fingerprint"] == "capacity_overload:WC1:2027-03-01"
    assert list(alerts.columns) == ALERT_COLUMNS


def test_overload_covered_by_prebuild_says_so_and_raises_no_shortage():
    result = plan(
        periods=[FEB, MAR],
        demand={"A": [0, 150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100]},
        build_ahead={"A": 1},
    )

    alerts = derive_alerts(result)

    overload = one(alerts, "capacity_overload")
    assert overload["severity"] == "critical"  # the demand still asks 150 % of March
    assert overload["amount"] == pytest.approx(50)
    assert text(overload).endswith("50 h can be built ahead in earlier periods.")
    assert overload["suggestion_key"] is None
    assert math.isnan(overload["value"])
    # February is filled to 50 % by the pre-build: 50 h unused, not 100.
    underload = one(alerts, "capacity_underload")
    assert (underload["period_start"], underload["amount"]) == (FEB, pytest.approx(50))
    assert "stockout_risk" not in types(alerts)
    assert "target_not_buildable" not in types(alerts)


def test_shortfall_raises_target_not_buildable_when_the_family_quota_needs_it():
    common = dict(
        periods=[FEB, MAR],
        demand={"A": [0, 150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100]},
        build_ahead={"A": 0},
    )

    needs_it = derive_alerts(plan(**common, family_quotas=quotas((None, MAR, 150))))
    alert = one(needs_it, "target_not_buildable")
    assert alert["severity"] == "critical"  # 50 of 150 = 33 % of the quota
    assert (alert["family_code"], alert["territory_code"], alert["period_start"]) == (
        "FAM",
        None,
        MAR,
    )
    assert alert["amount"] == pytest.approx(50)
    assert alert["unit"] == "units"
    assert alert["value"] == pytest.approx(500)
    assert text(alert) == (
        "Family FAM in 2027-03: the quota of 150 units cannot be supplied in full; "
        "50 units cannot be built (100 units feasible)."
    )
    assert alert["fingerprint"] == "target_not_buildable:FAM:*:2027-03-01"
    assert one(needs_it, "stockout_risk")["amount"] == pytest.approx(50)

    # A quota of 100 fits the 100 units that can be built: no target alert.
    fits = derive_alerts(plan(**common, family_quotas=quotas((None, MAR, 100))))
    assert "target_not_buildable" not in types(fits)
    assert "target_at_risk" not in types(fits)


# --- capacity thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("demand", "expected"),
    [
        (95, [("capacity_overload", "warning", 5.0)]),  # 5 h above the 90 % line
        (90, []),
        (55, [("capacity_underload", "info", 45.0)]),
        (20, [("capacity_underload", "warning", 80.0)]),
        (70, []),
    ],
)
def test_capacity_severity_by_utilisation(demand, expected):
    result = plan(periods=[MAR], demand={"A": [demand]}, routings=[("A", "WC1", 1.0)], capacity={"WC1": [100]})

    alerts = derive_alerts(result)

    got = [(r.type, r.severity, pytest.approx(r.amount)) for r in alerts.itertuples()]
    assert got == expected


def test_near_overload_message_shows_headroom():
    result = plan(periods=[MAR], demand={"A": [95]}, routings=[("A", "WC1", 1.0)], capacity={"WC1": [100]})

    alert = one(derive_alerts(result), "capacity_overload")
    assert text(alert) == "WC1 is loaded at 95 % in 2027-03: 95 h of the 100 h available, 5 h headroom."


def test_thresholds_are_parameters():
    result = plan(periods=[MAR], demand={"A": [85]}, routings=[("A", "WC1", 1.0)], capacity={"WC1": [100]})

    assert derive_alerts(result).empty
    alerts = derive_alerts(result, thresholds=AlertThresholds(overload_warning=0.80))
    assert one(alerts, "capacity_overload")["amount"] == pytest.approx(5)


def test_load_on_a_work_center_without_hours_is_critical():
    result = plan(periods=[MAR], demand={"A": [10]}, routings=[("A", "WC9", 1.0)], capacity={})

    alert = one(derive_alerts(result), "capacity_overload")
    assert alert["severity"] == "critical"
    assert text(alert).startswith("WC9 has no hours available in 2027-03 but needs 10 h.")


# --- stock-out risk -----------------------------------------------------------------------


def test_inventory_below_safety_stock_is_a_warning():
    # Opening 30, safety stock 50, demand 100: 120 required, 100 buildable → ends at 30.
    result = plan(
        periods=[MAR],
        demand={"A": [100]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100]},
        safety_stock={"A": 50},
        opening={"A": 30},
    )

    alert = one(derive_alerts(result), "stockout_risk")
    assert alert["severity"] == "warning"
    assert alert["amount"] == pytest.approx(20)
    assert alert["product_sku"] == "A"
    assert alert["family_code"] == "FAM"
    assert text(alert) == (
        "A: projected inventory drops below the safety stock from 2027-03; lowest 30 units in "
        "2027-03, 20 units below the 50 units safety stock."
    )
    assert alert["fingerprint"] == "stockout_risk:A"


def test_one_stockout_alert_per_product_from_its_first_period():
    result = plan(
        periods=[FEB, MAR],
        demand={"A": [130, 150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100]},
    )

    alert = one(derive_alerts(result), "stockout_risk")
    assert alert["severity"] == "critical"
    assert alert["period_start"] == FEB
    assert alert["amount"] == pytest.approx(80)  # 30 + 50 units not served
    assert text(alert) == ("A runs out of stock: 80 units of demand cannot be served between 2027-02 and 2027-03.")


# --- targets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quota", "severity", "amount"),
    [(105, None, None), (120, "warning", 20), (130, "critical", 30)],
)
def test_quota_above_forecast_is_a_target_at_risk(quota, severity, amount):
    result = plan(
        periods=[MAR],
        demand={"A": [100]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [200]},
        family_quotas=quotas((None, MAR, quota)),
    )

    alerts = derive_alerts(result)

    assert "target_not_buildable" not in types(alerts)  # the plants can build the demand
    if severity is None:
        assert "target_at_risk" not in types(alerts)
    else:
        alert = one(alerts, "target_at_risk")
        assert (alert["severity"], alert["amount"]) == (severity, pytest.approx(amount))


def test_target_alerts_are_shared_out_to_territories_by_quota():
    # Family short 50 of a 150 quota; T1 holds 60 % of the quota, T2 40 %.
    result = plan(
        periods=[MAR],
        demand={"A": [150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100]},
        family_quotas=quotas(("T1", MAR, 90), ("T2", MAR, 60)),
    )

    alerts = derive_alerts(result)

    t1 = one(alerts, "target_not_buildable", territory_code="T1")
    t2 = one(alerts, "target_not_buildable", territory_code="T2")
    assert (t1["amount"], t2["amount"]) == (pytest.approx(30), pytest.approx(20))
    assert t1["fingerprint"] == "target_not_buildable:FAM:T1:2027-03-01"
    assert text(t1) == (
        "Family FAM, territory T1 in 2027-03: the quota of 90 units cannot be supplied in full; "
        "30 units cannot be built (its share of the family's 50 units short of 150 units; "
        "100 units feasible)."
    )
    assert "target_at_risk" not in types(alerts)


def test_territory_forecast_is_used_when_given():
    territory_quotas = quotas(("T1", MAR, 90), ("T2", MAR, 60)).assign(forecast_qty=[60, 60])
    result = plan(
        periods=[MAR],
        demand={"A": [120]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [500]},
        family_quotas=territory_quotas,
    )

    alert = one(derive_alerts(result), "target_at_risk")
    assert alert["territory_code"] == "T1"
    assert alert["amount"] == pytest.approx(30)
    assert text(alert) == (
        "Family FAM, territory T1 in 2027-03: the quota of 90 units is 50 % above the forecast of 60 units."
    )


# --- excess and aged stock ----------------------------------------------------------------


def inventory_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_sku": ["A", "B"],
            "family_code": ["FAM", "FAM"],
            "available_qty": [900.0, 40.0],
            "days_of_supply": [900.0, math.inf],
            "excess_qty": [719.0, 40.0],
            "aged_qty": [500.0, 0.0],
            "qty_over_365": [300.0, 0.0],
            "unit_cost": [2.0, 1.0],
            "unit_price": [5.0, 3.0],
            "excess_cover_months": 6,
            "aged_after_days": 180,
        }
    )


def test_excess_and_aged_stock_carry_a_spiff_or_markdown_suggestion():
    result = plan(periods=[MAR], demand={"A": [70], "B": [0]}, routings=[], capacity={})

    alerts = derive_alerts(result, inventory=inventory_frame(), currency="EUR")

    excess = one(alerts, "excess_stock", product_sku="A")
    assert excess["severity"] == "warning"  # 900 days is more than twice 6 months
    assert (excess["amount"], excess["value"]) == (719, 1438)
    assert excess["period_start"] is None
    assert text(excess) == (
        "A: 900 units available cover 900 days; 719 units are beyond 6 months of forecast "
        "demand (1,438.00 EUR at cost)."
    )
    assert text(excess, "suggestion") == (
        "SPIFF: pay 0.25 EUR per unit sold on the excess (719 units; 179.75 EUR if all sell)."
    )
    assert excess["fingerprint"] == "excess_stock:A"

    dead = one(alerts, "excess_stock", product_sku="B")
    assert dead["severity"] == "warning"
    assert text(dead, "suggestion").startswith("Markdown: 20 % off the 3.00 EUR unit price")

    aged = one(alerts, "aged_stock")
    assert aged["severity"] == "warning"  # some of it is older than a year
    assert (aged["amount"], aged["value"]) == (500, 1000)
    assert text(aged) == (
        "A: 500 units in stock are older than 180 days (300 units older than a year), 1,000.00 EUR at cost."
    )
    assert text(aged, "suggestion") == (
        "Markdown: 20 % off the 5.00 EUR unit price on the units older than a year "
        "(300 units; 300.00 EUR of revenue given up). "
        "SPIFF: pay 0.25 EUR per unit sold on the units aged 181–365 days "
        "(200 units; 50.00 EUR if all sell)."
    )


# --- keys for upserting -------------------------------------------------------------------


def test_rerun_gives_the_same_keys_and_fixing_capacity_removes_the_alert():
    common = dict(periods=[FEB, MAR], demand={"A": [50, 150]}, routings=[("A", "WC1", 1.0)])

    first = derive_alerts(plan(**common, capacity={"WC1": [100, 100]}))
    again = derive_alerts(plan(**common, capacity={"WC1": [100, 100]}))
    fixed = derive_alerts(plan(**common, capacity={"WC1": [100, 200]}))

    pd.testing.assert_frame_equal(first, again)
    assert first["fingerprint"].is_unique
    assert "capacity_overload:WC1:2027-03-01" in set(first["fingerprint"])
    assert "capacity_overload:WC1:2027-03-01" not in set(fixed["fingerprint"])
    assert "stockout_risk:A" not in set(fixed["fingerprint"])


def test_no_alerts_gives_an_empty_frame_with_the_columns():
    result = plan(periods=[MAR], demand={"A": [80]}, routings=[("A", "WC1", 1.0)], capacity={"WC1": [100]})

    alerts = derive_alerts(result)
    assert alerts.empty
    assert list(alerts.columns) == ALERT_COLUMNS


@pytest.mark.parametrize(
    ("pct", "level"),
    [
        (None, "none"),
        (0, "low"),
        (59, "low"),
        (60, "ok"),
        (90, "ok"),
        (91, "high"),
        (100, "high"),
        (101, "over"),
    ],
)
def test_heat_map_levels_sit_on_the_alert_lines(pct, level):
    assert utilisation_level(pct) == level


def test_heat_map_levels_follow_the_thresholds():
    strict = AlertThresholds(overload_critical=0.95, overload_warning=0.80, underload_info=0.50)
    assert [utilisation_level(p, strict) for p in (96, 81, 49, 70)] == ["over", "high", "low", "ok"]


def test_the_parameters_of_the_messages_are_json_even_for_numbers_that_are_not_finite():
    import json

    inventory = inventory_frame().assign(excess_cover_months=[math.nan, 6])
    result = plan(periods=[MAR], demand={"A": [70], "B": [0]}, routings=[], capacity={})

    alerts = derive_alerts(result, inventory=inventory, currency="EUR")

    for column in ("message_params", "suggestion_params"):
        for params in alerts[column]:
            assert params is None or json.loads(json.dumps(params, allow_nan=False)) == params
    excess = one(alerts, "excess_stock", product_sku="A")
    assert excess["message_params"]["cover_months"] is None
    assert "beyond — months" in text(excess)
