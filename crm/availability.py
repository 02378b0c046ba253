"""Available-to-promise and capable-to-promise, lite: "can we deliver N units of X by date D?"

Pure calculation (pandas/numpy; no Django).

Inputs (all from the latest plan run)
-------------------------------------
``plan``: the product's plan lines — ``period_start`` (first day of each month of the
horizon), ``projected_inventory_after`` (units at the end of the month, after the demand the
plan already serves and its own production), ``safety_stock``.
``routing``: ``work_center_code, hours_per_unit`` (the product's routing; empty: not made here).
``capacity``: ``work_center_code, period_start, free_hours`` (hours left after the plan's load).
``quantity``, ``date``; ``as_of`` (the plan's date: nothing is earlier than it).

Rules (buckets are months: a unit planned in a month counts as available on any day of it)
----------------------------------------------------------------------------------------
- Free stock in month p: ``max(0, min over months t ≥ p of (projected_inventory_after(t) −
  safety_stock(t)))`` — taking it never pushes a later month below safety stock (the
  committed demand keeps its units).
- Extra production in month p: ``min over the routing's work centers of free_hours / hours
  per unit`` (0 without a routing, or for a work center with no capacity row); it adds up
  over the months.
- Available in month p = free stock(p) + extra production up to p (never decreases).
- ``available_by_date`` = min(quantity, available in the month of ``date``); a date before the
  horizon gets 0, one after it the last month's figure.
- ``earliest_full_date`` = the first month whose availability covers ``quantity`` (its first
  day, or ``as_of`` if later); None when no month of the horizon does.
- ``constrained_by`` (None when the quantity is available by ``date``): a product without a
  routing is limited by ``inventory`` (code: the SKU); otherwise by the work center whose free
  capacity up to ``date`` makes the fewest units (code: the work center).
Deals do not reserve against each other (lite).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Availability:
    product_sku: str
    quantity: float
    date: dt.date
    available_by_date: float
    earliest_full_date: dt.date | None
    constrained_by: dict | None  # {"kind": "inventory"|"work_center", "code": str}

    @property
    def deliverable(self) -> bool:
        return self.constrained_by is None


@dataclass(frozen=True)
class Curve:
    """What one product can make available, month by month (see the module doc)."""

    product_sku: str
    periods: list[dt.date]
    available: np.ndarray  # free stock + cumulated extra production, per month
    units_by_work_center: dict[str, np.ndarray]  # extra units each work center could make, per month


def free_hours_table(capacity: pd.DataFrame) -> pd.DataFrame:
    """Free hours by month (rows) × work center (columns), for :func:`availability_curve`."""
    if capacity.empty:
        return pd.DataFrame()
    return capacity.pivot_table(index="period_start", columns="work_center_code", values="free_hours", aggfunc="sum")


def availability_curve(
    *,
    product_sku: str,
    plan: pd.DataFrame,
    routing: pd.DataFrame,
    capacity: pd.DataFrame | None = None,
    free: pd.DataFrame | None = None,
) -> Curve:
    """The product's curve; give ``capacity`` rows, or ``free`` (:func:`free_hours_table`) when
    many products share one plan."""
    plan = plan.sort_values("period_start").reset_index(drop=True)
    periods = list(plan["period_start"])
    n = len(periods)
    slack = (plan["projected_inventory_after"].astype(float) - plan["safety_stock"].astype(float)).to_numpy()
    free_stock = np.maximum(0.0, np.minimum.accumulate(slack[::-1])[::-1]) if n else np.zeros(0)
    units_by_wc: dict[str, np.ndarray] = {}
    if len(routing) and n:
        if free is None:
            free = free_hours_table(capacity)
        for wc, hours in zip(routing["work_center_code"], routing["hours_per_unit"].astype(float), strict=True):
            hours_free = free[wc].reindex(periods) if wc in free.columns else pd.Series(0.0, index=periods)
            hours_free = hours_free.fillna(0.0).clip(lower=0.0).to_numpy(dtype=float)
            units_by_wc[wc] = hours_free / hours if hours > 0 else np.full(n, np.inf)
        build = np.min(np.vstack(list(units_by_wc.values())), axis=0)
    else:
        build = np.zeros(n)
    return Curve(product_sku, periods, free_stock + np.cumsum(build), units_by_wc)


def answer(curve: Curve, *, quantity: float, date: dt.date, as_of: dt.date) -> Availability:
    """The availability of ``quantity`` by ``date`` on a product's curve."""
    quantity = float(quantity)
    periods, available = curve.periods, curve.available
    if not periods:
        return Availability(
            curve.product_sku, quantity, date, 0.0, None, {"kind": "inventory", "code": curve.product_sku}
        )
    month = dt.date(date.year, date.month, 1)
    position = (
        int(np.searchsorted(np.array(periods, dtype="datetime64[D]"), np.datetime64(month, "D"), side="right")) - 1
    )
    by_date = float(available[position]) if position >= 0 else 0.0
    by_date = round(min(quantity, by_date), 3)
    full = np.flatnonzero(available >= quantity - 1e-9)
    earliest = max(periods[full[0]], as_of) if len(full) else None
    constrained = None
    if by_date < quantity - 1e-9:
        if not curve.units_by_work_center:
            constrained = {"kind": "inventory", "code": curve.product_sku}
        else:
            upto = max(position, 0) + 1
            totals = {wc: float(np.sum(units[:upto])) for wc, units in curve.units_by_work_center.items()}
            constrained = {"kind": "work_center", "code": min(sorted(totals), key=totals.get)}
    return Availability(curve.product_sku, quantity, date, by_date, earliest, constrained)


def availability(
    *,
    product_sku: str,
    quantity: float,
    date: dt.date,
    as_of: dt.date,
    plan: pd.DataFrame,
    routing: pd.DataFrame,
    capacity: pd.DataFrame,
) -> Availability:
    """One question on one product (see the module doc)."""
    curve = availability_curve(product_sku=product_sku, plan=plan, routing=routing, capacity=capacity)
    return answer(curve, quantity=quantity, date=date, as_of=as_of)


def deals_at_risk(
    *,
    deals: pd.DataFrame,
    plan: pd.DataFrame,
    routing: pd.DataFrame,
    capacity: pd.DataFrame,
    as_of: dt.date,
    min_probability: float = 0.5,
) -> pd.DataFrame:
    """Open product deals with ``probability_used ≥ min_probability`` that cannot be delivered by
    their requested date. ``deals``: ``external_id, product_sku, quantity,
    requested_delivery_date, probability_used`` (other columns pass through); ``plan``,
    ``routing``, ``capacity`` as above with a ``product_sku`` column on ``plan`` and ``routing``.
    Returns the deals at risk with ``available_by_date, earliest_full_date, constraint_kind,
    constraint_code`` — the same answers as :func:`answer`, computed for all products at once
    (products × months matrices)."""
    columns = [*deals.columns, "available_by_date", "earliest_full_date", "constraint_kind", "constraint_code"]
    candidates = deals[(deals["probability_used"].astype(float) >= min_probability) & deals["product_sku"].notna()]
    candidates = candidates[candidates["product_sku"].isin(set(plan["product_sku"]))]
    if candidates.empty:
        return pd.DataFrame(columns=columns)
    months = sorted(set(plan["period_start"]))
    month_index = pd.Index(months)
    skus = pd.Index(sorted(set(candidates["product_sku"])))
    plan = plan[plan["product_sku"].isin(skus)]
    n_p, n_m = len(skus), len(months)
    # free stock: suffix minimum of the slack over the months, never below zero
    slack = np.full((n_p, n_m), np.inf)
    slack[skus.get_indexer(plan["product_sku"]), month_index.get_indexer(plan["period_start"])] = (
        plan["projected_inventory_after"].astype(float).to_numpy() - plan["safety_stock"].astype(float).to_numpy()
    )
    free_stock = np.maximum(0.0, np.minimum.accumulate(slack[:, ::-1], axis=1)[:, ::-1])
    free_stock[np.isinf(free_stock)] = 0.0
    # extra production: per route, free hours / hours per unit; per product the least of its routes
    routes = routing[routing["product_sku"].isin(skus)].sort_values(["product_sku", "work_center_code"])
    free = free_hours_table(capacity).reindex(index=months)
    free_matrix = (
        np.vstack([np.zeros(n_m), free.fillna(0.0).clip(lower=0.0).to_numpy(dtype=float).T])
        if len(free.columns)
        else np.zeros((1, n_m))
    )
    column = pd.Index(free.columns).get_indexer(routes["work_center_code"]) + 1  # 0: no capacity row
    hours = routes["hours_per_unit"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        route_units = np.where(hours[:, None] > 0, free_matrix[column] / hours[:, None], np.inf)
    route_product = skus.get_indexer(routes["product_sku"])
    build = np.zeros((n_p, n_m))
    if len(routes):
        starts = np.flatnonzero(np.r_[True, route_product[1:] != route_product[:-1]])
        build[route_product[starts]] = np.minimum.reduceat(route_units, starts, axis=0)
    available = free_stock + np.cumsum(build, axis=1)

    p = skus.get_indexer(candidates["product_sku"])
    qty = candidates["quantity"].astype(float).to_numpy()
    month_of = np.array([np.datetime64(d.replace(day=1), "D") for d in candidates["requested_delivery_date"]])
    pos = np.searchsorted(np.array(months, dtype="datetime64[D]"), month_of, side="right") - 1
    by_date = np.where(pos >= 0, available[p, pos.clip(0)], 0.0)
    by_date = np.round(np.minimum(qty, by_date), 3)
    short = by_date < qty - 1e-9
    if not short.any():
        return pd.DataFrame(columns=columns)
    covered = available[p] >= qty[:, None] - 1e-9
    first = covered.argmax(axis=1)
    out = candidates[short].copy()
    out["available_by_date"] = by_date[short]
    out["earliest_full_date"] = [
        max(months[f], as_of) if ok else None for f, ok in zip(first[short], covered.any(axis=1)[short], strict=True)
    ]
    kinds, codes = [], []
    cum_route = np.cumsum(route_units, axis=1)
    wc_codes = routes["work_center_code"].to_numpy(dtype=object)
    first_route = np.searchsorted(route_product, np.arange(n_p), side="left")
    last_route = np.searchsorted(route_product, np.arange(n_p), side="right")
    for product, at, sku in zip(p[short], pos[short], out["product_sku"], strict=True):
        mine = np.arange(first_route[product], last_route[product])
        if not len(mine):
            kinds.append("inventory")
            codes.append(sku)
            continue
        totals = cum_route[mine, max(at, 0)]
        best = min(range(len(mine)), key=lambda k: (totals[k], wc_codes[mine[k]]))
        kinds.append("work_center")
        codes.append(wc_codes[mine[best]])
    out["constraint_kind"] = kinds
    out["constraint_code"] = codes
    return out[columns].reset_index(drop=True)
