"""Members of the combination forecast and the combination itself.

Input of every member: the seasonally adjusted, right-aligned panel ``x`` (n, T) (NaN before
each series' start), ``start`` (n,) and the horizon. Output: a
:class:`~forecasting.engine.smoothing.Fit` on the adjusted scale.

Members are named ``<model>`` or ``<model>@k``; ``@k`` fits the model to the series summed
over non-overlapping blocks of k periods (aligned to the end of the history) and spreads each
block forecast evenly over its k periods — temporal aggregation, as in MAPA (Kourentzes et al.
2014): the aggregated series is smoother, its trend and level estimates are steadier, and the
errors of the aggregated and the original-frequency fits are far from perfectly correlated,
which is what a combination feeds on.

:func:`default_members` is the equal-weight combination for a season length (the
aggregation level is the next calendar level up: ``AGGREGATION``); :func:`member_pool` adds
the naive and drift forecasts for the validated weighting (selection.py).

Models are fitted in row blocks: the recursions run over time with every series and grid
point in one array, and keeping that array inside the CPU cache is worth several times the
speed (measured in bench/README.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from forecasting.engine import smoothing, theta
from forecasting.engine.smoothing import Fit, left_align

BLOCK_CELLS = 24_000


def _ses(x: np.ndarray, length: np.ndarray, horizon: int, k: int, m: int) -> Fit:
    return smoothing.ses(x, length, horizon)


def _damped(x: np.ndarray, length: np.ndarray, horizon: int, k: int, m: int) -> Fit:
    # one-step errors (the ETS likelihood): fitting 1..6-step errors helped M3 monthly a
    # little alone and not at all in the combination, and hurt quarterly and weekly data
    # (bench/README.md)
    return smoothing.damped(x, length, horizon)


def _theta(x: np.ndarray, length: np.ndarray, horizon: int, k: int, m: int) -> Fit:
    return theta.theta(x, length, horizon, dynamic=True)


def _stm(x: np.ndarray, length: np.ndarray, horizon: int, k: int, m: int) -> Fit:
    return theta.theta(x, length, horizon, dynamic=False, thetas=np.array([2.0]))


def _last(x: np.ndarray, length: np.ndarray) -> np.ndarray:
    return x[np.arange(len(x)), length - 1]


def _diff_stats(x: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and mean square of the first differences inside each series."""
    d = np.diff(x, axis=1)
    inside = np.arange(x.shape[1] - 1)[None, :] < (length - 1)[:, None]
    cnt = np.maximum(length - 1, 1)
    mean = np.where(inside, d, 0.0).sum(1) / cnt
    msq = np.where(inside, d * d, 0.0).sum(1) / cnt
    return mean, msq


def _naive(x: np.ndarray, length: np.ndarray, horizon: int, k: int, m: int) -> Fit:
    """Random walk: the last value; variance h·σ² (σ² the mean squared step)."""
    _, msq = _diff_stats(x, length)
    h = np.arange(1, horizon + 1)[None, :]
    return Fit(np.repeat(_last(x, length)[:, None], horizon, 1), msq, np.repeat(h, len(x), 0) * 1.0)


def _drift(x: np.ndarray, length: np.ndarray, horizon: int, k: int, m: int) -> Fit:
    """Random walk with drift: the last value plus the mean step per period ahead."""
    mean, msq = _diff_stats(x, length)
    var = np.maximum(msq - mean**2, 0.0)
    h = np.arange(1, horizon + 1)[None, :]
    fc = _last(x, length)[:, None] + mean[:, None] * h
    # the drift's own estimation error adds h²σ²/(L−1)
    growth = h * (1 + h / np.maximum(length - 1, 1)[:, None])
    return Fit(fc, var, growth)


MODELS: dict[str, tuple[Callable[[np.ndarray, np.ndarray, int, int, int], Fit], int, int]] = {
    # name: (fitter, grid size for blocking, minimum points to fit)
    "ses": (_ses, len(smoothing.SES_ALPHAS), 2),
    "damped": (
        _damped,
        smoothing.DAMPED_ALPHAS.size * smoothing.DAMPED_BETA_SHARES.size * smoothing.DAMPED_PHIS.size,
        4,
    ),
    "theta": (_theta, len(theta.THETA_ALPHAS) * len(theta.THETA_THETAS), 3),
    "stm": (_stm, len(theta.THETA_ALPHAS), 3),
    "naive": (_naive, 1, 2),
    "drift": (_drift, 1, 3),
}

# Temporal aggregation levels per season length: the next calendar level up (months →
# quarters, weeks → months and quarters, quarters → half years, days → weeks).
AGGREGATION: dict[int, int] = {12: 3, 4: 2, 52: 4, 7: 7, 24: 6}


def aggregation_level(season_length: int) -> int | None:
    m = season_length
    return AGGREGATION.get(m, max(2, m // 4) if m >= 4 else None)


def default_members(season_length: int) -> tuple[str, ...]:
    """The equal-weight combination: both Theta forms, damped trend, SES, and Theta and
    damped trend at the next calendar level up where the frequency has one."""
    k = aggregation_level(season_length)
    agg = (f"theta@{k}", f"damped@{k}") if k else ()
    return ("theta", "stm", "damped", "ses", *agg)


def member_pool(season_length: int) -> tuple[str, ...]:
    """Every member the rolling-origin validation may weight, for this season length."""
    return (*default_members(season_length), "naive", "drift")


def parse_member(name: str) -> tuple[str, int]:
    model, _, k = name.partition("@")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (known: {', '.join(MODELS)})")
    return model, int(k) if k else 1


def _aggregate(x: np.ndarray, start: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n, width = x.shape
    blocks = width // k
    agg = x[:, width - blocks * k :].reshape(n, blocks, k).sum(axis=2)  # NaN if incomplete
    return agg, blocks - (width - start) // k


def fit_member(name: str, x: np.ndarray, start: np.ndarray, horizon: int, season_length: int = 12) -> Fit:
    """Fit one member to all rows (those too short for it get NaN forecasts)."""
    model, k = parse_member(name)
    fitter, grid, min_points = MODELS[model]
    n = x.shape[0]
    if k > 1:
        x, start = _aggregate(x, start, k)
    steps = -(-horizon // k)
    length = x.shape[1] - start
    fc = np.full((n, steps), np.nan)
    sigma2 = np.full(n, np.nan)
    growth = np.full((n, steps), np.nan)
    ok = np.flatnonzero(length >= min_points)
    rows = max(16, BLOCK_CELLS // grid)
    for i in range(0, len(ok), rows):
        idx = ok[i : i + rows]
        sub_x = x[idx]
        # trim leading columns that are padding for every row of the block
        first = int(start[idx].min())
        xl, ln = left_align(sub_x[:, first:], start[idx] - first)
        fit = fitter(xl, ln, steps, k, season_length)
        fc[idx], sigma2[idx], growth[idx] = fit.forecast, fit.sigma2, fit.growth
    if k > 1:
        fc = _disaggregate(fc / k, k, horizon)
        growth = np.repeat(growth, k, axis=1)[:, :horizon]
        # the variance of a block mean (1/k² of the block's): the aggregated fit's residuals
        # mix noise with level changes, and 1/k (one period's noise if independent)
        # over-corrected the log-scale mean on both M3 (13.61 vs 13.45) and the synthetic
        # hierarchy (+5.5 % vs +2.0 % bias); bands are calibrated on the backtest anyway
        sigma2 = sigma2 / k**2
    return Fit(fc, sigma2, growth)


def _disaggregate(block_means: np.ndarray, k: int, horizon: int) -> np.ndarray:
    """Per-period path through the block means placed at the block centres.

    Spreading each block evenly would turn a trend into a staircase; straight lines between
    consecutive centres (extended before the first and after the last) keep every block's
    mean on a linear path and follow a trend smoothly.
    """
    if block_means.shape[1] == 1:
        return np.repeat(block_means, horizon, axis=1)
    u = (np.arange(1, horizon + 1) - (k + 1) / 2) / k  # position in units of blocks
    j = np.clip(np.floor(u).astype(int), 0, block_means.shape[1] - 2)
    frac = (u - j)[None, :]
    return block_means[:, j] * (1 - frac) + block_means[:, j + 1] * frac


def combine(points: list[np.ndarray], variances: list[np.ndarray], how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """Point (n, H) and variance (n, H) of the combination, over members that fitted.

    The variance is the members' mean variance: member errors are strongly but not
    perfectly correlated, so this is mildly conservative; the backtest calibration in
    intervals.py sets the overall level.
    """
    pts = np.stack(points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: no member fitted
        point = np.nanmedian(pts, axis=0) if how == "median" else np.nanmean(pts, axis=0)
        var = np.nanmean(np.stack(variances), axis=0)
    return point, var
