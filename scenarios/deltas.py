"""What-if scenarios as deltas: check a scenario's changes, and apply them to the inputs of
the reconciliation in memory (pure: pandas/numpy, no Django).

A scenario never copies plan data. It is a list of changes (plain dicts, the API's contract):

``demand``
    ``factor`` (> 0) on the demand of one ``product_sku``, ``family_code``, ``territory_code``
    (the territory and its subtree) or ``region_code`` from ``period_from`` to ``period_to``.
    Product and family changes scale the product × period demand; territory and region
    changes scale that territory's share of it (``demand_detail``: product × territory ×
    period), so they need the cycle's demand plan.
``capacity``
    a work center's available hours ``change_pct`` (−100 … ; −20 = lose a fifth) or
    ``change_hours`` (± hours per period, e.g. a Saturday shift) from ``period_from`` to
    ``period_to``. Hours never fall below 0. A period without a calendar row starts from 0.
``routing``
    ``hours_per_unit`` (≥ 0) of ``product_sku`` on ``work_center_code`` (replaces the row, or
    adds it; a new work center needs a ``capacity`` change in hours in the same scenario).
``new_product``
    ``product_sku`` (not an existing one) in ``family_code`` with ``quantities``
    {period: units}; it borrows the family's average routing (per work center: Σ hours per unit
    over the family's products ÷ their number), price and cost (family means).
``inventory_policy``
    ``safety_stock`` (units ≥ 0) or ``max_build_ahead_periods`` (whole ≥ 0) of ``product_sku``.
``target``
    ``factor`` (> 0) on the unit quotas of ``family_code`` (optionally in ``territory_code``
    and its subtree) from ``period_from`` to ``period_to``; without quota rows, on the family's
    products' ``target_qty``.

Periods are ``datetime.date`` month starts (the service parses the ISO strings).
:func:`check_changes` returns ``ChangeError`` (index, field, code, params) for every bad
change; the service words them. :func:`apply_changes` expects checked changes and returns new
frames; the inputs are never modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

CHANGE_TYPES = ("demand", "capacity", "routing", "new_product", "inventory_policy", "target")
DEMAND_KEYS = ("product_sku", "family_code", "territory_code", "region_code")


@dataclass(frozen=True)
class ChangeError:
    index: int
    field: str
    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class KnownCodes:
    """What exists: the codes a change may name."""

    products: frozenset[str]
    families: frozenset[str]
    work_centers: frozenset[str]
    territories: frozenset[str]
    regions: frozenset[str]
    has_cycle: bool = True


@dataclass(frozen=True)
class ScenarioInputs:
    """The frames the deltas change (the reconciliation's inputs, see ``sop.reconciliation``)."""

    products: pd.DataFrame
    demand: pd.DataFrame
    routings: pd.DataFrame
    capacity: pd.DataFrame
    family_quotas: pd.DataFrame | None
    #: product × territory × period demand (``product_sku, territory_path, region_code,
    #: period_start, demand_qty``), only needed by territory and region demand changes
    demand_detail: pd.DataFrame | None = None
    #: territory code → materialised path (subtree match: path startswith)
    territory_paths: Mapping[str, str] = field(default_factory=dict)


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _period(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value if value.day == 1 else None
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None
        return day if day.day == 1 else None
    return None


def _check_range(i: int, change: Mapping, errors: list[ChangeError]) -> None:
    start, end = _period(change.get("period_from")), _period(change.get("period_to"))
    for name, value in (("period_from", start), ("period_to", end)):
        if value is None:
            errors.append(ChangeError(i, name, "bad_period"))
    if start and end and end < start:
        errors.append(ChangeError(i, "period_to", "period_order"))


def _check_factor(i: int, change: Mapping, errors: list[ChangeError]) -> None:
    factor = _number(change.get("factor"))
    if factor is None or factor <= 0:
        errors.append(ChangeError(i, "factor", "bad_factor"))


def _check_code(i: int, change: Mapping, name: str, known: frozenset[str], errors: list[ChangeError]) -> bool:
    value = change.get(name)
    if not isinstance(value, str) or not value:
        errors.append(ChangeError(i, name, "required"))
        return False
    if value not in known:
        errors.append(ChangeError(i, name, "unknown", {"value": value}))
        return False
    return True


def check_changes(changes: Sequence, known: KnownCodes) -> list[ChangeError]:
    """Every problem of every change (empty: the scenario can run)."""
    errors: list[ChangeError] = []
    if not isinstance(changes, Sequence) or isinstance(changes, str | bytes):
        return [ChangeError(-1, "changes", "not_a_list")]
    new_work_centers = {
        c.get("work_center_code") for c in changes if isinstance(c, Mapping) and c.get("type") == "routing"
    } - set(known.work_centers)
    hours_added = {
        c.get("work_center_code")
        for c in changes
        if isinstance(c, Mapping) and c.get("type") == "capacity" and _number(c.get("change_hours")) is not None
    }
    new_skus = {c.get("product_sku") for c in changes if isinstance(c, Mapping) and c.get("type") == "new_product"}
    for i, change in enumerate(changes):
        if not isinstance(change, Mapping):
            errors.append(ChangeError(i, "type", "not_an_object"))
            continue
        kind = change.get("type")
        if kind not in CHANGE_TYPES:
            errors.append(ChangeError(i, "type", "bad_type", {"choices": ", ".join(CHANGE_TYPES)}))
            continue
        if kind == "demand":
            named = [k for k in DEMAND_KEYS if change.get(k) not in (None, "")]
            if len(named) != 1:
                errors.append(ChangeError(i, "product_sku", "one_key", {"keys": ", ".join(DEMAND_KEYS)}))
            else:
                key = named[0]
                pool = {
                    "product_sku": known.products | new_skus,
                    "family_code": known.families,
                    "territory_code": known.territories,
                    "region_code": known.regions,
                }[key]
                if (
                    _check_code(i, change, key, frozenset(pool), errors)
                    and key in ("territory_code", "region_code")
                    and not known.has_cycle
                ):
                    errors.append(ChangeError(i, key, "needs_cycle"))
            _check_range(i, change, errors)
            _check_factor(i, change, errors)
        elif kind == "capacity":
            _check_code(
                i,
                change,
                "work_center_code",
                known.work_centers | frozenset(w for w in new_work_centers if w in hours_added),
                errors,
            )
            _check_range(i, change, errors)
            pct, hours = change.get("change_pct"), change.get("change_hours")
            if (pct is None) == (hours is None):
                errors.append(ChangeError(i, "change_pct", "pct_or_hours"))
            elif pct is not None and (_number(pct) is None or _number(pct) < -100):
                errors.append(ChangeError(i, "change_pct", "bad_pct"))
            elif hours is not None and _number(hours) is None:
                errors.append(ChangeError(i, "change_hours", "bad_number"))
        elif kind == "routing":
            _check_code(i, change, "product_sku", known.products | frozenset(new_skus), errors)
            wc = change.get("work_center_code")
            if not isinstance(wc, str) or not wc:
                errors.append(ChangeError(i, "work_center_code", "required"))
            elif wc not in known.work_centers and wc not in hours_added:
                errors.append(ChangeError(i, "work_center_code", "new_work_center", {"value": wc}))
            hpu = _number(change.get("hours_per_unit"))
            if hpu is None or hpu < 0:
                errors.append(ChangeError(i, "hours_per_unit", "bad_hours"))
        elif kind == "new_product":
            sku = change.get("product_sku")
            if not isinstance(sku, str) or not sku.strip():
                errors.append(ChangeError(i, "product_sku", "required"))
            elif sku in known.products:
                errors.append(ChangeError(i, "product_sku", "exists", {"value": sku}))
            _check_code(i, change, "family_code", known.families, errors)
            quantities = change.get("quantities")
            if not isinstance(quantities, Mapping) or not quantities:
                errors.append(ChangeError(i, "quantities", "bad_quantities"))
            else:
                for period, qty in quantities.items():
                    number = _number(qty)
                    if _period(period) is None or number is None or number < 0:
                        errors.append(ChangeError(i, "quantities", "bad_quantity", {"period": str(period)}))
                        break
        elif kind == "inventory_policy":
            _check_code(i, change, "product_sku", known.products | frozenset(new_skus), errors)
            ss, ahead = change.get("safety_stock"), change.get("max_build_ahead_periods")
            if ss is None and ahead is None:
                errors.append(ChangeError(i, "safety_stock", "policy_required"))
            if ss is not None and (_number(ss) is None or _number(ss) < 0):
                errors.append(ChangeError(i, "safety_stock", "bad_number"))
            if ahead is not None and (
                _number(ahead) is None or _number(ahead) < 0 or _number(ahead) != int(_number(ahead))
            ):
                errors.append(ChangeError(i, "max_build_ahead_periods", "bad_whole"))
        elif kind == "target":
            _check_code(i, change, "family_code", known.families, errors)
            if change.get("territory_code") not in (None, ""):
                _check_code(i, change, "territory_code", known.territories, errors)
            _check_range(i, change, errors)
            _check_factor(i, change, errors)
    return errors


# ---------------------------------------------------------------------------------------
# Applying
# ---------------------------------------------------------------------------------------


def _in_range(periods: pd.Series, change: Mapping) -> np.ndarray:
    start, end = _period(change["period_from"]), _period(change["period_to"])
    days = pd.Series(periods).to_numpy(dtype=object)
    return np.fromiter(((start <= p <= end) for p in days), dtype=bool, count=len(days))


def _subtree(paths: pd.Series, territory_paths: Mapping[str, str], code: str) -> np.ndarray:
    root = territory_paths.get(code)
    if root is None:
        return np.zeros(len(paths), dtype=bool)
    return paths.fillna("").astype(str).str.startswith(root).to_numpy()


def _demand(inputs: ScenarioInputs, change: Mapping) -> ScenarioInputs:
    factor = float(change["factor"])
    demand = inputs.demand.copy()
    if change.get("product_sku") or change.get("family_code"):
        if change.get("product_sku"):
            skus = {change["product_sku"]}
        else:
            products = inputs.products
            skus = set(products.loc[products["family_code"] == change["family_code"], "product_sku"])
        hit = demand["product_sku"].isin(skus).to_numpy() & _in_range(demand["period_start"], change)
        demand.loc[hit, "demand_qty"] = demand.loc[hit, "demand_qty"].astype(float) * factor
        return replace(inputs, demand=demand)
    detail = inputs.demand_detail
    if detail is None or detail.empty:
        return inputs
    if change.get("territory_code"):
        hit = _subtree(detail["territory_path"], inputs.territory_paths, change["territory_code"])
    else:
        hit = (detail["region_code"] == change["region_code"]).to_numpy()
    hit = hit & _in_range(detail["period_start"], change)
    part = detail.loc[hit]
    if part.empty:
        return inputs
    extra = (
        part.assign(extra=part["demand_qty"].astype(float) * (factor - 1.0))
        .groupby(["product_sku", "period_start"], as_index=False)["extra"]
        .sum()
    )
    merged = demand.merge(extra, on=["product_sku", "period_start"], how="left")
    merged["demand_qty"] = (merged["demand_qty"].astype(float) + merged["extra"].fillna(0.0)).clip(lower=0)
    # The same share of the detail lives in ``inputs.demand_detail``: scale it too, so a second
    # change on the same territory compounds as the first one left it.
    detail = detail.copy()
    detail.loc[hit, "demand_qty"] = detail.loc[hit, "demand_qty"].astype(float) * factor
    return replace(inputs, demand=merged.drop(columns="extra"), demand_detail=detail)


def _capacity(inputs: ScenarioInputs, change: Mapping, periods: Sequence[dt.date]) -> ScenarioInputs:
    wc = change["work_center_code"]
    start, end = _period(change["period_from"]), _period(change["period_to"])
    span = [p for p in periods if start <= p <= end]
    capacity = inputs.capacity.copy()
    have = set(capacity.loc[capacity["work_center_code"] == wc, "period_start"])
    missing = [p for p in span if p not in have]
    if missing:
        capacity = pd.concat(
            [capacity, pd.DataFrame({"work_center_code": wc, "period_start": missing, "available_hours": 0.0})],
            ignore_index=True,
        )
    hit = (capacity["work_center_code"] == wc).to_numpy() & _in_range(capacity["period_start"], change)
    hours = capacity.loc[hit, "available_hours"].astype(float)
    if change.get("change_pct") is not None:
        hours = hours * (1.0 + float(change["change_pct"]) / 100.0)
    else:
        hours = hours + float(change["change_hours"])
    capacity.loc[hit, "available_hours"] = hours.clip(lower=0.0)
    return replace(inputs, capacity=capacity)


def _routing(inputs: ScenarioInputs, change: Mapping) -> ScenarioInputs:
    routings = inputs.routings
    same = (routings["product_sku"] == change["product_sku"]) & (
        routings["work_center_code"] == change["work_center_code"]
    )
    row = pd.DataFrame(
        {
            "product_sku": [change["product_sku"]],
            "work_center_code": [change["work_center_code"]],
            "hours_per_unit": [float(change["hours_per_unit"])],
        }
    )
    return replace(inputs, routings=pd.concat([routings.loc[~same], row], ignore_index=True))


def _new_product(inputs: ScenarioInputs, change: Mapping) -> ScenarioInputs:
    sku, family = change["product_sku"], change["family_code"]
    products = inputs.products
    members = products.loc[products["family_code"] == family]
    n = max(len(members), 1)
    new = {column: None for column in products.columns}
    new.update(
        {
            "product_sku": sku,
            "family_code": family,
            "product_name": sku,
            "unit_price": float(pd.to_numeric(members.get("unit_price"), errors="coerce").mean())
            if len(members)
            else 0.0,
            "unit_cost": float(pd.to_numeric(members.get("unit_cost"), errors="coerce").mean())
            if len(members)
            else 0.0,
            "safety_stock": 0.0,
            "max_build_ahead_periods": 0,
        }
    )
    products = pd.concat([products, pd.DataFrame([new])], ignore_index=True)
    family_routing = inputs.routings[inputs.routings["product_sku"].isin(set(members["product_sku"]))]
    borrowed = (
        family_routing.groupby("work_center_code", as_index=False)["hours_per_unit"]
        .sum()
        .assign(hours_per_unit=lambda f: f["hours_per_unit"].astype(float) / n, product_sku=sku)
    )
    routings = pd.concat(
        [inputs.routings, borrowed[["product_sku", "work_center_code", "hours_per_unit"]]], ignore_index=True
    )
    quantities = {_period(p): float(q) for p, q in change["quantities"].items()}
    rows = pd.DataFrame(
        {
            "product_sku": sku,
            "period_start": list(quantities),
            "demand_qty": list(quantities.values()),
            "forecast_qty": list(quantities.values()),
            "target_qty": 0.0,
        }
    )
    demand = pd.concat(
        [inputs.demand, rows[[c for c in rows.columns if c in inputs.demand.columns]]], ignore_index=True
    )
    return replace(inputs, products=products, routings=routings, demand=demand)


def _inventory_policy(inputs: ScenarioInputs, change: Mapping) -> ScenarioInputs:
    products = inputs.products.copy()
    hit = products["product_sku"] == change["product_sku"]
    if change.get("safety_stock") is not None:
        products["safety_stock"] = products["safety_stock"].astype(float)
        products.loc[hit, "safety_stock"] = float(change["safety_stock"])
    if change.get("max_build_ahead_periods") is not None:
        products.loc[hit, "max_build_ahead_periods"] = int(float(change["max_build_ahead_periods"]))
    return replace(inputs, products=products)


def _target(inputs: ScenarioInputs, change: Mapping) -> ScenarioInputs:
    factor = float(change["factor"])
    quotas = inputs.family_quotas
    if quotas is not None and len(quotas):
        quotas = quotas.copy()
        hit = (quotas["family_code"] == change["family_code"]).to_numpy() & _in_range(quotas["period_start"], change)
        if change.get("territory_code"):
            paths = quotas["territory_code"].map(lambda c: inputs.territory_paths.get(c, "") if c else "")
            hit = hit & _subtree(paths, inputs.territory_paths, change["territory_code"])
        quotas.loc[hit, "quota_qty"] = quotas.loc[hit, "quota_qty"].astype(float) * factor
        return replace(inputs, family_quotas=quotas)
    if change.get("territory_code") or "target_qty" not in inputs.demand:
        return inputs  # no quota rows to scale, and the products' targets know no territory
    demand = inputs.demand.copy()
    skus = set(inputs.products.loc[inputs.products["family_code"] == change["family_code"], "product_sku"])
    hit = demand["product_sku"].isin(skus).to_numpy() & _in_range(demand["period_start"], change)
    demand.loc[hit, "target_qty"] = demand.loc[hit, "target_qty"].astype(float) * factor
    return replace(inputs, demand=demand)


def apply_changes(inputs: ScenarioInputs, changes: Sequence[Mapping], *, periods: Sequence[dt.date]) -> ScenarioInputs:
    """The inputs with every change applied, in the scenario's order (checked changes only).

    New products come first, so later changes may name them; the rest apply in list order
    (two factors on the same demand multiply)."""
    ordered = [c for c in changes if c["type"] == "new_product"] + [c for c in changes if c["type"] != "new_product"]
    for change in ordered:
        kind = change["type"]
        if kind == "demand":
            inputs = _demand(inputs, change)
        elif kind == "capacity":
            inputs = _capacity(inputs, change, periods)
        elif kind == "routing":
            inputs = _routing(inputs, change)
        elif kind == "new_product":
            inputs = _new_product(inputs, change)
        elif kind == "inventory_policy":
            inputs = _inventory_policy(inputs, change)
        elif kind == "target":
            inputs = _target(inputs, change)
    return inputs
