"""The acceptance case in pure form: "work center X −20 % in months 6–8" through the same
reconciliation, against the plan on inputs changed by hand (no database)."""

import datetime as dt

import pandas as pd

from scenarios.deltas import ScenarioInputs, apply_changes
from scenarios.kpis import plan_kpis
from sop.reconciliation import reconcile

MONTHS = [dt.date(2027, m, 1) for m in range(1, 9)]


def inputs() -> ScenarioInputs:
    # P1: 100 units a month, 1 h each on WC1 (120 h a month), price 10, cost 6, nothing in stock.
    return ScenarioInputs(
        products=pd.DataFrame(
            {
                "product_sku": ["P1"],
                "family_code": ["PMP"],
                "unit_price": [10.0],
                "unit_cost": [6.0],
                "safety_stock": [0.0],
                "max_build_ahead_periods": [0],
            }
        ),
        demand=pd.DataFrame({"product_sku": "P1", "period_start": MONTHS, "demand_qty": 100.0}),
        routings=pd.DataFrame({"product_sku": ["P1"], "work_center_code": ["WC1"], "hours_per_unit": [1.0]}),
        capacity=pd.DataFrame({"work_center_code": "WC1", "period_start": MONTHS, "available_hours": 120.0}),
        family_quotas=None,
    )


def kpis(frames: ScenarioInputs) -> dict:
    result = reconcile(
        periods=MONTHS,
        products=frames.products,
        demand=frames.demand,
        opening_inventory=pd.DataFrame({"product_sku": [], "on_hand": []}),
        routings=frames.routings,
        capacity=frames.capacity,
        family_quotas=frames.family_quotas,
    )
    return plan_kpis(
        product_plan=result.product_plan, capacity_load=result.capacity_load, family_plan=result.family_plan
    )


def test_minus_20_percent_in_months_6_to_8():
    base = kpis(inputs())
    cut = apply_changes(
        inputs(),
        [
            {
                "type": "capacity",
                "work_center_code": "WC1",
                "period_from": "2027-06-01",
                "period_to": "2027-08-01",
                "change_pct": -20,
            }
        ],
        periods=MONTHS,
    )
    scenario = kpis(cut)
    # 120 h × 0.8 = 96 h in June–August against 100 h of load: 4 h over and 4 units short each month
    assert (base["overload_hours"], base["shortfall_units"]) == (0.0, 0.0)
    assert scenario["overload_hours"] == 12.0 and scenario["overloaded_work_center_months"] == 3
    assert scenario["shortfall_units"] == 12.0 and scenario["shortfall_value"] == 120.0
    assert scenario["revenue"] == base["revenue"] - 120.0 == 7880.0

    by_hand = inputs()
    capacity = by_hand.capacity.copy()
    capacity.loc[capacity["period_start"] >= dt.date(2027, 6, 1), "available_hours"] = 96.0
    assert kpis(ScenarioInputs(**{**by_hand.__dict__, "capacity": capacity})) == scenario


def test_neutral_changes_and_repeated_runs_give_the_same_kpis():
    neutral = apply_changes(
        inputs(),
        [
            {
                "type": "demand",
                "product_sku": "P1",
                "period_from": "2027-01-01",
                "period_to": "2027-08-01",
                "factor": 1.0,
            },
            {
                "type": "capacity",
                "work_center_code": "WC1",
                "period_from": "2027-01-01",
                "period_to": "2027-08-01",
                "change_hours": 0,
            },
        ],
        periods=MONTHS,
    )
    assert kpis(neutral) == kpis(inputs()) == kpis(inputs())
