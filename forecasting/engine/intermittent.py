"""Croston-family forecasts for intermittent and lumpy demand (vectorised over series).

Input: a left-aligned block ``x`` (n, T) of non-negative history — series i occupies columns
``0 .. length[i] - 1`` — and ``length`` (n,).
Output of every fitter: a :class:`~forecasting.engine.smoothing.Fit` with a flat forecast
(n, H) (these methods forecast a demand *rate*), the one-step in-sample error variance and
the smoothing weight chosen per series from a small grid by in-sample MSE.

- Croston: smooths non-zero sizes ``z`` and inter-demand intervals ``p`` at demand periods;
  forecast ``z / p``.
- SBA (Syntetos–Boylan approximation): Croston × (1 − α/2), removing Croston's upward bias.
- TSB (Teunter–Syntetos–Babai): smooths the demand probability every period (so an item that
  stops selling decays towards zero) and the size at demand periods; forecast ``π · z``.
"""

from __future__ import annotations

import numpy as np

from forecasting.engine.smoothing import Fit, flat_variance

ALPHAS = np.array([0.05, 0.1, 0.15, 0.2, 0.3])
BETAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3])


def _pick(sse: np.ndarray, count: np.ndarray) -> np.ndarray:
    return np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)


def croston(x: np.ndarray, length: np.ndarray, horizon: int, *, sba: bool = False) -> Fit:
    n, width = x.shape
    a = ALPHAS[None, :]
    g = len(ALPHAS)
    z = np.full((n, g), np.nan)  # smoothed size, NaN until the first demand
    p = np.full((n, g), np.nan)  # smoothed interval
    q = np.zeros((n, 1))  # periods since the last demand
    sse = np.zeros((n, g))
    count = np.zeros((n, 1))
    bias = (1 - a / 2) if sba else np.ones_like(a)
    for t in range(width):
        xt = x[:, t : t + 1]
        act = (t < length)[:, None]
        pred = bias * z / p
        e = xt - pred
        scored = act & np.isfinite(pred)
        sse += np.where(scored, e * e, 0.0)
        count += scored[:, :1]  # every alpha scores the same periods
        q = np.where(act, q + 1, q)
        demand = act & (xt > 0)
        first = demand & np.isnan(z)
        z = np.where(first, xt, np.where(demand, z + a * (xt - z), z))
        p = np.where(first, q, np.where(demand, p + a * (q - p), p))
        q = np.where(demand, 0, q)
    best = _pick(sse, count)
    r = np.arange(n)
    rate = np.nan_to_num((bias * z / p)[r, best], nan=0.0)
    alpha = ALPHAS[best]
    sigma2 = sse[r, best] / np.maximum(count[:, 0], 1)
    fc = np.repeat(rate[:, None], horizon, axis=1)
    return Fit(fc, sigma2, flat_variance(alpha, horizon), {"alpha": alpha})


def tsb(x: np.ndarray, length: np.ndarray, horizon: int) -> Fit:
    n, width = x.shape
    A, B = np.meshgrid(ALPHAS, BETAS, indexing="ij")
    a, b = A.ravel()[None, :], B.ravel()[None, :]
    g = a.shape[1]
    z = np.full((n, g), np.nan)
    prob = np.zeros((n, g))
    sse = np.zeros((n, g))
    count = np.zeros((n, 1))
    for t in range(width):
        xt = x[:, t : t + 1]
        act = (t < length)[:, None]
        first_obs = np.full((n, 1), t == 0)
        # probability starts at the first observation's occurrence, refined every period
        prob = np.where(first_obs, (xt > 0).astype(float), prob)
        pred = prob * z
        e = xt - pred
        scored = act & ~first_obs & np.isfinite(pred)
        sse += np.where(scored, e * e, 0.0)
        count += scored[:, :1]  # every alpha scores the same periods
        demand = act & (xt > 0)
        first = demand & np.isnan(z)
        z = np.where(first, xt, np.where(demand, z + a * (xt - z), z))
        prob = np.where(act & ~first_obs, prob + b * ((xt > 0) - prob), prob)
    best = _pick(sse, count)
    r = np.arange(n)
    rate = np.nan_to_num((prob * z)[r, best], nan=0.0)
    alpha = A.ravel()[best]
    sigma2 = sse[r, best] / np.maximum(count[:, 0], 1)
    fc = np.repeat(rate[:, None], horizon, axis=1)
    return Fit(fc, sigma2, flat_variance(alpha, horizon), {"alpha": alpha, "beta": B.ravel()[best]})
