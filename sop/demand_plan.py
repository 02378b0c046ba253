"""The demand plan of an S&OP cycle: how its measures are derived at the forecast's grain.

Pure calculation (numpy, pandas; no Django). The grain is product × territory × month; a
``grid`` frame holds one row per grain row with at least ``product_id``, ``territory_id``
(empty: the product's sales credited to no territory, a series of its own), ``family_id``,
``territory_path`` (the territory's materialised path, ``/R/D/T/``; empty with the territory),
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

Months may be ``datetime.date`` or ``datetime64`` values, the same kind in every frame given
to one function (a new cycle passes ``datetime64``).

Beside the measures, ``family_territory_actuals`` sums the sales history to the family ×
territory × month rows a cycle stores for its demand review chart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.calendar import month_ordinal, month_ordinals
from sop.spread import group_weights, spread_groups


def _territories(ids: pd.Series) -> pd.arrays.IntegerArray:
    """Territory ids as nullable integers: the rows of no territory (empty) match each other
    in a merge, and only each other."""
    return pd.Series(ids).astype("Int64").array


def seasonal_naive(grid: pd.DataFrame, history: pd.DataFrame, *, last_history_month) -> np.ndarray:
    """Seasonal-naive units for each grid row (see the module doc)."""
    if grid.empty:
        return np.zeros(0)
    last = month_ordinal(last_history_month)
    target = month_ordinals(grid["period_start"])
    years_back = np.maximum(1, np.ceil((target - last) / 12).astype(np.int64))
    source = target - 12 * years_back
    keys = pd.DataFrame(
        {
            "product_id": grid["product_id"].to_numpy(),
            "territory_id": _territories(grid["territory_id"]),
            "month": source,
        }
    )
    if history.empty:
        return np.zeros(len(grid))
    hist = pd.DataFrame(
        {
            "product_id": history["product_id"].to_numpy(),
            "territory_id": _territories(history["territory_id"]),
            "month": month_ordinals(history["period_start"]),
            "units": history["units"].astype(float).to_numpy(),
        }
    )
    hist = hist.groupby(["product_id", "territory_id", "month"], as_index=False, dropna=False)["units"].sum()
    merged = keys.merge(hist, on=["product_id", "territory_id", "month"], how="left")
    return merged["units"].fillna(0.0).clip(lower=0).to_numpy()


def _ancestors(paths: pd.Series) -> pd.DataFrame:
    """Each path with each of its ancestor paths (itself included): ``path, ancestor, depth``.
    Empty paths (rows of no territory) have none."""
    unique = pd.unique(paths.dropna())
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
    nested = (
        q[[*key, "territory_path", "quota_id", "quota_qty"]]
        .merge(up, left_on="territory_path", right_on="path")
        .merge(
            q[[*key, "territory_path", "quota_id"]].rename(
                columns={"territory_path": "ancestor", "quota_id": "parent_id"}
            ),
            on=[*key, "ancestor"],
        )
    )
    nested = nested.sort_values("depth").drop_duplicates("quota_id", keep="last")  # nearest quota above
    taken = nested.groupby("parent_id")["quota_qty"].sum()
    own = (q["quota_qty"] - q["quota_id"].map(taken).fillna(0)).clip(lower=0)

    # Each grid row lands on its deepest quota node. Resolved once per family × month ×
    # territory (a few thousand cells), not per row (a few hundred thousand).
    cell_keys = grid[[*key, "territory_path"]]
    cell_of_row = cell_keys.groupby([*key, "territory_path"], sort=False, dropna=False).ngroup().to_numpy()
    cells = cell_keys.assign(cell=cell_of_row).drop_duplicates("cell").dropna(subset=["territory_path"])
    cells = cells.merge(_ancestors(cells["territory_path"]), left_on="territory_path", right_on="path")
    cells = cells.merge(
        q[[*key, "territory_path", "quota_id"]].rename(columns={"territory_path": "ancestor"}), on=[*key, "ancestor"]
    )
    cells = cells.sort_values(["cell", "depth"]).drop_duplicates("cell", keep="last")
    quota_of_cell = np.full(int(cell_of_row.max()) + 1, -1, dtype=np.int64)
    quota_of_cell[cells["cell"].to_numpy()] = cells["quota_id"].to_numpy()
    quota_of_row = quota_of_cell[cell_of_row]
    landed_rows = np.flatnonzero(quota_of_row >= 0)
    # Rows in quota order, then row order (the order the spread's ties are broken by).
    landed_rows = landed_rows[np.lexsort((landed_rows, quota_of_row[landed_rows]))]
    if len(landed_rows):
        group_of, groups = np.unique(quota_of_row[landed_rows], return_inverse=True)
        totals = np.rint(own.to_numpy()[group_of]).astype(np.int64)
        statistical = grid["statistical"].to_numpy(dtype=float)[landed_rows]
        shares = spread_groups(groups, totals, current=statistical, fallback=np.ones(len(landed_rows)))
        target[landed_rows] = shares
    landed = set(np.unique(quota_of_row[landed_rows]).tolist())
    missing = q[~q["quota_id"].isin(landed) & (own > 0)]
    return target, missing[columns].reset_index(drop=True)


def starting_consensus(grid: pd.DataFrame, previous: pd.DataFrame | None) -> np.ndarray:
    """Whole-unit consensus each grid row starts from (see the module doc). ``previous``:
    ``product_id, territory_id, period_start, consensus`` of the last published cycle."""
    if grid.empty:
        return np.zeros(0, dtype=np.int64)
    carried = np.full(len(grid), np.nan)
    if previous is not None and len(previous):
        key = ["product_id", "territory_id", "period_start"]
        merged = (
            grid[key]
            .assign(territory_id=_territories(grid["territory_id"]))
            .merge(
                previous[[*key, "consensus"]].assign(territory_id=_territories(previous["territory_id"])),
                on=key,
                how="left",
            )
        )
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
        product_feasible[["product_id", "period_start", "feasible_qty"]], on=["product_id", "period_start"], how="left"
    )
    groups = pd.factorize(pd.MultiIndex.from_frame(grid[["product_id", "period_start"]]))[0]
    weights = group_weights(groups, grid["consensus"].to_numpy(dtype=float), grid["statistical"].to_numpy(dtype=float))
    sums = np.bincount(groups, weights=weights)
    share = weights / sums[groups]
    return merged["feasible_qty"].to_numpy(dtype=float) * share


def family_territory_actuals(sales: pd.DataFrame, *, families: pd.Series, regions: pd.Series) -> pd.DataFrame:
    """Units per family × territory × month (``family_id, territory_id, region_id,
    period_start, units``) from ``sales`` (``product_id, territory_id, period_start, units``).
    ``families``: product id → family id; ``regions``: territory id → region id. Lines of no
    territory (or of a territory no longer known) keep an empty territory and region; lines
    of an unknown product are left out."""
    columns = ["family_id", "territory_id", "region_id", "period_start", "units"]
    if sales.empty:
        return pd.DataFrame({c: pd.Series([], dtype="Int64" if c.endswith("_id") else "float64") for c in columns})
    frame = pd.DataFrame(
        {
            "family_id": sales["product_id"].map(families).astype("Int64"),
            "territory_id": sales["territory_id"].astype("Int64"),
            "period_start": sales["period_start"],
            "units": sales["units"].astype(float),
        }
    )
    frame = frame[frame["family_id"].notna()]
    out = frame.groupby(["family_id", "territory_id", "period_start"], as_index=False, dropna=False, sort=True)[
        "units"
    ].sum()
    out["region_id"] = out["territory_id"].map(regions).astype("Int64")
    out.loc[out["region_id"].isna(), "territory_id"] = pd.NA
    out = out.groupby(
        ["family_id", "territory_id", "region_id", "period_start"], as_index=False, dropna=False, sort=True
    )["units"].sum()
    return out[columns]


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
    by_node = up.groupby([*key, "ancestor"], as_index=False)[value].sum().rename(columns={"ancestor": "territory_path"})
    merged = nodes[[*key, "territory_path"]].merge(by_node, on=[*key, "territory_path"], how="left")
    return merged[value].fillna(0.0).to_numpy(dtype=float)
