"""Bottom-up aggregation of product × territory forecasts to the planning hierarchy (pure).

Input columns: ``product_id, territory_id, family_id, region_code, period_start, point,
lo80, hi80, lo95, hi95``. Output: one frame per level (``product``, ``family``, ``region``,
``family_region``, ``total``) with the level's key columns, ``period_start`` and the same
measures. Points add up exactly at every level (bottom-up coherence). Interval half-widths
are combined as if the series' errors were independent (square root of the sum of squares),
which keeps aggregate intervals narrower than the sum of the parts, as pooling does.
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


def bottom_up(base: pd.DataFrame) -> dict[str, pd.DataFrame]:
    work = base.copy()
    for side in ("lo80", "hi80", "lo95", "hi95"):
        work[f"{side}_sq"] = (work[side] - work["point"]) ** 2
    out = {}
    for level, keys in LEVEL_KEYS.items():
        grouped = work.groupby(keys + ["period_start"], sort=True, dropna=False)
        agg = grouped[["point", "lo80_sq", "hi80_sq", "lo95_sq", "hi95_sq"]].sum().reset_index()
        agg["lo80"] = np.maximum(agg["point"] - np.sqrt(agg["lo80_sq"]), 0.0)
        agg["hi80"] = agg["point"] + np.sqrt(agg["hi80_sq"])
        agg["lo95"] = np.minimum(np.maximum(agg["point"] - np.sqrt(agg["lo95_sq"]), 0.0), agg["lo80"])
        agg["hi95"] = np.maximum(agg["point"] + np.sqrt(agg["hi95_sq"]), agg["hi80"])
        out[level] = agg[keys + ["period_start", "point", "lo80", "hi80", "lo95", "hi95"]]
    return out
