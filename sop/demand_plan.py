"""The demand plan of an S&OP cycle: how its measures are derived at the forecast's grain.

Pure calculation (numpy, pandas; no Django). The grain is product × territory × month; a
``grid`` frame holds one row per grain row with at least ``product_id``, ``territory_id``,
``family_id``, ``territory_path`` (the territory's materialised path, ``/R/D/T/``),
``period_start`` (``datetime.date``) and ``statistical`` (units, float ≥ 0).

Measures
--------
``naive`` — seasonal naive: the units sold in the same calendar month of the last year of
    history (``history``: ``product_id, territory_id, period_start, units``; months with no
    sales are 0). For a month more than a year past the last history month the latest year is
    repeated.
``target`` — the quota plan's units per family × territory × month (``quotas``:
    ``family_id, territory_path, period_start, quota_qty``; the territory may be any node of
    the tree) spread to the grain rows of the family in that territory's subtree in
    proportion to their statistical forecast (even where it is all zero), in whole units by
    largest remainder, so the targets add up to the quota exactly. Where quotas sit on a node
    and on nodes below it, the node's rows outside those lower nodes take what is left of its
    quota (never below zero). NaN where no quota covers the row.
``consensus`` (start) — the last published consensus of the same grain row and month where
    there is one (the decisions taken stand); elsewhere the statistical forecast rounded to
    whole units so that each family × month keeps its rounded total (largest remainder).
``feasible`` — the plan run's feasible quantity per product × month shared out over the
    product's territories in proportion to their consensus (statistical where it is all zero,
    even where that is zero too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop.spread import group_weights, spread_groups


def _ordinal(dates: pd.Series) -> np.ndarray:
    values = pd.to_datetime(pd.Series(dates))
    return (values.dt.year * 12 + values.dt.month - 1).to_numpy(dtype=np.int64)


def seasonal_naive(grid: pd.DataFrame, history: pd.DataFrame, *, last_history_month) -> np.ndarray:
    """Seasonal-naive units for each grid row (see the module doc)."""
    if grid.empty:
        return np.zeros(0)
    last = int(_ordinal(pd.Series([last_history_month]))[0])
    target = _ordinal(grid["period_start"])
    years_back = np.maximum(1, np.ceil((target - last) / 12).astype(np.int64))
    source = target - 12 * years_back
    keys = pd.DataFrame({"product_id": grid["product_id"].to_numpy(), "territory_id": grid["territory_id"].to_numpy(),
                         "month": source})
    if history.empty:
        return np.zeros(len(grid))
    hist = pd.DataFrame({"product_id": history["product_id"].to_numpy(),
                         "territory_id": history["territory_id"].to_numpy(),
                         "month": _ordinal(history["period_start"]),
                         "units": history["units"].astype(float).to_numpy()})
    hist = hist.groupby(["product_id", "territory_id", "month"], as_index=False)["units"].sum()
    merged = keys.merge(hist, on=["product_id", "territory_id", "month"], how="left")
    return merged["units"].fillna(0.0).clip(lower=0).to_numpy()


def _ancestors(paths: pd.Series) -> pd.DataFrame:
    """Each path with each of its ancestor paths (itself included): ``path, ancestor, depth``."""
    unique = pd.unique(paths)
    rows = []
    for path in unique:
        parts = [p for p in str(path).split("/") if p]
        for depth in range(1, len(parts) + 1):
            rows.append((path, "/" + "/".join(parts[:depth]) + "/", depth))
    return pd.DataFrame(rows, columns=["path", "ancestor", "depth"])


def spread_targets(grid: pd.DataFrame, quotas: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Targets for each grid row (NaN where no quota applies) and the quotas that found no
    row to land on (``family_id, territory_path, period_start, quota_qty``)."""
    target = np.full(len(grid), np.nan)
    columns = ["family_id", "territory_path", "period_start", "quota_qty"]
    if quotas is None or quotas.empty or grid.empty:
        return target, (quotas[columns] if quotas is not None and len(quotas) else pd.DataFrame(columns=columns))
    q = quotas[columns].groupby(["family_id", "territory_path", "period_start"], as_index=False)["quota_qty"].sum()
    q["quota_id"] = np.arange(len(q))
    key = ["family_id", "period_start"]

    # The quota's own share: minus the quotas of the nearest quota nodes below it.
    up = _ancestors(q["territory_path"])
    up = up[up["path"] != up["ancestor"]]
    nested = q[[*key, "territory_path", "quota_id", "quota_qty"]].merge(
        up, left_on="territory_path", right_on="path").merge(
        q[[*key, "territory_path", "quota_id"]].rename(columns={"territory_path": "ancestor",
                                                                "quota_id": "parent_id"}),
        on=[*key, "ancestor"])
    nested = nested.sort_values("depth").drop_duplicates("quota_id", keep="last")  # nearest quota above
    taken = nested.groupby("parent_id")["quota_qty"].sum()
    own = (q["quota_qty"] - q["quota_id"].map(taken).fillna(0)).clip(lower=0)

    # Each grid row lands on its deepest quota node.
    rows = pd.DataFrame({"row": np.arange(len(grid)), "family_id": grid["family_id"].to_numpy(),
                         "period_start": grid["period_start"].to_numpy(),
                         "territory_path": grid["territory_path"].to_numpy()})
    rows = rows.merge(_ancestors(rows["territory_path"]), left_on="territory_path", right_on="path")
    rows = rows.merge(q[[*key, "territory_path", "quota_id"]].rename(columns={"territory_path": "ancestor"}),
                      on=[*key, "ancestor"])
    rows = rows.sort_values(["row", "depth"]).drop_duplicates("row", keep="last").sort_values(["quota_id", "row"])
    if len(rows):
        group_of = pd.Index(pd.unique(rows["quota_id"]))
        groups = group_of.get_indexer(rows["quota_id"])
        totals = np.rint(own.to_numpy()[group_of.to_numpy()]).astype(np.int64)
        statistical = grid["statistical"].to_numpy(dtype=float)[rows["row"].to_numpy()]
        shares = spread_groups(groups, totals, current=statistical, fallback=np.ones(len(rows)))
        target[rows["row"].to_numpy()] = shares
    landed = set(rows["quota_id"].unique())
    missing = q[~q["quota_id"].isin(landed) & (own > 0)]
    return target, missing[columns].reset_index(drop=True)


def starting_consensus(grid: pd.DataFrame, previous: pd.DataFrame | None) -> np.ndarray:
    """Whole-unit consensus each grid row starts from (see the module doc). ``previous``:
    ``product_id, territory_id, period_start, consensus`` of the last published cycle."""
    if grid.empty:
        return np.zeros(0, dtype=np.int64)
    carried = np.full(len(grid), np.nan)
    if previous is not None and len(previous):
        merged = grid[["product_id", "territory_id", "period_start"]].merge(
            previous[["product_id", "territory_id", "period_start", "consensus"]],
            on=["product_id", "territory_id", "period_start"], how="left")
        carried = merged["consensus"].to_numpy(dtype=float)
    fresh = np.isnan(carried)
    out = np.where(fresh, 0, np.nan_to_num(carried)).astype(np.int64)
    if fresh.any():
        sub = grid.loc[fresh, ["family_id", "period_start", "statistical"]]
        groups, uniques = pd.factorize(pd.MultiIndex.from_frame(sub[["family_id", "period_start"]]))
        stat = sub["statistical"].to_numpy(dtype=float).clip(min=0)
        totals = np.rint(np.bincount(groups, weights=stat, minlength=len(uniques))).astype(np.int64)
        out[fresh] = spread_groups(groups, totals, current=stat, fallback=np.ones(len(sub)))
    return out


def share_out_feasible(grid: pd.DataFrame, product_feasible: pd.DataFrame) -> np.ndarray:
    """Feasible units per grid row (``grid`` needs ``consensus``; ``product_feasible``:
    ``product_id, period_start, feasible_qty``). NaN for rows of products the run did not plan."""
    if grid.empty:
        return np.zeros(0)
    merged = grid[["product_id", "period_start"]].merge(
        product_feasible[["product_id", "period_start", "feasible_qty"]], on=["product_id", "period_start"],
        how="left")
    groups = pd.factorize(pd.MultiIndex.from_frame(grid[["product_id", "period_start"]]))[0]
    weights = group_weights(groups, grid["consensus"].to_numpy(dtype=float), grid["statistical"].to_numpy(dtype=float))
    sums = np.bincount(groups, weights=weights)
    share = weights / sums[groups]
    return merged["feasible_qty"].to_numpy(dtype=float) * share


def totals_by_node(lines: pd.DataFrame, nodes: pd.DataFrame, *, value: str) -> np.ndarray:
    """For each node row (``family_id, territory_path, period_start``) the sum of ``value``
    over the grain rows of its family and month in its territory's subtree (``lines``:
    ``family_id, territory_path, period_start`` and the value column)."""
    if nodes.empty:
        return np.zeros(0)
    if lines.empty:
        return np.zeros(len(nodes))
    key = ["family_id", "period_start"]
    sums = lines.groupby([*key, "territory_path"], as_index=False)[value].sum()
    up = sums.merge(_ancestors(sums["territory_path"]), left_on="territory_path", right_on="path")
    by_node = up.groupby([*key, "ancestor"], as_index=False)[value].sum().rename(
        columns={"ancestor": "territory_path"})
    merged = nodes[[*key, "territory_path"]].merge(by_node, on=[*key, "territory_path"], how="left")
    return merged[value].fillna(0.0).to_numpy(dtype=float)
