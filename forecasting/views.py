"""Forecast pages: runs (start one, watch it), series of a run, one series with its bands."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import roles as r
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from forecasting import selectors
from forecasting.models import ForecastRun, ForecastSeries
from forecasting.services import forecast_run_start

VIEWERS = (r.ADMIN, r.PLANNER, r.EXECUTIVE, r.OPS_LEAD)
RUNNERS = (r.ADMIN, r.PLANNER)


@r.role_required(*VIEWERS)
def runs(request: HttpRequest) -> HttpResponse:
    latest = selectors.latest_finished_run(user=request.user)
    runs_list = selectors.runs_for_page(user=request.user)
    fmt = wants_export(request)
    if fmt:  # the page's table: the viewer's CSV dialect or XLSX
        return export_response(
            fmt,
            name="forecast-runs",
            header=[
                _("Run"),
                _("Status"),
                _("Progress"),
                _("As of"),
                _("Trigger"),
                _("Triggered by"),
                _("Series done"),
                _("Series"),
                _("Failed"),
                _("Started"),
                _("Duration s"),
            ],
            rows=(
                [
                    run.pk,
                    run.get_status_display(),
                    run.percent,
                    run.as_of,
                    run.get_trigger_display(),
                    run.triggered_by.username if run.triggered_by else "",
                    run.series_done,
                    run.series_total,
                    run.series_failed,
                    run.started_at,
                    run.duration_seconds,
                ]
                for run in runs_list
            ),
        )
    return render(
        request,
        "forecasting/runs.html",
        {
            "runs": runs_list,
            "latest": latest,
            "can_run": r.has_role(request.user, *RUNNERS),
        },
    )


@require_POST
@r.role_required(*RUNNERS)
def run_start(request: HttpRequest) -> HttpResponse:
    try:
        run = forecast_run_start(trigger=ForecastRun.Trigger.USER, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.code == "run_in_progress":
            return redirect(exc.details["page_url"])
        return redirect("forecasting:runs")
    messages.success(request, _("Forecast run %(id)s queued: the workers are on it.") % {"id": run.pk})
    return redirect("forecasting:run", run_id=run.pk)


@r.role_required(*VIEWERS)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ForecastRun.objects.for_user(request.user), pk=run_id)
    filters = {k: request.GET.get(k, "").strip() for k in ("q", "model", "demand_class", "status", "territory", "sort")}
    fmt = wants_export(request)
    if fmt:  # the series of the filter, every row (the page shows at most 200)
        return export_response(
            fmt,
            name=f"forecast-run-{run.pk}-series",
            header=[
                _("Product"),
                _("Name"),
                _("Territory"),
                _("Model"),
                _("Demand"),
                _("History"),
                _("sMAPE"),
                _("MASE"),
                _("WAPE"),
                _("Bias"),
                _("Status"),
                _("Error"),
            ],
            rows=(
                [
                    s["product__sku"],
                    s["product__name"],
                    s["territory__code"] or "",
                    s["model"],
                    s["demand_class"],
                    s["history_class"],
                    s["smape"],
                    s["mase"],
                    s["wape"],
                    s["bias"],
                    s["status"],
                    s["error"],
                ]
                for s in selectors.series_page(user=request.user, run=run, filters=filters, limit=None)
            ),
        )
    return render(
        request,
        "forecasting/run_detail.html",
        {
            "run": run,
            "filters": filters,
            "series": selectors.series_page(user=request.user, run=run, filters=filters),
            "accuracy": selectors.backtest_accuracy(run=run),
            "model_mix": selectors.model_mix(run=run),
            "demand_classes": ["smooth", "intermittent", "erratic", "lumpy"],
        },
    )


@r.role_required(*VIEWERS)
def series_detail(request: HttpRequest, run_id: int, series_id: int) -> HttpResponse:
    series = get_object_or_404(
        ForecastSeries.objects.for_user(request.user).select_related("run", "product", "territory"),
        pk=series_id,
        run_id=run_id,
    )
    detail = selectors.series_detail(user=request.user, series=series)
    fmt = wants_export(request)
    if fmt:  # the chart's numbers: each month's history, then the forecast with its bands
        return export_response(
            fmt,
            name=f"forecast-{series.product.sku}-{series.territory.code if series.territory else 'all'}",
            header=[
                _("Month"),
                _("History"),
                _("Forecast"),
                _("80 % low"),
                _("80 % high"),
                _("95 % low"),
                _("95 % high"),
            ],
            rows=(
                [label, *(detail[key][i] for key in ("history", "point", "lo80", "hi80", "lo95", "hi95"))]
                for i, label in enumerate(detail["labels"])
            ),
        )
    return render(
        request,
        "forecasting/series_detail.html",
        {
            "series": series,
            "chart": {
                **detail,
                "names": {
                    "hi95": _("95 % high"),
                    "lo95": _("95 % low"),
                    "hi80": _("80 % high"),
                    "lo80": _("80 % low"),
                    "point": _("Forecast"),
                    "history": _("History"),
                },
            },
        },
    )
