"""Reads for the role home dashboards: everything in the viewer's scope, in a fixed number of
queries whatever the size of the data (the page tests hold each home to a query budget).

Each ``<role>_dashboard`` returns plain figures and the charts of ``dashboards.charts``; the
maths lives there. A sales manager sees their territories only (``for_user``), a rep their own
quota, pay, accounts and disputes only (filtered on the rep, whatever other roles they hold).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils.translation import get_language

from compensation.models import Dispute, Spiff, Statement
from core import memo
from core.bulk.cache import table_version
from core.calendar import add_months
from core.models import IngestBatch
from core.roles import user_roles
from dashboards import charts
from forecasting import selectors as forecasting_selectors
from forecasting.levels import BACKTEST_LEVEL_KEYS
from forecasting.models import Forecast, ForecastAccuracy, ForecastRun
from inventory import selectors as inventory_selectors
from inventory.calculations import AGING_BUCKETS, aging_buckets
from inventory.models import InventoryLot, InventorySnapshot, Product
from sales.models import SalesOrderLine
from sales.selectors import sales_version
from sop import cycle_selectors, cycle_services
from sop import selectors as sop_selectors
from sop.models import (
    CapacityAlert,
    Decision,
    DemandPlanActual,
    PlanCycle,
    PlanLine,
    PlanRun,
)
from territories import selectors as territory_selectors
from territories.models import Account, Quota, QuotaPlan, Territory, TerritoryAssignment

#: how many rows a dashboard table lists (the full lists are one link away)
TOP = 8
#: the level people plan at: product families (WAPE/bias of the family totals)
PLANNING_LEVEL = "family"
TARGET_ALERTS = ("target_not_buildable", "target_at_risk")


#: reads kept per process while their tables are unchanged (``core.memo``)
versioned = memo.by_tables


def of_finished_run(name: str, run, build):
    """``build()``, kept per process for a finished run: the lines a plan run writes are
    written once, when it finishes, and never change after (the next night writes a new run)."""
    if run is None or run.finished_at is None:
        return build()
    return versioned(f"{name}:run{run.pk}:{run.finished_at.isoformat()}", (), build)


def alert_counts(*, user) -> dict[str, int]:
    alerts = CapacityAlert.objects.for_user(user).active()
    return dict(alerts.values_list("severity").annotate(n=Count("id")).order_by())


def alert_rows(*, user, types: tuple[str, ...] | None = None, limit: int = TOP) -> list[dict]:
    """The most urgent open alerts (critical first), with what each links to."""
    qs = CapacityAlert.objects.for_user(user).active()
    if types:
        qs = qs.filter(type__in=types)
    rank = Case(
        *[When(severity=s, then=Value(i)) for i, s in enumerate(charts.SEVERITIES)],
        default=Value(9),
        output_field=IntegerField(),
    )
    # The most urgent ids from the alert table alone, then only those rows with their links
    # (not a join of every open alert sorted to keep eight).
    ids = list(qs.annotate(rank=rank).order_by("rank", "period_start", "-id").values_list("id", flat=True)[:limit])
    found = {
        row["id"]: row
        for row in CapacityAlert.objects.filter(id__in=ids).values(
            "id",
            "type",
            "severity",
            "status",
            "period_start",
            "message",
            "message_key",
            "message_params",
            "amount",
            "unit",
            "work_center__code",
            "work_center__name",
            "product__sku",
            "product__name",
            "family__name",
            "territory__code",
            "territory__name",
        )
    }
    rows = [found[pk] for pk in ids if pk in found]
    labels = dict(CapacityAlert.Type.choices)
    for row in rows:
        row["type_label"] = labels.get(row["type"], row["type"])
    return rows


# --- sales manager ---------------------------------------------------------------------------


def _leaves(territories):
    """The territories of a set that are nobody's parent in it (quotas in units are set there)."""
    return territories.exclude(id__in=territories.filter(parent__isnull=False).values("parent_id"))


def territory_units(*, user, months: list[dt.date], as_of: dt.date) -> pd.DataFrame:
    """Unit quotas (current quota plan, all families) and units sold up to ``as_of`` per leaf
    territory the viewer sees × month: ``owner``, ``owner_name``, ``period_start``, ``quota``,
    ``actual``.

    Units sold come from the sales history stored with the latest S&OP cycle (family ×
    territory × month, as the demand review reads it) and, for the months after it, from the
    sales lines credited to the viewer's territories: a few weeks of lines, never the whole
    table (four queries whatever the data; kept per process while quotas, the cycles' stored
    sales and the sales lines are unchanged).
    """
    return versioned(
        f"territory-units:{user.pk}:{sorted(user_roles(user))}:{months}:{as_of}",
        (Quota, QuotaPlan, PlanCycle, DemandPlanActual),
        lambda: _territory_units(user=user, months=months, as_of=as_of),
        version=sales_version(),
    )


def _territory_units(*, user, months: list[dt.date], as_of: dt.date) -> pd.DataFrame:
    leaves = _leaves(Territory.objects.for_user(user))
    plan = territory_selectors.quota_plan_current(period_starts=months)
    quota = (
        {}
        if plan is None
        else {
            (code, period): (name, amount)
            for code, name, period, amount in (
                Quota.objects.filter(plan=plan, measure="units", territory__in=leaves, period_start__in=months)
                .values_list("territory__code", "territory__name", "period_start")
                .annotate(total=Sum("amount"))
                .order_by()
            )
        }
    )
    sold: dict = {}
    cycle_id = PlanCycle.objects.order_by("-month").values_list("id", flat=True).first()
    stored = DemandPlanActual.objects.filter(cycle_id=cycle_id, territory__in=leaves, period_start__in=months)
    for code, name, month, units in (
        stored.values_list("territory__code", "territory__name", "period_start").annotate(u=Sum("units")).order_by()
    ):
        sold[(code, month)] = (name, Decimal(str(round(units, 3))))
    covered = max((month for _code, month in sold), default=None)
    start = add_months(covered, 1) if covered else months[0]
    end = min(as_of, add_months(months[-1], 1) - dt.timedelta(days=1))
    if start <= end:
        for code, name, month, qty in (
            SalesOrderLine.objects.counting()
            .between(start, end)
            .filter(territory__in=leaves)
            .annotate(month=TruncMonth("order_date"))
            .values_list("territory__code", "territory__name", "month")
            .annotate(q=Sum("quantity"))
            .order_by()
        ):
            sold[(code, month)] = (name, qty)
    rows = [
        (
            code,
            (quota.get((code, period)) or sold.get((code, period)))[0],
            period,
            quota[(code, period)][1] if (code, period) in quota else None,
            sold[(code, period)][1] if (code, period) in sold else Decimal(0),
        )
        for code, period in sorted(set(quota) | set(sold))
    ]
    return pd.DataFrame.from_records(rows, columns=["owner", "owner_name", "period_start", "quota", "actual"])


def _forecast_frame(*, user, run: ForecastRun | None, months: list[dt.date]) -> pd.DataFrame:
    """Sum of the leaf forecasts of the viewer's territories per month, with the squared half
    widths of the bands (additive; ``charts.forecast_target_actual`` takes the roots)."""
    columns = ["period_start", "point", "lo80_sq", "hi80_sq", "lo95_sq", "hi95_sq"]
    if run is None:
        return pd.DataFrame(columns=columns)
    return of_finished_run(
        f"forecast-frame:{user.pk}:{sorted(user_roles(user))}:{months}:{table_version(Territory)}",
        run,
        lambda: _forecast_sums(user=user, run=run, months=months, columns=columns),
    )


def _forecast_sums(*, user, run: ForecastRun, months: list[dt.date], columns: list[str]) -> pd.DataFrame:
    visible = Territory.objects.for_user(user)
    tops = list(visible.exclude(parent__in=visible).values_list("id", flat=True))
    # The reconciled region series when the viewer's territories are whole regions (a dozen
    # rows), else the sum of the leaf series of their territories.
    regions = set(
        Forecast.objects.filter(run=run, level="region", territory_id__in=tops)
        .values_list("territory_id", flat=True)
        .distinct()
    )
    if tops and regions == set(tops):
        qs = Forecast.objects.filter(run=run, level="region", territory_id__in=tops, period_start__in=months)
    else:
        qs = Forecast.objects.filter(run=run, level="product_territory", period_start__in=months, territory__in=visible)

    def square(side: str):
        return Sum(ExpressionWrapper((F(side) - F("point")) * (F(side) - F("point")), output_field=FloatField()))

    rows = (
        qs.values("period_start")
        .annotate(p=Sum("point"), a=square("lo80"), b=square("hi80"), c=square("lo95"), d=square("hi95"))
        .order_by("period_start")
    )
    return pd.DataFrame.from_records(
        [(x["period_start"], x["p"], x["a"], x["b"], x["c"], x["d"]) for x in rows], columns=columns
    )


def products_to_push(*, as_of: dt.date, limit: int = TOP) -> list[dict]:
    """Aged stock (lots older than 180 days) of products with a SPIFF running on ``as_of``."""
    spiffs = list(
        Spiff.objects.filter(start__lte=as_of, end__gte=as_of).values(
            "code", "name", "kind", "amount", "skus", "families", "end"
        )
    )
    if not spiffs:
        return []
    skus = {s for spiff in spiffs for s in spiff["skus"]}
    families = {f for spiff in spiffs for f in spiff["families"]}
    products = {
        sku: (name, family)
        for sku, name, family in Product.objects.filter(Q(sku__in=skus) | Q(family__code__in=families)).values_list(
            "sku", "name", "family__code"
        )
    }
    buckets = stock_ages(as_of=as_of)
    buckets = buckets.loc[buckets["product_sku"].isin(set(products))].copy()
    if buckets.empty:
        return []
    buckets["aged"] = buckets["qty_181_365"] + buckets["qty_over_365"]
    aged = buckets.groupby("product_sku")["aged"].sum()
    aged = aged.loc[aged > 0].sort_values(ascending=False)
    names = {sku: name for sku, (name, _family) in products.items()}
    families_of = {sku: family for sku, (_name, family) in products.items()}
    out = []
    for sku, qty in aged.items():
        spiff = next((s for s in spiffs if sku in s["skus"] or families_of.get(sku) in s["families"]), None)
        if spiff is None:
            continue
        out.append({"sku": sku, "name": names.get(sku, sku), "aged_qty": round(float(qty)), "spiff": spiff})
        if len(out) >= limit:
            break
    return out


def products_not_to_push(*, run, limit: int = TOP) -> list[dict]:
    """Products the plan cannot supply in full: shortfall over the plan's horizon, largest first."""
    if run is None:
        return []
    return of_finished_run(
        f"not-to-push:{limit}",
        run,
        lambda: list(
            PlanLine.objects.filter(run=run, shortfall_qty__gt=0)
            .values("product__sku", "product__name")
            .annotate(shortfall=Sum("shortfall_qty"), demand=Sum("demand_qty"))
            .order_by("-shortfall")[:limit]
        ),
    )


def rep_attainment(*, user, months: list[dt.date]) -> pd.DataFrame:
    """Revenue quota and credited sales per rep the viewer sees × month, as the pay statements
    hold them (the figures commission is paid on; one query): ``owner``, ``owner_name``,
    ``period_start``, ``quota``, ``actual``."""
    reps = territory_selectors.visible_reps(user=user)
    rows = (
        Statement.objects.for_user(user)
        .filter(period_start__in=months, rep__in=reps)
        .values_list("rep__username", "rep__first_name", "rep__last_name", "period_start", "quota", "credited")
    )
    return pd.DataFrame.from_records(
        [(u, f"{first} {last}".strip() or u, p, q, c) for u, first, last, p, q, c in rows],
        columns=["owner", "owner_name", "period_start", "quota", "actual"],
    )


#: what a sales manager's home reads besides the sales lines (``sales_version``)
MANAGER_HOME_TABLES = (
    Quota,
    QuotaPlan,
    PlanCycle,
    DemandPlanActual,
    Statement,
    CapacityAlert,
    Spiff,
    InventorySnapshot,
    InventoryLot,
    Product,
    PlanRun,
    ForecastRun,
    Territory,
    TerritoryAssignment,
)


def sales_manager_dashboard(*, user, as_of: dt.date) -> dict:
    """The sales manager's home, kept per process while nothing it reads has changed."""
    return versioned(
        f"manager-home:{user.pk}:{sorted(user_roles(user))}:{as_of}:{get_language()}",
        MANAGER_HOME_TABLES,
        lambda: _sales_manager_dashboard(user=user, as_of=as_of),
        version=sales_version(),
    )


def _sales_manager_dashboard(*, user, as_of: dt.date) -> dict:
    year = territory_selectors.fiscal_year_of(as_of)
    months = territory_selectors.fiscal_year_months(fiscal_year=year)
    horizon = [add_months(as_of.replace(day=1), i) for i in range(-6, 12)]
    both = sorted(set(months) | set(horizon))
    units = territory_units(user=user, months=both, as_of=as_of)
    by_territory = units.loc[units["period_start"].isin(months)] if len(units) else units
    visible = Territory.objects.for_user(user)
    tops = visible.exclude(parent__in=visible)
    by_rep = rep_attainment(user=user, months=[m for m in months if m <= as_of])
    territory_totals = charts.attainment_to_date(by_territory, as_of=as_of)
    rep_totals = charts.attainment_to_date(by_rep, as_of=as_of)
    units = units.loc[units["period_start"].isin(horizon)] if len(units) else units
    target = {p: float(q) for p, q in units.dropna(subset=["quota"]).groupby("period_start")["quota"].sum().items()}
    actual = {p: float(q) for p, q in units.groupby("period_start")["actual"].sum().items()}
    run = forecasting_selectors.latest_finished_run()
    forecast = _forecast_frame(user=user, run=run, months=horizon)
    plan_run = sop_selectors.latest_plan_run()
    return {
        "fiscal_year": year,
        "territories": list(tops.values("code", "name")),
        "charts": [
            charts.attainment_bars(territory_totals, chart_id="territory_attainment", unit="units"),
            charts.attainment_bars(rep_totals, chart_id="rep_attainment", unit="money"),
            charts.forecast_target_actual(horizon, forecast, target, actual, as_of=as_of),
        ],
        "target_alerts": alert_rows(user=user, types=TARGET_ALERTS),
        "push": products_to_push(as_of=as_of),
        "do_not_push": products_not_to_push(run=plan_run),
        "forecast_run": run,
    }


# --- operations lead -------------------------------------------------------------------------


def stock_ages(*, as_of: dt.date) -> pd.DataFrame:
    """On-hand stock per product × location by age bucket on ``as_of`` (FIFO-trimmed lots;
    ``inventory.calculations.aging_buckets``), rebuilt only when stock or lots changed."""
    columns = [b[0] for b in AGING_BUCKETS]

    def build() -> pd.DataFrame:
        lots = inventory_selectors.lots_frame(as_of=as_of)
        if lots.empty:
            return pd.DataFrame(columns=["product_sku", *columns])
        snaps = inventory_selectors.snapshots_frame(as_of=as_of)
        return aging_buckets(
            lots, as_of=as_of, on_hand=snaps[["product_sku", "location_code", "on_hand"]] if len(snaps) else None
        )

    return versioned(f"stock-ages:{as_of}", (InventorySnapshot, InventoryLot), build)


def inventory_by_age(*, as_of: dt.date) -> dict:
    columns = [b[0] for b in AGING_BUCKETS]
    return versioned(
        f"stock-by-age:{as_of}",
        (InventorySnapshot, InventoryLot, Product),
        lambda: charts.stock_by_age(
            stock_ages(as_of=as_of), dict(Product.objects.values_list("sku", "unit_cost")), columns
        ),
    )


def ops_dashboard(*, user, as_of: dt.date) -> dict:
    run = sop_selectors.latest_plan_run()
    heat = sop_selectors.capacity_heatmap(run=run)
    loads = pd.DataFrame.from_records(
        [
            (row["name"] or row["code"], cell["period"], cell["pct"] / 100 if cell["pct"] is not None else None)
            for row in heat["rows"]
            for cell in row["cells"]
        ],
        columns=["work_center", "period_start", "utilisation"],
    )
    trend = charts.bottleneck_trend(loads)
    # The heat map of the home shows the work centers of the trend chart (the bottlenecks);
    # the capacity page has all of them.
    chosen = [s["key"] for s in trend["series"]]
    heat_rows = sorted(
        (row for row in heat["rows"] if (row["name"] or row["code"]) in chosen),
        key=lambda row: chosen.index(row["name"] or row["code"]),
    )
    return {
        "charts": [charts.severity_counts(alert_counts(user=user)), trend, inventory_by_age(as_of=as_of)],
        "heat": {"periods": heat["periods"], "rows": heat_rows},
        "alerts": alert_rows(user=user),
        "plan_run": run,
    }


# --- planner ---------------------------------------------------------------------------------


def accuracy_rows(*, runs: int = 12) -> list[dict]:
    key = BACKTEST_LEVEL_KEYS[PLANNING_LEVEL]
    rows = (
        ForecastAccuracy.objects.filter(source="backtest", level=PLANNING_LEVEL, series_key=key, lag__isnull=True)
        .order_by("-run_id")
        .values("run_id", "run__as_of", "wape", "bias")[:runs]
    )
    return [{"run_id": x["run_id"], "as_of": x["run__as_of"], "wape": x["wape"], "bias": x["bias"]} for x in rows]


def cycle_summary(*, user, today: dt.date) -> dict | None:
    cycle = cycle_selectors.current_cycle(user=user)
    if cycle is None:
        return None
    stages = cycle_selectors.stages_of(cycle, today=today)
    for stage in stages:
        stage["label"] = cycle_services.stage_label(stage["code"])
    return {"cycle": cycle, "stages": stages, "tasks": cycle_selectors.home_panel(user=user, today=today)}


def planner_dashboard(*, user, as_of: dt.date) -> dict:
    return {
        "charts": [charts.accuracy_trend(accuracy_rows())],
        "exceptions": alert_rows(user=user, types=("stockout_risk", "excess_stock", "target_at_risk")),
        "cycle": cycle_summary(user=user, today=as_of),
        "forecast_run": ForecastRun.objects.for_user(user).order_by("-id").first(),
    }


# --- sales rep -------------------------------------------------------------------------------


def rep_dashboard(*, user, as_of: dt.date) -> dict:
    year = territory_selectors.fiscal_year_of(as_of)
    months = territory_selectors.fiscal_year_months(fiscal_year=year)
    plan = territory_selectors.quota_plan_current(period_starts=months)
    quota = (
        {}
        if plan is None
        else dict(
            Quota.objects.filter(plan=plan, rep=user, measure="revenue", family__isnull=True, period_start__in=months)
            .values_list("period_start")
            .annotate(total=Sum("amount"))
            .order_by()
        )
    )
    # Own statements only, whatever other roles the viewer holds.
    statements = list(
        Statement.objects.filter(rep=user, period_start__gte=min(months[0], as_of.replace(day=1)))
        .order_by("-period_start")
        .values("id", "period_start", "status", "total", "credited", "attainment")
    )
    actual = {st["period_start"]: st["credited"] for st in statements}
    statement = statements[0] if statements else None
    disputes = list(
        Dispute.objects.filter(raised_by=user)
        .order_by("-updated_at")
        .values(
            "id", "status", "reason", "answer", "answered_at", "line__statement_id", "line__statement__period_start"
        )[:5]
    )
    labels = dict(Dispute.Status.choices)
    for dispute in disputes:
        dispute["status_label"] = labels.get(dispute["status"], dispute["status"])
    return {
        "fiscal_year": year,
        "charts": [charts.pace_to_quota(months, quota, actual, as_of=as_of)],
        "statement": statement,
        "disputes": disputes,
        "accounts": my_accounts(user=user, as_of=as_of, limit=5),
    }


def my_accounts(*, user, as_of: dt.date, limit: int | None = None) -> list[dict]:
    """The accounts of the viewer's territories with their last-12-month sales, largest first
    (two queries; kept per process while the sales lines and their owners are unchanged)."""
    return versioned(
        f"my-accounts:{user.pk}:{sorted(user_roles(user))}:{as_of}:{limit}",
        (),
        lambda: _my_accounts(user=user, as_of=as_of, limit=limit),
        version=sales_version(),
    )


def _my_accounts(*, user, as_of: dt.date, limit: int | None) -> list[dict]:
    accounts = Account.objects.for_user(user)
    start = as_of - dt.timedelta(days=364)
    revenue = dict(
        SalesOrderLine.objects.for_user(user)
        .counting()
        .between(start, as_of)
        .filter(account__in=accounts)
        .values("account_id")
        .annotate(total=Sum("net_amount"))
        .values_list("account_id", "total")
        .order_by()
    )
    rows = list(accounts.values("id", "external_id", "name", "industry", "city", "country"))
    for row in rows:
        row["revenue_l12m"] = revenue.get(row["id"]) or Decimal(0)
    rows.sort(key=lambda row: (-row["revenue_l12m"], row["name"]))
    return rows[:limit] if limit else rows


# --- executive -------------------------------------------------------------------------------


def executive_dashboard(*, user, as_of: dt.date) -> dict:
    cycle = cycle_selectors.current_cycle(user=user)
    review = None
    if cycle is not None:
        # The whole cycle's summary (no per-user scope: executives and admins see everything),
        # rebuilt when the cycle (its revision, stage, plan run), its decisions, the plan runs,
        # stock or sales change.
        key = f"executive-review:{cycle.pk}:{cycle.revision}:{cycle.updated_at.isoformat()}:{as_of}"
        review = versioned(
            key,
            (PlanCycle, Decision, PlanRun, InventorySnapshot, InventoryLot, IngestBatch),
            lambda: cycle_selectors.executive_review(cycle=cycle, today=as_of),
        )
    out = {"cycle": cycle, "review": review, "alerts": alert_counts(user=user), "charts": []}
    if review is not None:
        out["charts"].append(charts.revenue_plan_vs_target(review["months"]))
        out["capacity_risk"] = [
            {
                "code": w.work_center.code,
                "name": w.work_center.name,
                "period": w.period_start,
                "pct": round(w.utilisation * 100),
            }
            for w in review["capacity_risk"][:TOP]
        ]
    out["charts"].append(charts.severity_counts(out["alerts"]))
    return out
