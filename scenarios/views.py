"""Pages of what-if scenarios: the list, one scenario (its changes, run and KPIs against the
base), and the side-by-side comparison (table, chart, family × month drill-down, export).
Scenarios are created through the API (``POST /api/v1/scenarios/``); pages read and run them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import roles as r
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from core.roles import role_required
from scenarios import comparison as shapes
from scenarios import selectors, services
from scenarios.kpis import KPI_KEYS

PAGE_ROLES = (r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER)
PROMOTERS = (r.ADMIN, r.PLANNER)
KPI_LABELS = {
    "base": gettext_lazy("Base"),
    "service_level_units": gettext_lazy("Service level (units)"),
    "service_level_value": gettext_lazy("Service level (value)"),
    "shortfall_units": gettext_lazy("Shortfall (units)"),
    "shortfall_value": gettext_lazy("Shortfall (value)"),
    "overload_hours": gettext_lazy("Overload hours"),
    "overloaded_work_center_months": gettext_lazy("Work-center months over 100 %"),
    "prebuild_units": gettext_lazy("Pre-build (units)"),
    "ending_inventory_value": gettext_lazy("Ending inventory value"),
    "aged_stock_value": gettext_lazy("Aged stock value"),
    "revenue": gettext_lazy("Revenue"),
    "margin": gettext_lazy("Margin"),
    "targets_not_buildable": gettext_lazy("Targets not buildable (family months)"),
}
CHART_KEYS = ("revenue", "margin", "shortfall_value", "ending_inventory_value")
FAMILY_LABELS = {
    "demand_qty": gettext_lazy("Demand"),
    "feasible_qty": gettext_lazy("Feasible"),
    "shortfall_qty": gettext_lazy("Shortfall"),
    "shortfall_value": gettext_lazy("Shortfall value"),
    "revenue": gettext_lazy("Revenue"),
    "not_buildable_qty": gettext_lazy("Target not buildable"),
}


def _labels() -> dict[str, str]:
    return {k: str(v) for k, v in KPI_LABELS.items()}


@role_required(*PAGE_ROLES)
def scenario_list(request: HttpRequest) -> HttpResponse:
    scenarios = list(selectors.scenarios_for(user=request.user).order_by("-id")[:200])
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name="scenarios",
            header=[_("Scenario"), _("Name"), _("Cycle"), _("Changes"), _("Status"), _("Finished"), _("Promoted")],
            rows=(
                [
                    s.pk,
                    s.name,
                    s.cycle.month if s.cycle else _("latest plan"),
                    len(s.changes or []),
                    s.status_label,
                    s.finished_at,
                    s.promoted_at,
                ]
                for s in scenarios
            ),
        )
    return render(request, "scenarios/list.html", {"scenarios": scenarios})


def _scenario(request: HttpRequest, pk: int):
    scenario = selectors.scenarios_for(user=request.user).filter(pk=pk).first()
    if scenario is None:
        raise Http404(_("No such scenario."))
    return scenario


@role_required(*PAGE_ROLES)
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    rows = []
    if scenario.kpis and scenario.base_id:
        result = {
            "base": scenario.base.kpis,
            "scenarios": [
                {
                    "id": scenario.pk,
                    "name": scenario.name,
                    "kpis": scenario.kpis,
                    "delta": services.comparison_delta(scenario.kpis, scenario.base.kpis),
                }
            ],
        }
        rows = shapes.table(result, _labels())
    return render(
        request,
        "scenarios/detail.html",
        {
            "scenario": scenario,
            "rows": rows,
            "heads": [{"id": scenario.pk, "name": scenario.name}],
            "can_promote": r.has_role(request.user, *PROMOTERS),
        },
    )


@require_POST
@role_required(*PAGE_ROLES)
def scenario_run(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    try:
        services.scenario_run_start(scenario=scenario, user=request.user)
        messages.success(request, _("The scenario is running; its figures appear here when it finishes."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("scenarios:detail", pk=scenario.pk)


@require_POST
@role_required(*PROMOTERS)
def scenario_promote(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    try:
        created = services.scenario_promote(scenario=scenario, user=request.user)
        messages.success(
            request,
            _("Promoted: %(d)s decisions, %(e)s consensus edits, %(q)s quota change requests.")
            % {
                "d": len(created["decisions"]),
                "e": len(created["consensus_edits"]),
                "q": len(created["quota_change_requests"]),
            },
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("scenarios:detail", pk=scenario.pk)


def _ids(request: HttpRequest) -> list[int]:
    raw = request.GET.getlist("ids")
    parts = [p.strip() for value in raw for p in value.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and len(p) <= 12 for p in parts):
        raise ApplicationError(_("Choose one or more scenarios to compare."), code="validation_error")
    return list(dict.fromkeys(int(p) for p in parts))[:20]


@role_required(*PAGE_ROLES)
def scenario_compare(request: HttpRequest) -> HttpResponse:
    try:
        result = services.comparison(user=request.user, ids=_ids(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("scenarios:list")
    labels = _labels()
    family = request.GET.get("family") or ""
    families = sorted({row["family_code"] for row in result["base_family_months"]})
    drill = []
    if family:
        _header, rows = shapes.comparison_rows(result, family_code=family)
        drill = [
            {"period_start": row[1], "measure": FAMILY_LABELS.get(row[2], row[2]), "base": row[3], "values": row[4:]}
            for row in rows
        ]
    ids = ",".join(str(s["id"]) for s in result["scenarios"])
    fmt = wants_export(request)
    names = [f"{s['name']} (#{s['id']})" for s in result["scenarios"]]
    if fmt and request.GET.get("table") == "family" and family:  # the family × month drill-down as shown
        return export_response(
            fmt,
            name=f"scenarios-{family}",
            header=[_("Month"), _("Measure"), _("Base"), *names],
            rows=([row["period_start"], str(row["measure"]), row["base"], *row["values"]] for row in drill),
        )
    if fmt:  # the KPI table as shown: base, then each scenario's value and its Δ vs base
        header = [_("KPI"), _("Base")]
        for name in names:
            header += [name, f"{name} {_('Δ vs base')}"]
        return export_response(
            fmt,
            name="scenarios-compared",
            header=header,
            rows=(
                [row["label"], row["base"], *[v for c in row["cells"] for v in (c["value"], c["delta"])]]
                for row in shapes.table(result, labels)
            ),
        )
    return render(
        request,
        "scenarios/compare.html",
        {
            "result": result,
            "rows": shapes.table(result, labels),
            "chart": shapes.chart(result, labels, CHART_KEYS),
            "ids": ids,
            "families": families,
            "family": family,
            "drill": drill,
            "kpi_count": len(KPI_KEYS),
        },
    )


ACCURACY_ROLES = (r.ADMIN, r.PLANNER, r.EXECUTIVE, r.SALES_MANAGER)
LEVEL_LABELS = {
    "total": gettext_lazy("Total"),
    "family": gettext_lazy("Family"),
    "region": gettext_lazy("Region"),
    "planner": gettext_lazy("Demand planner"),
    "sales_manager": gettext_lazy("Sales manager"),
}


def _bounded(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high)
    except (TypeError, ValueError):
        return default


#: what the row of no key stands for, per level
NO_KEY_LABELS = {
    "family": gettext_lazy("no family"),
    "region": gettext_lazy("no territory"),
    "planner": gettext_lazy("no demand planner"),
    "sales_manager": gettext_lazy("no sales manager"),
    "total": gettext_lazy("Total"),
}


@role_required(*ACCURACY_ROLES)
def forecast_accuracy(request: HttpRequest) -> HttpResponse:
    """Forecast value added by lag: the table of WAPE, bias and FVA, and the trend chart."""
    lag = _bounded(request.GET.get("lag"), 1, 1, 24)
    months = _bounded(request.GET.get("months"), 12, 1, 60)
    level = request.GET.get("level") if request.GET.get("level") in LEVEL_LABELS else "total"
    result = services.forecast_accuracy(user=request.user, lag=lag, level=level, months=months)
    field = services.ACCURACY_LEVEL_FIELD[level]
    names = selectors.level_names(level, [row[field] for row in result["results"]])
    rows = [{"key": row[field], "label": names.get(row[field]) or row[field], **row} for row in result["results"]]
    fmt = wants_export(request)
    if fmt:
        keys = (
            "naive_wape",
            "statistical_wape",
            "sales_override_wape",
            "consensus_wape",
            "statistical_bias",
            "consensus_bias",
            "fva_statistical",
            "fva_sales_override",
            "fva_consensus",
        )
        return export_response(
            fmt,
            name=f"forecast-value-added-lag{lag}-{level}",
            header=[
                _("Group"),
                _("Months"),
                _("Sold"),
                _("WAPE naive"),
                _("WAPE statistical"),
                _("WAPE sales"),
                _("WAPE consensus"),
                _("Bias statistical"),
                _("Bias consensus"),
                _("FVA statistical"),
                _("FVA sales"),
                _("FVA consensus"),
            ],
            rows=(
                [
                    NO_KEY_LABELS[level] if row["key"] is None else row["key"],
                    row["months"],
                    row["actual_units"],
                    *[row.get(k) for k in keys],
                ]
                for row in rows
            ),
        )
    chart = services.accuracy_chart(result)
    return render(
        request,
        "scenarios/accuracy.html",
        {
            "result": result,
            "rows": rows,
            "chart": chart,
            "lag": lag,
            "months": months,
            "level": level,
            "levels": [{"code": k, "label": v} for k, v in LEVEL_LABELS.items()],
            "no_key_label": NO_KEY_LABELS[level],
            "lags": range(1, 7),
        },
    )


def executive_accuracy_panel(user) -> dict | None:
    """Forecast value added at lag 1 (total) for the executive review (``sop.cycle_views.EXECUTIVE_PANELS``)."""
    result = services.forecast_accuracy(user=user, lag=1, level="total", months=12)
    rows = [
        [
            _("Total, last %(n)s months") % {"n": row["months"]},
            row["naive_wape"],
            row["statistical_wape"],
            row["sales_override_wape"],
            row["consensus_wape"],
            row["fva_statistical"],
            row["fva_sales_override"],
            row["fva_consensus"],
        ]
        for row in result["results"]
    ]
    return {
        "title": _("Forecast value added (lag 1, WAPE %)"),
        "header": [
            _("Measured"),
            _("Naive"),
            _("Statistical"),
            _("Sales input"),
            _("Consensus"),
            _("FVA statistical"),
            _("FVA sales input"),
            _("FVA consensus"),
        ],
        "rows": rows,
        "empty": _("Nothing measured yet: it needs published cycles whose months have actuals."),
        "url": reverse("scenarios:accuracy"),
        "link": _("By family, region and sales manager"),
    }
