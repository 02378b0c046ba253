"""Theta method in its state-space forms (Fiorucci et al. 2016), many series at once.

Input: a left-aligned block ``x`` (n, T) and ``length`` (n,), usually seasonally adjusted.
Output: :class:`~forecasting.engine.smoothing.Fit` with forecast (n, H).

Models: the *dynamic optimised Theta* (DOTM: the theta line's intercept and slope are
re-estimated by least squares at every period, the theta coefficient and alpha optimised) and
the standard Theta (STM: theta = 2, intercept and slope from the whole sample: the M3 winner).

The one-step prediction is
    mu_i = level_{i-1} + (1 − 1/θ) · (A_{i-1} (1−α)^i + B_{i-1} (1 − (1−α)^{i+1}) / α)
where ``level`` is simple exponential smoothing of the data. The regression terms A, B depend
on the data only, so they are computed once per series; alpha and theta come from a grid run
for all series together, and the initial level — the one parameter the errors depend on
linearly — is solved by least squares for every grid point (no optimiser, see smoothing.py).
Errors of the first three periods are left out of the fit as in the reference implementation
(fewer for series of three or four points, which keep two errors to fit).
"""

from __future__ import annotations

import numpy as np

from forecasting.engine.smoothing import RIDGE, Fit, flat_variance

THETA_ALPHAS = np.linspace(0.05, 0.99, 20)
THETA_THETAS = np.array([1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0])
SKIP = 3  # first periods not scored


def _regression_path(x: np.ndarray, length: np.ndarray, dynamic: bool):
    """Running mean, intercept A and slope B of the data on time 1..i+1, per period."""
    n, width = x.shape
    meany = np.empty((n, width))
    an = np.empty((n, width))
    bn = np.empty((n, width))
    if dynamic:
        meany[:, 0] = x[:, 0]
        an[:, 0] = x[:, 0]
        bn[:, 0] = 0.0
        for i in range(1, width):
            prev_mean = meany[:, i - 1]
            meany[:, i] = (i * prev_mean + x[:, i]) / (i + 1)
            bn[:, i] = ((i - 1) * bn[:, i - 1] + 6 * (x[:, i] - prev_mean) / (i + 1)) / (i + 2)
            an[:, i] = meany[:, i] - bn[:, i] * (i + 2) / 2
    else:
        t = np.arange(1, width + 1)[None, :]
        inside = t <= length[:, None]
        mt = (length + 1) / 2
        mx = np.where(inside, x, 0).sum(1) / length
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(inside, (t - mt[:, None]) * (x - mx[:, None]), 0).sum(1) / np.where(
                inside, (t - mt[:, None]) ** 2, 0
            ).sum(1)
        slope = np.nan_to_num(slope)
        an[:] = (mx - slope * mt)[:, None]
        bn[:] = slope[:, None]
        meany[:] = np.cumsum(x, 1) / np.arange(1, width + 1)
    return meany, an, bn


def theta(
    x: np.ndarray,
    length: np.ndarray,
    horizon: int,
    *,
    dynamic: bool = True,
    alphas: np.ndarray = THETA_ALPHAS,
    thetas: np.ndarray = THETA_THETAS,
) -> Fit:
    n, width = x.shape
    A, TH = (v.ravel() for v in np.meshgrid(alphas, thetas, indexing="ij"))
    a = A[None, :]
    w = (1 - 1 / TH)[None, :]
    g = len(A)
    meany, an, bn = _regression_path(x, length, dynamic)
    level = a * x[:, :1]  # data part of level_0 (initial level 0)
    end_level = np.zeros((n, g))
    s_ee = np.zeros((n, g))
    s_ec = np.zeros((n, g))
    skip = np.clip(length - 2, 1, SKIP)[:, None]  # short series keep two errors to fit
    ends = [np.flatnonzero(length - 1 == t) for t in range(width)]
    for r in ends[0]:
        end_level[r] = level[r]
    with np.errstate(all="ignore"):
        for i in range(1, width):
            q = (1 - a) ** i
            k1 = w * q
            k2 = w * (1 - q * (1 - a)) / a
            mu = level + an[:, i - 1 : i] * k1 + bn[:, i - 1 : i] * k2
            xi = x[:, i : i + 1]
            e = np.where(((i < length)[:, None]) & (i >= skip), xi - mu, 0.0)
            s_ee += e * e
            s_ec += e * q
            level = a * xi + (1 - a) * level
            if len(ends[i]):
                end_level[ends[i]] = level[ends[i]]
        # sum over skip <= i < L of (1-a)^(2i)
        q2 = (1 - a) ** 2
        top = np.maximum(length[:, None], skip)
        s_cc = (q2**skip - q2**top) / (1 - q2)
        y0 = x[:, :1]
        l0 = (s_ec + RIDGE * y0) / (s_cc + RIDGE)
        sse = s_ee - 2 * l0 * s_ec + l0 * l0 * s_cc
    best = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
    r = np.arange(n)
    alpha, th = A[best], TH[best]
    last = length - 1
    lv = end_level[r, best] + (1 - alpha) ** length * l0[r, best]
    mv, av, bv = meany[r, last], an[r, last], bn[r, last]
    fc = np.empty((n, horizon))
    i = length.astype(float)
    wt = 1 - 1 / th
    with np.errstate(all="ignore"):
        for h in range(horizon):
            q = (1 - alpha) ** i
            mu = lv + wt * (av * q + bv * (1 - q * (1 - alpha)) / alpha)
            fc[:, h] = mu
            lv = alpha * mu + (1 - alpha) * lv
            new_mean = (i * mv + mu) / (i + 1)
            if dynamic:
                bv = ((i - 1) * bv + 6 * (mu - mv) / (i + 1)) / (i + 2)
                av = new_mean - bv * (i + 2) / 2
            mv = new_mean
            i = i + 1
    sigma2 = np.maximum(sse[r, best], 0) / np.maximum(length - skip[:, 0] - 1, 1)
    return Fit(fc, sigma2, flat_variance(alpha, horizon), {"alpha": alpha, "theta": th})
