"""The opportunity pipeline as a demand stream: weighted units per product (or family) ×
territory × month, beside the statistical forecast.

Pure calculation (pandas; no Django).

Inputs
------
``deals``: ``external_id, account_id, product_sku`` (None for a family deal), ``family_code``
(the product's family for a product deal), ``territory_code`` (None: no territory),
``quantity``, ``status`` (``open``/``won``/``lost``), ``expected_close_date``,
``requested_delivery_date``, ``probability_used`` (fraction, see ``crm.hit_rates``).
``lines`` (sales order lines that may fulfil won deals): ``account_id, product_sku,
family_code, order_date, quantity, opportunity_external_id`` (None when the line names no deal).

Rules
-----
- Lost deals never count. An open deal counts ``quantity`` at ``probability_used``; a won deal
  counts at 1 until its order lines arrive.
- A won deal's arrived quantity: its labelled lines (``opportunity_external_id`` = its id),
  plus a share of the unlabelled lines of its account and product (its account and family for a
  family deal) ordered on or after its expected close date; unlabelled quantity is given to the
  won deals of that key in close-date order (first closed, first filled). It counts
  ``max(0, quantity − arrived)``.
- The deal's units sit in the month of its requested delivery date.

Outputs
-------
:func:`pipeline_demand` → ``key`` (product SKU, or family code at ``level="family"``),
``territory_code, period_start`` (first day of the month), ``deals, pipeline_units`` (unweighted
remaining units), ``weighted_units``. At product level family deals are left out (they name no
product); at family level product deals count in their family.
:func:`pipeline_beside_forecast` → the forecast rows (``key, territory_code, period_start,
statistical, sales_override, consensus``) outer-joined with the pipeline, plus
``share_explained = weighted_units / statistical`` (None when nothing is forecast).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PIPELINE_COLUMNS = ["key", "territory_code", "period_start", "deals", "pipeline_units", "weighted_units"]
NO_TERRITORY = "\x00none"  # stands in for a missing territory inside group-bys


def _month_start(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.start_time.dt.date


def _none_for_missing(codes: pd.Series) -> pd.Series:
    codes = codes.astype(object)
    return codes.where(codes != NO_TERRITORY, None)


def remaining_quantities(deals: pd.DataFrame, lines: pd.DataFrame) -> pd.Series:
    """Units of each deal still to arrive (index of ``deals``): lost 0, open all, won the rest."""
    qty = deals["quantity"].astype(float)
    remaining = qty.where(deals["status"] != "lost", 0.0).copy()
    won = deals["status"] == "won"
    if not won.any() or lines.empty:
        return remaining
    lines = lines.assign(quantity=lines["quantity"].astype(float))
    labelled = lines["opportunity_external_id"].notna() & (lines["opportunity_external_id"].astype(str) != "")
    by_id = lines[labelled].groupby("opportunity_external_id")["quantity"].sum()
    arrived = deals["external_id"].map(by_id).fillna(0.0).astype(float)
    need = (qty - arrived).clip(lower=0.0).where(won, 0.0)

    loose = lines[~labelled]
    w = deals[won & (need > 0)].copy()
    if len(w) and len(loose):
        w["need"] = need[w.index]
        w["by_family"] = w["product_sku"].isna()
        w["item"] = np.where(w["by_family"], w["family_code"], w["product_sku"])
        w["close"] = pd.to_datetime(w["expected_close_date"])  # datetime64: group minima stay vectorised
        w = w.sort_values(["close", "external_id"])
        for by_family, group in w.groupby("by_family"):
            item_column = "family_code" if by_family else "product_sku"
            pool = loose[["account_id", item_column, "order_date", "quantity"]].rename(columns={item_column: "item"})
            first_close = group.groupby(["account_id", "item"])["close"].min().rename("first_close")
            pool = pool.join(first_close, on=["account_id", "item"], how="inner")
            pool = pool[pd.to_datetime(pool["order_date"]) >= pool["first_close"]]
            supply = pool.groupby(["account_id", "item"])["quantity"].sum()
            keys = pd.MultiIndex.from_frame(group[["account_id", "item"]])
            available = supply.reindex(keys).fillna(0.0).to_numpy()
            cum_need = group.groupby(["account_id", "item"])["need"].cumsum().to_numpy()
            before = cum_need - group["need"].to_numpy()
            filled = np.clip(available - before, 0.0, group["need"].to_numpy())
            need.loc[group.index] = group["need"].to_numpy() - filled
    return remaining.where(~won, need)


def pipeline_demand(deals: pd.DataFrame, lines: pd.DataFrame, *, level: str = "product") -> pd.DataFrame:
    if level not in ("product", "family"):
        raise ValueError("level is 'product' or 'family'")
    if deals.empty:
        return pd.DataFrame(columns=PIPELINE_COLUMNS)
    units = remaining_quantities(deals, lines)
    probability = np.where(deals["status"] == "won", 1.0, deals["probability_used"].astype(float))
    frame = pd.DataFrame(
        {
            "key": deals["product_sku"] if level == "product" else deals["family_code"],
            "territory_code": deals["territory_code"].fillna(NO_TERRITORY),
            "period_start": _month_start(deals["requested_delivery_date"]),
            "pipeline_units": units,
            "weighted_units": units * probability,
        }
    )
    frame = frame[frame["key"].notna() & (frame["pipeline_units"] > 0)]
    if frame.empty:
        return pd.DataFrame(columns=PIPELINE_COLUMNS)
    out = (
        frame.groupby(["key", "territory_code", "period_start"], sort=True)
        .agg(
            deals=("pipeline_units", "size"),
            pipeline_units=("pipeline_units", "sum"),
            weighted_units=("weighted_units", "sum"),
        )
        .reset_index()
    )
    out["territory_code"] = _none_for_missing(out["territory_code"])
    return out[PIPELINE_COLUMNS]


def pipeline_beside_forecast(pipeline: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    keys = ["key", "territory_code", "period_start"]
    left = forecast.assign(territory_code=forecast["territory_code"].fillna(NO_TERRITORY))
    right = pipeline.assign(territory_code=pipeline["territory_code"].fillna(NO_TERRITORY))
    merged = left.merge(right, on=keys, how="outer", sort=True)
    merged["territory_code"] = _none_for_missing(merged["territory_code"])
    for column in ("deals", "pipeline_units", "weighted_units", "statistical"):
        merged[column] = merged[column].astype(float).fillna(0.0)
    statistical = merged["statistical"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = merged["weighted_units"].to_numpy(dtype=float) / statistical
    merged["share_explained"] = pd.Series(share, index=merged.index, dtype=object).where(statistical > 0, None)
    merged["deals"] = merged["deals"].astype(int)
    return merged.reset_index(drop=True)
