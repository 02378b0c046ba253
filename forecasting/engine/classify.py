"""Demand and history-length classes of each series (vectorised over a panel).

Input: ``values`` (n, T) right-aligned history with NaN before each series' start.
Outputs, one entry per series:
    demand class  — Syntetos–Boylan quadrants from ADI (mean interval between non-zero
                    demands) and CV² (squared coefficient of variation of non-zero sizes):
                    smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² ≥ 0.49),
                    intermittent (ADI ≥ 1.32, CV² < 0.49), lumpy (ADI ≥ 1.32, CV² ≥ 0.49),
                    or ``zero`` when the history holds no demand at all (``signed`` is set by
                    the pipeline for series with negative values when negatives are allowed);
    history class — ``new`` (too few points to fit any model), ``short`` (too few to
                    estimate its own seasonality: the family profile is used) or ``normal``.
"""

from __future__ import annotations

import numpy as np

ADI_CUT = 1.32
CV2_CUT = 0.49

SMOOTH, ERRATIC, INTERMITTENT, LUMPY, ZERO = "smooth", "erratic", "intermittent", "lumpy", "zero"
SIGNED = "signed"
NEW, SHORT, NORMAL = "new", "short", "normal"


def demand_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADI and CV² per series (NaN where undefined)."""
    active = np.isfinite(values)
    positive = active & (values > 0)
    n_obs = active.sum(axis=1)
    n_pos = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = n_obs / n_pos
        sizes = np.where(positive, values, 0.0)
        mean = sizes.sum(axis=1) / n_pos
        var = np.where(positive, (values - mean[:, None]) ** 2, 0.0).sum(axis=1) / n_pos
        cv2 = var / mean**2
    return adi, cv2


def demand_class(values: np.ndarray) -> np.ndarray:
    adi, cv2 = demand_stats(values)
    lumpy_size = cv2 >= CV2_CUT
    sparse = adi >= ADI_CUT
    out = np.where(
        sparse,
        np.where(lumpy_size, LUMPY, INTERMITTENT),
        np.where(lumpy_size, ERRATIC, SMOOTH),
    ).astype(object)
    out[~np.isfinite(adi)] = ZERO
    return out


def history_class(length: np.ndarray, *, min_fit: int, min_seasonal: int) -> np.ndarray:
    """``new`` below ``min_fit`` points, ``short`` below ``min_seasonal``, else ``normal``."""
    return np.where(length < min_fit, NEW, np.where(length < min_seasonal, SHORT, NORMAL)).astype(object)
