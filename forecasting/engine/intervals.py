"""80 % and 95 % prediction intervals.

Input: point forecasts (n, H), the model's h-step standard deviation (n, H) and, per series,
whether that deviation is on the log scale (models fitted to log demand) or on the demand
scale. The deviation comes from the in-sample one-step error variance times the model's
variance growth over the horizon (plus the members' disagreement for a combination); a
log-scale deviation is carried to the demand scale by the delta method (``point · sd``).
The band is ``point ± k·sd``. Output: ``lo80, hi80, lo95, hi95`` (n, H), nested around the
point (lo95 ≤ lo80 ≤ point ≤ hi80 ≤ hi95), clipped at 0 for demand.

Why not the lognormal band ``point · exp(±k·sd)``: at long horizons a volatile series' log
spread times a calibrated multiplier made upper bounds thousands of times the point (MSIS
above 10⁸ on M3 monthly); the delta-method band keeps the same coverage with MSIS 6.2.

In-sample errors understate out-of-sample errors (the parameters were fitted to those very
points), so the multipliers are calibrated on the backtest, split-conformal style: the
backtest errors are standardised by the spread the model predicted for them, and the 80th
and 95th percentiles of their absolute values replace the normal quantiles 1.28 and 1.96
(bounded to 0.5–4 times them). :func:`calibrated_steps` does this per step ahead — how fast
the error grows with the horizon is where models are most often wrong — pooled over the
series of a route and its rolling origins, lightly smoothed across neighbouring steps; a
step with too few errors takes the multiplier pooled over all steps, and a route with too
few the batch's.
"""

from __future__ import annotations

import numpy as np

Z80 = 1.2815515655446004
Z95 = 1.959963984540054
MIN_POINTS = 30
MIN_SCALE = 0.5
MAX_SCALE = 4.0


def z_scores(actual: np.ndarray, forecast: np.ndarray, sd: np.ndarray, log: np.ndarray) -> np.ndarray:
    """Standardised backtest errors; log-scale rows compare log(actual / forecast)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (actual - forecast) / demand_sd(forecast, sd, log)


def calibrated_quantiles(z: np.ndarray) -> tuple[float, float]:
    """Multipliers (k80, k95) for the sd from standardised backtest errors."""
    az = np.abs(z[np.isfinite(z)])
    if az.size < MIN_POINTS:
        return Z80, Z95
    k80 = float(np.clip(np.quantile(az, 0.80), MIN_SCALE * Z80, MAX_SCALE * Z80))
    k95 = float(np.clip(np.quantile(az, 0.95), MIN_SCALE * Z95, MAX_SCALE * Z95))
    return k80, max(k95, k80)


def demand_sd(point: np.ndarray, sd: np.ndarray, log: np.ndarray) -> np.ndarray:
    """The forecast's sd on the demand scale: a log-scale sd times the point (delta method)."""
    return np.where(log[:, None], np.abs(point) * sd, sd)


def small_sample_quantiles(length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Student's t quantiles (80 %, 95 %) with ``length − 2`` degrees of freedom: a spread
    estimated from a handful of points is itself uncertain (t → normal for long series)."""
    # Here, not at the top: scipy.stats costs ~0.4 s at import (every web and test process).
    from scipy.stats import t

    df = np.maximum(np.asarray(length, dtype=float) - 2, 1)  # a level and a trend estimated
    return t.ppf(0.9, df), t.ppf(0.975, df)


def calibrated_steps(
    z: np.ndarray, horizon: int, *, default: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (k80, k95), each (horizon,), from standardised backtest errors (N, h_bt).

    Steps beyond the backtest's last take its last step's multipliers."""
    if default is None:
        default = (np.full(horizon, Z80), np.full(horizon, Z95))
    z = np.abs(z)
    ok = np.isfinite(z)
    if ok.sum() < MIN_POINTS:
        return default
    pooled = calibrated_quantiles(z)
    width = z.shape[1]
    k = np.empty((2, width))
    for j in range(width):
        col = z[ok[:, j], j]
        k[:, j] = calibrated_quantiles(col) if col.size >= MIN_POINTS else pooled
    if width >= 3:
        padded = np.concatenate([k[:, :1], k, k[:, -1:]], axis=1)
        k = (padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]) / 3
    idx = np.minimum(np.arange(horizon), width - 1)
    k80, k95 = k[0, idx], k[1, idx]
    return k80, np.maximum(k95, k80)


def bands(
    point: np.ndarray,
    sd: np.ndarray,
    log: np.ndarray,
    *,
    k80: float | np.ndarray = Z80,
    k95: float | np.ndarray = Z95,
    nonnegative: bool = True,
) -> dict[str, np.ndarray]:
    sd = demand_sd(point, np.where(np.isfinite(sd) & (sd > 0), sd, 0.0), log)
    out = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for name, z in (("80", k80), ("95", k95)):
            out["lo" + name] = point - z * sd
            out["hi" + name] = point + z * sd
    if nonnegative:
        out = {k: np.maximum(v, 0.0) for k, v in out.items()}
    return out
