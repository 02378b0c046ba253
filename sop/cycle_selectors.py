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

from core import memo
from core.calendar import add_months, month_ordinal, month_ordinals
from core.roles import ADMIN, user_roles
from forecasting.models import Forecast, ForecastRun
from inventory import selectors as inventory_selectors
from inventory.calculations import aging_buckets
from inventory.models import Product, ProductFamily
from sales.models import SalesOrderLine
from sop.demand_plan import family_territory_actuals, totals_by_node
from sop.demand_plan_store import query_frame
from sop.models import (
    CycleStage,
    Decision,
    DemandPlanActual,
    DemandPlanEdit,
    DemandPlanLine,
    PlanCycle,
    PlanLine,
    Routing,
    WorkCenterLoad,
)
from territories.models import Territory, TerritoryAssignment
from territories.selectors import family_unit_quotas

LEVELS = ("product", "family", "territory", "region", "total")
#: the key field of each level (total has none) and the line column it groups by
LEVEL_KEY = {
    "product": "product_sku",
    "family": "family_code",
    "territory": "territory_code",
    "region": "region_code",
    "total": None,
}
KEY_COLUMN = {
    "product_sku": "product_id",
    "family_code": "family_id",
    "territory_code": "territory_id",
    "region_code": "region_id",
}
KEY_FIELDS = tuple(KEY_COLUMN)
#: key fields that may be None: the rows of no territory (sales credited to no territory,
#: forecast as product × no territory); they group under ``territory_code``/``region_code`` None
NO_TERRITORY_KEYS = ("territory_code", "region_code")
MEASURES = ("statistical", "naive", "target", "sales_override", "consensus", "feasible")
EDITABLE_MEASURES = ("sales_override", "consensus")
DEMAND_STATUSES = ("booked", "shipped", "invoiced")
#: months of sales history the demand review charts before a cycle's first month
HISTORY_MONTHS = 24


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
    region. An unknown code matches nothing. ``territory_code`` or ``region_code`` given as
    None (``null`` in the API) names the rows of no territory (``NO_TERRITORY_KEYS``)."""
    q = Q()
    if keys.get("product_sku"):
        q &= Q(product_id=Product.objects.filter(sku=keys["product_sku"]).values_list("id", flat=True).first() or 0)
    if keys.get("family_code"):
        q &= Q(
            family_id=ProductFamily.objects.filter(code=keys["family_code"]).values_list("id", flat=True).first() or 0
        )
    if keys.get("territory_code"):
        path = Territory.objects.filter(code=keys["territory_code"]).values_list("path", flat=True).first()
        q &= Q(territory__path__startswith=path) if path else Q(pk__in=[])
    if keys.get("region_code"):
        q &= Q(
            region_id=Territory.objects.filter(code=keys["region_code"], parent__isnull=True)
            .values_list("id", flat=True)
            .first()
            or 0
        )
    if any(k in keys and keys[k] is None for k in NO_TERRITORY_KEYS):
        q &= Q(territory__isnull=True)
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


_CODE_NAMES = {
    "product_id": "product_sku",
    "family_id": "family_code",
    "territory_id": "territory_code",
    "region_id": "region_code",
}
_LEVEL_GROUP = {
    "product": ["product_id", "family_id"],
    "family": ["family_id"],
    "territory": ["territory_id", "region_id"],
    "region": ["region_id"],
    "total": [],
}


def _level_sums(*, cycle: PlanCycle, user, level: str, filters: dict) -> list[dict]:
    """One GROUP BY over the grain rows: the level's key codes, ``period_start``, the raw
    sums of the measures, ``revision_max`` and ``rows``."""
    group = _LEVEL_GROUP[level]
    rows = grain_rows(cycle=cycle, keys=filters, user=user)
    if filters.get("period_start"):
        rows = rows.filter(period_start=filters["period_start"])
    sums = {m: Sum(m) for m in MEASURES}
    result = list(
        rows.order_by().values(*group, "period_start").annotate(**sums, revision_max=Max("revision"), rows=Count("id"))
    )
    codes = {column: _codes(column, {r[column] for r in result}) for column in group}
    for r in result:
        for column in group:
            r[_CODE_NAMES[column]] = codes[column].get(r.pop(column))
    return result


def _public_row(raw: dict, keys: list[str]) -> dict:
    row = {k: raw[k] for k in keys}
    row["period_start"] = raw["period_start"]
    for m in MEASURES:
        value = raw[m]
        row[m] = None if value is None else (int(value) if m in EDITABLE_MEASURES else round(float(value), 2))
    row["etag"] = etag_of(raw["revision_max"], raw["rows"])
    return row


def _public_rows(raw: list[dict], level: str) -> list[dict]:
    keys = [_CODE_NAMES[c] for c in _LEVEL_GROUP[level]]
    out = [_public_row(r, keys) for r in raw]
    # By code; the rows of no territory (key None) after the others.
    out.sort(key=lambda row: tuple(x for k in keys for x in (row[k] is None, row[k] or "")) + (row["period_start"],))
    return out


def _sum_months(raw: list[dict]) -> list[dict]:
    """Raw level sums added up per month: the total level from a partition of its rows (the
    family rows), without a second pass over the grain rows."""
    months: dict = {}
    for r in raw:
        into = months.setdefault(
            r["period_start"],
            {"period_start": r["period_start"], "revision_max": None, "rows": 0, **{m: None for m in MEASURES}},
        )
        for m in MEASURES:
            if r[m] is not None:
                into[m] = r[m] if into[m] is None else into[m] + r[m]
        if r["revision_max"] is not None:
            into["revision_max"] = max(into["revision_max"] or 0, r["revision_max"])
        into["rows"] += r["rows"]
    return list(months.values())


def demand_plan_rows(*, cycle: PlanCycle, user, level: str, filters: dict | None = None) -> list[dict]:
    """Rows of the demand plan at ``level`` (one per key × month), in the caller's scope.

    Each row has the level's key fields (and ``family_code`` at product level,
    ``region_code`` at territory level), ``period_start``, the six measures summed over its
    grain rows (None where all are empty) and ``etag``. ``filters``: key fields (codes) and
    ``period_start``. At territory and region level the rows of no territory form one group
    whose ``territory_code`` and ``region_code`` are None, listed last.
    """
    return _public_rows(_level_sums(cycle=cycle, user=user, level=level, filters=filters or {}), level)


def demand_plan_row(*, cycle: PlanCycle, user, level: str, keys: dict, period_start: dt.date) -> dict | None:
    rows = demand_plan_rows(cycle=cycle, user=user, level=level, filters={**keys, "period_start": period_start})
    key = LEVEL_KEY[level]
    rows = [r for r in rows if key is None or r[key] == keys.get(key)]
    return rows[0] if rows else None


def demand_grid(*, cycle: PlanCycle, user, filters: dict | None = None) -> dict:
    """The demand review page's grid: family rows × months with every measure, the totals
    row, and the months. Products and territories of a family load on request. One GROUP
    BY: the totals add up the family rows (every grain row has one family)."""
    periods = cycle_periods(cycle)
    # Every write of a cycle's rows saves the cycle row (an edit its revision, a plan run its
    # feasible measure): the sums are kept per process while the cycles are unchanged.
    raw = memo.by_tables(
        f"demand-grid:{cycle.pk}:{user and user.pk}:{sorted(user_roles(user))}:{sorted((filters or {}).items())}",
        (PlanCycle, Territory, TerritoryAssignment),
        lambda: _level_sums(cycle=cycle, user=user, level="family", filters=filters or {}),
    )
    families = _public_rows(raw, "family")
    totals = _public_rows(_sum_months(raw), "total")
    return {
        "periods": periods,
        "rows": _pivot(families, "family_code", periods),
        "total": _pivot(totals, None, periods),
        "total_rows": totals,
    }


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


def _territory_filter(filters: dict) -> Q:
    """Rows (with a ``territory``) in the subtree of ``territory_code`` and in the region
    ``region_code`` (codes; an unknown code matches nothing)."""
    q = Q()
    for code, roots_only in ((filters.get("territory_code"), False), (filters.get("region_code"), True)):
        if code:
            nodes = Territory.objects.filter(code=code, **({"parent__isnull": True} if roots_only else {}))
            path = nodes.values_list("path", flat=True).first()
            q &= Q(territory__path__startswith=path) if path else Q(pk__in=[])
    return q


def sales_history(*, cycle: PlanCycle, user, filters: dict | None = None) -> dict[dt.date, float]:
    """Units sold per month over the ``HISTORY_MONTHS`` before the cycle, in the caller's
    scope (``filters``: ``family_code``, ``territory_code`` (its subtree), ``region_code``).

    The months up to ``cycle.history_through`` come from the history stored with the cycle
    (``DemandPlanActual``: the actuals the cycle was opened on, family × territory × month,
    a few thousand rows); the months after it — the month the cycle is worked in, sales
    that arrived since — from the sales lines, a short date range."""
    filters = filters or {}
    start = add_months(cycle.month, -HISTORY_MONTHS)
    through = cycle.history_through if cycle.history_through and cycle.history_through >= start else None
    live_from = add_months(through, 1) if through else start
    family_id = None
    if filters.get("family_code"):
        family_id = ProductFamily.objects.filter(code=filters["family_code"]).values_list("id", flat=True).first() or 0
    history: dict[dt.date, float] = {}
    if through is not None:
        stored = DemandPlanActual.objects.for_user(user).filter(
            _territory_filter(filters), cycle=cycle, period_start__gte=start, period_start__lte=through
        )
        if family_id is not None:
            stored = stored.filter(family_id=family_id)
        for month, units in stored.order_by().values_list("period_start").annotate(units=Sum("units")):
            history[month] = float(units or 0)
    if live_from < cycle.month:
        live = SalesOrderLine.objects.for_user(user).filter(
            _territory_filter(filters),
            status__in=DEMAND_STATUSES,
            order_date__gte=live_from,
            order_date__lt=cycle.month,
        )
        if family_id is not None:
            live = live.filter(product__family_id=family_id)
        for month, units in (
            live.annotate(month=TruncMonth("order_date"))
            .values_list("month")
            .annotate(units=Sum("quantity"))
            .order_by()
        ):
            history[month] = history.get(month, 0.0) + float(units or 0)
    return history


def demand_chart(*, cycle: PlanCycle, user, filters: dict | None = None, plan_totals: list[dict] | None = None) -> dict:
    """History (units sold) and the plan's measures by month, in the caller's scope.
    ``plan_totals``: the total-level rows when the caller has them (the grid's)."""
    filters = filters or {}
    if plan_totals is None:
        plan_totals = demand_plan_rows(cycle=cycle, user=user, level="total", filters=filters)
    totals = {r["period_start"]: r for r in plan_totals}
    history_months = HISTORY_MONTHS
    start = add_months(cycle.month, -history_months)
    history = sales_history(cycle=cycle, user=user, filters=filters)
    history_months_list = [add_months(start, i) for i in range(history_months)]
    periods = cycle_periods(cycle)
    labels = [m.strftime("%Y-%m") for m in history_months_list + periods]

    def series(measure: str) -> list:
        return [None] * history_months + [
            None if totals.get(p) is None or totals[p][measure] is None else round(float(totals[p][measure]), 1)
            for p in periods
        ]

    return {
        "labels": labels,
        "history": [history.get(m, 0.0) for m in history_months_list] + [None] * len(periods),
        **{m: series(m) for m in ("statistical", "consensus", "target", "feasible", "sales_override")},
    }


def edits_for(*, cycle: PlanCycle, user, limit: int = 50) -> list[DemandPlanEdit]:
    return list(
        DemandPlanEdit.objects.for_user(user).filter(cycle=cycle).select_related("user").order_by("-revision")[:limit]
    )


# ---------------------------------------------------------------------------------------
# Overview, home panel, decisions
# ---------------------------------------------------------------------------------------


def stages_of(cycle: PlanCycle, *, today: dt.date) -> list[dict]:
    out = []
    for stage in cycle.stages.select_related("owner", "completed_by").order_by("position"):
        out.append(
            {
                "stage": stage,
                "code": stage.code,
                "overdue": stage.status != CycleStage.Status.DONE and stage.due_date < today,
            }
        )
    return out


def decisions_for(*, cycle: PlanCycle, user, status: str | None = None):
    qs = (
        Decision.objects.for_user(user)
        .filter(cycle=cycle)
        .select_related("owner", "family", "product", "work_center", "alert", "created_by")
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "due_date", "id")


def overview(*, cycle: PlanCycle, user, today: dt.date) -> dict:
    stages = stages_of(cycle, today=today)
    done = sum(1 for s in stages if s["stage"].status == CycleStage.Status.DONE)
    return {
        "stages": stages,
        "progress": round(100 * done / max(len(stages), 1)),
        "open_decisions": list(decisions_for(cycle=cycle, user=user, status=Decision.Status.OPEN)[:10]),
        "open_decisions_count": Decision.objects.filter(cycle=cycle, status=Decision.Status.OPEN).count(),
        "edits": edits_for(cycle=cycle, user=user, limit=10),
    }


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
    stages = (
        CycleStage.objects.filter(owned, status=CycleStage.Status.ACTIVE, cycle__status=PlanCycle.Status.OPEN)
        .select_related("cycle")
        .order_by("due_date")
    )
    out = []
    for stage in stages:
        days = (stage.due_date - today).days
        state = (
            "overdue"
            if days < 0
            else "due"
            if days <= 2
            else "handed"
            if stage.started_at and (timezone.now() - stage.started_at).days < 7
            else "open"
        )
        out.append({"stage": stage, "cycle": stage.cycle, "state": state, "days": days, "late": max(0, -days)})
    return out


# ---------------------------------------------------------------------------------------
# Supply review and executive review
# ---------------------------------------------------------------------------------------


def _family_months(cycle: PlanCycle) -> pd.DataFrame:
    rows = (
        DemandPlanLine.objects.filter(cycle=cycle)
        .order_by()
        .values("family_id", "period_start")
        .annotate(
            consensus=Sum("consensus"), target=Sum("target"), feasible=Sum("feasible"), statistical=Sum("statistical")
        )
    )
    return pd.DataFrame.from_records(
        list(rows), columns=["family_id", "period_start", "consensus", "target", "feasible", "statistical"]
    )


def supply_review(*, cycle: PlanCycle) -> dict:
    """Family × month: consensus, target, feasible, shortfall, the bottleneck work center and
    its utilisation, projected inventory; the gaps with their options."""
    periods = cycle_periods(cycle)
    frame = _family_months(cycle)
    families = dict(ProductFamily.objects.values_list("id", "code"))
    run = cycle.plan_run
    inventory, bottleneck = {}, {}
    if run is not None:
        for family_id, period, inv in (
            PlanLine.objects.filter(run=run, period_start__in=periods)
            .order_by()
            .values_list("product__family_id", "period_start")
            .annotate(inv=Sum("projected_inventory_after"))
        ):
            inventory[(family_id, period)] = inv
        routed = pd.DataFrame.from_records(
            list(Routing.objects.values_list("product__family_id", "work_center_id").distinct()),
            columns=["family_id", "work_center_id"],
        )
        loads = pd.DataFrame.from_records(
            list(
                WorkCenterLoad.objects.filter(run=run, period_start__in=periods).values_list(
                    "work_center_id", "work_center__code", "period_start", "utilisation"
                )
            ),
            columns=["work_center_id", "work_center_code", "period_start", "utilisation"],
        )
        if len(routed) and len(loads):
            both = routed.merge(loads, on="work_center_id").dropna(subset=["utilisation"])
            both = both.sort_values("utilisation", ascending=False).drop_duplicates(["family_id", "period_start"])
            bottleneck = {
                (r.family_id, r.period_start): (r.work_center_code, r.utilisation) for r in both.itertuples(index=False)
            }
    rows, gaps = {}, []
    for r in frame.itertuples(index=False):
        code = families.get(r.family_id)
        wc = bottleneck.get((r.family_id, r.period_start))
        feasible = None if r.feasible is None or pd.isna(r.feasible) else float(r.feasible)
        shortfall = None if feasible is None else max(0.0, float(r.consensus) - feasible)
        cell = {
            "period_start": r.period_start,
            "consensus": int(r.consensus),
            "target": None if r.target is None or pd.isna(r.target) else float(r.target),
            "feasible": feasible,
            "shortfall": shortfall,
            "bottleneck": wc[0] if wc else None,
            "utilisation": round(wc[1] * 100) if wc else None,
            "inventory": inventory.get((r.family_id, r.period_start)),
        }
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
    prices = pd.DataFrame.from_records(
        list(Product.objects.values_list("id", "unit_price", "unit_cost")),
        columns=["product_id", "unit_price", "unit_cost"],
    )
    prices[["unit_price", "unit_cost"]] = prices[["unit_price", "unit_cost"]].astype(float)
    lines = pd.DataFrame.from_records(
        list(
            DemandPlanLine.objects.filter(cycle=cycle)
            .order_by()
            .values("product_id", "family_id", "period_start")
            .annotate(consensus=Sum("consensus"), target=Sum("target"), feasible=Sum("feasible"))
        ),
        columns=["product_id", "family_id", "period_start", "consensus", "target", "feasible"],
    )
    lines = lines.merge(prices, on="product_id", how="left")
    for column in ("consensus", "target", "feasible"):
        lines[column] = pd.to_numeric(lines[column], errors="coerce")
    lines["revenue"] = lines["consensus"] * lines["unit_price"]
    lines["target_revenue"] = lines["target"] * lines["unit_price"]
    by_month = lines.groupby("period_start")[["revenue", "target_revenue", "consensus", "feasible"]].sum(min_count=1)
    last_year = dict(
        SalesOrderLine.objects.counting()
        .filter(order_date__gte=add_months(periods[0], -12), order_date__lt=add_months(periods[-1], -11))
        .annotate(month=TruncMonth("order_date"))
        .values_list("month")
        .annotate(amount=Sum("net_amount"))
        .order_by()
    )
    months = []
    for p in periods:
        row = by_month.loc[p] if p in by_month.index else None
        months.append(
            {
                "period_start": p,
                "revenue": None if row is None else float(row["revenue"]),
                "target_revenue": None
                if row is None or pd.isna(row["target_revenue"])
                else float(row["target_revenue"]),
                "last_year": float(last_year.get(add_months(p, -12), 0) or 0),
            }
        )
    consensus_total = float(lines["consensus"].sum())
    feasible_total = lines["feasible"].sum(min_count=1)
    service = None if pd.isna(feasible_total) or consensus_total <= 0 else float(feasible_total) / consensus_total
    risk = []
    if cycle.plan_run_id:
        risk = list(
            WorkCenterLoad.objects.filter(run_id=cycle.plan_run_id, period_start__in=periods, utilisation__gt=1.0)
            .select_related("work_center")
            .order_by("-utilisation")[:20]
        )
    as_of = min(today, periods[0])
    snapshots = inventory_selectors.snapshots_frame(as_of=as_of)
    lots = inventory_selectors.lots_frame(as_of=as_of)
    sku_cost = dict(Product.objects.values_list("sku", "unit_cost"))
    inventory_value = float(
        sum(
            float(sku_cost.get(s, 0)) * q
            for s, q in zip(snapshots.get("product_sku", []), snapshots.get("on_hand", []), strict=True)
        )
    )
    aged_value = 0.0
    if len(lots):
        buckets = aging_buckets(
            lots,
            as_of=as_of,
            on_hand=snapshots[["product_sku", "location_code", "on_hand"]] if len(snapshots) else None,
        )
        aged = buckets["qty_181_365"] + buckets["qty_over_365"]
        aged_value = float(
            sum(float(sku_cost.get(s, 0)) * q for s, q in zip(buckets["product_sku"], aged, strict=True))
        )
    return {
        "months": months,
        "revenue_total": _sum([m["revenue"] for m in months]),
        "target_total": _sum([m["target_revenue"] for m in months]),
        "last_year_total": _sum([m["last_year"] for m in months]),
        "service_level": service,
        "capacity_risk": risk,
        "inventory_value": inventory_value,
        "aged_value": aged_value,
        "changes": changes_since_previous(cycle=cycle),
        "open_decisions": list(
            Decision.objects.filter(cycle=cycle, status=Decision.Status.OPEN).select_related("owner", "family")[:20]
        ),
    }


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
        return dict(
            DemandPlanLine.objects.filter(cycle=c, period_start__in=periods)
            .order_by()
            .values_list("family_id")
            .annotate(total=Sum("consensus"))
        )

    now, before = totals(cycle), totals(previous)
    out = []
    for family_id in sorted(set(now) | set(before), key=lambda f: families.get(f, "")):
        a, b = int(before.get(family_id) or 0), int(now.get(family_id) or 0)
        out.append(
            {
                "family_code": families.get(family_id),
                "previous": a,
                "current": b,
                "change": b - a,
                "change_pct": None if a == 0 else (b - a) / a * 100,
            }
        )
    return out


# ---------------------------------------------------------------------------------------
# The published plan
# ---------------------------------------------------------------------------------------

PLAN_COLUMNS = ["product_sku", "family_code", "period_start", "consensus", "feasible", "production"]


def published_plan_rows(*, cycle: PlanCycle) -> list[dict]:
    """Product × month: consensus, feasible (the cycle's plan run) and production (the
    constrained production the run planned)."""
    sums = list(
        DemandPlanLine.objects.filter(cycle=cycle)
        .order_by()
        .values("product_id", "family_id", "period_start")
        .annotate(consensus=Sum("consensus"), feasible=Sum("feasible"))
    )
    production = {}
    if cycle.plan_run_id:
        production = {
            (p, d): q
            for p, d, q in PlanLine.objects.filter(run_id=cycle.plan_run_id).values_list(
                "product_id", "period_start", "constrained_production"
            )
        }
    skus = _codes("product_id", {r["product_id"] for r in sums})
    families = _codes("family_id", {r["family_id"] for r in sums})
    out = []
    for r in sums:
        key = (r["product_id"], r["period_start"])
        out.append(
            {
                "product_sku": skus.get(r["product_id"]),
                "family_code": families.get(r["family_id"]),
                "period_start": r["period_start"],
                "consensus": int(r["consensus"]),
                "feasible": None if r["feasible"] is None else round(float(r["feasible"]), 2),
                "production": None if key not in production else round(float(production[key]), 2),
            }
        )
    out.sort(key=lambda row: (row["product_sku"] or "", row["period_start"]))
    return out


# ---------------------------------------------------------------------------------------
# Inputs of a new cycle and of the cycle's plan run
# ---------------------------------------------------------------------------------------


@dataclass
class CycleInputs:
    """What a new cycle is computed from. Months are ``datetime64`` (first of the month);
    ``territory_id`` and ``region_id`` are nullable integers (empty: sales credited to no
    territory, forecast as series of their own)."""

    grid: pd.DataFrame  # product_id, territory_id, family_id, region_id, territory_path, period_start, statistical
    history: pd.DataFrame  # product_id, territory_id, period_start, units (the 12 months seasonal naive reads)
    last_history_month: dt.date
    quotas: pd.DataFrame  # family_id, territory_path, period_start, quota_qty
    previous: pd.DataFrame | None  # product_id, territory_id, period_start, consensus
    forecast_last_month: dt.date | None
    actuals: pd.DataFrame  # family_id, territory_id, region_id, period_start, units (stored for the chart)
    actuals_through: dt.date | None  # the last month of ``actuals`` (None: none stored)


def latest_forecast_run() -> ForecastRun | None:
    return ForecastRun.objects.finished().order_by("-finished_at", "-id").first()


def territory_paths() -> dict[int, str]:
    return dict(Territory.objects.values_list("id", "path"))


def territory_regions() -> dict[int, int]:
    """Territory id → the id of its region (the root of its path)."""
    paths = territory_paths()
    roots = dict(Territory.objects.filter(parent__isnull=True).values_list("code", "id"))
    out = {}
    for pk, path in paths.items():
        parts = [p for p in (path or "").split("/") if p]
        if parts and parts[0] in roots:
            out[pk] = roots[parts[0]]
    return out


def _months64(days: list[dt.date]) -> np.ndarray:
    return pd.to_datetime(pd.Series(days)).to_numpy(dtype="datetime64[ns]")


def cycle_inputs(*, run: ForecastRun, periods: list[dt.date], previous: PlanCycle | None) -> CycleInputs:
    """The grid of a new cycle: every product × territory series of the forecast run, dense
    over the cycle's months (0 where the run has no forecast), with what the measures need.

    Bulk reads go through ``demand_plan_store.query_frame`` (COPY on PostgreSQL): ~270k
    forecasts, ~250k product × territory × month sales sums and ~270k previous consensus
    rows on the large demo."""
    forecasts = query_frame(
        Forecast.objects.filter(run=run, level="product_territory")
        .order_by()
        .values_list("product_id", "territory_id", "period_start", "point"),
        {"product_id": "int", "territory_id": "Int64", "period_start": "date", "statistical": "float"},
    )
    last = forecasts["period_start"].max() if len(forecasts) else None
    series = (
        forecasts[["product_id", "territory_id"]]
        .drop_duplicates()
        .sort_values(["product_id", "territory_id"], ignore_index=True)
    )
    series["series"] = np.arange(len(series))
    months = _months64(periods)
    window = forecasts[(forecasts["period_start"] >= months[0]) & (forecasts["period_start"] <= months[-1])]
    window = window.merge(series, on=["product_id", "territory_id"])
    offset = month_ordinals(window["period_start"]) - month_ordinal(periods[0])
    statistical = np.zeros(len(series) * len(periods))
    statistical[window["series"].to_numpy() * len(periods) + offset] = window["statistical"].to_numpy()
    families = pd.Series(dict(Product.objects.values_list("id", "family_id")), dtype="Int64")
    paths = pd.Series(territory_paths(), dtype=object)
    regions = pd.Series(territory_regions(), dtype="Int64")
    repeat = len(periods)
    grid = pd.DataFrame(
        {
            "product_id": np.repeat(series["product_id"].to_numpy(), repeat),
            "territory_id": series["territory_id"].repeat(repeat).array,
            "period_start": np.tile(months, len(series)),
            "statistical": np.clip(statistical, 0, None),
        }
    )
    grid["family_id"] = grid["product_id"].map(families).astype("Int64")
    grid["territory_path"] = grid["territory_id"].map(paths)
    grid["region_id"] = grid["territory_id"].map(regions).astype("Int64")
    # A series whose product or territory is gone has nowhere to sit; a series of no
    # territory is one of its own (product × no territory, region empty too).
    known = grid["family_id"].notna() & (grid["territory_id"].isna() | grid["region_id"].notna())
    grid = grid[known].reset_index(drop=True)
    grid["family_id"] = grid["family_id"].astype("int64")

    # One read of the sales lines serves both the seasonal naive (the 12 months the forecast
    # was fitted up to) and the history the demand review charts (24 months before the cycle).
    last_history = run.as_of.replace(day=1) - dt.timedelta(days=1)
    last_history_month = last_history.replace(day=1)
    naive_start = add_months(last_history_month, -11)
    chart_start = add_months(periods[0], -HISTORY_MONTHS)
    actuals_through = min(last_history_month, add_months(periods[0], -1))
    sales = query_frame(
        SalesOrderLine.objects.filter(
            status__in=DEMAND_STATUSES, order_date__gte=min(naive_start, chart_start), order_date__lte=last_history
        )
        .annotate(month=TruncMonth("order_date"))
        .values_list("product_id", "territory_id", "month")
        .annotate(units=Sum("quantity"))
        .order_by(),
        {"product_id": "int", "territory_id": "Int64", "period_start": "date", "units": "float"},
    )
    history = sales[sales["period_start"] >= pd.Timestamp(naive_start)].reset_index(drop=True)
    if actuals_through < chart_start:
        actuals_through = None
    charted = (
        sales.iloc[0:0]
        if actuals_through is None
        else sales[
            (sales["period_start"] >= pd.Timestamp(chart_start))
            & (sales["period_start"] <= pd.Timestamp(actuals_through))
        ]
    )
    actuals = family_territory_actuals(charted, families=families, regions=regions)

    quota_frame = family_unit_quotas(period_starts=periods)
    family_ids = dict(ProductFamily.objects.values_list("code", "id"))
    code_paths = dict(Territory.objects.values_list("code", "path"))
    quotas = pd.DataFrame(
        {
            "family_id": quota_frame["family_code"].map(family_ids),
            "territory_path": quota_frame["territory_code"].map(code_paths),
            "period_start": pd.to_datetime(quota_frame["period_start"]).astype("datetime64[ns]")
            if len(quota_frame)
            else pd.Series([], dtype="datetime64[ns]"),
            "quota_qty": quota_frame["quota_qty"].astype(float),
        }
    ).dropna()

    prev = None
    if previous is not None:
        prev = query_frame(
            DemandPlanLine.objects.filter(cycle=previous, period_start__gte=periods[0])
            .order_by()
            .values_list("product_id", "territory_id", "period_start", "consensus"),
            {"product_id": "int", "territory_id": "Int64", "period_start": "date", "consensus": "float"},
        )
    return CycleInputs(
        grid=grid,
        history=history,
        last_history_month=last_history_month,
        quotas=quotas,
        previous=prev,
        forecast_last_month=None if last is None else last.date(),
        actuals=actuals,
        actuals_through=actuals_through,
    )


def cycle_plan_demand(
    *, cycle_id: int, periods: list[dt.date], forecast: pd.DataFrame, quotas: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demand a cycle's plan run reconciles: the consensus (with the statistical forecast
    and the target beside it) from the cycle's first month, the forecast before it; and the
    quotas with each territory's consensus as the forecast they are compared with."""
    cycle = PlanCycle.objects.get(pk=cycle_id)
    lines = pd.DataFrame.from_records(
        list(
            DemandPlanLine.objects.filter(cycle=cycle, period_start__in=periods)
            .order_by()
            .values("product__sku", "period_start")
            .annotate(demand_qty=Sum("consensus"), forecast_qty=Sum("statistical"), target_qty=Sum("target"))
        ),
        columns=["product__sku", "period_start", "demand_qty", "forecast_qty", "target_qty"],
    ).rename(columns={"product__sku": "product_sku"})
    for column in ("demand_qty", "forecast_qty", "target_qty"):
        lines[column] = pd.to_numeric(lines[column], errors="coerce").fillna(0.0).astype(float)
    before = forecast[[p < cycle.month for p in forecast["period_start"]]] if len(forecast) else forecast
    before = before.assign(demand_qty=before["forecast_qty"], target_qty=0.0)
    demand = pd.concat(
        [before[["product_sku", "period_start", "demand_qty", "forecast_qty", "target_qty"]], lines], ignore_index=True
    )
    if quotas is not None and len(quotas):
        grain = pd.DataFrame.from_records(
            list(
                DemandPlanLine.objects.filter(cycle=cycle, period_start__in=periods)
                .order_by()
                .values_list("family__code", "territory_id", "period_start")
                .annotate(consensus=Sum("consensus"))
            ),
            columns=["family_id", "territory_id", "period_start", "consensus"],
        )
        paths = territory_paths()
        grain["territory_path"] = grain["territory_id"].map(paths)
        grain["consensus"] = grain["consensus"].astype(float)
        code_paths = dict(Territory.objects.values_list("code", "path"))
        nodes = pd.DataFrame(
            {
                "family_id": quotas["family_code"].to_numpy(),
                "territory_path": quotas["territory_code"].map(code_paths).to_numpy(),
                "period_start": quotas["period_start"].to_numpy(),
            }
        )
        quotas = quotas.copy()
        quotas["forecast_qty"] = np.where(
            pd.Series(quotas["period_start"]).ge(cycle.month).to_numpy(),
            totals_by_node(grain, nodes, value="consensus"),
            np.nan,
        )
    return demand, quotas
