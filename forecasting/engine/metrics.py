"""Forecast error measures, per series, over a backtest window.

Inputs: ``actual`` and ``forecast`` (n, h) arrays (NaN cells are ignored) and, for MASE, the
in-sample scale (n,). Outputs: (n,) arrays, NaN where a series has nothing to score.

    sMAPE  200/h · Σ |y − ŷ| / (|y| + |ŷ|), 0/0 counted as 0 (the M3 definition), in percent
    MASE   mean |y − ŷ| / mean in-sample |y_t − y_{t−m}| (seasonal naive; lag 1 when short)
    WAPE   Σ |y − ŷ| / Σ |y|, in percent
    bias   Σ (ŷ − y) / Σ |y|, in percent; positive = over-forecast
    RMSSE  sqrt(mean (y − ŷ)² / mean in-sample (y_t − y_{t−1})²), the M5 measure
"""

from __future__ import annotations

import numpy as np


def smape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    ok = np.isfinite(actual) & np.isfinite(forecast)
    denom = np.abs(actual) + np.abs(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        term = np.where(denom > 0, 200.0 * np.abs(actual - forecast) / denom, 0.0)
        return np.where(ok, term, 0.0).sum(axis=1) / ok.sum(axis=1)


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    ok = np.isfinite(actual) & np.isfinite(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.where(ok, np.abs(actual - forecast), 0.0).sum(axis=1) / ok.sum(axis=1)
        return np.where(scale > 0, mae / scale, np.nan)


def wape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    ok = np.isfinite(actual) & np.isfinite(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.where(ok, np.abs(actual - forecast), 0.0).sum(axis=1)
        den = np.where(ok, np.abs(actual), 0.0).sum(axis=1)
        return np.where(den > 0, 100.0 * num / den, np.nan)


def bias(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    ok = np.isfinite(actual) & np.isfinite(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.where(ok, forecast - actual, 0.0).sum(axis=1)
        den = np.where(ok, np.abs(actual), 0.0).sum(axis=1)
        return np.where(den > 0, 100.0 * num / den, np.nan)


def rmsse(actual: np.ndarray, forecast: np.ndarray, sq_scale: np.ndarray) -> np.ndarray:
    """Root mean squared scaled error (M5): sqrt(mean (y − ŷ)² / mean in-sample (y_t − y_{t−1})²).

    Squared errors reward forecasting the mean demand rate, so an intermittent series is not
    judged best served by forecasting zero (which absolute errors favour)."""
    ok = np.isfinite(actual) & np.isfinite(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = np.where(ok, (actual - forecast) ** 2, 0.0).sum(axis=1) / ok.sum(axis=1)
        return np.where(sq_scale > 0, np.sqrt(mse / sq_scale), np.nan)


def step_mse(values: np.ndarray) -> np.ndarray:
    """Mean squared one-step change of each (right-aligned, NaN-padded) history."""
    d = np.diff(values, axis=1)
    ok = np.isfinite(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, d * d, 0.0).sum(axis=1) / ok.sum(axis=1)


def naive_scale(values: np.ndarray, m: int) -> np.ndarray:
    """Mean absolute in-sample seasonal-naive error (lag m, or lag 1 if the series is short)."""
    n, width = values.shape
    length = np.isfinite(values).sum(axis=1)

    def lag_mae(lag: int) -> np.ndarray:
        if lag >= width:
            return np.full(n, np.nan)
        d = np.abs(values[:, lag:] - values[:, :-lag])
        ok = np.isfinite(d)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ok, d, 0.0).sum(axis=1) / ok.sum(axis=1)

    seasonal = lag_mae(m) if m > 1 else np.full(n, np.nan)
    return np.where((length > m) & np.isfinite(seasonal) & (seasonal > 0), seasonal, lag_mae(1))
