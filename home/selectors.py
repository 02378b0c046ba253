"""Reads for the home page: figures in the viewer's scope, never anyone else's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core import roles as r
from core.calendar import add_months
from inventory.models import Product
from sales.models import SalesOrderLine
from sop import cycle_selectors
from territories.models import Account, Territory


def sales_by_month(*, user, as_of: dt.date, months: int = 12) -> list[dict]:
    start = add_months(as_of, -(months - 1))
    rows = (
        SalesOrderLine.objects.for_user(user)
        .counting()
        .filter(order_date__gte=start, order_date__lte=as_of)
        .annotate(month=TruncMonth("order_date"))
        .values("month")
        .annotate(revenue=Sum("net_amount"), units=Sum("quantity"), lines=Count("id"))
        .order_by("month")
    )
    by_month = {row["month"]: row for row in rows}
    out = []
    peak = max((row["revenue"] or Decimal(0) for row in rows), default=Decimal(0)) or Decimal(1)
    for i in range(months):
        m = add_months(as_of, i - (months - 1))
        row = by_month.get(m, {})
        revenue = row.get("revenue") or Decimal(0)
        out.append(
            {
                "month": m,
                "revenue": revenue,
                "units": row.get("units") or Decimal(0),
                "lines": row.get("lines") or 0,
                "bar_pct": int(revenue / peak * 100) if revenue > 0 else 0,
            }
        )
    return out


def alert_summary(*, user) -> dict | None:
    """Open and acknowledged alerts the user may see: counts by severity and the latest critical."""
    from sop.models import CapacityAlert

    alerts = CapacityAlert.objects.for_user(user).exclude(status=CapacityAlert.Status.RESOLVED)
    by_severity = dict(alerts.values_list("severity").annotate(n=Count("id")).order_by())
    if not by_severity and not (r.user_roles(user) & {r.OPS_LEAD, r.PLANNER, r.ADMIN, r.EXECUTIVE}):
        return None
    by_type = list(alerts.values("type").annotate(n=Count("id")).order_by("-n"))
    labels = dict(CapacityAlert.Type.choices)
    return {
        "critical": by_severity.get("critical", 0), "warning": by_severity.get("warning", 0),
        "info": by_severity.get("info", 0),
        "by_type": [{"label": labels.get(t["type"], t["type"]), "type": t["type"], "n": t["n"]} for t in by_type],
        "latest_critical": list(alerts.filter(severity="critical").order_by("-updated_at", "-id")
                                .values("id", "message", "period_start")[:5]),
    }


def runs_summary(*, user) -> dict | None:
    if not r.has_role(user, r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE):
        return None
    from forecasting.models import ForecastRun
    from sop.models import PlanRun

    forecast = ForecastRun.objects.for_user(user).order_by("-id").first()
    plan = PlanRun.objects.for_user(user).select_related("forecast_run").order_by("-id").first()
    from forecasting.levels import SERIES_MEAN_KEY

    accuracy = forecast.accuracy.filter(source="backtest", series_key=SERIES_MEAN_KEY).first() if forecast else None
    return {"forecast": forecast, "plan": plan, "accuracy": accuracy}


def pay_summary(*, user) -> dict | None:
    """The viewer's own latest statements (reps only; pay is never shown to others here)."""
    if not r.has_role(user, r.SALES_REP):
        return None
    from compensation.models import Statement

    statements = list(Statement.objects.filter(rep=user).order_by("-period_start")
                      .values("id", "period_start", "status", "total", "attainment")[:3])
    return {"statements": statements}


def home_context(*, user, as_of: dt.date | None = None) -> dict:
    as_of = as_of or timezone.localdate()
    codes = r.user_roles(user)
    months = sales_by_month(user=user, as_of=as_of) if codes - {r.OPS_LEAD, r.ERP} else []
    revenue_12m = sum((m["revenue"] for m in months), Decimal(0))
    return {
        "as_of": as_of,
        "roles": codes,
        "is_rep_only": codes == {r.SALES_REP},
        "figures": {
            "territories": Territory.objects.for_user(user).count(),
            "accounts": Account.objects.for_user(user).count(),
            "products": Product.objects.for_user(user).count(),
            "revenue_12m": revenue_12m,
        },
        "sales_months": months,
        "alerts": alert_summary(user=user),
        "runs": runs_summary(user=user),
        "pay": pay_summary(user=user),
        # S&OP cycle: the stages the viewer owns (due, overdue, just handed over), and the
        # link to the cycle for every role that takes part in it.
        "cycle_tasks": cycle_selectors.home_panel(user=user),
        "takes_part_in_cycle": bool(codes & {r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER}),
        "managed_territories": list(
            Territory.objects.filter(manager=user).values("code", "name", "level")
        ),
    }


def recent_ingest_batches(*, user, limit: int = 20) -> list:
    """The latest bulk ingestion batches the user may see (API and upload), newest first."""
    from core.models import IngestBatch

    return list(IngestBatch.objects.for_user(user).select_related("client", "user").order_by("-id")[:limit])
