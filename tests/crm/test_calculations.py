"""Hand-worked cases of the CRM's pure calculations (no database)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from crm.availability import availability
from crm.hit_rates import apply_hit_rates, calibrate_hit_rates
from crm.pipeline import pipeline_beside_forecast, pipeline_demand, remaining_quantities

D = dt.date


def closed_history() -> pd.DataFrame:
    rows = (
        [("proposal", "PMP", "won", 40)] * 3
        + [("proposal", "PMP", "lost", 40)]
        + [("proposal", "VLV", "lost", 40)] * 2
        + [("demo", "PMP", "won", 20)]
    )
    return pd.DataFrame(rows, columns=["stage", "family_code", "status", "probability"])


def test_hit_rates_shrink_each_family_to_its_stage_and_the_stage_to_the_crm():
    # proposal: 6 closed, 3 won, CRM said 40 % → (3 + 2 × 0.4) / (6 + 2) = 0.475
    # PMP in proposal: (3 + 2 × 0.475) / (4 + 2) = 0.658333; VLV: (0 + 0.95) / (2 + 2) = 0.2375
    cal = calibrate_hit_rates(closed_history(), prior_strength=2)
    rows = {(r.stage, r.family_code): r for r in cal.itertuples()}
    assert rows[("proposal", "PMP")].stage_rate == pytest.approx(0.475)
    assert rows[("proposal", "PMP")].rate == pytest.approx(3.95 / 6)
    assert rows[("proposal", "VLV")].rate == pytest.approx(0.2375)
    assert (rows[("proposal", "PMP")].closed, rows[("proposal", "PMP")].won) == (4, 3)
    # demo: 1 closed, won, CRM 20 % → (1 + 0.4) / 3
    assert rows[("demo", "PMP")].stage_rate == pytest.approx(1.4 / 3)


def test_calibrated_rates_replace_crm_probabilities_only_where_history_is_enough():
    cal = calibrate_hit_rates(closed_history(), prior_strength=2)
    deals = pd.DataFrame(
        [("proposal", "PMP", 50), ("proposal", "CTL", 50), ("demo", "PMP", 20), ("new", "PMP", 10)],
        columns=["stage", "family_code", "probability"],
    )
    out = apply_hit_rates(deals, cal, min_closed=5)
    assert out["probability_used"].tolist() == pytest.approx([3.95 / 6, 0.475, 0.2, 0.1])
    assert out["source"].tolist() == ["history", "history", "crm", "crm"]


def test_no_history_keeps_the_crm_probabilities():
    deals = pd.DataFrame([("proposal", "PMP", 30)], columns=["stage", "family_code", "probability"])
    out = apply_hit_rates(deals, calibrate_hit_rates(closed_history().iloc[:0]))
    assert out["probability_used"].tolist() == [0.3]


DEAL_COLUMNS = [
    "external_id",
    "account_id",
    "product_sku",
    "family_code",
    "territory_code",
    "quantity",
    "status",
    "expected_close_date",
    "requested_delivery_date",
    "probability_used",
]
LINE_COLUMNS = ["account_id", "product_sku", "family_code", "order_date", "quantity", "opportunity_external_id"]


def deals() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("O1", 1, "P1", "F", "T1", 10, "open", D(2026, 6, 30), D(2026, 7, 20), 0.5),
            ("O2", 2, "P1", "F", "T1", 4, "open", D(2026, 6, 30), D(2026, 7, 3), 0.25),
            ("O3", 1, "P1", "F", "T1", 6, "won", D(2026, 6, 1), D(2026, 8, 10), 0.9),
            ("O4", 3, "P2", "F", "T2", 8, "won", D(2026, 6, 1), D(2026, 8, 10), 0.9),
            ("O5", 3, "P2", "F", "T2", 50, "lost", D(2026, 6, 1), D(2026, 8, 10), 0.0),
            ("O6", 1, None, "F", None, 20, "open", D(2026, 6, 30), D(2026, 7, 1), 0.1),
        ],
        columns=DEAL_COLUMNS,
    )


def lines() -> pd.DataFrame:
    return pd.DataFrame(
        [
            (1, "P1", "F", D(2026, 6, 2), 6, "O3"),  # O3's order arrived, labelled with its id
            (3, "P2", "F", D(2026, 6, 5), 5, None),  # 5 of O4's 8 units, matched by account and product
            (3, "P2", "F", D(2026, 5, 1), 100, None),  # ordered before O4 closed: not O4's
        ],
        columns=LINE_COLUMNS,
    )


def test_won_deals_stop_counting_once_their_order_lines_arrive():
    remaining = remaining_quantities(deals(), lines())
    assert remaining.tolist() == [10, 4, 0, 3, 0, 20]
    # before any line arrived a won deal counts in full
    assert remaining_quantities(deals(), lines().iloc[:0]).tolist() == [10, 4, 6, 8, 0, 20]


def test_pipeline_weighted_by_product_territory_and_delivery_month():
    out = pipeline_demand(deals(), lines(), level="product")
    got = {
        (r.key, r.territory_code, r.period_start): (r.deals, r.pipeline_units, r.weighted_units)
        for r in out.itertuples()
    }
    # July T1: 10 × 0.5 + 4 × 0.25 = 6; August T2: O4's 3 missing units at 1 (won)
    assert got == {("P1", "T1", D(2026, 7, 1)): (2, 14, 6), ("P2", "T2", D(2026, 8, 1)): (1, 3, 3)}


def test_family_level_adds_the_family_deals():
    out = pipeline_demand(deals(), lines(), level="family")
    got = {(r.key, r.territory_code, r.period_start): (r.pipeline_units, r.weighted_units) for r in out.itertuples()}
    assert got == {
        ("F", None, D(2026, 7, 1)): (20, 2),
        ("F", "T1", D(2026, 7, 1)): (14, 6),
        ("F", "T2", D(2026, 8, 1)): (3, 3),
    }


def test_share_of_the_forecast_explained_by_the_pipeline():
    forecast = pd.DataFrame(
        [("P1", "T1", D(2026, 7, 1), 12.0, 15, 15)],
        columns=["key", "territory_code", "period_start", "statistical", "sales_override", "consensus"],
    )
    out = pipeline_beside_forecast(pipeline_demand(deals(), lines()), forecast)
    rows = {r.key: r for r in out.itertuples()}
    assert rows["P1"].share_explained == pytest.approx(0.5)  # 6 of 12
    assert rows["P1"].sales_override == 15
    assert rows["P2"].statistical == 0 and rows["P2"].share_explained is None


# --- availability: Jun–Aug 2026, as of 15 June ---------------------------------------------

AS_OF = D(2026, 6, 15)
MONTHS = [D(2026, 6, 1), D(2026, 7, 1), D(2026, 8, 1)]


def plan(after, safety=(5, 5, 5)) -> pd.DataFrame:
    return pd.DataFrame({"period_start": MONTHS, "projected_inventory_after": after, "safety_stock": safety})


ROUTING = pd.DataFrame({"work_center_code": ["WC1", "WC2"], "hours_per_unit": [2.0, 1.0]})
CAPACITY = pd.DataFrame(
    {
        "work_center_code": ["WC1"] * 3 + ["WC2"] * 3,
        "period_start": MONTHS * 2,
        "free_hours": [10, 20, 0, 100, 100, 100],
    }
)


def ask(quantity, date, after=(30, 25, 20), routing=ROUTING, safety=(5, 5, 5)):
    # free stock: slack 25, 20, 15 → 15 in every month; extra production: WC1 makes 5, 10, 0
    # (WC2 100 a month) → available 20, 30, 30
    return availability(
        product_sku="A",
        quantity=quantity,
        date=date,
        as_of=AS_OF,
        plan=plan(list(after), safety),
        routing=routing,
        capacity=CAPACITY,
    )


def test_enough_stock():
    a = ask(10, D(2026, 6, 30))
    assert (a.available_by_date, a.earliest_full_date, a.constrained_by) == (10, AS_OF, None)


def test_stock_short_but_capacity_free_before_the_date():
    a = ask(25, D(2026, 7, 31))
    assert (a.available_by_date, a.earliest_full_date, a.constrained_by) == (25, D(2026, 7, 1), None)


def test_a_full_bottleneck_is_named():
    a = ask(28, D(2026, 6, 30))
    assert a.available_by_date == 20
    assert a.earliest_full_date == D(2026, 7, 1)
    assert a.constrained_by == {"kind": "work_center", "code": "WC1"}


def test_never_available_in_the_horizon():
    a = ask(40, D(2026, 8, 31))
    assert (a.available_by_date, a.earliest_full_date) == (30, None)
    assert a.constrained_by == {"kind": "work_center", "code": "WC1"}


def test_a_product_without_routing_is_limited_by_inventory():
    a = ask(10, D(2026, 8, 31), after=(8, 8, 8), safety=(0, 0, 0), routing=ROUTING.iloc[:0])
    assert (a.available_by_date, a.earliest_full_date) == (8, None)
    assert a.constrained_by == {"kind": "inventory", "code": "A"}


def test_a_later_stockout_keeps_the_stock_for_the_committed_demand():
    # slack 25, -10, 15: nothing may be taken before August; production still counts
    a = ask(5, D(2026, 6, 30), after=(30, -5, 20))
    assert (a.available_by_date, a.constrained_by) == (5, None)
    b = ask(20, D(2026, 7, 31), after=(30, -5, 20))
    assert b.available_by_date == 15  # 0 stock + 5 + 10 made
    assert b.constrained_by["code"] == "WC1"


def test_deals_at_risk_are_the_likely_deals_that_miss_their_date():
    from crm.availability import deals_at_risk

    product_plan = plan([30, 25, 20]).assign(product_sku="A")
    deals = pd.DataFrame(
        [
            ("D1", "A", 10, D(2026, 6, 30), 0.9),  # deliverable
            ("D2", "A", 28, D(2026, 6, 30), 0.6),  # 20 by June: at risk, WC1
            ("D3", "A", 28, D(2026, 6, 30), 0.3),  # as short, but unlikely: no alert
            ("D4", None, 500, D(2026, 6, 30), 0.9),  # a family deal: not checked
        ],
        columns=["external_id", "product_sku", "quantity", "requested_delivery_date", "probability_used"],
    )
    out = deals_at_risk(
        deals=deals, plan=product_plan, routing=ROUTING.assign(product_sku="A"), capacity=CAPACITY, as_of=AS_OF
    )
    assert out["external_id"].tolist() == ["D2"]
    row = out.iloc[0]
    assert (row.available_by_date, row.earliest_full_date, row.constraint_code) == (20, D(2026, 7, 1), "WC1")


def test_the_batch_check_gives_the_same_answers_as_one_question_at_a_time():
    import numpy as np

    from crm.availability import deals_at_risk

    rng = np.random.default_rng(3)
    skus = ["A", "B", "C"]  # C has no routing
    product_plan = pd.concat(
        [plan(list(rng.normal(20, 30, 3)), list(rng.uniform(0, 10, 3))).assign(product_sku=s) for s in skus],
        ignore_index=True,
    )
    routing = pd.DataFrame(
        {"product_sku": ["A", "A", "B"], "work_center_code": ["WC1", "WC2", "WC2"], "hours_per_unit": [2.0, 1.0, 0.5]}
    )
    deals = pd.DataFrame(
        {
            "external_id": [f"D{i}" for i in range(60)],
            "product_sku": rng.choice(skus, 60),
            "quantity": rng.integers(1, 400, 60).astype(float),
            "probability_used": 0.9,
            "requested_delivery_date": [MONTHS[i % 3] + dt.timedelta(days=int(i % 28)) for i in range(60)],
        }
    )
    out = deals_at_risk(deals=deals, plan=product_plan, routing=routing, capacity=CAPACITY, as_of=AS_OF)
    expected = []
    for deal in deals.to_dict("records"):
        one = availability(
            product_sku=deal["product_sku"],
            quantity=deal["quantity"],
            date=deal["requested_delivery_date"],
            as_of=AS_OF,
            plan=product_plan[product_plan["product_sku"] == deal["product_sku"]],
            routing=routing[routing["product_sku"] == deal["product_sku"]],
            capacity=CAPACITY,
        )
        if not one.deliverable:
            expected.append(
                (
                    deal["external_id"],
                    one.available_by_date,
                    one.earliest_full_date,
                    one.constrained_by["kind"],
                    one.constrained_by["code"],
                )
            )
    got = list(
        zip(
            out["external_id"],
            out["available_by_date"],
            out["earliest_full_date"],
            out["constraint_kind"],
            out["constraint_code"],
            strict=True,
        )
    )
    assert len(expected) > 5
    assert got == expected
