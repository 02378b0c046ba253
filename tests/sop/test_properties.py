"""Properties of the supply reconciliation that must hold for every input (hypothesis; no
database): the constrained plan never loads a work center beyond its available hours; without
pre-build a period builds at most its own requirement; served demand never exceeds demand."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sop.test_reconciliation import plan

MONTHS = [dt.date(2027, m, 1) for m in range(1, 7)]
SKUS = ["A", "B", "C"]
CENTERS = ["WC1", "WC2"]
quantity = st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False)


@st.composite
def supply_problem(draw, build_ahead: bool):
    periods = MONTHS[: draw(st.integers(1, len(MONTHS)))]
    skus = SKUS[: draw(st.integers(1, len(SKUS)))]
    demand = {s: [draw(quantity) for _ in periods] for s in skus}
    routings = [
        (s, w, draw(st.floats(min_value=0.01, max_value=5))) for s in skus for w in CENTERS if draw(st.booleans())
    ]
    hours = st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=1500))
    capacity = {w: [draw(hours) for _ in periods] for w in CENTERS}
    return dict(
        periods=periods,
        demand=demand,
        routings=routings,
        capacity=capacity,
        build_ahead={s: draw(st.integers(0, 3)) if build_ahead else 0 for s in skus},
        safety_stock={s: draw(st.floats(min_value=0, max_value=50)) for s in skus},
        opening={s: draw(st.floats(min_value=0, max_value=200)) for s in skus},
    )


PROPERTY = settings(max_examples=120, derandomize=True, deadline=None)


@PROPERTY
@given(problem=supply_problem(build_ahead=False))
def test_without_pre_build_the_plan_never_exceeds_capacity_nor_builds_ahead(problem):
    result = plan(**problem)
    load = result.capacity_load
    assert (load["constrained_load_hours"] <= load["available_hours"] * (1 + 1e-9) + 1e-6).all()
    products = result.product_plan
    assert np.allclose(products["prebuild_qty"], 0) and np.allclose(products["pulled_forward_qty"], 0)
    assert (products["constrained_production"] <= products["production_required"] + 1e-6).all()
    assert (products["feasible_qty"] <= products["demand_qty"] + 1e-6).all()
    assert (products[["constrained_production", "shortfall_qty", "feasible_qty"]] >= -1e-9).all().all()


@PROPERTY
@given(problem=supply_problem(build_ahead=True))
def test_pre_build_uses_only_free_hours(problem):
    result = plan(**problem)
    load = result.capacity_load
    assert (load["constrained_load_hours"] <= load["available_hours"] * (1 + 1e-9) + 1e-6).all()
    products = result.product_plan
    # what a period needs is built in it, before it, or is the shortfall — nothing is lost or invented
    np.testing.assert_allclose(
        products["production_required"],
        products["constrained_production"]
        - products["prebuild_qty"]
        + products["pulled_forward_qty"]
        + products["shortfall_qty"],
        atol=1e-6,
    )
