"""What each role's home shows: the dashboard of a role, its charts with translated titles,
series labels, a text alternative and the table of their numbers (also the CSV export)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import roles as r
from core.templatetags.sop_tags import format_money
from dashboards import charts, selectors


@dataclass(frozen=True)
class Dashboard:
    role: str
    label: str
    template: str
    build: object  # selectors.<role>_dashboard(user=, as_of=)


DASHBOARDS: dict[str, Dashboard] = {
    r.EXECUTIVE: Dashboard(
        r.EXECUTIVE, gettext_lazy("S&OP summary"), "dashboards/executive.html", selectors.executive_dashboard
    ),
    r.SALES_MANAGER: Dashboard(
        r.SALES_MANAGER, gettext_lazy("Sales"), "dashboards/sales_manager.html", selectors.sales_manager_dashboard
    ),
    r.OPS_LEAD: Dashboard(r.OPS_LEAD, gettext_lazy("Operations"), "dashboards/ops_lead.html", selectors.ops_dashboard),
    r.PLANNER: Dashboard(
        r.PLANNER, gettext_lazy("Demand planning"), "dashboards/planner.html", selectors.planner_dashboard
    ),
    r.SALES_REP: Dashboard(r.SALES_REP, gettext_lazy("My sales"), "dashboards/sales_rep.html", selectors.rep_dashboard),
}


def dashboards_for(user) -> list[Dashboard]:
    """The dashboards a user may open, their first role's first; an admin opens them all."""
    codes = r.user_roles(user)
    if r.ADMIN in codes:
        return list(DASHBOARDS.values())
    return [d for role, d in DASHBOARDS.items() if role in codes]


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "pct":
        return f"{number_format(value, 1)} %"
    if unit == "count":
        return number_format(value, 0)
    if unit == "money":
        return format_money(value, 0)
    return number_format(value, 0, force_grouping=True)


def chart_texts(chart: dict) -> dict:
    """Title, series labels, first column heading and a sentence saying what the chart shows
    (the text alternative of its canvas)."""
    f = chart["facts"]
    cid = chart["id"]
    if cid in ("territory_attainment", "rep_attainment"):
        title = (
            _("Attainment vs quota by territory (units)")
            if cid == "territory_attainment"
            else _("Attainment vs quota by rep (revenue, as on the pay statements)")
        )
        series = {"quota": _("Quota to date"), "actual": _("Actual to date"), "attainment_pct": _("Attainment %")}
        head = _("Territory") if cid == "territory_attainment" else _("Rep")
        if not f["owners"]:
            text = _("No quota or sales to show yet.")
        elif f["below"]:
            text = _("%(below)s of %(owners)s are below quota to date; lowest: %(lowest)s.") % f
        else:
            text = _("All %(owners)s are at or above quota to date.") % f
    elif cid == "forecast":
        title = _("Forecast vs target vs actual (units by month)")
        series = {
            "lo95": _("95 % band, low"),
            "hi95": _("95 % band"),
            "lo80": _("80 % band, low"),
            "hi80": _("80 % band"),
            "forecast": _("Forecast"),
            "target": _("Target (unit quotas)"),
            "actual": _("Actual"),
        }
        head = _("Month")
        if f["target_gap"] is None:
            text = _("Actual sales by month; no forecast and target to compare yet.")
        elif f["target_gap"] > 0:
            text = _("Targets are %(gap)s units above the forecast over the months shown.") % {
                "gap": _fmt(f["target_gap"], "units")
            }
        else:
            text = _("The forecast is %(gap)s units above the targets over the months shown.") % {
                "gap": _fmt(-f["target_gap"], "units")
            }
    elif cid == "pace":
        title = _("My attainment and pace to quota")
        series = {
            "quota": _("Quota"),
            "actual": _("Credited sales"),
            "cum_quota": _("Quota, cumulative"),
            "cum_actual": _("Credited sales, cumulative"),
        }
        head = _("Month")
        if f["ytd_pct"] is None:
            text = _("No quota or statement for this year yet.")
        else:
            text = _("%(pct)s of quota to date; at this pace the year ends at %(proj)s of its quota (%(amount)s).") % {
                "pct": _fmt(f["ytd_pct"], "pct"),
                "proj": _fmt(f["projected_pct"], "pct"),
                "amount": _fmt(f["projected"], "money"),
            }
            if f["unknown_months"]:
                text += " " + _("Months without a statement (%(n)s) are left out.") % {"n": f["unknown_months"]}
            if f["needed_per_month"]:
                text += " " + _("%(needed)s a month is needed for the rest of the year.") % {
                    "needed": _fmt(f["needed_per_month"], "money")
                }
    elif cid == "severity":
        title = _("Open alerts by severity")
        series = {"open": _("Open alerts")}
        head = _("Severity")
        text = _("%(critical)s critical, %(warning)s warning and %(info)s info alerts are open.") % f
    elif cid == "bottlenecks":
        title = _("Utilisation of the bottleneck work centers (%)")
        series = {s["key"]: s["key"] for s in chart["series"]}
        head = _("Month")
        text = (
            _("No plan run yet.")
            if not f["work_centers"]
            else _("Busiest: %(name)s at %(peak)s; %(over)s work center months are over 100 %%.")
            % {"name": f["peak_name"], "peak": _fmt(f["peak"], "pct"), "over": f["over"]}
        )
    elif cid == "aged":
        title = _("Inventory value by age")
        series = {"value": _("Value at cost")}
        head = _("Age")
        text = _("Inventory worth %(total)s at cost; %(aged)s (%(pct)s) is older than 180 days.") % {
            "total": _fmt(f["total"], "money"),
            "aged": _fmt(f["aged"], "money"),
            "pct": _fmt(f["aged_pct"], "pct"),
        }
    elif cid == "accuracy":
        title = _("Forecast accuracy by run, at product family level")
        series = {"wape": _("WAPE %"), "bias": _("Bias %")}
        head = _("Forecast run")
        if f["wape"] is None:
            text = _("No forecast run with a backtest yet.")
        else:
            text = (
                _(
                    "Family forecasts miss actual volume by %(wape)s on average (WAPE: the absolute errors as a "
                    "share of the volume)."
                )
                % {"wape": _fmt(f["wape"], "pct")}
                + " "
            )
            text += {
                "over": _("They run %(bias)s high: plan on selling less than they say."),
                "under": _("They run %(bias)s low: plan on selling more than they say."),
                "balanced": _("They are not biased high or low (%(bias)s)."),
            }[f["direction"]] % {"bias": _fmt(abs(f["bias"]), "pct")}
    elif cid == "revenue":
        title = _("Revenue plan vs target by month")
        series = {"plan": _("Plan (consensus)"), "target": _("Target"), "last_year": _("Last year")}
        head = _("Month")
        text = (
            _("Plan %(plan)s against a target of %(target)s (%(gap)s).")
            % {"plan": _fmt(f["plan"], "money"), "target": _fmt(f["target"], "money"), "gap": _fmt(f["gap_pct"], "pct")}
            if f["gap_pct"] is not None
            else _("No revenue target in this cycle.")
        )
    else:  # pragma: no cover - every chart above has its words
        raise KeyError(cid)
    return {"title": title, "series_labels": series, "first_header": head, "text": text}


AGE_LABELS = {
    "qty_0_90": gettext_lazy("0–90 days"),
    "qty_91_180": gettext_lazy("91–180 days"),
    "qty_181_365": gettext_lazy("181–365 days"),
    "qty_over_365": gettext_lazy("over 365 days"),
}
SEVERITY_LABELS = {
    "critical": gettext_lazy("Critical"),
    "warning": gettext_lazy("Warning"),
    "info": gettext_lazy("Info"),
}


def presented(chart: dict) -> dict:
    """A chart ready for the page: words, display labels, its table and the data for JS."""
    texts = chart_texts(chart)
    display = {"aged": AGE_LABELS, "severity": SEVERITY_LABELS}.get(chart["id"], {})
    labels = [str(display.get(label, label)) for label in chart["labels"]]
    shown = dict(chart, labels=labels)
    table = charts.table(shown, texts["series_labels"], texts["first_header"])
    data = {
        "id": chart["id"],
        "kind": chart["kind"],
        "unit": chart["unit"],
        "labels": labels,
        "raw_labels": chart["labels"],
        "series": [
            {"label": str(texts["series_labels"].get(s["key"], s["key"])), "style": s["style"], "data": s["data"]}
            for s in chart["series"]
            if s["style"] != "none"
        ],
    }
    # What each column is, for the page's table: a percentage column stays a percentage in a
    # money chart; money carries the organisation's currency in the reader's format.
    units = [None] + ["pct" if s["key"].endswith("_pct") else chart["unit"] for s in chart["series"]]
    cells = [[{"v": v, "unit": u} for v, u in zip(row, units, strict=True)] for row in table["rows"]]
    return {
        **texts,
        "id": chart["id"],
        "unit": chart["unit"],
        "facts": chart["facts"],
        "table": table,
        "cells": cells,
        "data": data,
        "data_id": f"chart-{chart['id']}",
    }


def dashboard_context(*, dashboard: Dashboard, user, as_of: dt.date) -> dict:
    data = dict(dashboard.build(user=user, as_of=as_of))  # a build may be shared (core.memo)
    data["charts"] = [presented(c) for c in data["charts"]]
    data["chart"] = {c["id"]: c for c in data["charts"]}
    return data


def export_rows(*, dashboard: Dashboard, chart_id: str, user, as_of: dt.date) -> tuple[list, list] | None:
    data = dashboard.build(user=user, as_of=as_of)
    chart = next((c for c in data["charts"] if c["id"] == chart_id), None)
    if chart is None:
        return None
    table = presented(chart)["table"]
    return [str(h) for h in table["headers"]], table["rows"]
