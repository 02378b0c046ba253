"""Properties of the pay maths that must hold for every input (hypothesis; no database):
a sale split between reps pays, in total, what it pays unsplit, to the cent; no commission
on sales is negative; every amount is whole cents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from compensation.calculations import CreditedLine, Period, Plan, RepPeriod, Tier, compute_period
from territories.ownership import credit_lines

D = Decimal
JAN = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
CENT = D("0.01")

amounts = st.decimals(min_value=D("0.01"), max_value=D("250000"), places=2)
shares = st.decimals(min_value=D("0.01"), max_value=D("99.99"), places=2)
rates = st.decimals(min_value=D("0.01"), max_value=D("25"), places=2)
PROPERTY = settings(max_examples=150, derandomize=True, deadline=None)


def sale(line_id: str, rep: str, revenue: Decimal, share: Decimal) -> CreditedLine:
    return CreditedLine(
        sales_line_id=line_id,
        rep=rep,
        date=dt.date(2026, 1, 15),
        sku="SKU-1",
        family="STD",
        quantity=D(1),
        revenue=revenue,
        cost=D(0),
        share=share,
    )


def paid(plan: Plan, credits: dict[str, list[CreditedLine]]):
    reps = [RepPeriod(rep=rep, plan=plan, credits=tuple(lines)) for rep, lines in credits.items()]
    return compute_period(JAN, reps).statements


@PROPERTY
@given(
    sales=st.lists(st.tuples(amounts, shares), min_size=1, max_size=8),
    rate=rates,
    basis=st.sampled_from(["period", "transaction"]),
)
def test_a_split_sale_pays_what_it_pays_unsplit_to_the_cent(sales, rate, basis):
    plan = Plan(code="FLAT", tiers=(Tier(D(0), None, rate),), basis=basis)
    split = paid(
        plan,
        {
            "alice": [sale(f"SO-{i}", "alice", amount, share) for i, (amount, share) in enumerate(sales)],
            "bob": [sale(f"SO-{i}", "bob", amount, D(100) - share) for i, (amount, share) in enumerate(sales)],
        },
    )
    whole = paid(plan, {"carol": [sale(f"SO-{i}", "carol", amount, D(100)) for i, (amount, _) in enumerate(sales)]})
    split_total = sum(s.total_payable for s in split)
    # each rep's amount is rounded once per line: at most half a cent each way per rounding
    roundings = sum(len(s.lines) for s in split) + len(whole[0].lines)
    assert abs(split_total - whole[0].total_payable) <= max(CENT, (roundings * D("0.005")).quantize(CENT))
    if basis == "period":
        assert abs(split_total - whole[0].total_payable) <= CENT
    for statement in (*split, *whole):
        assert statement.total_payable >= 0
        assert all(line.amount >= 0 and line.amount == line.amount.quantize(CENT) for line in statement.lines)


TIERS = st.lists(
    st.tuples(st.decimals(min_value=D("1"), max_value=D("50000"), places=0), rates), min_size=1, max_size=4
)


@PROPERTY
@given(
    bounds_and_rates=TIERS,
    last_rate=rates,
    sales=st.lists(amounts, min_size=1, max_size=8),
    mode=st.sampled_from(["whole", "marginal"]),
    basis=st.sampled_from(["period", "transaction"]),
)
def test_commission_on_sales_is_never_negative_and_in_whole_cents(bounds_and_rates, last_rate, sales, mode, basis):
    uppers = sorted({upper for upper, _ in bounds_and_rates})
    lowers = [D(0), *uppers]
    tiers = tuple(Tier(lowers[i], uppers[i], bounds_and_rates[i][1]) for i in range(len(uppers)))
    tiers += (Tier(lowers[-1], None, last_rate),)
    plan = Plan(code="TIERS", tiers=tiers, mode=mode, basis=basis)
    [statement] = paid(plan, {"alice": [sale(f"SO-{i}", "alice", amount, D(100)) for i, amount in enumerate(sales)]})
    assert statement.total_payable >= 0
    assert all(line.amount >= 0 and line.amount == line.amount.quantize(CENT) for line in statement.lines)
    # no rate above the table's highest pays more than the highest rate on everything
    top = max(tier.rate for tier in tiers)
    assert statement.total_payable <= (sum(sales) * top / 100).quantize(CENT) + CENT * len(statement.lines)


@PROPERTY
@given(lines=st.lists(st.tuples(amounts, st.lists(shares, min_size=1, max_size=3)), min_size=1, max_size=6))
def test_crediting_splits_every_line_exactly_over_its_primary_reps(lines):
    assignments, sales = [], []
    for i, (amount, cuts) in enumerate(lines):
        # shares of the line's territory: the cuts, and the rest to a last rep (sum = 100 %)
        parts = [c for c in cuts if c < 100]
        rest = D(100) - sum(parts)
        if rest <= 0:
            parts, rest = [D(50)], D(50)
        for j, share in enumerate([*parts, rest]):
            assignments.append((f"rep{i}-{j}", f"T{i}", "primary", share, dt.date(2025, 1, 1), None))
        sales.append((f"L{i}", f"T{i}", dt.date(2026, 1, 15), D(1), amount, "invoiced"))
    credits = credit_lines(
        pd.DataFrame(sales, columns=["line_id", "territory_code", "order_date", "quantity", "amount", "status"]),
        pd.DataFrame(
            assignments, columns=["rep_username", "territory_code", "role", "share", "valid_from", "valid_to"]
        ),
    )
    for line_id, amount in ((f"L{i}", amount) for i, (amount, _) in enumerate(lines)):
        credited = credits.loc[credits["line_id"] == line_id, "amount"]
        assert sum(credited, D(0)) == amount
        assert all(value > 0 for value in credited)
