"""KPIs of a plan from one pure function, worked by hand."""

import datetime as dt

import pandas as pd
import pytest

from scenarios.comparison import comparison_rows, judgement
from scenarios.kpis import KPI_KEYS, family_months, kpi_delta, plan_kpis

JAN, FEB = dt.date(2027, 1, 1), dt.date(2027, 2, 1)


def plan():
    # P1 (price 10, cost 6): demand 100/100, feasible 100/80; P2 (price 20, cost 12): demand 10/10, all served.
    product_plan = pd.DataFrame(
        {
            "product_sku": ["P1", "P1", "P2", "P2"],
            "family_code": ["PMP", "PMP", "PMP", "PMP"],
            "period_start": [JAN, FEB, JAN, FEB],
            "demand_qty": [100.0, 100.0, 10.0, 10.0],
            "feasible_qty": [100.0, 80.0, 10.0, 10.0],
            "unit_price": [10.0, 10.0, 20.0, 20.0],
            "unit_cost": [6.0, 6.0, 12.0, 12.0],
            "prebuild_qty": [5.0, 0.0, 0.0, 0.0],
            "projected_inventory_after": [0.0, 0.0, 7.0, 4.0],
        }
    )
    capacity_load = pd.DataFrame(
        {
            "work_center_code": ["WC1", "WC1", "WC2"],
            "period_start": [JAN, FEB, JAN],
            "load_hours": [90.0, 130.0, 5.0],
            "available_hours": [100.0, 100.0, 0.0],
        }
    )
    family_plan = pd.DataFrame(
        {"family_code": ["PMP", "PMP"], "period_start": [JAN, FEB], "not_buildable_qty": [0.0, 20.0]}
    )
    return product_plan, capacity_load, family_plan


def test_kpis_by_hand():
    product_plan, capacity_load, family_plan = plan()
    aged = pd.DataFrame({"product_sku": ["P2"], "aged_qty": [25.0]})
    kpis = plan_kpis(product_plan=product_plan, capacity_load=capacity_load, family_plan=family_plan, aged_stock=aged)
    assert list(kpis) == list(KPI_KEYS)
    assert kpis["service_level_units"] == pytest.approx(200 / 220)
    # value: served 100×10 + 80×10 + 20×20 = 2,200 of 2,000 + 400 = 2,400
    assert kpis["service_level_value"] == pytest.approx(2200 / 2400)
    assert kpis["shortfall_units"] == 20.0 and kpis["shortfall_value"] == 200.0
    assert kpis["overload_hours"] == 35.0  # WC1 Feb 30 over + WC2 Jan 5 on no hours
    assert kpis["overloaded_work_center_months"] == 2
    assert kpis["prebuild_units"] == 5.0
    assert kpis["ending_inventory_value"] == 48.0  # P2 4 units × 12 at the end of February
    # P2: 25 aged units − 20 sold = 5 left, but only 4 in stock at the end → 4 × 12
    assert kpis["aged_stock_value"] == 48.0
    assert kpis["revenue"] == 2200.0
    assert kpis["margin"] == pytest.approx(180 * 4 + 20 * 8)  # 880
    assert kpis["targets_not_buildable"] == 1


def test_no_demand_is_full_service_and_same_inputs_same_kpis():
    product_plan, capacity_load, family_plan = plan()
    empty = product_plan.iloc[0:0]
    assert (
        plan_kpis(product_plan=empty, capacity_load=capacity_load.iloc[0:0], family_plan=family_plan.iloc[0:0])[
            "service_level_units"
        ]
        == 1.0
    )
    first = plan_kpis(product_plan=product_plan, capacity_load=capacity_load, family_plan=family_plan)
    again = plan_kpis(product_plan=product_plan.copy(), capacity_load=capacity_load, family_plan=family_plan)
    assert first == again and set(kpi_delta(first, again).values()) == {0}


def test_family_months_and_the_export_rows():
    product_plan, _capacity, family_plan = plan()
    months = family_months(product_plan, family_plan)
    feb = months[months["period_start"] == FEB].iloc[0]
    assert (feb["demand_qty"], feb["feasible_qty"], feb["shortfall_qty"], feb["revenue"], feb["not_buildable_qty"]) == (
        110.0,
        90.0,
        20.0,
        1000.0,
        20.0,
    )
    result = {
        "base": {"revenue": "2200.00"},
        "base_family_months": [],
        "scenarios": [
            {
                "id": 3,
                "name": "Casting −20 %",
                "kpis": {"revenue": "2000.00"},
                "delta": {"revenue": "-200.00"},
                "family_months": [],
            }
        ],
    }
    header, rows = comparison_rows(result)
    assert header == ["kpi", "base", "Casting −20 % (#3)", "Casting −20 % (#3) − base"]
    assert [r for r in rows if r[0] == "revenue"] == [["revenue", "2200.00", "2000.00", "-200.00"]]
    assert judgement("revenue", "-200.00") == "worse" and judgement("shortfall_units", -3) == "better"
    assert judgement("overload_hours", 0.0001) == "same"
