"""Reads of what-if scenarios: the inputs a scenario changes (the plan run's own inputs, from
``sop.selectors.plan_inputs``), the codes a change may name, and the stored results that the
comparison and its export show."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import FloatField, Q, Sum
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from core.calendar import add_months
from core.services import organisation_settings_get
from inventory.models import Product, ProductFamily
from scenarios.deltas import KnownCodes
from scenarios.kpis import AGED_DAYS
from scenarios.models import Scenario, ScenarioBase
from sop.models import DemandPlanActual, DemandPlanLine, PlanCycle, WorkCenter
from sop.selectors import PlanInputs, latest_plan_run, plan_inputs
from territories.models import Territory


def scenarios_for(*, user):
    return Scenario.objects.for_user(user).select_related("cycle", "created_by", "base")


def known_codes(*, has_cycle: bool) -> KnownCodes:
    return KnownCodes(
        products=frozenset(Product.objects.values_list("sku", flat=True)),
        families=frozenset(ProductFamily.objects.values_list("code", flat=True)),
        work_centers=frozenset(WorkCenter.objects.values_list("code", flat=True)),
        territories=frozenset(Territory.objects.values_list("code", flat=True)),
        regions=frozenset(Territory.objects.filter(parent__isnull=True).values_list("code", flat=True)),
        has_cycle=has_cycle,
    )


def plan_frame(cycle: PlanCycle | None) -> tuple[dt.date, int, int | None]:
    """(as_of, horizon, forecast run) a scenario plans with: the cycle's months, or those of the
    latest plan run (today and the organisation's horizon when there is none)."""
    if cycle is not None:
        return cycle.month, cycle.horizon_periods, cycle.forecast_run_id
    run = latest_plan_run()
    if run is not None:
        return run.as_of, run.horizon_periods, run.forecast_run_id
    return timezone.localdate(), organisation_settings_get().plan_horizon_periods or 18, None


def scenario_plan_inputs(*, cycle: PlanCycle | None) -> tuple[dt.date, PlanInputs]:
    as_of, horizon, forecast_run_id = plan_frame(cycle)
    return as_of, plan_inputs(
        as_of=as_of, horizon=horizon, forecast_run_id=forecast_run_id, cycle_id=cycle.pk if cycle is not None else None
    )


def territory_paths() -> dict[str, str]:
    return dict(Territory.objects.values_list("code", "path"))


def demand_detail(*, cycle: PlanCycle, periods: list[dt.date]) -> pd.DataFrame:
    """The cycle's consensus per product × territory × month (territory path and region code),
    for demand changes on a territory or a region."""
    rows = (
        DemandPlanLine.objects.filter(cycle=cycle, period_start__in=periods)
        .order_by()
        .values_list("product__sku", "territory__path", "region__code", "period_start")
        .annotate(demand_qty=Sum("consensus"))
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["product_sku", "territory_path", "region_code", "period_start", "demand_qty"]
    )
    frame["demand_qty"] = pd.to_numeric(frame["demand_qty"], errors="coerce").fillna(0.0).astype(float)
    return frame


def aged_stock(*, lots: pd.DataFrame, opening_inventory: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """``product_sku, aged_qty``: lots received more than ``AGED_DAYS`` before ``as_of``, never
    more than the product's stock on hand."""
    if lots.empty:
        return pd.DataFrame({"product_sku": [], "aged_qty": []})
    cutoff = as_of - dt.timedelta(days=AGED_DAYS)
    old = lots[[d <= cutoff for d in lots["received_on"]]]
    aged = old.groupby("product_sku")["quantity"].sum().astype(float)
    if len(opening_inventory):
        on_hand = opening_inventory.groupby("product_sku")["on_hand"].sum().astype(float)
        aged = pd.concat([aged, on_hand.reindex(aged.index).fillna(0.0)], axis=1).min(axis=1)
    return aged.rename("aged_qty").reset_index()


def inputs_fingerprint(*, cycle: PlanCycle | None, as_of: dt.date, inputs: PlanInputs) -> str:
    """A hash of everything the base plan is computed from: equal inputs, one stored base.
    Rows are hashed one by one and the hashes added up (modulo 2⁶⁴), so the order the
    database returned them in does not matter."""
    digest = hashlib.sha256(f"{cycle.pk if cycle else '-'}|{as_of}|{inputs.periods}".encode())
    for frame in (
        inputs.products,
        inputs.demand,
        inputs.opening_inventory,
        inputs.lots,
        inputs.routings,
        inputs.capacity,
        inputs.family_quotas,
    ):
        if frame is None:
            digest.update(b"none")
            continue
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype="uint64")
        digest.update(f"{','.join(map(str, frame.columns))}|{len(frame)}|{int(rows.sum(dtype='uint64'))}".encode())
    return digest.hexdigest()


def base_for(fingerprint: str) -> ScenarioBase | None:
    return ScenarioBase.objects.filter(fingerprint=fingerprint).first()


def scenarios_to_compare(*, user, ids: list[int]) -> list[Scenario]:
    """The caller's visible scenarios among ``ids``, in the order asked."""
    found = {s.pk: s for s in scenarios_for(user=user).filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


# ---------------------------------------------------------------------------------------
# Forecast value added: what published cycles said, and what was sold
# ---------------------------------------------------------------------------------------


def accuracy_inputs(*, user, lag: int) -> tuple[pd.DataFrame, pd.DataFrame, dt.date | None]:
    """(forecasts, actuals, actuals_through) for ``scenarios.accuracy``, in the caller's scope.

    The forecasts are the demand plans of published cycles (frozen when published: the
    snapshot of each measure), at ``lag``: the month ``lag − 1`` after each cycle's first
    month, per family × territory. The actuals are the sales history stored with the latest
    cycle (``DemandPlanActual``), complete through its ``history_through``."""
    forecast_columns = [
        "family_code",
        "region_code",
        "territory",
        "period_start",
        "naive",
        "statistical",
        "sales_override",
        "consensus",
    ]
    q = Q()
    for cycle_id, month in PlanCycle.objects.published().values_list("id", "month"):
        q |= Q(cycle_id=cycle_id, period_start=add_months(month, lag - 1))
    rows = []
    if q:
        rows = list(
            DemandPlanLine.objects.for_user(user)
            .filter(q)
            .order_by()
            .values_list("family__code", "region__code", "territory_id", "period_start")
            .annotate(
                naive_units=Sum("naive"),
                statistical_units=Sum("statistical"),
                override_units=Sum(Coalesce(Cast("sales_override", FloatField()), "statistical")),
                consensus_units=Sum("consensus"),
            )
        )
    forecasts = pd.DataFrame.from_records(rows, columns=forecast_columns)
    for column in forecast_columns[4:]:
        forecasts[column] = pd.to_numeric(forecasts[column], errors="coerce").astype(float)
    forecasts["lag"] = lag

    latest = (
        PlanCycle.objects.filter(history_through__isnull=False)
        .order_by("-month")
        .values_list("id", "history_through")
        .first()
    )
    actual_columns = ["family_code", "region_code", "territory", "period_start", "units"]
    if latest is None or forecasts.empty:
        forecasts["manager"] = forecasts["planner"] = None
        return (
            forecasts,
            pd.DataFrame(columns=[*actual_columns, "manager", "planner"]),
            latest[1] if latest else None,
        )
    months = sorted(set(forecasts["period_start"]))
    sold = list(
        DemandPlanActual.objects.for_user(user)
        .filter(cycle_id=latest[0], period_start__in=months)
        .order_by()
        .values_list("family__code", "region__code", "territory_id", "period_start")
        .annotate(sold_units=Sum("units"))
    )
    actuals = pd.DataFrame.from_records(sold, columns=actual_columns)
    actuals["units"] = pd.to_numeric(actuals["units"], errors="coerce").astype(float)
    managers = territory_managers()
    forecasts["manager"] = forecasts["territory"].map(managers)
    actuals["manager"] = actuals["territory"].map(managers)
    planners = family_planners()
    forecasts["planner"] = forecasts["family_code"].map(planners)
    actuals["planner"] = actuals["family_code"].map(planners)
    return forecasts, actuals, latest[1]


def level_names(level: str, keys: list) -> dict:
    """The names people know forecast-accuracy keys by: a family's or region's name, a
    person's full name (pages show them; exports and the API keep codes and usernames)."""
    keys = [k for k in keys if k is not None]
    if level == "family":
        return dict(ProductFamily.objects.filter(code__in=keys).values_list("code", "name"))
    if level == "region":
        return dict(Territory.objects.filter(code__in=keys).values_list("code", "name"))
    if level in ("planner", "sales_manager"):
        return {u.username: u.get_full_name() or u.username for u in get_user_model().objects.filter(username__in=keys)}
    return {}


def family_planners() -> dict[str, str]:
    """Family code → username of the demand planner answerable for it (a family without one is
    left out: its rows form the row of no planner, key None)."""
    return dict(ProductFamily.objects.filter(planner__isnull=False).values_list("code", "planner__username"))


def territory_managers() -> dict[int, str]:
    """Territory id → username of the sales manager answerable for it: its own manager, else
    the nearest ancestor's (territories nobody manages are left out)."""
    rows = list(Territory.objects.values_list("id", "path", "manager__username"))
    by_path = {path: name for _pk, path, name in rows if name}
    out = {}
    for pk, path, _name in rows:
        parts = [p for p in (path or "").split("/") if p]
        for depth in range(len(parts), 0, -1):
            name = by_path.get("/" + "/".join(parts[:depth]) + "/")
            if name:
                out[pk] = name
                break
    return out
