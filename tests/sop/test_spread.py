"""Spreading an aggregate demand-plan edit to product × territory rows (worked by hand)."""

import numpy as np
import pytest

from sop.spread import largest_remainder, spread_total, spread_weights


def test_family_edit_spreads_in_proportion_to_current_values():
    # Given four rows holding 100, 200, 0 and 300 units (600 in all),
    # when the family is set to 1,200, each row doubles: 200, 400, 0, 600.
    shares = spread_total(1200, current=[100, 200, 0, 300], fallback=[5, 5, 5, 5])
    assert shares.tolist() == [200, 400, 0, 600]
    assert shares.sum() == 1200


def test_rounding_remainders_go_to_largest_remainders_then_earlier_rows():
    # 100 over three equal rows: 33⅓ each → floors 33, 33, 33 and one unit left, which goes to
    # the first row (equal remainders and weights: the earlier row wins).
    assert largest_remainder(100, [1, 1, 1]).tolist() == [34, 33, 33]
    # 10 over 0.6/0.3/0.1 weights of 1.0: 6, 3, 1 exactly.
    assert largest_remainder(10, [0.6, 0.3, 0.1]).tolist() == [6, 3, 1]
    # 7 over weights 5, 3, 2 (10): exact 3.5, 2.1, 1.4 → floors 3, 2, 1 (6); the one unit left
    # goes to the largest remainder, 0.5 of the first row.
    assert largest_remainder(7, [5, 3, 2]).tolist() == [4, 2, 1]


def test_all_zero_rows_take_the_statistical_forecast_as_weights():
    # Current consensus is zero everywhere; the statistical forecast 2, 1, 1 weighs the spread:
    # exact 5, 2.5, 2.5 → floors 5, 2, 2 and one unit left: equal remainders and weights, so
    # the earlier row gets it.
    assert spread_total(10, current=[0, 0, 0], fallback=[2, 1, 1]).tolist() == [5, 3, 2]


def test_all_zero_rows_and_forecast_spread_evenly():
    assert spread_total(7, current=[0, 0, 0], fallback=[0, 0, 0]).tolist() == [3, 2, 2]


def test_setting_zero_clears_every_row():
    assert spread_total(0, current=[4, 5], fallback=[1, 1]).tolist() == [0, 0]


def test_negative_values_weigh_nothing():
    assert spread_weights([-3, 2], [1, 1]).tolist() == [0, 2]


def test_a_negative_total_is_refused():
    with pytest.raises(ValueError, match="not be negative"):
        largest_remainder(-1, [1, 2])


def test_no_rows_cannot_take_units():
    with pytest.raises(ValueError, match="no rows"):
        largest_remainder(5, [])
    assert largest_remainder(0, []).tolist() == []


def test_many_random_spreads_sum_exactly_and_stay_near_proportional():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        weights = rng.gamma(0.5, 10, n) * (rng.random(n) > 0.3)
        total = int(rng.integers(0, 100_000))
        shares = spread_total(total, current=weights, fallback=np.ones(n))
        assert shares.sum() == total
        assert (shares >= 0).all()
        exact = total * spread_weights(weights, np.ones(n)) / spread_weights(weights, np.ones(n)).sum()
        assert np.abs(shares - exact).max() < 1.0


def test_grouped_spreads_equal_one_spread_per_group():
    from sop.spread import spread_groups

    rng = np.random.default_rng(3)
    for _ in range(200):
        n_groups = int(rng.integers(1, 6))
        groups = np.sort(rng.integers(0, n_groups, size=int(rng.integers(n_groups, 30))))
        groups = np.unique(groups, return_inverse=True)[1]
        n_groups = int(groups.max()) + 1
        totals = rng.integers(0, 2000, size=n_groups)
        current = np.where(rng.uniform(size=groups.size) < 0.3, 0, rng.integers(0, 50, size=groups.size))
        fallback = np.where(rng.uniform(size=groups.size) < 0.3, 0, rng.uniform(0, 9, size=groups.size))
        shares = spread_groups(groups, totals, current=current, fallback=fallback)
        for g in range(n_groups):
            rows = groups == g
            expected = spread_total(int(totals[g]), current=current[rows], fallback=fallback[rows])
            assert shares[rows].tolist() == expected.tolist()
            assert shares[rows].sum() == totals[g]


def test_grouped_spread_with_all_zero_groups_goes_even():
    from sop.spread import spread_groups

    shares = spread_groups([0, 0, 0, 1, 1], [10, 7], current=[0, 0, 0, 0, 0], fallback=[0, 0, 0, 3, 1])
    # group 0: nothing to weigh by → even 10/3 = 3.33 each, the first row takes the spare unit;
    # group 1: the fallback 3:1 → 5.25 / 1.75 → 5 and 1, one unit left to the larger remainder (.75).
    assert shares.tolist() == [4, 3, 3, 5, 2]
