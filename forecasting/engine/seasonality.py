"""Seasonality test, classical decomposition and family seasonal profiles.

Input: ``values`` (n, T) right-aligned history (NaN before start) and ``phase`` (n, T), the
calendar phase (period % m) of every cell, so indices of different series line up by calendar.
Outputs:
    :func:`seasonal_test`   (n,) bool: seasonality is significant at 90 %: for four seasons
                            of history or more, the lag-m autocorrelation exceeds its Bartlett
                            bound (the Theta method's test); with two or three seasons that
                            bound is so wide that even a clean pattern fails it, so those use
                            the stable-seasonality F-test of X-11 (detrended ratios grouped by
                            calendar phase); never for less than two seasons;
    :func:`seasonal_indices` (n, m) multiplicative indices by calendar phase (mean 1), from a
                            centred 2×m moving average (classical decomposition);
    :class:`Season`         the adjustment applied to each series (multiplicative factor and
                            additive offset per cell and per future step); series without
                            seasonality get factor 1 and offset 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import erf, sqrt

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import fdtrc

Z_90 = 1.6448536269514722  # one-sided 95 % = two-sided 90 % normal quantile
MIN_INDEX = 0.01  # below this a multiplicative index would blow the adjusted series up: additive


@dataclass(frozen=True)
class Season:
    """Per-series seasonal adjustment: adjusted = (y - add_in) / mult_in."""

    mult_in: np.ndarray  # (n, T)
    add_in: np.ndarray  # (n, T)
    mult_out: np.ndarray  # (n, H)
    add_out: np.ndarray  # (n, H)
    seasonal: np.ndarray  # (n,) bool, whether any adjustment is applied

    def adjust(self, values: np.ndarray) -> np.ndarray:
        return (values - self.add_in) / self.mult_in

    def restore(self, forecast: np.ndarray) -> np.ndarray:
        return forecast * self.mult_out + self.add_out

    def subset(self, rows: np.ndarray) -> Season:
        return Season(
            self.mult_in[rows],
            self.add_in[rows],
            self.mult_out[rows],
            self.add_out[rows],
            self.seasonal[rows],
        )


def seasonal_test(values: np.ndarray, m: int, *, z: float = Z_90, phase: np.ndarray | None = None) -> np.ndarray:
    """Per series: is the season significant? (see the module docstring)."""
    n, width = values.shape
    if m < 2 or width < 2 * m:
        return np.zeros(n, dtype=bool)
    active = np.isfinite(values)
    length = active.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(np.where(active, values, np.nan), axis=1)
        x = np.where(active, values - mean[:, None], 0.0)
        denom = (x * x).sum(axis=1)
        r = np.stack([(x[:, k:] * x[:, : width - k]).sum(axis=1) for k in range(1, m + 1)], 1)
        r = r / denom[:, None]
        bound = z * np.sqrt((1 + 2 * (r[:, :-1] ** 2).sum(axis=1)) / length)
        acf_ok = np.abs(r[:, -1]) > bound
    short = (length >= 2 * m) & (length < 4 * m)
    if short.any():
        ph = np.broadcast_to(np.arange(width) % m, values.shape) if phase is None else phase
        level = 1.0 - 2.0 * (1.0 - _normal_cdf(z))  # z = 1.645 → 90 %
        acf_ok[short] = _stable_seasonality(values[short], ph[short], m, level)
    return acf_ok & (length >= 2 * m) & (denom > 0)


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + erf(z / sqrt(2.0)))


def _stable_seasonality(values: np.ndarray, phase: np.ndarray, m: int, level: float) -> np.ndarray:
    """One-way ANOVA F-test of detrended ratios (y / centred MA) by calendar phase."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = values / _centred_ma(values, m)
        ok = np.isfinite(ratio)
        filled = np.where(ok, ratio, 0.0)
        groups = np.stack([ok & (phase == p) for p in range(m)], 0)  # (m, n, T)
        cnt = groups.sum(axis=2).T.astype(float)  # (n, m)
        sums = np.stack([(filled * g).sum(axis=1) for g in groups], 1)
        means = sums / cnt
        total = ok.sum(axis=1)
        grand = filled.sum(axis=1) / total
        k = (cnt > 0).sum(axis=1)
        between = np.nansum(cnt * (means - grand[:, None]) ** 2, axis=1) / (k - 1)
        dev = filled - np.take_along_axis(np.nan_to_num(means), phase, axis=1)
        within = np.where(ok, dev**2, 0.0).sum(axis=1) / (total - k)
        f = between / within
        p = fdtrc(k - 1, total - k, f)
    return np.isfinite(p) & (p < 1.0 - level)


def _centred_ma(values: np.ndarray, m: int) -> np.ndarray:
    n, width = values.shape
    out = np.full_like(values, np.nan)
    if m % 2 == 0:
        weights = np.r_[0.5, np.ones(m - 1), 0.5] / m
        window = m + 1
    else:
        weights = np.ones(m) / m
        window = m
    if width < window:
        return out
    half = window // 2
    # NaN padding propagates, so the average exists only where the window is all history
    out[:, half : half + width - window + 1] = sliding_window_view(values, window, axis=1) @ weights
    return out


def _phase_means(ratio: np.ndarray, phase: np.ndarray, m: int) -> np.ndarray:
    ok = np.isfinite(ratio)
    filled = np.where(ok, ratio, 0.0)
    sums = np.stack([(filled * (phase == p)).sum(axis=1) for p in range(m)], 1)
    counts = np.stack([(ok & (phase == p)).sum(axis=1) for p in range(m)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def seasonal_indices(values: np.ndarray, phase: np.ndarray, m: int) -> np.ndarray:
    """Multiplicative indices (n, m) by calendar phase; NaN where not estimable."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = values / _centred_ma(values, m)
        idx = _phase_means(ratio, phase, m)
        return idx / idx.mean(axis=1, keepdims=True)


def additive_indices(values: np.ndarray, phase: np.ndarray, m: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        idx = _phase_means(values - _centred_ma(values, m), phase, m)
        return idx - idx.mean(axis=1, keepdims=True)


def future_phase(end_period: np.ndarray, horizon: int, m: int) -> np.ndarray:
    return (end_period[:, None] + np.arange(1, horizon + 1)[None, :]) % m


def build_season(
    values: np.ndarray,
    phase: np.ndarray,
    end_period: np.ndarray,
    m: int,
    horizon: int,
    *,
    use: np.ndarray,
    profiles: np.ndarray | None = None,
) -> Season:
    """Decompose the rows flagged in ``use``; rows with a given profile (n, m) use it instead.

    Multiplicative when the history is non-negative and no index is tiny (dividing by a
    near-zero index explodes the adjusted series), otherwise additive.
    """
    n, width = values.shape
    mult = np.ones((n, m))
    add = np.zeros((n, m))
    seasonal = np.zeros(n, dtype=bool)
    if m >= 2 and use.any():
        rows = np.flatnonzero(use)
        v, ph = values[rows], phase[rows]
        idx = seasonal_indices(v, ph, m)
        nonneg = np.nanmin(np.where(np.isfinite(v), v, np.inf), axis=1) >= 0
        mult_ok = nonneg & np.isfinite(idx).all(axis=1) & (np.nanmin(idx, axis=1) >= MIN_INDEX)
        aidx = additive_indices(v, ph, m)
        add_ok = ~mult_ok & np.isfinite(aidx).all(axis=1)
        mult[rows[mult_ok]] = idx[mult_ok]
        add[rows[add_ok]] = aidx[add_ok]
        seasonal[rows[mult_ok | add_ok]] = True
    if profiles is not None:
        given = np.isfinite(profiles).all(axis=1)
        mult[given] = profiles[given]
        seasonal |= given
    fut = future_phase(end_period, horizon, m) if m >= 2 else np.zeros((n, horizon), dtype=int)
    ph = phase if m >= 2 else np.zeros_like(phase)
    take = np.take_along_axis
    return Season(
        mult_in=take(mult, ph, axis=1),
        add_in=take(add, ph, axis=1),
        mult_out=take(mult, fut, axis=1),
        add_out=take(add, fut, axis=1),
        seasonal=seasonal,
    )


def group_profiles(indices: np.ndarray, groups: np.ndarray, donors: np.ndarray) -> dict[object, np.ndarray]:
    """Mean multiplicative profile per group over the donor series (NaN-free rows only)."""
    out: dict[object, np.ndarray] = {}
    ok = donors & np.isfinite(indices).all(axis=1)
    for g in {g for g in groups[ok] if g is not None}:
        rows = ok & (groups == g)
        prof = indices[rows].mean(axis=0)
        out[g] = prof / prof.mean()
    return out
