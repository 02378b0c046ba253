"""80 % and 95 % prediction intervals.

Input: point forecasts (n, H), the model's h-step standard deviation (n, H) and, per series,
whether that deviation is on the log scale (models fitted to log demand: the band is then
multiplicative, ``point · exp(±z·sd)``, skewed upwards and never negative) or on the demand
scale (``point ± z·sd``). The deviation comes from the in-sample one-step error variance
times the model's variance growth over the horizon. Output: ``lo80, hi80, lo95, hi95``
(n, H), nested around the point (lo95 ≤ lo80 ≤ point ≤ hi80 ≤ hi95), clipped at 0 for demand.

In-sample errors understate out-of-sample errors (the parameters were fitted to those very
points), so :func:`calibration_scale` widens every band by how much the backtest errors exceed
their predicted spread, pooled over the batch: a robust ratio (median of squared z-scores
against the χ²₁ median) that may only widen, never narrow, and is ignored for few points.
"""

from __future__ import annotations

import numpy as np

Z80 = 1.2815515655446004
Z95 = 1.959963984540054
CHI2_1_MEDIAN = 0.454936423119572  # median of a chi-square with one degree of freedom
MIN_POINTS = 30
MAX_SCALE = 3.0


def z_scores(actual: np.ndarray, forecast: np.ndarray, sd: np.ndarray, log: np.ndarray) -> np.ndarray:
    """Standardised backtest errors; log-scale rows compare log(actual / forecast)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        log_err = np.log(actual / forecast)
        err = np.where(log[:, None], log_err, actual - forecast)
        return err / sd


def calibration_scale(z: np.ndarray) -> float:
    z2 = z[np.isfinite(z)] ** 2
    if z2.size < MIN_POINTS:
        return 1.0
    return float(np.clip(np.sqrt(np.median(z2) / CHI2_1_MEDIAN), 1.0, MAX_SCALE))


def bands(
    point: np.ndarray,
    sd: np.ndarray,
    log: np.ndarray,
    *,
    scale: float = 1.0,
    nonnegative: bool = True,
) -> dict[str, np.ndarray]:
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 0.0) * scale
    out = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for name, z in (("80", Z80), ("95", Z95)):
            lo_add, hi_add = point - z * sd, point + z * sd
            # cap the exponent: a wild log-scale spread must not overflow to inf
            spread = np.exp(np.minimum(z * sd, 50.0))
            lo_mul, hi_mul = point / spread, point * spread
            out["lo" + name] = np.where(log[:, None], lo_mul, lo_add)
            out["hi" + name] = np.where(log[:, None], hi_mul, hi_add)
    if nonnegative:
        out = {k: np.maximum(v, 0.0) for k, v in out.items()}
    return out
