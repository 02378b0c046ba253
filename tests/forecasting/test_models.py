"""The vectorised fitters against straightforward per-series reference computations."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from forecasting.engine import intermittent, smoothing, theta
from forecasting.engine.ensemble import fit_member
from forecasting.engine.seasonality import seasonal_test

RNG = np.random.default_rng(11)


def damped_sse(y, alpha, beta, phi, l0, b0):
    level, trend, sse = l0, b0, 0.0
    for v in y:
        pred = level + phi * trend
        e = v - pred
        sse += e * e
        level, trend = pred + alpha * e, phi * trend + beta * e
    return sse, level, trend


def test_least_squares_initial_state_matches_a_numerical_optimum():
    # one grid point, so the only thing fitted is the initial (level, trend)
    y = 50 + 0.8 * np.arange(40) + RNG.normal(0, 3, 40)
    a, share, p = 0.3, 0.5, 0.9
    fit = smoothing.damped(
        y[None, :],
        np.array([40]),
        5,
        alphas=np.array([a]),
        beta_shares=np.array([share]),
        phis=np.array([p]),
    )
    best = minimize(lambda s: damped_sse(y, a, a * share, p, *s)[0], x0=[y[0], 0.0], tol=1e-10)
    _, level, trend = damped_sse(y, a, a * share, p, *best.x)
    expected = level + np.cumsum(p ** np.arange(1, 6)) * trend
    np.testing.assert_allclose(fit.forecast[0], expected, rtol=1e-4)


def test_ses_picks_the_best_alpha_of_its_grid():
    y = 20 + np.cumsum(RNG.normal(0, 1, 60))  # a random walk wants alpha near 1
    fit = smoothing.ses(y[None, :], np.array([60]), 3)
    assert fit.params["alpha"][0] > 0.8
    np.testing.assert_allclose(fit.forecast[0], y[-1], rtol=0.05)


def test_series_of_different_lengths_fit_as_if_alone():
    a, b = RNG.normal(100, 5, 30), 200 + 2 * np.arange(50) + RNG.normal(0, 4, 50)
    block = np.zeros((2, 50))
    block[0, :30], block[1] = a, b
    together = theta.theta(block, np.array([30, 50]), 6)
    alone = theta.theta(a[None, :], np.array([30]), 6)
    np.testing.assert_allclose(together.forecast[0], alone.forecast[0], rtol=1e-10)


def test_theta_follows_a_noisy_trend():
    y = 10 + 2.0 * np.arange(48) + RNG.normal(0, 2, 48)
    fc = theta.theta(y[None, :], np.array([48]), 6).forecast[0]
    slope = np.diff(fc).mean()
    assert 1.0 < slope < 3.0  # the theta line keeps (part of) the trend
    np.testing.assert_allclose(fc[0], 10 + 2.0 * 48, rtol=0.05)


def test_temporal_aggregation_keeps_a_trend_smooth():
    y = 100 + 3.0 * np.arange(36)
    fc = fit_member("theta@3", y[None, :], np.array([0]), 9).forecast[0]
    # no staircase: every step moves on
    assert (np.diff(fc) > 0).all()
    np.testing.assert_allclose(fc, 100 + 3.0 * np.arange(36, 45), rtol=0.05)


def test_croston_rate_is_size_over_interval():
    y = np.tile([0.0, 0.0, 6.0], 12)  # 6 every third period: rate 2
    fit = intermittent.croston(y[None, :], np.array([36]), 3)
    np.testing.assert_allclose(fit.forecast[0], 2.0, rtol=1e-6)
    sba = intermittent.croston(y[None, :], np.array([36]), 3, sba=True)
    assert sba.forecast[0, 0] < 2.0
    tsb = intermittent.tsb(y[None, :], np.array([36]), 3)
    # TSB's demand probability was just bumped by the final demand: a little above 1/3
    np.testing.assert_allclose(tsb.forecast[0], 2.0, rtol=0.15)


def test_seasonality_test_three_and_five_seasons():
    season = np.array([1, 1.1, 1.3, 1.2, 1.0, 0.8, 0.7, 0.8, 1.0, 1.1, 1.0, 0.9])
    noise = RNG.normal(1, 0.03, 60)
    weekly = 100 + 10 * np.sin(2 * np.pi * np.arange(60) / 7)  # a cycle, but not of 12
    values = np.stack([np.tile(season, 5) * noise * 100, weekly])
    assert list(seasonal_test(values, 12)) == [True, False]
    short = np.full((2, 60), np.nan)
    short[:, 24:] = values[:, :36]  # three seasons: the F-test branch
    assert list(seasonal_test(short, 12)) == [True, False]
