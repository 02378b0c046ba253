"""The KPIs of a plan, one function for the base and every scenario (pure: pandas/numpy).

Inputs: the frames of ``sop.reconciliation.ReconciliationResult`` (``product_plan``,
``capacity_load``, ``family_plan``), the alert candidates of ``sop.alert_rules`` (column
``type``; may be empty) and ``aged_stock`` (``product_sku, aged_qty``: units of the opening
stock received more than ``AGED_DAYS`` before the plan's ``as_of``; may be empty).

KPIs (``KPI_KEYS``; units are units, hours hours, money in the organisation's currency):

- ``service_level_units`` = Σ feasible ÷ Σ demand (1 when there is no demand);
  ``service_level_value`` the same × unit price;
- ``shortfall_units`` = Σ (demand − feasible): demand the plan cannot serve;
  ``shortfall_value`` the same × unit price;
- ``overload_hours`` = Σ max(0, unconstrained load − available) over work centers × months;
  ``overloaded_work_center_months`` = how many work center × months load more than 100 %
  (load on a work center with no hours counts as over);
- ``prebuild_units`` = Σ units built in an earlier month than they are needed;
- ``ending_inventory_value`` = Σ inventory after the horizon's last month × unit cost;
- ``aged_stock_value`` = aged units still in stock at the end × unit cost. Stock leaves first
  in first out, so of ``aged_qty`` what remains is max(0, aged_qty − Σ feasible over the
  horizon), never more than the ending inventory;
- ``revenue`` = Σ feasible × unit price; ``margin`` = Σ feasible × (unit price − unit cost);
- ``targets_not_buildable`` = how many family × months have a quota the plants cannot supply
  (``not_buildable_qty`` > 0).

``alerts`` (a separate dict) counts the alert candidates by type. Money KPIs are float
estimates here; the service rounds them to ``Decimal`` cents.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

AGED_DAYS = 180
EPS = 1e-6
KPI_KEYS = (
    "service_level_units",
    "service_level_value",
    "shortfall_units",
    "shortfall_value",
    "overload_hours",
    "overloaded_work_center_months",
    "prebuild_units",
    "ending_inventory_value",
    "aged_stock_value",
    "revenue",
    "margin",
    "targets_not_buildable",
)
MONEY_KEYS = frozenset({"shortfall_value", "ending_inventory_value", "aged_stock_value", "revenue", "margin"})
COUNT_KEYS = frozenset({"overloaded_work_center_months", "targets_not_buildable"})
RATIO_KEYS = frozenset({"service_level_units", "service_level_value"})
FAMILY_MONTH_COLUMNS = (
    "family_code",
    "period_start",
    "demand_qty",
    "feasible_qty",
    "shortfall_qty",
    "shortfall_value",
    "revenue",
    "not_buildable_qty",
)


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame))
    return pd.to_numeric(frame[name], errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _ratio(num: float, den: float) -> float:
    return 1.0 if den <= EPS else num / den


def plan_kpis(
    *,
    product_plan: pd.DataFrame,
    capacity_load: pd.DataFrame,
    family_plan: pd.DataFrame,
    aged_stock: pd.DataFrame | None = None,
) -> dict[str, float]:
    """The KPIs of one plan (see the module doc), as floats keyed by ``KPI_KEYS``."""
    demand, feasible = _col(product_plan, "demand_qty"), _col(product_plan, "feasible_qty")
    price, cost = _col(product_plan, "unit_price"), _col(product_plan, "unit_cost")
    unserved = np.maximum(demand - feasible, 0.0)

    load, available = _col(capacity_load, "load_hours"), _col(capacity_load, "available_hours")
    over = np.maximum(load - available, 0.0)

    aged_value = 0.0
    ending_value = 0.0
    if len(product_plan):
        last = product_plan["period_start"] == product_plan["period_start"].max()
        end = product_plan.loc[last, ["product_sku"]].assign(
            ending=np.maximum(_col(product_plan, "projected_inventory_after")[last.to_numpy()], 0.0),
            cost=cost[last.to_numpy()],
        )
        ending_value = float((end["ending"] * end["cost"]).sum())
        if aged_stock is not None and len(aged_stock):
            sold = pd.Series(feasible, index=product_plan["product_sku"]).groupby(level=0).sum()
            aged = (
                pd.to_numeric(aged_stock.set_index("product_sku")["aged_qty"], errors="coerce").groupby(level=0).sum()
            )
            end = end.set_index("product_sku")
            left = (aged.reindex(end.index).fillna(0.0) - sold.reindex(end.index).fillna(0.0)).clip(lower=0.0)
            aged_value = float((np.minimum(left, end["ending"]) * end["cost"]).sum())

    return {
        "service_level_units": _ratio(float(feasible.sum()), float(demand.sum())),
        "service_level_value": _ratio(float((feasible * price).sum()), float((demand * price).sum())),
        "shortfall_units": float(unserved.sum()),
        "shortfall_value": float((unserved * price).sum()),
        "overload_hours": float(over.sum()),
        "overloaded_work_center_months": int((over > EPS).sum()),
        "prebuild_units": float(_col(product_plan, "prebuild_qty").sum()),
        "ending_inventory_value": ending_value,
        "aged_stock_value": aged_value,
        "revenue": float((feasible * price).sum()),
        "margin": float((feasible * (price - cost)).sum()),
        "targets_not_buildable": int((_col(family_plan, "not_buildable_qty") > EPS).sum()),
    }


def alert_counts(alerts: pd.DataFrame | None) -> dict[str, int]:
    """Alert candidates by type, sorted by type."""
    if alerts is None or alerts.empty:
        return {}
    return {str(k): int(v) for k, v in sorted(alerts["type"].value_counts().items())}


def family_months(product_plan: pd.DataFrame, family_plan: pd.DataFrame) -> pd.DataFrame:
    """Family × month figures for the comparison's drill-down (``FAMILY_MONTH_COLUMNS``)."""
    return with_buildability(_family_sums(product_plan), family_plan)


def _family_sums(product_plan: pd.DataFrame) -> pd.DataFrame:
    if product_plan.empty:
        return pd.DataFrame(columns=list(FAMILY_MONTH_COLUMNS[:-1]))
    demand, feasible = _col(product_plan, "demand_qty"), _col(product_plan, "feasible_qty")
    price = _col(product_plan, "unit_price")
    short = np.maximum(demand - feasible, 0.0)
    frame = pd.DataFrame(
        {
            "family_code": product_plan["family_code"].fillna("").astype(str).to_numpy(),
            "period_start": product_plan["period_start"].to_numpy(),
            "demand_qty": demand,
            "feasible_qty": feasible,
            "shortfall_qty": short,
            "shortfall_value": short * price,
            "revenue": feasible * price,
        }
    )
    return frame.groupby(["family_code", "period_start"], as_index=False, sort=True).sum()


def with_buildability(months: pd.DataFrame, family_plan: pd.DataFrame) -> pd.DataFrame:
    """``months`` with each family × month's ``not_buildable_qty`` from the family plan."""
    if family_plan.empty or months.empty:
        return months.assign(not_buildable_qty=0.0)
    part = family_plan[["family_code", "period_start", "not_buildable_qty"]].copy()
    part["family_code"] = part["family_code"].fillna("").astype(str)
    return (
        months.drop(columns=["not_buildable_qty"], errors="ignore")
        .merge(part, on=["family_code", "period_start"], how="left")
        .fillna({"not_buildable_qty": 0.0})
    )


def kpi_delta(scenario: Mapping[str, float], base: Mapping[str, float]) -> dict[str, float]:
    """Scenario − base for every KPI both have."""
    return {key: scenario[key] - base[key] for key in KPI_KEYS if key in scenario and key in base}
