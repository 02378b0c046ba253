"""Reads of the S&OP cycle: cycles and stages, the demand plan at any level (SQL GROUP BY
over the grain rows), the supply and executive reviews, the published plan, the home panel,
and the inputs a new cycle and the cycle's plan run are computed from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.roles import ADMIN, user_roles
from core.services import add_months
from forecasting.models import Forecast, ForecastRun
from inventory import selectors as inventory_selectors
from inventory.calculations import aging_buckets
from inventory.models import Product, ProductFamily
from sop.demand_plan import totals_by_node
from sop.models import (
    CycleStage,
    Decision,
    DemandPlanEdit,
    DemandPlanLine,
    PlanCycle,
    PlanLine,
    Routing,
    SalesOrderLine,
    WorkCenterLoad,
)
from territories.models import Territory
from territories.selectors import family_unit_quotas

LEVELS = ("product", "family", "territory", "region", "total")
#: the key field of each level (total has none) and the line column it groups by
LEVEL_KEY = {"product": "product_sku", "family": "family_code", "territory": "territory_code",
             "region": "region_code", "total": None}
KEY_COLUMN = {"product_sku": "product_id", "family_code": "family_id", "territory_code": "territory_id",
              "region_code": "region_id"}
KEY_FIELDS = tuple(KEY_COLUMN)
MEASURES = ("statistical", "naive", "target", "sales_override", "consensus", "feasible")
EDITABLE_MEASURES = ("sales_override", "consensus")
DEMAND_STATUSES = ("booked", "shipped", "invoiced")


def etag_of(revision: int | None, count: int) -> str:
    """An aggregate row's version: the highest revision among its rows and how many they are."""
    return f"{revision or 0}-{count}"


def cycle_for(*, user, month: dt.date) -> PlanCycle | None:
    return PlanCycle.objects.for_user(user).filter(month=month).first()


def cycles_for(*, user):
    return PlanCycle.objects.for_user(user).select_related("published_by").order_by("-month")


def current_cycle(*, user) -> PlanCycle | None:
    """The cycle being worked (the earliest open one), else the latest published."""
    cycles = PlanCycle.objects.for_user(user)
    return cycles.open().order_by("month").first() or cycles.published().order_by("-month").first()


def latest_published(*, before: dt.date) -> PlanCycle | None:
    return PlanCycle.objects.published().filter(month__lt=before).order_by("-month").first()


def cycle_periods(cycle: PlanCycle) -> list[dt.date]:
    return [add_months(cycle.month, i) for i in range(cycle.horizon_periods)]


# ---------------------------------------------------------------------------------------
# The demand plan at any level
# ---------------------------------------------------------------------------------------


def key_filter(keys: dict) -> Q:
    """Grain rows matching natural keys (codes): product, family, territory (its subtree),
    region. An unknown code matches nothing."""
    q = Q()
    if keys.get("product_sku"):
        q &= Q(product_id=Product.objects.filter(sku=keys["product_sku"]).values_list("id", flat=True).first() or 0)
    if keys.get("family_code"):
        q &= Q(family_id=ProductFamily.objects.filter(code=keys["family_code"]).values_list("id", flat=True).first()
               or 0)
    if keys.get("territory_code"):
        path = Territory.objects.filter(code=keys["territory_code"]).values_list("path", flat=True).first()
        q &= Q(territory__path__startswith=path) if path else Q(pk__in=[])
    if keys.get("region_code"):
        q &= Q(region_id=Territory.objects.filter(code=keys["region_code"], parent__isnull=True)
               .values_list("id", flat=True).first() or 0)
    return q


def grain_rows(*, cycle: PlanCycle, keys: dict, period_start: dt.date | None = None, user=None):
    """The grain rows under an aggregate (all of them, or those ``user`` may see)."""
    rows = DemandPlanLine.objects.for_user(user) if user is not None else DemandPlanLine.objects.all()
    rows = rows.filter(key_filter(keys), cycle=cycle)
    if period_start is not None:
        rows = rows.filter(period_start=period_start)
    return rows


def _codes(column: str, ids: set[int]) -> dict[int, str]:
    if column == "product_id":
        return dict(Product.objects.filter(pk__in=ids).values_list("id", "sku"))
    if column == "family_id":
        return dict(ProductFamily.objects.filter(pk__in=ids).values_list("id", "code"))
    return dict(Territory.objects.filter(pk__in=ids).values_list("id", "code"))


def demand_plan_rows(*, cycle: PlanCycle, user, level: str, filters: dict | None = None) -> list[dict]:
    """Rows of the demand plan at ``level`` (one per key × month), in the caller's scope.

    Each row has the level's key fields (and ``family_code`` at product level,
    ``region_code`` at territory level), ``period_start``, the six measures summed over its
    grain rows (None where all are empty) and ``etag``. ``filters``: key fields (codes) and
    ``period_start``.
    """
    filters = filters or {}
    group = {"product": ["product_id", "family_id"], "family": ["family_id"], "territory": ["territory_id", "region_id"],
             "region": ["region_id"], "total": []}[level]
    rows = grain_rows(cycle=cycle, keys=filters, user=user)
    if filters.get("period_start"):
        rows = rows.filter(period_start=filters["period_start"])
    sums = {m: Sum(m) for m in MEASURES}
    result = list(rows.order_by().values(*group, "period_start").annotate(
        **sums, revision_max=Max("revision"), rows=Count("id")))
    codes = {column: _codes(column, {r[column] for r in result}) for column in group}
    names = {"product_id": "product_sku", "family_id": "family_code", "territory_id": "territory_code",
             "region_id": "region_code"}
    out = []
    for r in result:
        row = {names[c]: codes[c].get(r[c]) for c in group}
        row["period_start"] = r["period_start"]
        for m in MEASURES:
            value = r[m]
            row[m] = None if value is None else (int(value) if m in EDITABLE_MEASURES else round(float(value), 2))
        row["etag"] = etag_of(r["revision_max"], r["rows"])
        out.append(row)
    order = [names[c] for c in group]
    out.sort(key=lambda row: tuple(row[k] or "" for k in order) + (row["period_start"],))
    return out


def demand_plan_row(*, cycle: PlanCycle, user, level: str, keys: dict, period_start: dt.date) -> dict | None:
    rows = demand_plan_rows(cycle=cycle, user=user, level=level, filters={**keys, "period_start": period_start})
    key = LEVEL_KEY[level]
    rows = [r for r in rows if key is None or r[key] == keys.get(key)]
    return rows[0] if rows else None


def demand_grid(*, cycle: PlanCycle, user, filters: dict | None = None) -> dict:
    """The demand review page's grid: family rows × months with every measure, the totals
    row, and the months. Products and territories of a family load on request."""
    periods = cycle_periods(cycle)
    families = demand_plan_rows(cycle=cycle, user=user, level="family", filters=filters)
    totals = demand_plan_rows(cycle=cycle, user=user, level="total", filters=filters)
    return {"periods": periods, "rows": _pivot(families, "family_code", periods), "total": _pivot(
        totals, None, periods)}


def demand_detail(*, cycle: PlanCycle, user, family_code: str, by: str) -> list[dict]:
    """Rows of one family by product or by territory, pivoted by month."""
    level = "product" if by == "product" else "territory"
    rows = demand_plan_rows(cycle=cycle, user=user, level=level, filters={"family_code": family_code})
    return _pivot(rows, LEVEL_KEY[level], cycle_periods(cycle))


def _pivot(rows: list[dict], key: str | None, periods: list[dt.date]) -> list[dict]:
    out: dict = {}
    for r in rows:
        entry = out.setdefault(r[key] if key else "total", {"key": r[key] if key else None, "cells": {}})
        entry["cells"][r["period_start"]] = r
    for entry in out.values():
        entry["cells"] = [entry["cells"].get(p) for p in periods]
        entry["sum"] = {m: _total([c[m] if c else None for c in entry["cells"]]) for m in MEASURES}
    return list(out.values())


def _total(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def demand_chart(*, cycle: PlanCycle, user, filters: dict | None = None, history_months: int = 24) -> dict:
    """History (units sold) and the plan's measures by month, in the caller's scope."""
    filters = filters or {}
    totals = {r["period_start"]: r for r in demand_plan_rows(cycle=cycle, user=user, level="total",
                                                             filters=filters)}
    start = add_months(cycle.month, -history_months)
    sales = SalesOrderLine.objects.for_user(user).filter(
        status__in=DEMAND_STATUSES, order_date__gte=start, order_date__lt=cycle.month)
    if filters.get("family_code"):
        sales = sales.filter(product__family__code=filters["family_code"])
    if filters.get("product_sku"):
        sales = sales.filter(product__sku=filters["product_sku"])
    if filters.get("territory_code"):
        path = Territory.objects.filter(code=filters["territory_code"]).values_list("path", flat=True).first()
        sales = sales.filter(territory__path__startswith=path) if path else sales.none()
    history = dict(sales.annotate(month=TruncMonth("order_date")).values_list("month").annotate(
        units=Sum("quantity")).order_by())
    history_months_list = [add_months(start, i) for i in range(history_months)]
    periods = cycle_periods(cycle)
    labels = [m.strftime("%Y-%m") for m in history_months_list + periods]

    def series(measure: str) -> list:
        return [None] * history_months + [None if totals.get(p) is None or totals[p][measure] is None
                                          else round(float(totals[p][measure]), 1) for p in periods]

    return {"labels": labels,
            "history": [float(history[m]) if m in history else 0.0 for m in history_months_list]
            + [None] * len(periods),
            **{m: series(m) for m in ("statistical", "consensus", "target", "feasible", "sales_override")}}


def edits_for(*, cycle: PlanCycle, user, limit: int = 50) -> list[DemandPlanEdit]:
    return list(DemandPlanEdit.objects.for_user(user).filter(cycle=cycle).select_related("user")
                .order_by("-revision")[:limit])


# ---------------------------------------------------------------------------------------
# Overview, home panel, decisions
# ---------------------------------------------------------------------------------------


def stages_of(cycle: PlanCycle, *, today: dt.date) -> list[dict]:
    out = []
    for stage in cycle.stages.select_related("owner", "completed_by").order_by("position"):
        out.append({"stage": stage, "code": stage.code, "overdue": stage.status != CycleStage.Status.DONE
                    and stage.due_date < today})
    return out


def decisions_for(*, cycle: PlanCycle, user, status: str | None = None):
    qs = Decision.objects.for_user(user).filter(cycle=cycle).select_related(
        "owner", "family", "product", "work_center", "alert", "created_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "due_date", "id")


def overview(*, cycle: PlanCycle, user, today: dt.date) -> dict:
    stages = stages_of(cycle, today=today)
    done = sum(1 for s in stages if s["stage"].status == CycleStage.Status.DONE)
    return {"stages": stages, "progress": round(100 * done / max(len(stages), 1)),
            "open_decisions": list(decisions_for(cycle=cycle, user=user, status=Decision.Status.OPEN)[:10]),
            "open_decisions_count": Decision.objects.filter(cycle=cycle, status=Decision.Status.OPEN).count(),
            "edits": edits_for(cycle=cycle, user=user, limit=10)}


def home_panel(*, user, today: dt.date | None = None) -> list[dict]:
    """The stages the user owns (by role or by name) that are in progress: due, overdue or
    just handed to them."""
    today = today or timezone.localdate()
    roles = user_roles(user)
    if not roles - {"erp", "sales_rep"}:
        return []
    owned = Q(owner=user) | Q(owner__isnull=True, owner_role__in=roles)
    if ADMIN in roles:
        owned = Q()
    stages = (CycleStage.objects.filter(owned, status=CycleStage.Status.ACTIVE, cycle__status=PlanCycle.Status.OPEN)
              .select_related("cycle").order_by("due_date"))
    out = []
    for stage in stages:
        days = (stage.due_date - today).days
        state = "overdue" if days < 0 else "due" if days <= 2 else "handed" if stage.started_at and (
            timezone.now() - stage.started_at).days < 7 else "open"
        out.append({"stage": stage, "cycle": stage.cycle, "state": state, "days": days, "late": max(0, -days)})
    return out


# ---------------------------------------------------------------------------------------
# Supply review and executive review
# ---------------------------------------------------------------------------------------


def _family_months(cycle: PlanCycle) -> pd.DataFrame:
    rows = DemandPlanLine.objects.filter(cycle=cycle).order_by().values("family_id", "period_start").annotate(
        consensus=Sum("consensus"), target=Sum("target"), feasible=Sum("feasible"), statistical=Sum("statistical"))
    return pd.DataFrame.from_records(list(rows), columns=["family_id", "period_start", "consensus", "target",
                                                          "feasible", "statistical"])


def supply_review(*, cycle: PlanCycle) -> dict:
    """Family × month: consensus, target, feasible, shortfall, the bottleneck work center and
    its utilisation, projected inventory; the gaps with their options."""
    periods = cycle_periods(cycle)
    frame = _family_months(cycle)
    families = dict(ProductFamily.objects.values_list("id", "code"))
    run = cycle.plan_run
    inventory, bottleneck = {}, {}
    if run is not None:
        for family_id, period, inv in PlanLine.objects.filter(run=run, period_start__in=periods).order_by().values_list(
                "product__family_id", "period_start").annotate(inv=Sum("projected_inventory_after")):
            inventory[(family_id, period)] = inv
        routed = pd.DataFrame.from_records(
            list(Routing.objects.values_list("product__family_id", "work_center_id").distinct()),
            columns=["family_id", "work_center_id"])
        loads = pd.DataFrame.from_records(
            list(WorkCenterLoad.objects.filter(run=run, period_start__in=periods).values_list(
                "work_center_id", "work_center__code", "period_start", "utilisation")),
            columns=["work_center_id", "work_center_code", "period_start", "utilisation"])
        if len(routed) and len(loads):
            both = routed.merge(loads, on="work_center_id").dropna(subset=["utilisation"])
            both = both.sort_values("utilisation", ascending=False).drop_duplicates(["family_id", "period_start"])
            bottleneck = {(r.family_id, r.period_start): (r.work_center_code, r.utilisation)
                          for r in both.itertuples(index=False)}
    rows, gaps = {}, []
    for r in frame.itertuples(index=False):
        code = families.get(r.family_id)
        wc = bottleneck.get((r.family_id, r.period_start))
        feasible = None if r.feasible is None or pd.isna(r.feasible) else float(r.feasible)
        shortfall = None if feasible is None else max(0.0, float(r.consensus) - feasible)
        cell = {"period_start": r.period_start, "consensus": int(r.consensus),
                "target": None if r.target is None or pd.isna(r.target) else float(r.target),
                "feasible": feasible, "shortfall": shortfall,
                "bottleneck": wc[0] if wc else None, "utilisation": round(wc[1] * 100) if wc else None,
                "inventory": inventory.get((r.family_id, r.period_start))}
        rows.setdefault(code, {}).update({r.period_start: cell})
        target_gap = None if cell["target"] is None or feasible is None else max(0.0, cell["target"] - feasible)
        if (shortfall or 0) > 0.5 or (target_gap or 0) > 0.5:
            gaps.append({"family_code": code, **cell, "target_gap": target_gap})
    table = [{"family_code": code, "cells": [cells.get(p) for p in periods]} for code, cells in sorted(rows.items())]
    gaps.sort(key=lambda g: (g["period_start"], g["family_code"]))
    return {"periods": periods, "rows": table, "gaps": gaps, "run": run}


def executive_review(*, cycle: PlanCycle, today: dt.date) -> dict:
    """One page for the whole cycle: revenue plan vs target vs last year, service level,
    capacity risk, inventory value and aged stock, open decisions, changes per family."""
    periods = cycle_periods(cycle)
    prices = pd.DataFrame.from_records(list(Product.objects.values_list("id", "unit_price", "unit_cost")),
                                       columns=["product_id", "unit_price", "unit_cost"])
    prices[["unit_price", "unit_cost"]] = prices[["unit_price", "unit_cost"]].astype(float)
    lines = pd.DataFrame.from_records(
        list(DemandPlanLine.objects.filter(cycle=cycle).order_by().values("product_id", "family_id", "period_start")
             .annotate(consensus=Sum("consensus"), target=Sum("target"), feasible=Sum("feasible"))),
        columns=["product_id", "family_id", "period_start", "consensus", "target", "feasible"])
    lines = lines.merge(prices, on="product_id", how="left")
    for column in ("consensus", "target", "feasible"):
        lines[column] = pd.to_numeric(lines[column], errors="coerce")
    lines["revenue"] = lines["consensus"] * lines["unit_price"]
    lines["target_revenue"] = lines["target"] * lines["unit_price"]
    by_month = lines.groupby("period_start")[["revenue", "target_revenue", "consensus", "feasible"]].sum(min_count=1)
    last_year = dict(SalesOrderLine.objects.counting().filter(
        order_date__gte=add_months(periods[0], -12), order_date__lt=add_months(periods[-1], -11)).annotate(
        month=TruncMonth("order_date")).values_list("month").annotate(amount=Sum("net_amount")).order_by())
    months = []
    for p in periods:
        row = by_month.loc[p] if p in by_month.index else None
        months.append({"period_start": p,
                       "revenue": None if row is None else float(row["revenue"]),
                       "target_revenue": None if row is None or pd.isna(row["target_revenue"])
                       else float(row["target_revenue"]),
                       "last_year": float(last_year.get(add_months(p, -12), 0) or 0)})
    consensus_total = float(lines["consensus"].sum())
    feasible_total = lines["feasible"].sum(min_count=1)
    service = None if pd.isna(feasible_total) or consensus_total <= 0 else float(feasible_total) / consensus_total
    risk = []
    if cycle.plan_run_id:
        risk = list(WorkCenterLoad.objects.filter(run_id=cycle.plan_run_id, period_start__in=periods,
                                                  utilisation__gt=1.0)
                    .select_related("work_center").order_by("-utilisation")[:20])
    as_of = min(today, periods[0])
    snapshots = inventory_selectors.snapshots_frame(as_of=as_of)
    lots = inventory_selectors.lots_frame(as_of=as_of)
    sku_cost = dict(Product.objects.values_list("sku", "unit_cost"))
    inventory_value = float(sum(float(sku_cost.get(s, 0)) * q for s, q in zip(
        snapshots.get("product_sku", []), snapshots.get("on_hand", []), strict=True)))
    aged_value = 0.0
    if len(lots):
        buckets = aging_buckets(lots, as_of=as_of, on_hand=snapshots[["product_sku", "location_code", "on_hand"]]
                                if len(snapshots) else None)
        aged = buckets["qty_181_365"] + buckets["qty_over_365"]
        aged_value = float(sum(float(sku_cost.get(s, 0)) * q for s, q in zip(buckets["product_sku"], aged,
                                                                               strict=True)))
    return {"months": months, "revenue_total": _sum([m["revenue"] for m in months]),
            "target_total": _sum([m["target_revenue"] for m in months]),
            "last_year_total": _sum([m["last_year"] for m in months]),
            "service_level": service, "capacity_risk": risk, "inventory_value": inventory_value,
            "aged_value": aged_value, "changes": changes_since_previous(cycle=cycle),
            "open_decisions": list(Decision.objects.filter(cycle=cycle, status=Decision.Status.OPEN)
                                   .select_related("owner", "family")[:20])}


def _sum(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present)) if present else None


def changes_since_previous(*, cycle: PlanCycle) -> list[dict]:
    """Per family, the consensus over the months both cycles plan: the last published cycle's
    and this one's."""
    previous = cycle.previous_cycle
    if previous is None:
        return []
    periods = sorted(set(cycle_periods(cycle)) & set(cycle_periods(previous)))
    families = dict(ProductFamily.objects.values_list("id", "code"))

    def totals(c: PlanCycle) -> dict[int, int]:
        return dict(DemandPlanLine.objects.filter(cycle=c, period_start__in=periods).order_by().values_list(
            "family_id").annotate(total=Sum("consensus")))

    now, before = totals(cycle), totals(previous)
    out = []
    for family_id in sorted(set(now) | set(before), key=lambda f: families.get(f, "")):
        a, b = int(before.get(family_id) or 0), int(now.get(family_id) or 0)
        out.append({"family_code": families.get(family_id), "previous": a, "current": b, "change": b - a,
                    "change_pct": None if a == 0 else (b - a) / a * 100})
    return out


# ---------------------------------------------------------------------------------------
# The published plan
# ---------------------------------------------------------------------------------------

PLAN_COLUMNS = ["product_sku", "family_code", "period_start", "consensus", "feasible", "production"]


def published_plan_rows(*, cycle: PlanCycle) -> list[dict]:
    """Product × month: consensus, feasible (the cycle's plan run) and production (the
    constrained production the run planned)."""
    sums = list(DemandPlanLine.objects.filter(cycle=cycle).order_by().values("product_id", "family_id",
                                                                             "period_start").annotate(
        consensus=Sum("consensus"), feasible=Sum("feasible")))
    production = {}
    if cycle.plan_run_id:
        production = {(p, d): q for p, d, q in PlanLine.objects.filter(run_id=cycle.plan_run_id).values_list(
            "product_id", "period_start", "constrained_production")}
    skus = _codes("product_id", {r["product_id"] for r in sums})
    families = _codes("family_id", {r["family_id"] for r in sums})
    out = []
    for r in sums:
        key = (r["product_id"], r["period_start"])
        out.append({"product_sku": skus.get(r["product_id"]), "family_code": families.get(r["family_id"]),
                    "period_start": r["period_start"], "consensus": int(r["consensus"]),
                    "feasible": None if r["feasible"] is None else round(float(r["feasible"]), 2),
                    "production": None if key not in production else round(float(production[key]), 2)})
    out.sort(key=lambda row: (row["product_sku"] or "", row["period_start"]))
    return out


# ---------------------------------------------------------------------------------------
# Inputs of a new cycle and of the cycle's plan run
# ---------------------------------------------------------------------------------------


@dataclass
class CycleInputs:
    grid: pd.DataFrame  # product_id, territory_id, family_id, region_id, territory_path, period_start, statistical
    history: pd.DataFrame  # product_id, territory_id, period_start, units
    last_history_month: dt.date
    quotas: pd.DataFrame  # family_id, territory_path, period_start, quota_qty
    previous: pd.DataFrame | None  # product_id, territory_id, period_start, consensus
    forecast_last_month: dt.date | None


def latest_forecast_run() -> ForecastRun | None:
    return ForecastRun.objects.finished().order_by("-finished_at", "-id").first()


def territory_paths() -> dict[int, str]:
    return dict(Territory.objects.values_list("id", "path"))


def cycle_inputs(*, run: ForecastRun, periods: list[dt.date], previous: PlanCycle | None) -> CycleInputs:
    """The grid of a new cycle: every product × territory series of the forecast run, dense
    over the cycle's months (0 where the run has no forecast), with what the measures need."""
    forecasts = pd.DataFrame.from_records(
        list(Forecast.objects.filter(run=run, level="product_territory", period_start__gte=periods[0],
                                     period_start__lte=periods[-1]).values_list(
            "product_id", "territory_id", "period_start", "point")),
        columns=["product_id", "territory_id", "period_start", "statistical"])
    series = pd.DataFrame.from_records(
        list(Forecast.objects.filter(run=run, level="product_territory").order_by().values_list(
            "product_id", "territory_id").distinct()), columns=["product_id", "territory_id"])
    series = series.sort_values(["product_id", "territory_id"], ignore_index=True)
    grid = series.merge(pd.DataFrame({"period_start": periods}), how="cross")
    grid = grid.merge(forecasts, on=["product_id", "territory_id", "period_start"], how="left")
    grid["statistical"] = grid["statistical"].fillna(0.0).clip(lower=0)
    families = dict(Product.objects.values_list("id", "family_id"))
    paths = territory_paths()
    roots = dict(Territory.objects.filter(parent__isnull=True).values_list("code", "id"))
    grid["family_id"] = grid["product_id"].map(families)
    grid["territory_path"] = grid["territory_id"].map(paths)
    grid["region_id"] = grid["territory_path"].str.split("/").str[1].map(roots)
    grid = grid.dropna(subset=["family_id", "region_id"])
    grid = grid.astype({"family_id": np.int64, "region_id": np.int64})

    last_history = run.as_of.replace(day=1) - dt.timedelta(days=1)
    last_history_month = last_history.replace(day=1)
    history = pd.DataFrame.from_records(
        list(SalesOrderLine.objects.filter(
            status__in=DEMAND_STATUSES, order_date__gte=add_months(last_history_month, -11),
            order_date__lte=last_history, territory__isnull=False).annotate(month=TruncMonth("order_date"))
            .values_list("product_id", "territory_id", "month").annotate(units=Sum("quantity")).order_by()),
        columns=["product_id", "territory_id", "period_start", "units"])

    quota_frame = family_unit_quotas(period_starts=periods)
    family_ids = dict(ProductFamily.objects.values_list("code", "id"))
    code_paths = dict(Territory.objects.values_list("code", "path"))
    quotas = pd.DataFrame({"family_id": quota_frame["family_code"].map(family_ids),
                           "territory_path": quota_frame["territory_code"].map(code_paths),
                           "period_start": pd.to_datetime(quota_frame["period_start"]).dt.date
                           if len(quota_frame) else [],
                           "quota_qty": quota_frame["quota_qty"].astype(float)}).dropna()

    prev = None
    if previous is not None:
        prev = pd.DataFrame.from_records(
            list(DemandPlanLine.objects.filter(cycle=previous, period_start__gte=periods[0]).values_list(
                "product_id", "territory_id", "period_start", "consensus")),
            columns=["product_id", "territory_id", "period_start", "consensus"])
    last = Forecast.objects.filter(run=run, level="product_territory").aggregate(m=Max("period_start"))["m"]
    return CycleInputs(grid=grid.reset_index(drop=True), history=history, last_history_month=last_history_month,
                       quotas=quotas, previous=prev, forecast_last_month=last)


def cycle_plan_demand(*, cycle_id: int, periods: list[dt.date], forecast: pd.DataFrame,
                      quotas: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demand a cycle's plan run reconciles: the consensus (with the statistical forecast
    and the target beside it) from the cycle's first month, the forecast before it; and the
    quotas with each territory's consensus as the forecast they are compared with."""
    cycle = PlanCycle.objects.get(pk=cycle_id)
    lines = pd.DataFrame.from_records(
        list(DemandPlanLine.objects.filter(cycle=cycle, period_start__in=periods).order_by().values(
            "product__sku", "period_start").annotate(
            demand_qty=Sum("consensus"), forecast_qty=Sum("statistical"), target_qty=Sum("target"))),
        columns=["product__sku", "period_start", "demand_qty", "forecast_qty", "target_qty"]).rename(
        columns={"product__sku": "product_sku"})
    for column in ("demand_qty", "forecast_qty", "target_qty"):
        lines[column] = pd.to_numeric(lines[column], errors="coerce").fillna(0.0).astype(float)
    before = forecast[[p < cycle.month for p in forecast["period_start"]]] if len(forecast) else forecast
    before = before.assign(demand_qty=before["forecast_qty"], target_qty=0.0)
    demand = pd.concat([before[["product_sku", "period_start", "demand_qty", "forecast_qty", "target_qty"]], lines],
                       ignore_index=True)
    if quotas is not None and len(quotas):
        grain = pd.DataFrame.from_records(
            list(DemandPlanLine.objects.filter(cycle=cycle, period_start__in=periods).order_by().values_list(
                "family__code", "territory_id", "period_start").annotate(consensus=Sum("consensus"))),
            columns=["family_id", "territory_id", "period_start", "consensus"])
        paths = territory_paths()
        grain["territory_path"] = grain["territory_id"].map(paths)
        grain["consensus"] = grain["consensus"].astype(float)
        code_paths = dict(Territory.objects.values_list("code", "path"))
        nodes = pd.DataFrame({"family_id": quotas["family_code"].to_numpy(),
                              "territory_path": quotas["territory_code"].map(code_paths).to_numpy(),
                              "period_start": quotas["period_start"].to_numpy()})
        quotas = quotas.copy()
        quotas["forecast_qty"] = np.where(pd.Series(quotas["period_start"]).ge(cycle.month).to_numpy(),
                                          totals_by_node(grain, nodes, value="consensus"), np.nan)
    return demand, quotas
