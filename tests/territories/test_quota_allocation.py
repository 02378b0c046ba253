"""Top-down allocation, seasonality, ramp and bottom-up roll-up (territories.quota_allocation);
no database."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest

from territories.quota_allocation import (
    allocate_exact,
    allocate_top_down,
    apply_ramp,
    roll_up_quotas,
    seasonality_weights,
    spread_by_season,
)

D = Decimal
CENT = D("0.01")


def test_one_million_over_thirds_sums_exactly():
    assert allocate_exact(1_000_000, [Fraction(1, 3)] * 3, quantum=1) == [333_334, 333_333, 333_333]
    # Same with float or Decimal thirds, and in cents.
    assert allocate_exact(1_000_000, [1 / 3] * 3, quantum=1) == [333_334, 333_333, 333_333]
    assert allocate_exact(D("1000000.00"), [D("0.3333")] * 3, quantum=CENT) == [
        D("333333.34"),
        D("333333.33"),
        D("333333.33"),
    ]


def test_largest_remainder_by_hand():
    # 100 over 1:2:3:4 in units -> exact 10, 20, 30, 40.
    assert allocate_exact(100, [1, 2, 3, 4], quantum=1) == [10, 20, 30, 40]
    # 10 over 1:1:1:3 -> 1.667, 1.667, 1.667, 5: floors 1,1,1,5 (8), two left to the largest
    # remainders (2/3 each, a three-way tie) -> the first two parts.
    assert allocate_exact(10, [1, 1, 1, 3], quantum=1) == [2, 2, 1, 5]
    # 0.05 over 1:1 in cents: 0.03 + 0.02.
    assert allocate_exact(D("0.05"), [1, 1], quantum=CENT) == [D("0.03"), D("0.02")]
    # Money in units of 100: 1000 over 1:1:1 -> 400, 300, 300.
    assert allocate_exact(1000, [1, 1, 1], quantum=100) == [400, 300, 300]


def test_zero_or_missing_weights_fall_back_to_an_even_split():
    assert allocate_exact(10, [0, 0, 0], quantum=1) == [4, 3, 3]
    assert allocate_exact(10, [None, float("nan"), -5], quantum=1) == [4, 3, 3]
    # A negative or missing weight among positive ones simply gets nothing.
    assert allocate_exact(10, [-3, None, 2, 3], quantum=1) == [0, 0, 4, 6]


def test_negative_target_and_errors():
    assert allocate_exact(-10, [1, 1, 1], quantum=1) == [-4, -3, -3]
    assert allocate_exact(0, [], quantum=1) == []
    with pytest.raises(ValueError, match="whole multiple"):
        allocate_exact(D("10.005"), [1, 1], quantum=CENT)
    with pytest.raises(ValueError, match="no parts"):
        allocate_exact(5, [], quantum=1)


def test_allocation_sums_exactly_for_random_inputs():
    rng = random.Random(20250701)
    for _ in range(500):
        parts = rng.randint(1, 40)
        cents = rng.randint(-(10**9), 10**11)
        target = D(cents).scaleb(-2)
        kind = rng.choice(["int", "decimal", "float", "sparse"])
        if kind == "int":
            weights = [rng.randint(0, 10**6) for _ in range(parts)]
        elif kind == "decimal":
            weights = [D(rng.randint(0, 10**8)).scaleb(-4) for _ in range(parts)]
        elif kind == "float":
            weights = [rng.random() for _ in range(parts)]
        else:
            weights = [rng.choice([0, None, rng.randint(1, 9)]) for _ in range(parts)]
        amounts = allocate_exact(target, weights, quantum=CENT)
        assert sum(amounts) == target
        assert all(a == a.quantize(CENT) for a in amounts)
        # Each part is within one quantum of its exact share.
        exact = [Fraction(0) if w is None else Fraction(D(repr(w)) if kind == "float" else w) for w in weights]
        total = sum(exact)
        if total == 0:
            exact, total = [Fraction(1)] * parts, Fraction(parts)
        for amount, weight in zip(amounts, exact):
            assert abs(Fraction(amount) - Fraction(target) * weight / total) < Fraction(1, 100)
        # Units: integers in, integers out.
        units = rng.randint(0, 10**7)
        split = allocate_exact(units, weights, quantum=1)
        assert sum(split) == units and all(isinstance(s, int) for s in split)


def test_top_down_by_history_share():
    parts = pd.DataFrame(
        {
            "owner": ["T2", "T1", "T3"],
            "history": [D("300.00"), D("100.00"), D("0.00")],
            "forecast": [D(1), D(1), D(1)],
        }
    )
    result = allocate_top_down(D("1000.00"), parts, basis="history", quantum=CENT)
    assert result["owner"].tolist() == ["T2", "T1", "T3"]
    assert result["amount"].tolist() == [D("750.00"), D("250.00"), D("0.00")]
    assert result["share_pct"].tolist() == [D("75.00"), D("25.00"), D("0.00")]
    assert set(result["basis_used"]) == {"history"}


def test_top_down_ties_go_to_the_smaller_owner_and_fallback_is_reported():
    parts = pd.DataFrame({"owner": ["c", "a", "b"], "potential": [None, 0, None]})
    result = allocate_top_down(1_000_000, parts, basis="potential", quantum=1)
    # No positive potential -> even split; the extra unit goes to "a" whatever the row order.
    assert dict(zip(result["owner"], result["amount"])) == {
        "a": 333_334,
        "b": 333_333,
        "c": 333_333,
    }
    assert set(result["basis_used"]) == {"even"}
    even = allocate_top_down(10, parts, basis="even", quantum=1)
    assert even["amount"].tolist() == [3, 4, 3]
    with pytest.raises(ValueError, match="basis must be one of"):
        allocate_top_down(10, parts, basis="gut feeling", quantum=1)


def month_history(amounts: list[int], start: dt.date) -> pd.DataFrame:
    periods = [
        dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(len(amounts))
    ]
    return pd.DataFrame({"period_start": periods, "amount": [D(a) for a in amounts]})


def test_seasonality_weights_from_one_year():
    # Sales of 1..12 % of the year in months 1..12 (sum 78 -> weights m/78) -- use a
    # history that divides evenly instead: 5 % every month but December at 45 %.
    history = month_history([5] * 11 + [45], dt.date(2024, 1, 1))
    weights = seasonality_weights(history, first_month=dt.date(2024, 1, 1), last_month=dt.date(2024, 12, 1))
    assert weights.index.tolist() == list(range(1, 13))
    assert sum(weights) == 1
    assert weights[1] == D("0.05") and weights[12] == D("0.45")


def test_seasonality_uses_the_mean_per_month_and_counts_empty_months_as_zero():
    # 18 months: Jan-Jun seen twice (10 then 30 -> mean 20), Jul-Dec once (20), except
    # March 2025 missing (counts as 0 -> March mean (10 + 0) / 2 = 5).
    amounts = [10] * 6 + [20] * 6 + [30] * 6
    history = month_history(amounts, dt.date(2024, 1, 1))
    history = history.loc[history["period_start"] != dt.date(2025, 3, 1)]
    weights = seasonality_weights(history, first_month=dt.date(2024, 1, 1), last_month=dt.date(2025, 6, 1))
    # Means: 11 months at 20 and March at 5 -> total 225.
    assert weights[3] == D("0.022222222")  # 5 / 225 to 1e-9
    assert sum(weights) == 1
    assert len({weights[m] for m in range(1, 13) if m != 3}) <= 2  # 20/225 up to rounding


def test_seasonality_falls_back_to_flat_and_needs_a_year():
    flat = seasonality_weights(
        month_history([0] * 12, dt.date(2024, 1, 1)),
        first_month=dt.date(2024, 1, 1),
        last_month=dt.date(2024, 12, 1),
    )
    assert sum(flat) == 1 and max(flat) - min(flat) <= D("0.000000001")
    with pytest.raises(ValueError, match="at least 12 months"):
        seasonality_weights(
            month_history([1] * 6, dt.date(2024, 1, 1)),
            first_month=dt.date(2024, 1, 1),
            last_month=dt.date(2024, 6, 1),
        )


def test_annual_quota_spread_by_season_is_exact():
    weights = seasonality_weights(
        month_history([5] * 11 + [45], dt.date(2024, 1, 1)),
        first_month=dt.date(2024, 1, 1),
        last_month=dt.date(2024, 12, 1),
    )
    # Fiscal year April 2025 - March 2026.
    periods = [dt.date(2025 + (3 + i) // 12, (3 + i) % 12 + 1, 1) for i in range(12)]
    spread = spread_by_season(D("1000000.00"), periods, weights, quantum=CENT)
    assert spread["period_start"].tolist() == periods
    by_month = dict(zip([p.month for p in periods], spread["amount"]))
    assert by_month[12] == D("450000.00") and by_month[4] == D("50000.00")
    assert sum(spread["amount"]) == D("1000000.00")
    # Odd target in units: still exact.
    odd = spread_by_season(999_999, periods, weights, quantum=1)
    assert sum(odd["amount"]) == 999_999


def test_new_hire_ramp_25_50_75_100():
    # A rep hired on 10 March with 10,000.00 a month, and a veteran.
    months = [dt.date(2025, m, 1) for m in range(2, 9)]
    quotas = pd.DataFrame(
        {
            "owner": ["newbie"] * len(months) + ["veteran"],
            "period_start": [*months, dt.date(2025, 3, 1)],
            "amount": [D("10000.00")] * (len(months) + 1),
        }
    )
    hires = pd.DataFrame({"owner": ["newbie", "veteran"], "hire_date": [dt.date(2025, 3, 10), None]})
    ramped = apply_ramp(quotas, hires, ramp_pct=(25, 50, 75, 100), quantum=CENT)
    assert ramped["ramp_pct"].tolist() == [0, 25, 50, 75, 100, 100, 100, 100]
    assert ramped["amount"].tolist() == [
        D("0.00"),  # February: before the hire
        D("2500.00"),  # March: month 1
        D("5000.00"),
        D("7500.00"),
        D("10000.00"),  # June: month 4
        D("10000.00"),
        D("10000.00"),
        D("10000.00"),  # veteran: no hire date
    ]
    assert ramped["full_amount"].tolist() == [D("10000.00")] * 8


def test_ramp_rounds_half_up_and_keeps_units_integral():
    quotas = pd.DataFrame(
        {
            "owner": ["n", "n"],
            "period_start": [dt.date(2025, 1, 1), dt.date(2025, 2, 1)],
            "amount": [D(7), D(7)],
        }
    )
    hires = pd.DataFrame({"owner": ["n"], "hire_date": [dt.date(2025, 1, 31)]})
    ramped = apply_ramp(quotas, hires, ramp_pct=(25, 50), quantum=1)
    assert ramped["amount"].tolist() == [2, 4]  # 1.75 -> 2, 3.5 -> 4


def test_bottom_up_roll_up_and_gap_to_target():
    # WORLD -> (EU -> DE, FR), (US -> US-E); quotas on leaves plus one booked on EU itself.
    tree = pd.DataFrame(
        {
            "code": ["WORLD", "EU", "US", "DE", "FR", "US-E"],
            "parent_code": [None, "WORLD", "WORLD", "EU", "EU", "US"],
        }
    )
    quotas = pd.DataFrame(
        {
            "territory_code": ["DE", "FR", "US-E", "EU", "DE"],
            "amount": [D("100.00"), D("50.00"), D("300.00"), D("5.00"), D("1.00")],
        }
    )
    targets = pd.DataFrame({"territory_code": ["WORLD", "EU"], "target": [D("500.00"), D("150.00")]})
    result = roll_up_quotas(tree, quotas, targets=targets)
    rows = {r["territory_code"]: r for r in result.to_dict("records")}
    assert result["territory_code"].tolist() == ["WORLD", "EU", "US", "DE", "FR", "US-E"]
    assert rows["DE"]["rolled_up"] == D("101.00") and rows["DE"]["depth"] == 2
    assert rows["EU"]["own_amount"] == D("5.00")
    assert rows["EU"]["rolled_up"] == D("156.00")
    assert rows["EU"]["gap"] == D("-6.00")  # bottom-up above target
    assert rows["WORLD"]["rolled_up"] == D("456.00")
    assert rows["WORLD"]["gap"] == D("44.00")  # short of the top-down target
    assert rows["US"]["target"] is None and rows["US"]["gap"] is None
    assert rows["US"]["parent_code"] == "WORLD" and rows["WORLD"]["parent_code"] is None


def test_roll_up_per_period_and_unknown_territory():
    tree = pd.DataFrame({"code": ["R", "A", "B"], "parent_code": [None, "R", "R"]})
    jan, feb = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
    quotas = pd.DataFrame(
        {
            "territory_code": ["A", "B", "A"],
            "period_start": [jan, jan, feb],
            "amount": [D(10), D(20), D(7)],
        }
    )
    targets = pd.DataFrame({"territory_code": ["R"], "period_start": [feb], "target": [D(10)]})
    result = roll_up_quotas(tree, quotas, targets=targets, by=["period_start"])
    root = result.loc[result["territory_code"] == "R"]
    assert root[["period_start", "rolled_up", "gap"]].values.tolist() == [
        [jan, D(30), None],
        [feb, D(7), D(3)],
    ]
    with pytest.raises(ValueError, match="not in the tree: X"):
        roll_up_quotas(tree, pd.DataFrame({"territory_code": ["X"], "amount": [D(1)]}))
