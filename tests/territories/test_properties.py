"""Properties of quota allocation that must hold for every input (hypothesis; no database):
parts sum to the target exactly, each is whole quanta, none is negative, and none is more
than one quantum away from its exact proportional share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from territories.quota_allocation import allocate_exact, seasonality_weights, spread_by_season

D = Decimal
PROPERTY = settings(max_examples=200, derandomize=True, deadline=None)
weights = st.lists(
    st.one_of(st.decimals(min_value=D("-100"), max_value=D("1e7"), places=3), st.integers(0, 10**6), st.none()),
    min_size=1,
    max_size=30,
)


@PROPERTY
@given(cents=st.integers(0, 10**12), weights=weights)
def test_money_allocations_sum_exactly_to_the_target(cents, weights):
    target = D(cents) / 100
    parts = allocate_exact(target, weights, quantum=D("0.01"))
    assert sum(parts, D(0)) == target
    assert all(part >= 0 and part == part.quantize(D("0.01")) for part in parts)
    clipped = [Fraction(0) if w is None else max(Fraction(w), Fraction(0)) for w in weights]
    if not any(clipped):
        clipped = [Fraction(1)] * len(weights)
    for part, weight in zip(parts, clipped, strict=True):
        exact = Fraction(target) * weight / sum(clipped)
        assert abs(Fraction(part) - exact) < Fraction(1, 100)


@PROPERTY
@given(units=st.integers(-(10**9), 10**9), weights=weights)
def test_unit_allocations_are_whole_and_sum_exactly(units, weights):
    parts = allocate_exact(units, weights, quantum=1)
    assert sum(parts) == units and all(isinstance(p, int) for p in parts)
    assert all((p >= 0) if units >= 0 else (p <= 0) for p in parts)


@PROPERTY
@given(
    history=st.lists(st.decimals(min_value=D("-500"), max_value=D("1e6"), places=2), min_size=12, max_size=24),
    annual_cents=st.integers(0, 10**11),
    months=st.integers(1, 12),
)
def test_a_seasonal_spread_sums_to_the_annual_quota(history, annual_cents, months):
    first = dt.date(2024, 1, 1)
    starts = [dt.date(2024 + (i // 12), i % 12 + 1, 1) for i in range(len(history))]
    weights = seasonality_weights(
        pd.DataFrame({"period_start": starts, "amount": history}), first_month=first, last_month=starts[-1]
    )
    assert sum(weights, D(0)) == 1
    annual = D(annual_cents) / 100
    spread = spread_by_season(annual, [dt.date(2026, m, 1) for m in range(1, months + 1)], weights, quantum=D("0.01"))
    assert sum(spread["amount"], D(0)) == annual
    assert all(amount >= 0 for amount in spread["amount"])
