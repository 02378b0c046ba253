"""Benchmark and fallback forecasts: naive, seasonal naive, Naïve2 and the history mean.

Inputs: right-aligned panel ``values`` (n, T) with NaN before each start (Naïve2 takes the
seasonally adjusted panel). Outputs: point (n, H) and variance (n, H) on the input's scale.
"""

from __future__ import annotations

import numpy as np


def _step_mse(values: np.ndarray, lag: int) -> np.ndarray:
    n, width = values.shape
    if lag >= width:
        return np.full(n, np.nan)
    d = values[:, lag:] - values[:, :-lag]
    ok = np.isfinite(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, d * d, 0.0).sum(axis=1) / ok.sum(axis=1)


def naive(values: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Last value carried forward; random-walk variance h · σ²."""
    point = np.repeat(values[:, -1:], horizon, axis=1)
    var = _step_mse(values, 1)[:, None] * np.arange(1, horizon + 1)[None, :]
    return point, var


def seasonal_naive(values: np.ndarray, horizon: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Last season repeated (plain naive where the history is shorter than one season)."""
    n, width = values.shape
    if m < 2 or width < m:
        return naive(values, horizon)
    steps = np.arange(horizon)
    point = values[:, width - m + steps % m]
    short = ~np.isfinite(point).all(axis=1)
    var = _step_mse(values, m)[:, None] * (steps // m + 1)[None, :]
    if short.any():
        p, v = naive(values[short], horizon)
        point[short], var[short] = p, v
    return point, var


def history_mean(values: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(values, axis=1)
        var = np.nanvar(values, axis=1)
    return np.repeat(mean[:, None], horizon, axis=1), np.repeat(var[:, None], horizon, axis=1)
