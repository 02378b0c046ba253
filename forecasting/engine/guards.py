"""Guard rails on point forecasts: finite, non-negative demand, within a sane range.

Input: point forecasts (n, H), each series' history (n, T) and the limits.
Output: a boolean ``failed`` (n,) for series whose forecast must be replaced by a fallback,
the reason text per series, and a copy of the forecasts with negative demand clipped to 0
(clipping is recorded but does not count as a failure: a declining trend that reaches zero is
a legitimate forecast of no demand).
"""

from __future__ import annotations

import numpy as np


def check_forecasts(
    point: np.ndarray,
    history: np.ndarray,
    *,
    max_growth: float,
    nonnegative: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = point.shape[0]
    reasons = np.full(n, "", dtype=object)
    finite = np.isfinite(point).all(axis=1)
    reasons[~finite] = "non-finite forecast"
    hist_max = np.nanmax(np.where(np.isfinite(history), np.abs(history), np.nan), axis=1)
    hist_max = np.nan_to_num(hist_max, nan=0.0)
    with np.errstate(invalid="ignore"):
        peak = np.nanmax(np.abs(point), axis=1)
        # a zero history makes any positive forecast "infinitely" larger; allow a small floor
        too_big = finite & (peak > max_growth * np.maximum(hist_max, 1e-9))
    reasons[too_big] = [
        f"forecast {p:.4g} above {max_growth:g}× the historical maximum {h:.4g}"
        for p, h in zip(point[too_big].max(axis=1), hist_max[too_big])
    ]
    failed = ~finite | too_big
    out = point.copy()
    if nonnegative:
        negative = ~failed & (np.nan_to_num(out, nan=0.0) < 0).any(axis=1)
        reasons[negative] = "negative forecast clipped to 0"
        out = np.where(np.isfinite(out), np.maximum(out, 0.0), out)
    return failed, reasons, out
