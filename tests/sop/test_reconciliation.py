"""Hand-worked cases of the supply reconciliation (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sop.reconciliation import ReconciliationResult, reconcile

JAN, FEB, MAR = dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)


def plan(
    *,
    periods: list[dt.date],
    demand: dict[str, list[float]],
    routings: list[tuple[str, str, float]],
    capacity: dict[str, list[float]],
    build_ahead: dict[str, int] | None = None,
    safety_stock: dict[str, float] | None = None,
    opening: dict[str, float] | None = None,
    family: dict[str, str] | None = None,
    family_quotas: pd.DataFrame | None = None,
    price: float = 10.0,
) -> ReconciliationResult:
    skus = sorted(demand)
    products = pd.DataFrame(
        {
            "product_sku": skus,
            "family_code": [(family or {}).get(s, "FAM") for s in skus],
            "unit_price": price,
            "unit_cost": price / 2,
            "safety_stock": [(safety_stock or {}).get(s, 0.0) for s in skus],
            "max_build_ahead_periods": [(build_ahead or {}).get(s, 0) for s in skus],
        }
    )
    demand_rows = pd.DataFrame(
        [
            {"product_sku": s, "period_start": p, "demand_qty": q, "target_qty": q}
            for s, qs in demand.items()
            for p, q in zip(periods, qs, strict=True)
        ]
    )
    capacity_rows = pd.DataFrame(
        [
            {"work_center_code": w, "period_start": p, "available_hours": h}
            for w, hs in capacity.items()
            for p, h in zip(periods, hs, strict=True)
        ],
        columns=["work_center_code", "period_start", "available_hours"],
    )
    return reconcile(
        periods=periods,
        products=products,
        demand=demand_rows,
        opening_inventory=pd.DataFrame(
            {"product_sku": list((opening or {}).keys()), "on_hand": list((opening or {}).values())}
        ),
        routings=pd.DataFrame(routings, columns=["product_sku", "work_center_code", "hours_per_unit"]),
        capacity=capacity_rows,
        family_quotas=family_quotas,
    )


def product_rows(result: ReconciliationResult, sku: str) -> pd.DataFrame:
    return result.product_plan.loc[result.product_plan["product_sku"] == sku].set_index("period_start")


def load_rows(result: ReconciliationResult, wc: str) -> pd.DataFrame:
    return result.capacity_load.loc[result.capacity_load["work_center_code"] == wc].set_index("period_start")


# --- the acceptance cases of issue 5 ------------------------------------------------------


def test_overload_without_free_capacity_loads_150_percent_and_is_short_50():
    # Given 100 h available, 1 h per unit and a demand of 150 units
    result = plan(periods=[MAR], demand={"A": [150]}, routings=[("A", "WC1", 1.0)], capacity={"WC1": [100]})

    load = load_rows(result, "WC1").loc[MAR]
    assert load["load_hours"] == pytest.approx(150)
    assert load["utilisation"] == pytest.approx(1.5)
    assert load["overload_hours"] == pytest.approx(50)
    assert load["constrained_load_hours"] == pytest.approx(100)
    assert load["shortfall_hours"] == pytest.approx(50)
    a = product_rows(result, "A").loc[MAR]
    assert a["production_required"] == pytest.approx(150)
    assert a["constrained_production"] == pytest.approx(100)
    assert a["shortfall_qty"] == pytest.approx(50)
    assert a["feasible_qty"] == pytest.approx(100)
    assert a["unserved_qty"] == pytest.approx(50)
    assert a["unserved_value"] == pytest.approx(500)


def test_free_capacity_in_the_previous_period_is_used_to_prebuild_50():
    # Given February idle and March needing 150 h of 100 h, with a build-ahead of 1 period
    result = plan(
        periods=[FEB, MAR],
        demand={"A": [0, 150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100]},
        build_ahead={"A": 1},
    )

    a = product_rows(result, "A")
    assert a["production_required"].tolist() == pytest.approx([0, 150])
    assert a["prebuild_qty"].tolist() == pytest.approx([50, 0])
    assert a["pulled_forward_qty"].tolist() == pytest.approx([0, 50])
    assert a["constrained_production"].tolist() == pytest.approx([50, 100])
    assert a["shortfall_qty"].tolist() == pytest.approx([0, 0])
    # The 50 pre-built units are carried from February into March.
    assert a["projected_inventory_after"].tolist() == pytest.approx([50, 0])
    assert a["feasible_qty"].tolist() == pytest.approx([0, 150])
    load = load_rows(result, "WC1")
    assert load["utilisation"].tolist() == pytest.approx([0.0, 1.5])  # what demand asks for
    assert load["constrained_utilisation"].tolist() == pytest.approx([0.5, 1.0])
    assert load.loc[MAR, "prebuilt_hours"] == pytest.approx(50)
    assert load.loc[MAR, "shortfall_hours"] == pytest.approx(0)


def test_without_build_ahead_the_same_overload_is_a_shortfall_of_50():
    result = plan(
        periods=[FEB, MAR],
        demand={"A": [0, 150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100]},
        build_ahead={"A": 0},
    )

    a = product_rows(result, "A")
    assert a["prebuild_qty"].sum() == pytest.approx(0)
    assert a.loc[MAR, "shortfall_qty"] == pytest.approx(50)
    assert a.loc[MAR, "feasible_qty"] == pytest.approx(100)
    fam = result.family_plan.set_index("period_start").loc[MAR]
    assert fam["feasible_qty"] == pytest.approx(100)
    # Without explicit quotas the family quota is the sum of the sales targets (150).
    assert fam["quota_qty"] == pytest.approx(150)
    assert fam["buildability_gap"] == pytest.approx(50)
    assert fam["not_buildable_qty"] == pytest.approx(50)


# --- build-ahead window and order ---------------------------------------------------------


def test_build_ahead_limit_decides_how_far_back_production_may_move():
    # January is idle, February is full, March is 50 h over.
    common = dict(
        periods=[JAN, FEB, MAR],
        demand={"A": [0, 100, 150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100, 100]},
    )

    one_back = product_rows(plan(**common, build_ahead={"A": 1}), "A")
    assert one_back["shortfall_qty"].tolist() == pytest.approx([0, 0, 50])

    two_back = product_rows(plan(**common, build_ahead={"A": 2}), "A")
    assert two_back["shortfall_qty"].tolist() == pytest.approx([0, 0, 0])
    assert two_back["prebuild_qty"].tolist() == pytest.approx([50, 0, 0])
    assert two_back["projected_inventory_after"].tolist() == pytest.approx([50, 50, 0])


def test_prebuild_takes_the_nearest_earlier_period_first():
    # Free: January 50 h, February 30 h; March needs 60 h more than it has.
    result = plan(
        periods=[JAN, FEB, MAR],
        demand={"A": [50, 70, 160]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100, 100]},
        build_ahead={"A": 2},
    )

    a = product_rows(result, "A")
    assert a["prebuild_qty"].tolist() == pytest.approx([30, 30, 0])
    assert a["constrained_production"].tolist() == pytest.approx([80, 100, 100])
    assert a["projected_inventory_after"].tolist() == pytest.approx([30, 60, 0])
    assert a["shortfall_qty"].sum() == pytest.approx(0)


def test_earlier_requirements_get_first_claim_on_free_capacity():
    # January has 40 h free; February and March are both 40 h over; build-ahead 2.
    result = plan(
        periods=[JAN, FEB, MAR],
        demand={"A": [60, 140, 140]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100, 100, 100]},
        build_ahead={"A": 2},
    )

    a = product_rows(result, "A")
    assert a["pulled_forward_qty"].tolist() == pytest.approx([0, 40, 0])
    assert a["shortfall_qty"].tolist() == pytest.approx([0, 0, 40])


# --- competing products and several work centers -----------------------------------------


def test_product_on_several_work_centers_is_limited_by_the_tightest():
    # A needs 1 h on WC1 (1,000 h free) and 2 h on WC2 (100 h free) per unit; demand 100.
    result = plan(
        periods=[MAR],
        demand={"A": [100]},
        routings=[("A", "WC1", 1.0), ("A", "WC2", 2.0)],
        capacity={"WC1": [1000], "WC2": [100]},
    )

    assert product_rows(result, "A").loc[MAR, "constrained_production"] == pytest.approx(50)
    wc1, wc2 = load_rows(result, "WC1").loc[MAR], load_rows(result, "WC2").loc[MAR]
    assert wc2["utilisation"] == pytest.approx(2.0)
    assert wc2["constrained_load_hours"] == pytest.approx(100)
    # WC1 is not overloaded, but only builds what WC2 lets through.
    assert wc1["load_hours"] == pytest.approx(100)
    assert wc1["constrained_load_hours"] == pytest.approx(50)
    assert wc1["shortfall_hours"] == pytest.approx(50)


def test_competing_products_are_cut_in_the_same_proportion():
    # 100 h for A (1 h/unit × 100) and B (2 h/unit × 50): 200 h asked, each gets half.
    result = plan(
        periods=[MAR],
        demand={"A": [100], "B": [50]},
        routings=[("A", "WC1", 1.0), ("B", "WC1", 2.0)],
        capacity={"WC1": [100]},
    )

    assert product_rows(result, "A").loc[MAR, "constrained_production"] == pytest.approx(50)
    assert product_rows(result, "B").loc[MAR, "constrained_production"] == pytest.approx(25)
    assert load_rows(result, "WC1").loc[MAR, "constrained_load_hours"] == pytest.approx(100)


def test_hours_left_by_a_product_held_back_elsewhere_go_to_the_others():
    # A loads WC1 and WC2 (1 h each), B only WC1; WC1 has 100 h, WC2 20 h; demand 100 each.
    # WC2 lets A build 20; B then gets the remaining 80 h of WC1 (not a flat 50 % cut).
    result = plan(
        periods=[MAR],
        demand={"A": [100], "B": [100]},
        routings=[("A", "WC1", 1.0), ("A", "WC2", 1.0), ("B", "WC1", 1.0)],
        capacity={"WC1": [100], "WC2": [20]},
    )

    assert product_rows(result, "A").loc[MAR, "constrained_production"] == pytest.approx(20)
    assert product_rows(result, "B").loc[MAR, "constrained_production"] == pytest.approx(80)
    assert load_rows(result, "WC1").loc[MAR, "constrained_load_hours"] == pytest.approx(100)


def test_product_without_routing_is_not_capacity_constrained():
    result = plan(periods=[MAR], demand={"A": [500]}, routings=[], capacity={"WC1": [10]})

    a = product_rows(result, "A").loc[MAR]
    assert a["constrained_production"] == pytest.approx(500)
    assert a["feasible_qty"] == pytest.approx(500)


def test_work_center_without_a_capacity_row_has_no_hours():
    result = plan(periods=[MAR], demand={"A": [10]}, routings=[("A", "WC9", 1.0)], capacity={})

    load = load_rows(result, "WC9").loc[MAR]
    assert load["available_hours"] == 0
    assert np.isnan(load["utilisation"])
    assert product_rows(result, "A").loc[MAR, "shortfall_qty"] == pytest.approx(10)


# --- inventory netting --------------------------------------------------------------------


def test_requirement_nets_opening_inventory_and_safety_stock():
    products = pd.DataFrame({"product_sku": ["A"], "family_code": ["FAM"], "safety_stock": [20.0]})
    opening = pd.DataFrame(
        {  # two locations: (30 − 10 + 20) + (5 − 5 + 0) = 40
            "product_sku": ["A", "A"],
            "on_hand": [30, 5],
            "allocated": [10, 5],
            "on_order": [20, 0],
        }
    )
    result = reconcile(
        periods=[FEB, MAR],
        products=products,
        demand=pd.DataFrame({"product_sku": ["A", "A"], "period_start": [FEB, MAR], "demand_qty": [50, 50]}),
        opening_inventory=opening,
        routings=pd.DataFrame(columns=["product_sku", "work_center_code", "hours_per_unit"]),
        capacity=pd.DataFrame(columns=["work_center_code", "period_start", "available_hours"]),
    )

    a = product_rows(result, "A")
    # Feb: max(0, 50 + 20 − 40) = 30, ends at 20; Mar: max(0, 50 + 20 − 20) = 50, ends at 20.
    assert a["projected_inventory_before"].tolist() == pytest.approx([40, 20])
    assert a["production_required"].tolist() == pytest.approx([30, 50])
    assert a["projected_inventory_after"].tolist() == pytest.approx([20, 20])


def test_safety_stock_per_period_overrides_the_product_value():
    products = pd.DataFrame({"product_sku": ["A"], "family_code": ["FAM"], "safety_stock": [20.0]})
    result = reconcile(
        periods=[FEB, MAR],
        products=products,
        demand=pd.DataFrame({"product_sku": ["A", "A"], "period_start": [FEB, MAR], "demand_qty": [10, 10]}),
        opening_inventory=pd.DataFrame({"product_sku": [], "on_hand": []}),
        routings=pd.DataFrame(columns=["product_sku", "work_center_code", "hours_per_unit"]),
        capacity=pd.DataFrame(columns=["work_center_code", "period_start", "available_hours"]),
        safety_stock=pd.DataFrame({"product_sku": ["A"], "period_start": [MAR], "safety_stock": [50.0]}),
    )

    a = product_rows(result, "A")
    assert a["safety_stock"].tolist() == pytest.approx([20, 50])
    # Feb: 10 + 20 − 0 = 30; Mar: 10 + 50 − 20 = 40.
    assert a["production_required"].tolist() == pytest.approx([30, 40])


def test_a_shortfall_eats_safety_stock_before_it_cuts_demand():
    # Opening stock 20 = safety stock; demand 150 needs 150 built, only 100 can be.
    result = plan(
        periods=[MAR],
        demand={"A": [150]},
        routings=[("A", "WC1", 1.0)],
        capacity={"WC1": [100]},
        safety_stock={"A": 20},
        opening={"A": 20},
    )

    a = product_rows(result, "A").loc[MAR]
    assert a["production_required"] == pytest.approx(150)
    assert a["shortfall_qty"] == pytest.approx(50)
    assert a["feasible_qty"] == pytest.approx(120)
    assert a["unserved_qty"] == pytest.approx(30)
    assert a["projected_inventory_after"] == pytest.approx(0)


# --- families and quotas ------------------------------------------------------------------


def test_family_plan_sums_products_and_splits_the_gap():
    quotas = pd.DataFrame(
        {
            "family_code": ["FAM", "FAM"],
            "territory_code": ["T1", "T2"],
            "period_start": [MAR, MAR],
            "quota_qty": [120, 60],
        }
    )
    result = plan(
        periods=[MAR],
        demand={"A": [100], "B": [50]},
        routings=[("A", "WC1", 1.0), ("B", "WC1", 1.0)],
        capacity={"WC1": [120]},
        family_quotas=quotas,
    )

    fam = result.family_plan.set_index("period_start").loc[MAR]
    assert fam["demand_qty"] == pytest.approx(150)
    assert fam["feasible_qty"] == pytest.approx(120)
    assert fam["quota_qty"] == pytest.approx(180)
    assert fam["buildability_gap"] == pytest.approx(60)  # quota − feasible
    assert fam["quota_above_demand"] == pytest.approx(30)  # not asked of the plants
    assert fam["not_buildable_qty"] == pytest.approx(30)  # min(180, 150) − 120
    assert sorted(result.quotas["territory_code"]) == ["T1", "T2"]


# --- input handling -----------------------------------------------------------------------


def test_demand_for_an_unknown_product_is_rejected():
    with pytest.raises(ValueError, match="ZZZ"):
        reconcile(
            periods=[MAR],
            products=pd.DataFrame({"product_sku": ["A"]}),
            demand=pd.DataFrame({"product_sku": ["ZZZ"], "period_start": [MAR], "demand_qty": [1]}),
            opening_inventory=pd.DataFrame({"product_sku": []}),
            routings=pd.DataFrame(columns=["product_sku", "work_center_code", "hours_per_unit"]),
            capacity=pd.DataFrame(columns=["work_center_code", "period_start", "available_hours"]),
        )


def test_same_inputs_in_another_row_order_give_the_same_plan():
    rng = np.random.default_rng(7)
    periods = [JAN, FEB, MAR]
    skus = [f"P{i}" for i in range(30)]
    products = pd.DataFrame(
        {
            "product_sku": skus,
            "family_code": [f"F{i % 3}" for i in range(30)],
            "unit_price": 5.0,
            "max_build_ahead_periods": rng.integers(0, 3, 30),
        }
    )
    demand = pd.DataFrame(
        {
            "product_sku": np.repeat(skus, 3),
            "period_start": periods * 30,
            "demand_qty": rng.integers(0, 100, 90).astype(float),
        }
    )
    routings = pd.DataFrame(
        {
            "product_sku": skus + skus[:10],
            "work_center_code": [f"W{i % 4}" for i in range(30)] + ["W9"] * 10,
            "hours_per_unit": rng.uniform(0.1, 1.0, 40),
        }
    )
    capacity = pd.DataFrame(
        {
            "work_center_code": np.repeat(["W0", "W1", "W2", "W3", "W9"], 3),
            "period_start": periods * 5,
            "available_hours": rng.uniform(50, 400, 15),
        }
    )
    inputs = dict(
        periods=periods,
        products=products,
        demand=demand,
        opening_inventory=pd.DataFrame({"product_sku": skus, "on_hand": 10.0}),
        routings=routings,
        capacity=capacity,
    )
    first = reconcile(**inputs)
    shuffled = {
        k: (v.sample(frac=1, random_state=1) if isinstance(v, pd.DataFrame) else v[::-1]) for k, v in inputs.items()
    }
    second = reconcile(**shuffled)

    pd.testing.assert_frame_equal(first.product_plan, second.product_plan, rtol=1e-9)
    pd.testing.assert_frame_equal(first.capacity_load, second.capacity_load, rtol=1e-9)
    # Capacity is never exceeded by the constrained plan.
    assert (first.capacity_load["constrained_load_hours"] <= first.capacity_load["available_hours"] + 1e-6).all()
    # Requirement = own production + pulled forward + shortfall, for every product × period.
    p = first.product_plan
    own = p["constrained_production"] - p["prebuild_qty"]
    assert np.allclose(own + p["pulled_forward_qty"] + p["shortfall_qty"], p["production_required"])
