"""Supply reconciliation: demand and sales targets against inventory and production capacity.

Pure calculation (numpy, pandas, scipy.sparse; no Django). Everything is computed for all
products × periods at once; Python loops run only over the periods of the horizon.

Inputs (DataFrames; extra columns are ignored, rows outside the horizon are dropped)
------------------------------------------------------------------------------------
``periods``
    The horizon: a sequence of period start dates (first day of each month), in any order.
``products`` — one row per planned product; defines the product universe
    ``product_sku``; ``family_code`` (null: the product is left out of the family frame);
    ``unit_price``, ``unit_cost`` (currency per unit; missing → 0); ``safety_stock`` (units,
    missing → 0); ``max_build_ahead_periods`` (integer ≥ 0, missing → 0: how many periods
    before its requirement a unit may be built and carried in stock).
``demand`` — product × period (duplicate rows, e.g. one per territory, are added up)
    ``product_sku``, ``period_start``, ``demand_qty`` (the consensus plan, or the latest
    statistical forecast until there is one); optional ``forecast_qty`` (statistical forecast,
    defaults to ``demand_qty``) and ``target_qty`` (sales target in units, default 0; kept
    beside the demand for comparison, never used as demand). Negative quantities count as 0.
    A SKU missing from ``products`` raises ``ValueError``.
``opening_inventory`` — any number of rows per product (e.g. one per location), added up
    ``product_sku``; ``on_hand``, ``allocated``, ``on_order`` (missing columns → 0).
    Opening inventory = on hand − allocated + on order: open purchase/production orders are
    assumed to arrive in the first period (kept simple; the snapshot has no due dates).
    It may be negative (allocations above stock) and is then recovered by the requirement.
``routings`` — ``product_sku``, ``work_center_code``, ``hours_per_unit`` (duplicates add up;
    rows of products outside ``products`` are ignored). A product with no routing is not
    capacity constrained (bought in).
``capacity`` — ``work_center_code``, ``period_start``, ``available_hours``. A work center ×
    period without a row has 0 available hours.
``safety_stock`` (optional) — ``product_sku``, ``period_start``, ``safety_stock``: overrides
    ``products.safety_stock`` for the periods given.
``family_quotas`` (optional) — ``family_code``, ``period_start``, ``quota_qty`` (units);
    optional ``territory_code`` (quotas per territory add up to the family quota) and
    ``forecast_qty`` (that territory's forecast for the family, used by the alert rules).
    Without this frame the family quota is the sum of the products' ``target_qty``.

Method
------
1. Unconstrained projection (MRP netting), per product, period by period:
   ``production_required = max(0, demand + safety stock − projected inventory before)``,
   ``projected inventory before(t+1) = before(t) + production_required(t) − demand(t)``.
2. Load: ``load(wc, t) = Σ production_required × hours_per_unit``; utilisation = load /
   available hours.
3. Constrained plan. Each period first serves its own requirement. Fair share rule when
   products compete for scarce hours (max-min fair "progressive filling"): on an overloaded
   work center every product gets the same fraction of its requirement (a proportional cut);
   a product loading several work centers gets the smallest fraction among them, because a
   unit needs its hours on all of them; hours it then leaves unused elsewhere go to the other
   products there. What a period cannot build is pulled into earlier periods with free hours
   on all the product's work centers, nearest period first and at most
   ``max_build_ahead_periods`` back (pre-build, carried in stock). Periods are processed in
   date order, so earlier requirements get first claim on free capacity (earliest due first);
   a pre-build only uses capacity left after that period's own requirement. What still cannot
   be built is the shortfall. Shortfalls are not caught up later: a later period's capacity
   serves its own requirement.
4. Constrained inventory and service, period by period: stock + constrained production
   serves demand (``feasible_qty``); unserved demand is lost, not back-ordered, so it shows
   in the period where it occurs. A shortfall first eats into safety stock, then cuts demand.
5. Families: sums per family × period; gaps against the quota.

The same inputs give the same outputs (no randomness, products and work centers in code
order). Quantities are float64 units; values are float estimates (quantity × unit price or
cost) that the caller rounds to ``Decimal`` when it stores them.

Outputs: ``ReconciliationResult`` (see its docstring for the columns of each frame).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

# Quantities below this are rounding noise, not work or stock.
EPS = 1e-9


@dataclass(frozen=True)
class ReconciliationResult:
    """Result frames, all dense over the horizon and sorted by their keys.

    ``period_start`` values are ``datetime.date``; codes are ``str`` (None where absent);
    quantities are float units, hours float hours, utilisations fractions (1.5 = 150 %).

    ``product_plan`` — product × period (sorted by ``product_sku``, ``period_start``):
        ``product_sku, family_code, period_start, demand_qty, forecast_qty, target_qty,
        unit_price, unit_cost, safety_stock, projected_inventory_before`` (the unconstrained
        projection the requirement is netted against), ``production_required``,
        ``constrained_production`` (what the plan builds in the period: own requirement +
        ``prebuild_qty``),
        ``prebuild_qty`` (built here for later periods), ``pulled_forward_qty`` (this period's
        requirement built in earlier periods), ``shortfall_qty`` (requirement that cannot be
        built; ``production_required = constrained_production − prebuild_qty +
        pulled_forward_qty + shortfall_qty``), ``projected_inventory_after`` (constrained plan,
        end of period, pre-built stock included), ``feasible_qty`` (demand served),
        ``unserved_qty`` (demand − feasible), ``feasible_value``, ``unserved_value`` (× unit
        price), ``inventory_value`` (inventory after × unit cost).
    ``capacity_load`` — work center × period (sorted by ``work_center_code``, ``period_start``):
        ``work_center_code, period_start, available_hours, load_hours`` (unconstrained),
        ``constrained_load_hours``, ``utilisation``, ``constrained_utilisation`` (load /
        available; NaN where nothing is available), ``overload_hours`` (max(0, load −
        available)), ``prebuilt_hours`` (this period's load built earlier), ``shortfall_hours``
        (load of the shortfall of the products routed here), ``free_hours`` (available −
        constrained load), ``shortfall_value`` (shortfall × unit price of products routed here;
        a product on two work centers counts on both).
    ``family_plan`` — family × period (sorted by ``family_code``, ``period_start``):
        ``family_code, period_start, demand_qty, forecast_qty, target_qty, quota_qty`` (family
        quota; NaN where quotas were given but not for this family × period),
        ``feasible_qty, unserved_qty``, ``buildability_gap``
        (quota − feasible), ``quota_above_demand`` (max(0, quota − demand): not asked of the
        plants), ``not_buildable_qty`` (max(0, min(quota, demand) − feasible): the part of the
        quota the plants cannot supply), ``unit_price`` (demand-weighted over the horizon).
    ``quotas`` — the quota rows used: ``family_code, territory_code`` (None for family level),
        ``period_start, quota_qty, forecast_qty`` (NaN where not given).
    """

    periods: tuple[dt.date, ...]
    product_plan: pd.DataFrame
    capacity_load: pd.DataFrame
    family_plan: pd.DataFrame
    quotas: pd.DataFrame


def reconcile(
    *,
    periods: Sequence[dt.date],
    products: pd.DataFrame,
    demand: pd.DataFrame,
    opening_inventory: pd.DataFrame,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    safety_stock: pd.DataFrame | None = None,
    family_quotas: pd.DataFrame | None = None,
) -> ReconciliationResult:
    """Reconcile demand against inventory and capacity over ``periods`` (see module doc)."""
    horizon = _horizon(periods)
    n_t = len(horizon)

    skus = pd.Index(sorted(products["product_sku"].astype(str).unique()), name="product_sku")
    prod = (
        products.assign(product_sku=products["product_sku"].astype(str))
        .drop_duplicates("product_sku")
        .set_index("product_sku")
        .reindex(skus)
    )
    n_p = len(skus)
    price = _numeric(prod, "unit_price")
    cost = _numeric(prod, "unit_cost")
    build_ahead = np.maximum(_numeric(prod, "max_build_ahead_periods"), 0).astype(np.int64)
    family = prod["family_code"] if "family_code" in prod else pd.Series(None, index=skus)

    # --- demand, forecast, target per product × period ------------------------------
    p_idx = skus.get_indexer(demand["product_sku"].astype(str))
    if (p_idx < 0).any():
        unknown = sorted(set(demand["product_sku"].astype(str)[p_idx < 0]))[:5]
        raise ValueError(f"demand rows for products not in `products`: {unknown}")
    t_idx = _period_index(demand["period_start"], horizon)
    qty = np.maximum(_numeric(demand, "demand_qty"), 0)
    fcst = np.maximum(_numeric(demand, "forecast_qty", default=qty), 0)
    tgt = np.maximum(_numeric(demand, "target_qty"), 0)
    d = _dense(p_idx, t_idx, qty, n_p, n_t)
    f = _dense(p_idx, t_idx, fcst, n_p, n_t)
    g = _dense(p_idx, t_idx, tgt, n_p, n_t)

    # --- safety stock per product × period ------------------------------------------
    ss = np.repeat(np.maximum(_numeric(prod, "safety_stock"), 0)[:, None], n_t, axis=1)
    if safety_stock is not None and len(safety_stock):
        sp = skus.get_indexer(safety_stock["product_sku"].astype(str))
        st = _period_index(safety_stock["period_start"], horizon)
        ok = (sp >= 0) & (st >= 0)
        ss[sp[ok], st[ok]] = np.maximum(_numeric(safety_stock, "safety_stock")[ok], 0)

    # --- opening inventory --------------------------------------------------------------
    inv_p = skus.get_indexer(opening_inventory["product_sku"].astype(str))
    ok = inv_p >= 0
    opening_rows = (
        _numeric(opening_inventory, "on_hand")
        - _numeric(opening_inventory, "allocated")
        + _numeric(opening_inventory, "on_order")
    )
    opening = np.bincount(inv_p[ok], weights=opening_rows[ok], minlength=n_p)

    # --- work centers, routings, capacity -----------------------------------------------
    wcs = pd.Index(
        sorted(set(routings["work_center_code"].astype(str)) | set(capacity["work_center_code"].astype(str))),
        name="work_center_code",
    )
    n_w = len(wcs)
    rp = skus.get_indexer(routings["product_sku"].astype(str))
    rw = wcs.get_indexer(routings["work_center_code"].astype(str))
    hours = _numeric(routings, "hours_per_unit")
    ok = (rp >= 0) & (hours > 0)
    # H[p, w] = hours of work center w per unit of product p (duplicates add up).
    h = sparse.csr_matrix((hours[ok], (rp[ok], rw[ok])), shape=(n_p, n_w))
    h.sum_duplicates()
    routing = _Routing(h)

    cw = wcs.get_indexer(capacity["work_center_code"].astype(str))
    ct = _period_index(capacity["period_start"], horizon)
    available = _dense(cw, ct, np.maximum(_numeric(capacity, "available_hours"), 0), n_w, n_t)

    # --- 1. unconstrained projection -----------------------------------------------------
    inv_before = np.empty((n_p, n_t))
    required = np.empty((n_p, n_t))
    stock = opening.copy()
    for t in range(n_t):
        inv_before[:, t] = stock
        required[:, t] = np.maximum(0.0, d[:, t] + ss[:, t] - stock)
        stock = stock + required[:, t] - d[:, t]

    # --- 3. constrained plan ----------------------------------------------------------------
    own, prebuild, pulled, shortfall = _constrained_plan(required, available, build_ahead, routing)
    production = own + prebuild

    # --- 4. constrained inventory and service ---------------------------------------------
    inv_after = np.empty((n_p, n_t))
    served = np.empty((n_p, n_t))
    stock = opening.copy()
    for t in range(n_t):
        on_hand = stock + production[:, t]
        served[:, t] = np.clip(on_hand, 0.0, d[:, t])
        stock = on_hand - served[:, t]
        inv_after[:, t] = stock
    unserved = d - served

    product_plan = pd.DataFrame(
        {
            "product_sku": np.repeat(skus.to_numpy(dtype=object), n_t),
            "family_code": np.repeat(_codes_or_none(family), n_t),
            "period_start": np.tile(np.array(horizon, dtype=object), n_p),
            "demand_qty": d.ravel(),
            "forecast_qty": f.ravel(),
            "target_qty": g.ravel(),
            "unit_price": np.repeat(price, n_t),
            "unit_cost": np.repeat(cost, n_t),
            "safety_stock": ss.ravel(),
            "projected_inventory_before": inv_before.ravel(),
            "production_required": required.ravel(),
            "constrained_production": production.ravel(),
            "prebuild_qty": prebuild.ravel(),
            "pulled_forward_qty": pulled.ravel(),
            "shortfall_qty": shortfall.ravel(),
            "projected_inventory_after": inv_after.ravel(),
            "feasible_qty": served.ravel(),
            "unserved_qty": unserved.ravel(),
            "feasible_value": (served * price[:, None]).ravel(),
            "unserved_value": (unserved * price[:, None]).ravel(),
            "inventory_value": (inv_after * cost[:, None]).ravel(),
        }
    )

    # --- 2. loads per work center × period ----------------------------------------------
    load = routing.hours(required)
    constrained_load = routing.hours(production)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(available > 0, load / available, np.nan)
        c_util = np.where(available > 0, constrained_load / available, np.nan)
    capacity_load = pd.DataFrame(
        {
            "work_center_code": np.repeat(wcs.to_numpy(dtype=object), n_t),
            "period_start": np.tile(np.array(horizon, dtype=object), n_w),
            "available_hours": available.ravel(),
            "load_hours": load.ravel(),
            "constrained_load_hours": constrained_load.ravel(),
            "utilisation": util.ravel(),
            "constrained_utilisation": c_util.ravel(),
            "overload_hours": np.maximum(load - available, 0.0).ravel(),
            "prebuilt_hours": routing.hours(pulled).ravel(),
            "shortfall_hours": routing.hours(shortfall).ravel(),
            "free_hours": np.maximum(available - constrained_load, 0.0).ravel(),
            "shortfall_value": (routing.incidence_t @ (shortfall * price[:, None])).ravel(),
        }
    )

    # --- 5. families -------------------------------------------------------------------------
    quotas = _normalise_quotas(family_quotas, horizon)
    family_plan = _family_plan(
        family=family,
        horizon=horizon,
        demand=d,
        forecast=f,
        target=g,
        served=served,
        price=price,
        quotas=quotas if family_quotas is not None else None,
    )
    if family_quotas is None:
        # Family level quota = the sum of the products' sales targets (documented fallback).
        quotas = family_plan.loc[:, ["family_code", "period_start", "quota_qty"]].assign(
            territory_code=None, forecast_qty=np.nan
        )[["family_code", "territory_code", "period_start", "quota_qty", "forecast_qty"]]

    return ReconciliationResult(
        periods=tuple(horizon),
        product_plan=product_plan,
        capacity_load=capacity_load,
        family_plan=family_plan,
        quotas=quotas.reset_index(drop=True),
    )


# ---------------------------------------------------------------------------------------
# Constrained plan
# ---------------------------------------------------------------------------------------


class _Routing:
    """The routing matrix in the shapes the allocation needs (built once per run)."""

    def __init__(self, h: sparse.csr_matrix) -> None:
        self.h_t = h.T.tocsr()  # (W, P): hours = h_t @ units
        incidence = h.copy()
        incidence.data[:] = 1.0
        self.incidence = incidence  # (P, W): which work centers a product loads
        self.incidence_t = incidence.T.tocsr()
        self.routed = np.diff(h.indptr) > 0  # products that load at least one work center

    def hours(self, units: np.ndarray) -> np.ndarray:
        return np.asarray(self.h_t @ units)


def _allocate(wanted: np.ndarray, free: np.ndarray, routing: _Routing) -> np.ndarray:
    """Units each product may build, column by column, with max-min fair shares.

    ``wanted`` is (P, k) units, ``free`` (W, k) hours; columns are independent (periods).
    Progressive filling: find the tightest work center (free hours / hours still wanted);
    every product still open that loads it gets that fraction of its wish and is closed;
    repeat with the hours left. A product is thus limited by its tightest work center, and
    products sharing a bottleneck are cut in the same proportion.
    """
    granted = np.where(routing.routed[:, None], 0.0, wanted)
    open_ = routing.routed[:, None] & (wanted > EPS)
    left = free.astype(float).copy()
    while open_.any():
        still = np.where(open_, wanted, 0.0)
        load = routing.hours(still)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(load > EPS, np.maximum(left, 0.0) / load, np.inf)
        tightest = ratio.min(axis=0)
        short = tightest < 1.0
        # In a column where every open wish fits, all open products are served in full.
        bottleneck = (ratio <= tightest * (1.0 + 1e-12)) & short[None, :]
        hit = np.asarray(routing.incidence @ bottleneck.astype(float)) > 0
        closing = open_ & (hit | ~short[None, :])
        give = np.where(closing, wanted * np.minimum(tightest, 1.0)[None, :], 0.0)
        granted += give
        left -= routing.hours(give)
        open_ &= ~closing
    return granted


def _constrained_plan(
    required: np.ndarray, available: np.ndarray, build_ahead: np.ndarray, routing: _Routing
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the requirement into own-period production, pre-build and shortfall.

    Returns (own, prebuild, pulled_forward, shortfall), each (P, T): ``own`` is built in its
    own period, ``prebuild[:, s]`` is built in s for later periods, ``pulled_forward[:, t]`` is
    the part of t's requirement built earlier, ``shortfall`` what cannot be built.
    """
    n_t = required.shape[1]
    own = _allocate(required, available, routing)  # every period at once: independent
    free = available - routing.hours(own)
    unmet = np.maximum(required - own, 0.0)
    prebuild = np.zeros_like(required)
    pulled = np.zeros_like(required)
    max_back = int(build_ahead.max(initial=0))
    for t in range(1, n_t):
        need = unmet[:, t].copy()
        for back in range(1, min(t, max_back) + 1):
            # Eligibility only shrinks as we go further back, so stop when nobody is left.
            wish = np.where(build_ahead >= back, need, 0.0)
            if wish.max(initial=0.0) <= EPS:
                break
            s = t - back
            got = _allocate(wish[:, None], free[:, s : s + 1], routing)[:, 0]
            free[:, s] -= routing.hours(got)
            prebuild[:, s] += got
            pulled[:, t] += got
            need -= got
        unmet[:, t] = np.maximum(need, 0.0)
    return own, prebuild, pulled, unmet


# ---------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------


NO_TERRITORY = "\x01"


def _normalise_quotas(family_quotas: pd.DataFrame | None, horizon: list[dt.date]) -> pd.DataFrame:
    columns = ["family_code", "territory_code", "period_start", "quota_qty", "forecast_qty"]
    if family_quotas is None or not len(family_quotas):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    t_idx = _period_index(family_quotas["period_start"], horizon)
    keep = t_idx >= 0
    fq = family_quotas.loc[keep]
    territory = _codes_or_none(fq["territory_code"]) if "territory_code" in fq else np.full(len(fq), None, dtype=object)
    out = pd.DataFrame(
        {
            "family_code": fq["family_code"].astype(str).to_numpy(dtype=object),
            "territory_code": territory,
            "period_start": np.array(horizon, dtype=object)[t_idx[keep]],
            "quota_qty": _numeric(fq, "quota_qty"),
            "forecast_qty": _numeric(fq, "forecast_qty", default=np.full(len(fq), np.nan)),
        }
    )
    # One row per family × territory × period (duplicates add up; NaN forecasts stay NaN).
    # "\x01" stands for "no territory" while grouping (sorts first; not NUL, which pandas'
    # Arrow-backed strings cut off).
    grouped = out.assign(territory_code=out["territory_code"].fillna(NO_TERRITORY)).groupby(
        ["family_code", "territory_code", "period_start"], sort=True
    )
    out = grouped[["quota_qty", "forecast_qty"]].sum(min_count=1).reset_index()
    out["territory_code"] = out["territory_code"].astype(object).where(out["territory_code"] != NO_TERRITORY, None)
    return out[columns]


def _family_plan(
    *,
    family: pd.Series,
    horizon: list[dt.date],
    demand: np.ndarray,
    forecast: np.ndarray,
    target: np.ndarray,
    served: np.ndarray,
    price: np.ndarray,
    quotas: pd.DataFrame | None,
) -> pd.DataFrame:
    n_t = len(horizon)
    fam_codes = family.astype(object).where(family.notna(), None).to_numpy()
    names = {str(c) for c in fam_codes if c is not None}
    if quotas is not None:
        names |= set(quotas["family_code"])
    families = pd.Index(sorted(names), name="family_code")
    n_f = len(families)
    has_family = np.array([c is not None for c in fam_codes], dtype=bool)
    f_idx = np.full(len(fam_codes), -1)
    if has_family.any():
        f_idx[has_family] = families.get_indexer([str(c) for c in fam_codes[has_family]])
    rows = np.flatnonzero(has_family)
    # M[f, p] = 1 when product p belongs to family f.
    m = sparse.csr_matrix((np.ones(len(rows)), (f_idx[rows], rows)), shape=(n_f, len(fam_codes)))

    def per_family(x: np.ndarray) -> np.ndarray:
        return np.asarray(m @ x)

    fd, ff, fg, fs = (per_family(x) for x in (demand, forecast, target, served))
    if quotas is None:
        quota = fg.copy()
    else:
        quota = np.full((n_f, n_t), np.nan)
        if len(quotas):
            qf = families.get_indexer(quotas["family_code"])
            qt = _period_index(quotas["period_start"], horizon)
            flat = np.bincount(qf * n_t + qt, weights=quotas["quota_qty"].to_numpy(float), minlength=n_f * n_t).reshape(
                n_f, n_t
            )
            seen = np.bincount(qf * n_t + qt, minlength=n_f * n_t).reshape(n_f, n_t) > 0
            quota[seen] = flat[seen]

    # Demand-weighted unit price over the horizon; plain mean for families without demand.
    demand_value = per_family((demand * price[:, None]).sum(axis=1))
    demand_total = fd.sum(axis=1)
    members = per_family(np.ones(len(fam_codes)))
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_price = np.where(
            demand_total > EPS,
            demand_value / np.where(demand_total > EPS, demand_total, 1.0),
            per_family(price) / np.where(members > 0, members, np.nan),
        )
    return pd.DataFrame(
        {
            "family_code": np.repeat(families.to_numpy(dtype=object), n_t),
            "period_start": np.tile(np.array(horizon, dtype=object), n_f),
            "demand_qty": fd.ravel(),
            "forecast_qty": ff.ravel(),
            "target_qty": fg.ravel(),
            "quota_qty": quota.ravel(),
            "feasible_qty": fs.ravel(),
            "unserved_qty": (fd - fs).ravel(),
            "buildability_gap": (quota - fs).ravel(),
            "quota_above_demand": np.maximum(quota - fd, 0.0).ravel(),
            "not_buildable_qty": np.maximum(np.fmin(quota, fd) - fs, 0.0).ravel(),
            "unit_price": np.repeat(unit_price, n_t),
        }
    )


# ---------------------------------------------------------------------------------------
# Input helpers
# ---------------------------------------------------------------------------------------


def _horizon(periods: Sequence[dt.date]) -> list[dt.date]:
    horizon = sorted({pd.Timestamp(p).date() for p in periods})
    if not horizon:
        raise ValueError("the horizon has no periods")
    return horizon


def _period_index(values: pd.Series, horizon: list[dt.date]) -> np.ndarray:
    """Position of each value in the horizon, −1 when outside it.

    Converts only the distinct values (few) instead of every row.
    """
    codes, uniques = pd.factorize(values)
    position = {p: i for i, p in enumerate(horizon)}
    lookup = np.array([position.get(pd.Timestamp(u).date(), -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # code −1 (missing) maps to the trailing −1


def _numeric(frame: pd.DataFrame, column: str, default: np.ndarray | float = 0.0) -> np.ndarray:
    if column not in frame:
        return np.broadcast_to(np.asarray(default, dtype=float), (len(frame),)).copy()
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    fallback = np.broadcast_to(np.asarray(default, dtype=float), values.shape)
    return np.where(np.isnan(values), fallback, values)


def _dense(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_r: int, n_c: int) -> np.ndarray:
    ok = (rows >= 0) & (cols >= 0)
    flat = np.bincount(rows[ok] * n_c + cols[ok], weights=values[ok], minlength=n_r * n_c)
    return flat.reshape(n_r, n_c)


def _codes_or_none(values: pd.Series) -> np.ndarray:
    out = values.astype(object).to_numpy()
    missing = pd.isna(out)
    out = np.array([str(v) for v in out], dtype=object)
    out[missing] = None
    return out
