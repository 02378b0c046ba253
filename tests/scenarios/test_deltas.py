"""Deltas applied in memory: each change type by hand, and the checks that name index and field."""

import datetime as dt

import pandas as pd

from scenarios.deltas import KnownCodes, ScenarioInputs, apply_changes, check_changes

JAN, FEB, MAR = dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)
PERIODS = [JAN, FEB, MAR]
KNOWN = KnownCodes(
    products=frozenset({"P1", "P2", "V1"}),
    families=frozenset({"PMP", "VLV"}),
    work_centers=frozenset({"WC1"}),
    territories=frozenset({"EAST", "EAST-1", "WEST"}),
    regions=frozenset({"EAST", "WEST"}),
)


def inputs(**extra) -> ScenarioInputs:
    products = pd.DataFrame(
        {
            "product_sku": ["P1", "P2", "V1"],
            "family_code": ["PMP", "PMP", "VLV"],
            "unit_price": [10.0, 20.0, 8.0],
            "unit_cost": [6.0, 12.0, 4.0],
            "safety_stock": [0.0, 5.0, 0.0],
            "max_build_ahead_periods": [0, 1, 0],
        }
    )
    demand = pd.DataFrame(
        {
            "product_sku": ["P1"] * 3 + ["P2"] * 3 + ["V1"] * 3,
            "period_start": PERIODS * 3,
            "demand_qty": [100.0, 100.0, 100.0, 30.0, 30.0, 30.0, 40.0, 40.0, 40.0],
            "forecast_qty": [100.0] * 3 + [30.0] * 3 + [40.0] * 3,
            "target_qty": [0.0] * 9,
        }
    )
    routings = pd.DataFrame(
        {"product_sku": ["P1", "P2"], "work_center_code": ["WC1", "WC1"], "hours_per_unit": [1.0, 2.0]}
    )
    capacity = pd.DataFrame(
        {"work_center_code": ["WC1", "WC1"], "period_start": [JAN, FEB], "available_hours": [1000.0, 500.0]}
    )
    return ScenarioInputs(
        products=products,
        demand=demand,
        routings=routings,
        capacity=capacity,
        family_quotas=extra.get("family_quotas"),
        demand_detail=extra.get("demand_detail"),
        territory_paths=extra.get("territory_paths", {}),
    )


def qty(frame, sku, period, column="demand_qty"):
    return float(frame.loc[(frame["product_sku"] == sku) & (frame["period_start"] == period), column].sum())


def test_demand_factor_on_a_family_scales_its_products_in_the_range_only():
    out = apply_changes(
        inputs(),
        [
            {
                "type": "demand",
                "family_code": "PMP",
                "period_from": "2027-02-01",
                "period_to": "2027-03-01",
                "factor": 1.25,
            }
        ],
        periods=PERIODS,
    )
    assert qty(out.demand, "P1", JAN) == 100.0
    assert qty(out.demand, "P1", FEB) == 125.0 and qty(out.demand, "P2", MAR) == 37.5
    assert qty(out.demand, "V1", FEB) == 40.0


def test_demand_factor_on_a_territory_scales_its_share_of_the_product():
    detail = pd.DataFrame(
        {
            "product_sku": ["P1", "P1"],
            "territory_path": ["/EAST/EAST-1/", "/WEST/WEST-1/"],
            "region_code": ["EAST", "WEST"],
            "period_start": [JAN, JAN],
            "demand_qty": [60.0, 40.0],
        }
    )
    base = inputs(demand_detail=detail, territory_paths={"EAST": "/EAST/", "EAST-1": "/EAST/EAST-1/"})
    out = apply_changes(
        base,
        [
            {
                "type": "demand",
                "territory_code": "EAST",
                "period_from": "2027-01-01",
                "period_to": "2027-01-01",
                "factor": 1.5,
            }
        ],
        periods=PERIODS,
    )
    assert qty(out.demand, "P1", JAN) == 130.0  # 100 + 60 × 0.5
    out = apply_changes(
        base,
        [
            {
                "type": "demand",
                "region_code": "WEST",
                "period_from": "2027-01-01",
                "period_to": "2027-01-01",
                "factor": 0.5,
            }
        ],
        periods=PERIODS,
    )
    assert qty(out.demand, "P1", JAN) == 80.0  # 100 − 40 × 0.5


def test_capacity_pct_and_hours_and_missing_months():
    out = apply_changes(
        inputs(),
        [
            {
                "type": "capacity",
                "work_center_code": "WC1",
                "period_from": "2027-02-01",
                "period_to": "2027-03-01",
                "change_pct": -20,
            }
        ],
        periods=PERIODS,
    )
    hours = dict(zip(out.capacity["period_start"], out.capacity["available_hours"], strict=True))
    assert hours == {JAN: 1000.0, FEB: 400.0, MAR: 0.0}  # March had no row: 0 − 20 % = 0
    out = apply_changes(
        inputs(),
        [
            {
                "type": "capacity",
                "work_center_code": "WC1",
                "period_from": "2027-01-01",
                "period_to": "2027-03-01",
                "change_hours": 120,
            }
        ],
        periods=PERIODS,
    )
    hours = dict(zip(out.capacity["period_start"], out.capacity["available_hours"], strict=True))
    assert hours == {JAN: 1120.0, FEB: 620.0, MAR: 120.0}


def test_routing_new_product_and_policy():
    changes = [
        {
            "type": "new_product",
            "product_sku": "P9",
            "family_code": "PMP",
            "quantities": {"2027-02-01": 12, "2027-03-01": 8},
        },
        {"type": "routing", "product_sku": "P1", "work_center_code": "WC1", "hours_per_unit": 1.5},
        {"type": "inventory_policy", "product_sku": "P2", "safety_stock": 9, "max_build_ahead_periods": 2},
    ]
    out = apply_changes(inputs(), changes, periods=PERIODS)
    routing = {(r.product_sku, r.work_center_code): r.hours_per_unit for r in out.routings.itertuples()}
    # P9 borrows PMP's routing: (1.5? no: the family's routing before the change, 1 + 2) / 2 products
    assert routing == {("P1", "WC1"): 1.5, ("P2", "WC1"): 2.0, ("P9", "WC1"): 1.5}
    p9 = out.products.set_index("product_sku").loc["P9"]
    assert (p9["unit_price"], p9["unit_cost"], p9["family_code"]) == (15.0, 9.0, "PMP")
    assert qty(out.demand, "P9", FEB) == 12.0 and qty(out.demand, "P9", JAN) == 0.0
    p2 = out.products.set_index("product_sku").loc["P2"]
    assert (p2["safety_stock"], p2["max_build_ahead_periods"]) == (9.0, 2)


def test_target_factor_on_quota_rows_of_a_territory_subtree():
    quotas = pd.DataFrame(
        {
            "family_code": ["PMP", "PMP", "VLV"],
            "territory_code": ["EAST-1", "WEST", "EAST-1"],
            "period_start": [JAN, JAN, JAN],
            "quota_qty": [100.0, 50.0, 10.0],
        }
    )
    base = inputs(family_quotas=quotas, territory_paths={"EAST": "/EAST/", "EAST-1": "/EAST/EAST-1/", "WEST": "/WEST/"})
    out = apply_changes(
        base,
        [
            {
                "type": "target",
                "family_code": "PMP",
                "territory_code": "EAST",
                "period_from": "2027-01-01",
                "period_to": "2027-01-01",
                "factor": 1.2,
            }
        ],
        periods=PERIODS,
    )
    assert list(out.family_quotas["quota_qty"]) == [120.0, 50.0, 10.0]


def test_neutral_changes_leave_the_inputs_equal():
    changes = [
        {"type": "demand", "family_code": "PMP", "period_from": "2027-01-01", "period_to": "2027-03-01", "factor": 1.0},
        {
            "type": "capacity",
            "work_center_code": "WC1",
            "period_from": "2027-01-01",
            "period_to": "2027-02-01",
            "change_pct": 0,
        },
    ]
    before = inputs()
    out = apply_changes(before, changes, periods=PERIODS)
    pd.testing.assert_frame_equal(out.demand, before.demand)
    pd.testing.assert_frame_equal(out.capacity, before.capacity)


def test_checks_name_each_bad_change_by_index_and_field():
    errors = check_changes(
        [
            {
                "type": "capacity",
                "work_center_code": "NOPE",
                "period_from": "2027-01-01",
                "period_to": "2027-02-01",
                "change_pct": -20,
            },
            {
                "type": "demand",
                "family_code": "PMP",
                "period_from": "2027-03-01",
                "period_to": "2027-01-01",
                "factor": 0,
            },
            {"type": "routing", "product_sku": "P1", "work_center_code": "WC-NEW", "hours_per_unit": 1},
            {"type": "new_product", "product_sku": "P1", "family_code": "PMP", "quantities": {"2027-01-15": 3}},
            {"type": "oops"},
            {
                "type": "demand",
                "territory_code": "EAST",
                "product_sku": "P1",
                "period_from": "2027-01-01",
                "period_to": "2027-01-01",
                "factor": 1,
            },
        ],
        KNOWN,
    )
    found = {(e.index, e.field, e.code) for e in errors}
    assert found == {
        (0, "work_center_code", "unknown"),
        (1, "period_to", "period_order"),
        (1, "factor", "bad_factor"),
        (2, "work_center_code", "new_work_center"),
        (3, "product_sku", "exists"),
        (3, "quantities", "bad_quantity"),
        (4, "type", "bad_type"),
        (5, "product_sku", "one_key"),
    }


def test_a_new_work_center_is_allowed_with_hours_in_the_same_scenario():
    changes = [
        {"type": "routing", "product_sku": "P1", "work_center_code": "WC-NEW", "hours_per_unit": 1},
        {
            "type": "capacity",
            "work_center_code": "WC-NEW",
            "period_from": "2027-01-01",
            "period_to": "2027-03-01",
            "change_hours": 160,
        },
    ]
    assert check_changes(changes, KNOWN) == []
    out = apply_changes(inputs(), changes, periods=PERIODS)
    assert float(out.capacity.loc[out.capacity["work_center_code"] == "WC-NEW", "available_hours"].sum()) == 480.0


def test_territory_changes_need_a_cycle():
    known = KnownCodes(**{**KNOWN.__dict__, "has_cycle": False})
    errors = check_changes(
        [
            {
                "type": "demand",
                "region_code": "EAST",
                "period_from": "2027-01-01",
                "period_to": "2027-01-01",
                "factor": 2,
            }
        ],
        known,
    )
    assert [(e.index, e.field, e.code) for e in errors] == [(0, "region_code", "needs_cycle")]
