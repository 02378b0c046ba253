"""Spreading an aggregate edit of the demand plan down to its grain, in whole units.

Pure calculation (numpy; no Django). When a planner sets a family × month to 1,200 units, the
product × territory rows under it must change so that they add up to exactly 1,200 — and so
every other level (family, region, total) that sums those rows stays exact too.

Rule (the one the demand review documents to its users):

1. Weights are the rows' *current* values of the measure being edited.
2. When those are all zero, the weights are the rows' statistical forecast.
3. When those are all zero too, every row weighs the same (an even spread).
4. Each row gets ``total × weight ÷ Σ weights``; the shares are cut to whole units and the
   units left over go, one each, to the rows with the largest cut-off remainders (Hamilton's
   largest-remainder method). Ties go to the larger weight, then to the earlier row, so the
   same inputs always give the same spread.

Inputs are 1-D arrays in row order; the output is an ``int64`` array of the same length that
sums to ``total``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def spread_weights(current: Sequence[float], fallback: Sequence[float]) -> np.ndarray:
    """The weights rule: current values, else the fallback (statistical), else even."""
    current = np.clip(np.asarray(current, dtype=float), 0, None)
    if current.sum() > 0:
        return current
    fallback = np.clip(np.asarray(fallback, dtype=float), 0, None)
    if fallback.size and fallback.sum() > 0:
        return fallback
    return np.ones(current.size)


def largest_remainder(total: int, weights: Sequence[float]) -> np.ndarray:
    """Whole-unit shares of ``total`` in proportion to ``weights`` that sum exactly to it."""
    if total < 0:
        raise ValueError("the total to spread must not be negative")
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        if total:
            raise ValueError("there are no rows to spread the value over")
        return np.zeros(0, dtype=np.int64)
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and not negative")
    if w.sum() <= 0:
        w = np.ones(w.size)
    exact = total * w / w.sum()
    shares = np.floor(exact).astype(np.int64)
    left = int(total - shares.sum())
    remainder = exact - shares
    if left > 0:
        # lexsort: the last key is the primary one (largest remainder, then weight, then row).
        order = np.lexsort((np.arange(w.size), -w, -remainder))
        shares[order[:left]] += 1
    elif left < 0:
        # Float rounding put a share one unit over (e.g. 400.0000000001 floored to 400 while
        # the others' parts fall short): take the surplus back from the smallest remainders.
        order = np.lexsort((-np.arange(w.size), w, remainder))
        order = order[shares[order] > 0]
        shares[order[:-left]] -= 1
    return shares


def spread_total(total: int, *, current: Sequence[float], fallback: Sequence[float]) -> np.ndarray:
    """Spread ``total`` whole units over the rows by the module's rule."""
    return largest_remainder(total, spread_weights(current, fallback))


def group_weights(groups: np.ndarray, current: Sequence[float], fallback: Sequence[float]) -> np.ndarray:
    """The weights rule of :func:`spread_weights`, applied to each group on its own."""
    groups = np.asarray(groups, dtype=np.int64)
    current = np.clip(np.nan_to_num(np.asarray(current, dtype=float)), 0, None)
    fallback = np.clip(np.nan_to_num(np.asarray(fallback, dtype=float)), 0, None)
    size = int(groups.max()) + 1 if groups.size else 0
    use_current = np.bincount(groups, weights=current, minlength=size) > 0
    use_fallback = ~use_current & (np.bincount(groups, weights=fallback, minlength=size) > 0)
    return np.where(use_current[groups], current, np.where(use_fallback[groups], fallback, 1.0))


def spread_groups(
    groups: Sequence[int], totals: Sequence[int], *, current: Sequence[float], fallback: Sequence[float]
) -> np.ndarray:
    """Many spreads at once: row ``i`` belongs to group ``groups[i]`` (0 … n−1) whose whole
    total is ``totals[groups[i]]``; each group is spread by the module's rule, exactly as
    :func:`spread_total` would spread it alone (vectorised: one sort for all groups)."""
    groups = np.asarray(groups, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.int64)
    if groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    if (totals < 0).any():
        raise ValueError("the total to spread must not be negative")
    w = group_weights(groups, current, fallback)
    sums = np.bincount(groups, weights=w, minlength=len(totals))
    exact = totals[groups] * w / sums[groups]
    shares = np.floor(exact).astype(np.int64)
    left = totals - np.bincount(groups, weights=shares, minlength=len(totals)).astype(np.int64)
    remainder = exact - shares
    index = np.arange(groups.size)
    # Rank rows inside their group: largest remainder, then larger weight, then earlier row.
    order = np.lexsort((index, -w, -remainder, groups))
    starts = np.searchsorted(groups[order], np.arange(len(totals)))
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = index - starts[groups[order]]
    shares += (rank < left[groups]).astype(np.int64)
    over = np.flatnonzero(left < 0)
    for g in over:  # float rounding put a group one unit over: take it back as spread_total does
        rows = np.flatnonzero(groups == g)
        shares[rows] = largest_remainder(int(totals[g]), w[rows])
    return shares
