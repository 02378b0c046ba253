"""Reads for supply planning: the inputs of a plan run as DataFrames, and the rows of the
alerts inbox, the capacity heat map and the product page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Value, When

from core.calendar import horizon_periods
from forecasting.models import Forecast, ForecastRun, ForecastSeries
from inventory import calculations as inventory_calc
from inventory import selectors as inventory_selectors
from inventory.calculations import AGING_BUCKETS, aging_buckets
from sop.alert_rules import utilisation_level
from sop.cycle_selectors import cycle_plan_demand
from sop.models import (
    CapacityAlert,
    CapacityCalendar,
    FamilyPlan,
    PlanLine,
    PlanRun,
    Routing,
    WorkCenter,
    WorkCenterLoad,
)
from territories import selectors as territories_selectors

QUOTA_COLUMNS = ["family_code", "territory_code", "period_start", "quota_qty"]


@dataclass
class PlanInputs:
    """Everything ``reconcile`` and ``inventory_metrics`` need, plus the id maps to store results."""

    periods: list[dt.date]
    products: pd.DataFrame
    demand: pd.DataFrame
    forecast: pd.DataFrame
    opening_inventory: pd.DataFrame
    lots: pd.DataFrame
    routings: pd.DataFrame
    capacity: pd.DataFrame
    family_quotas: pd.DataFrame | None
    forecast_run_id: int | None
    work_center_names: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def latest_forecast_run_id(*, preferred_id: int | None = None) -> int | None:
    """The forecast run to plan from: the preferred one if finished, else the latest finished."""
    finished = ForecastRun.objects.finished()
    if preferred_id and finished.filter(pk=preferred_id).exists():
        return preferred_id
    return finished.order_by("-finished_at", "-id").values_list("id", flat=True).first()


def product_forecast_frame(*, forecast_run_id: int | None, periods: list[dt.date]) -> pd.DataFrame:
    """Product-level forecasts of a run: ``product_sku, period_start, forecast_qty``."""
    columns = ["product_sku", "period_start", "forecast_qty"]
    if forecast_run_id is None:
        return pd.DataFrame(columns=columns)
    rows = Forecast.objects.filter(
        run_id=forecast_run_id,
        level="product",
        period_start__gte=periods[0],
        period_start__lte=periods[-1],
    ).values_list("product__sku", "period_start", "point")
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    frame["forecast_qty"] = frame["forecast_qty"].astype(float).clip(lower=0)
    return frame


def forecast_wape_frame(*, forecast_run_id: int | None) -> pd.DataFrame:
    """Backtest WAPE (%) of the run's forecast series: ``product_sku, wape``."""
    if forecast_run_id is None:
        return pd.DataFrame({"product_sku": [], "wape": []})
    return pd.DataFrame.from_records(
        list(
            ForecastSeries.objects.filter(run_id=forecast_run_id, status="ok", wape__isnull=False).values_list(
                "product__sku", "wape"
            )
        ),
        columns=["product_sku", "wape"],
    )


def family_quotas_frame(*, period_starts: list[dt.date]) -> pd.DataFrame:
    """Family unit quotas per territory from the territories app (empty without quotas)."""
    frame = territories_selectors.family_unit_quotas(period_starts=period_starts)
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=QUOTA_COLUMNS)
    frame = frame.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.date
    frame["quota_qty"] = pd.to_numeric(frame["quota_qty"], errors="coerce").astype(float)
    return frame


def plan_inputs(
    *, as_of: dt.date, horizon: int, forecast_run_id: int | None, cycle_id: int | None = None
) -> PlanInputs:
    """The inputs of a plan run. With ``cycle_id`` the demand is that S&OP cycle's consensus
    from its first month on (``sop.cycle_selectors.cycle_plan_demand``), not the forecast."""
    periods = horizon_periods(as_of, horizon)
    warnings: list[str] = []
    run_id = latest_forecast_run_id(preferred_id=forecast_run_id)
    if run_id is None:
        warnings.append("No finished forecast run: demand is taken as zero.")
    elif forecast_run_id and run_id != forecast_run_id:
        warnings.append(f"Forecast run {forecast_run_id} did not finish: planned from run {run_id}.")

    products = inventory_selectors.products_frame()
    forecast = product_forecast_frame(forecast_run_id=run_id, periods=periods)
    forecast = forecast[forecast["product_sku"].isin(products["product_sku"])]
    sigma = inventory_calc.forecast_sigma_from_wape(forecast_wape_frame(forecast_run_id=run_id), forecast)
    policy = inventory_calc.policy_by_product(inventory_selectors.policies_frame(), sigma)
    products = products.merge(policy, on="product_sku", how="left")
    products["safety_stock"] = products["safety_stock"].fillna(0.0)
    products["max_build_ahead_periods"] = products["max_build_ahead_periods"].fillna(0).astype(int)

    demand = forecast.assign(demand_qty=forecast["forecast_qty"])
    routings = pd.DataFrame.from_records(
        list(Routing.objects.values_list("product__sku", "work_center__code", "hours_per_unit")),
        columns=["product_sku", "work_center_code", "hours_per_unit"],
    )
    routings["hours_per_unit"] = routings["hours_per_unit"].astype(float)
    capacity = pd.DataFrame.from_records(
        list(
            CapacityCalendar.objects.filter(period_start__gte=periods[0], period_start__lte=periods[-1]).values_list(
                "work_center__code", "period_start", "available_hours"
            )
        ),
        columns=["work_center_code", "period_start", "available_hours"],
    )
    capacity["available_hours"] = capacity["available_hours"].astype(float)
    quotas = family_quotas_frame(period_starts=periods)
    if cycle_id is not None:  # the S&OP cycle's input hook: reconcile its consensus
        demand, quotas = cycle_plan_demand(cycle_id=cycle_id, periods=periods, forecast=forecast, quotas=quotas)
    return PlanInputs(
        periods=periods,
        products=products,
        demand=demand,
        forecast=forecast,
        opening_inventory=inventory_selectors.snapshots_frame(as_of=as_of),
        lots=inventory_selectors.lots_frame(as_of=as_of),
        routings=routings,
        capacity=capacity,
        family_quotas=quotas if len(quotas) else None,
        forecast_run_id=run_id,
        work_center_names=dict(WorkCenter.objects.values_list("code", "name")),
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------


def latest_plan_run(*, user=None) -> PlanRun | None:
    runs = PlanRun.objects.all() if user is None else PlanRun.objects.for_user(user)
    return (
        runs.filter(status__in=[PlanRun.Status.COMPLETED, PlanRun.Status.COMPLETED_WITH_ERRORS])
        .order_by("-finished_at", "-id")
        .first()
    )


def target_not_buildable_alerts(*, user, months: list[dt.date]) -> list[dict]:
    """Open ``target_not_buildable`` alerts of the supply reconciliation in these months (the
    viewer's scope), for the quota plan page (``territories.sources``)."""
    alerts = (
        CapacityAlert.objects.for_user(user)
        .active()
        .filter(type="target_not_buildable", period_start__in=months)
        .order_by("period_start", "family__code")
        .values(
            "id",
            "family__code",
            "family__name",
            "territory__code",
            "period_start",
            "amount",
            "value",
            "message",
            "message_key",
            "message_params",
            "status",
            "severity",
        )
    )
    return list(alerts)


def family_plan_feasible(*, months: list[dt.date]) -> tuple[PlanRun | None, pd.DataFrame]:
    """The latest finished plan run and its family plan in ``months`` (``family_code``,
    ``period_start``, ``demand_qty``, ``feasible_qty``), for the quota buildability check
    (``territories.sources``); ``(None, empty)`` before the first run."""
    columns = ["family_code", "period_start", "demand_qty", "feasible_qty"]
    run = latest_plan_run()
    if run is None:
        return None, pd.DataFrame(columns=columns)
    rows = FamilyPlan.objects.filter(run=run, period_start__in=months).values_list(
        "family__code", "period_start", "demand_qty", "feasible_qty"
    )
    return run, pd.DataFrame.from_records(list(rows), columns=columns)


def alerts_for_page(*, user, filters: dict, limit: int | None = 200):
    """The filtered alerts in inbox order (open first, then by severity); ``limit=None`` gives
    the whole ordered queryset (the page paginates it, the export writes it)."""
    qs = alert_queryset(user=user, filters=filters)
    rank = Case(
        *[When(severity=s, then=Value(i)) for i, s in enumerate(("critical", "warning", "info"))],
        default=Value(9),
        output_field=IntegerField(),
    )
    status_rank = Case(
        When(status="open", then=Value(0)),
        When(status="acknowledged", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    qs = qs.select_related(*ALERT_RELATIONS).order_by(status_rank, rank, "period_start", "-id")
    return qs if limit is None else list(qs[:limit])


ALERT_RELATIONS = ("work_center__plant", "product", "family", "territory", "assignee", "run")


def alerts_page(*, user, filters: dict, number, per_page: int) -> Page:
    """One page of the filtered inbox: the page's ids are ordered on the alert table alone (a
    sort of a few thousand narrow rows), then only that page's alerts are read with what they
    link to — not a six-table join of every open alert sorted to keep a hundred."""
    ids = alerts_for_page(user=user, filters=filters, limit=None).select_related(None).values_list("pk", flat=True)
    page = Paginator(ids, per_page).get_page(number)
    wanted = list(page.object_list)
    found = CapacityAlert.objects.select_related(*ALERT_RELATIONS).in_bulk(wanted)
    page.object_list = [found[pk] for pk in wanted if pk in found]
    return page


def alert_queryset(*, user, filters: dict):
    qs = CapacityAlert.objects.for_user(user)
    status = filters.get("status", "active")
    if status == "active":
        qs = qs.active()
    elif status:
        qs = qs.filter(status=status)
    for key, lookup in (
        ("type", "type"),
        ("severity", "severity"),
        ("plant", "work_center__plant__code"),
        ("period", "period_start"),
        ("work_center", "work_center__code"),
        ("product", "product__sku"),
        ("family", "family__code"),
    ):
        if filters.get(key):
            qs = qs.filter(**{lookup: filters[key]})
    return qs


def capacity_heatmap(*, run: PlanRun | None, plant: str | None = None) -> dict:
    """Work center × period utilisation of a run (two queries)."""
    if run is None:
        return {"periods": [], "rows": []}
    qs = WorkCenterLoad.objects.filter(run=run)
    if plant:
        qs = qs.filter(work_center__plant__code=plant)
    loads = list(
        qs.order_by("work_center__code", "period_start").values_list(
            "work_center__code",
            "work_center__name",
            "work_center__plant__code",
            "period_start",
            "utilisation",
            "load_hours",
            "available_hours",
        )
    )
    periods = sorted({row[3] for row in loads})
    rows: dict[str, dict] = {}
    for code, name, plant_code, period, util, load, available in loads:
        row = rows.setdefault(code, {"code": code, "name": name, "plant": plant_code, "cells": []})
        pct = None if util is None else round(util * 100)
        row["cells"].append(
            {"period": period, "pct": pct, "level": utilisation_level(pct), "load": load, "available": available}
        )
    return {"periods": periods, "rows": list(rows.values())}


def work_center_products(*, run: PlanRun, work_center: WorkCenter, period: dt.date) -> list[dict]:
    """Products loading a work center in a period, largest load first."""
    hours = dict(Routing.objects.filter(work_center=work_center).values_list("product_id", "hours_per_unit"))
    lines = PlanLine.objects.filter(run=run, period_start=period, product_id__in=list(hours)).values_list(
        "product_id", "product__sku", "product__name", "production_required", "constrained_production", "shortfall_qty"
    )
    rows = []
    for pid, sku, name, required, constrained, shortfall in lines:
        hpu = float(hours[pid])
        rows.append(
            {
                "sku": sku,
                "name": name,
                "hours_per_unit": hpu,
                "required": required,
                "load_hours": required * hpu,
                "constrained": constrained,
                "shortfall": shortfall,
            }
        )
    rows.sort(key=lambda r: -r["load_hours"])
    return rows


def product_plan(*, run: PlanRun | None, product_id: int) -> list[dict]:
    if run is None:
        return []
    return list(
        PlanLine.objects.filter(run=run, product_id=product_id)
        .order_by("period_start")
        .values(
            "period_start",
            "demand_qty",
            "feasible_qty",
            "safety_stock",
            "projected_inventory_after",
            "production_required",
            "constrained_production",
            "prebuild_qty",
            "shortfall_qty",
        )
    )


def product_lot_ages(*, product_id: int, as_of: dt.date) -> list[dict]:
    """On-hand stock of a product by age bucket, FIFO-trimmed to the latest on hand."""
    sku_ids = [product_id]
    lots = inventory_selectors.lots_frame(as_of=as_of, product_ids=sku_ids)
    snaps = inventory_selectors.snapshots_frame(as_of=as_of, product_ids=sku_ids)
    if lots.empty:
        return []
    buckets = aging_buckets(
        lots, as_of=as_of, on_hand=snaps[["product_sku", "location_code", "on_hand"]] if len(snaps) else None
    )
    totals = buckets[[b[0] for b in AGING_BUCKETS]].sum()
    labels = {
        "qty_0_90": "0–90 days",
        "qty_91_180": "91–180 days",
        "qty_181_365": "181–365 days",
        "qty_over_365": "over 365 days",
    }
    return [{"bucket": labels[k], "qty": float(np.round(v, 1))} for k, v in totals.items()]
