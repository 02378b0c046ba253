"""Bottom-up aggregation of product × territory forecasts to the planning hierarchy (pure).

Input columns: ``product_id, territory_id, family_id, region_code, period_start, point,
lo80, hi80, lo95, hi95``. Output: one frame per level (``product``, ``family``, ``region``,
``family_region``, ``total``) with the level's key columns, ``period_start`` and the same
measures. Points add up exactly at every level (bottom-up coherence). Interval half-widths
are combined as if the series' errors were independent (square root of the sum of squares),
which keeps aggregate intervals narrower than the sum of the parts, as pooling does.

The work splits in two so that it runs where the data is: :func:`level_sums` (sums of
points and of squared half-widths — additive, so chunks of series can be summed apart and
their partial sums added later) and :func:`level_bounds` (the square roots, once, at the end).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVEL_KEYS: dict[str, list[str]] = {
    "product": ["product_id"],
    "family": ["family_id"],
    "region": ["region_code"],
    "family_region": ["family_id", "region_code"],
    "total": [],
}
SUMS = ["point", "lo80_sq", "hi80_sq", "lo95_sq", "hi95_sq"]


def level_sums(base: pd.DataFrame, levels: tuple[str, ...] = tuple(LEVEL_KEYS)) -> dict[str, pd.DataFrame]:
    """Per level: key columns, ``period_start`` and the additive sums ``SUMS``."""
    work = base.copy()
    for side in ("lo80", "hi80", "lo95", "hi95"):
        work[f"{side}_sq"] = (work[side] - work["point"]) ** 2
    out = {}
    for level in levels:
        keys = LEVEL_KEYS[level]
        grouped = work.groupby(keys + ["period_start"], sort=True, dropna=False)
        out[level] = grouped[SUMS].sum().reset_index()
    return out


def add_sums(parts: list[pd.DataFrame], level: str) -> pd.DataFrame:
    """Add partial sums of one level (from several chunks) into one frame."""
    keys = LEVEL_KEYS[level] + ["period_start"]
    return pd.concat(parts, ignore_index=True).groupby(keys, sort=True, dropna=False)[SUMS].sum().reset_index()


def level_bounds(sums: pd.DataFrame, level: str) -> pd.DataFrame:
    """Point and nested, non-negative 80 % / 95 % bounds from a level's sums."""
    agg = sums
    out = agg[LEVEL_KEYS[level] + ["period_start", "point"]].copy()
    out["lo80"] = np.maximum(agg["point"] - np.sqrt(agg["lo80_sq"]), 0.0)
    out["hi80"] = agg["point"] + np.sqrt(agg["hi80_sq"])
    out["lo95"] = np.minimum(np.maximum(agg["point"] - np.sqrt(agg["lo95_sq"]), 0.0), out["lo80"])
    out["hi95"] = np.maximum(agg["point"] + np.sqrt(agg["hi95_sq"]), out["hi80"])
    return out


def bottom_up(base: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {level: level_bounds(sums, level) for level, sums in level_sums(base).items()}
