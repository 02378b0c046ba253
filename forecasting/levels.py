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


# ForecastAccuracy.series_key of the backtest rows: the per-series mean, and each level as a
# whole (its nodes' summed forecasts against their summed actuals)
SERIES_MEAN_KEY = "all series (mean of backtests)"
BACKTEST_LEVEL_KEYS = {"product": "all products", "family": "all families", "region": "all regions", "total": "total"}
ACCURACY_LEVELS: dict[str, list[str]] = {
    "product": ["product_id"],
    "family": ["family_id"],
    "region": ["region_code"],
    "total": [],
}


def backtest_sums(backtest: pd.DataFrame, meta: pd.DataFrame) -> dict[str, list[dict]]:
    """Backtest actuals and forecasts summed per level node and step (additive over chunks).

    ``backtest``: the engine's series_id ("product:territory"), step, actual, forecast;
    ``meta``: product_id, territory_id, family_id, region_code per series."""
    if backtest.empty:
        return {}
    keys = meta.assign(series_id=meta["product_id"].astype(str) + ":" + meta["territory_id"].astype(str))
    frame = backtest.merge(keys, on="series_id", how="inner")
    out = {}
    for level, cols in ACCURACY_LEVELS.items():
        g = frame.groupby([*cols, "step"], sort=True, dropna=False)[["actual", "forecast"]].sum().reset_index()
        out[level] = g.astype(object).where(g.notna(), None).to_dict("records")
    return out


def level_accuracy(parts: list[dict[str, list[dict]]]) -> pd.DataFrame:
    """WAPE and bias per level and node from the chunks' :func:`backtest_sums`.

    A node's error is its summed forecast against its summed actual, step by step — the
    accuracy of the number a planner reads at that level, not a mean of series scores
    (which intermittent product × territory series make misleading). Returns level, node
    (None for the level as a whole), n (nodes), WAPE and bias in percent of the actuals."""
    rows = []
    for level, cols in ACCURACY_LEVELS.items():
        frames = [pd.DataFrame.from_records(p[level]) for p in parts if p.get(level)]
        if not frames:
            continue
        g = (
            pd.concat(frames, ignore_index=True)
            .groupby([*cols, "step"], sort=True, dropna=False)[["actual", "forecast"]]
            .sum()
            .reset_index()
        )
        g["abs_err"] = (g["forecast"] - g["actual"]).abs()
        g["err"] = g["forecast"] - g["actual"]
        g["abs_act"] = g["actual"].abs()

        def scores(d: pd.DataFrame) -> tuple[float | None, float | None]:
            den = float(d["abs_act"].sum())
            if den <= 0:
                return None, None
            return 100 * float(d["abs_err"].sum()) / den, 100 * float(d["err"].sum()) / den

        wape, bias = scores(g)
        n = int(g.drop_duplicates(cols).shape[0]) if cols else 1
        rows.append({"level": level, "node": None, "n": n, "wape": wape, "bias": bias})
        if level in ("family", "region"):
            for node, d in g.groupby(cols[0], sort=True):
                w, b = scores(d)
                rows.append({"level": level, "node": node, "n": 1, "wape": w, "bias": b})
    return pd.DataFrame(rows, columns=["level", "node", "n", "wape", "bias"])
