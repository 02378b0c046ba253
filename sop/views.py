"""Pages for the operations lead: alerts inbox, capacity heat map, product supply page, plan runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import roles as r
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from core.models import Comment
from core.roles import has_role, role_required
from inventory.models import Product
from sop import extensions, selectors, services
from sop.alert_messages import UNITS, alert_message, alert_suggestion, comment_text
from sop.models import (
    ALERT_HANDLERS,
    CapacityAlert,
    CapacityCalendar,
    PlanLine,
    PlanRun,
    Plant,
    WorkCenter,
    WorkCenterLoad,
)

SUPPLY_PAGE_ROLES = (r.ADMIN, r.OPS_LEAD, r.PLANNER, r.EXECUTIVE)
ALERT_PAGE_ROLES = (*SUPPLY_PAGE_ROLES, r.SALES_MANAGER)
FILTER_KEYS = ("status", "type", "severity", "plant", "period", "work_center", "product", "family")


def _handlers():
    return list(
        get_user_model()
        .objects.filter(groups__name__in=ALERT_HANDLERS, is_active=True)
        .distinct()
        .order_by("username")
        .values("id", "username")
    )


@role_required(*ALERT_PAGE_ROLES)
def alerts(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in FILTER_KEYS}
    if "status" not in request.GET:
        filters["status"] = "active"
    if filters["period"]:
        try:
            filters["period"] = dt.date.fromisoformat(
                filters["period"] + "-01" if len(filters["period"]) == 7 else filters["period"]
            )
        except ValueError:
            filters["period"] = ""
    ordered = selectors.alerts_for_page(user=request.user, filters=filters, limit=None)
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name="alerts",
            header=ALERT_EXPORT_HEADER(),
            rows=(
                [
                    a.get_severity_display(),
                    a.get_type_display(),
                    a.work_center.code if a.work_center else "",
                    a.product.sku if a.product else "",
                    a.family.code if a.family else "",
                    a.territory.code if a.territory else "",
                    a.period_start,
                    a.amount,
                    UNITS.get(a.unit, a.unit),
                    a.value,
                    alert_message(a),
                    alert_suggestion(a),
                    a.get_status_display(),
                    a.assignee.username if a.assignee else "",
                    a.created_at,
                ]
                for a in ordered.iterator(chunk_size=2000)
            ),
        )
    page = selectors.alerts_page(
        user=request.user, filters=filters, number=request.GET.get("page"), per_page=ALERTS_PER_PAGE
    )
    can_act = has_role(request.user, *ALERT_HANDLERS)

    return render(
        request,
        "sop/alerts.html",
        {
            "alerts": page.object_list,
            "page_obj": page,
            "filters": filters,
            "can_act": can_act,
            "handlers": _handlers() if can_act else [],
            "types": CapacityAlert.Type.choices,
            "severities": CapacityAlert.Severity.choices,
            "statuses": [("active", _("Open or acknowledged")), *CapacityAlert.Status.choices, ("", _("Any"))],
            "plants": list(Plant.objects.values_list("code", flat=True)),
            "latest_run": selectors.latest_plan_run(user=request.user),
            "can_run": has_role(request.user, r.ADMIN, r.OPS_LEAD, r.PLANNER),
        },
    )


ALERTS_PER_PAGE = 100


def ALERT_EXPORT_HEADER() -> list[str]:  # noqa: N802 - a constant, translated when called
    return [
        _("Severity"),
        _("Type"),
        _("Work center"),
        _("Product"),
        _("Family"),
        _("Territory"),
        _("Period"),
        _("Amount"),
        _("Unit"),
        _("Value"),
        _("Message"),
        _("Suggestion"),
        _("Status"),
        _("Assignee"),
        _("Raised"),
    ]


@role_required(*ALERT_PAGE_ROLES)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(
        CapacityAlert.objects.for_user(request.user).select_related(
            "work_center__plant",
            "product",
            "family",
            "territory",
            "assignee",
            "acknowledged_by",
            "resolved_by",
            "run",
            "resolved_by_run",
        ),
        pk=pk,
    )
    comments = list(
        Comment.objects.filter(
            content_type=ContentType.objects.get_for_model(CapacityAlert), object_id=str(alert.pk)
        ).select_related("author")
    )
    for comment in comments:
        comment.shown = comment_text(comment)
    can_act = has_role(request.user, *ALERT_HANDLERS)
    return render(
        request,
        "sop/alert.html",
        {
            "alert": alert,
            "comments": comments,
            "can_act": can_act,
            "handlers": _handlers() if can_act else [],
            # The role check of compensation's one-click SPIFF view (admin, ops lead, sales manager).
            "can_spiff": has_role(request.user, "admin", "ops_lead", "sales_manager"),
            # The territory and quota pages it links to (the quotas:read roles).
            "is_quota_reader": has_role(request.user, r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.EXECUTIVE),
        },
    )


@require_POST
@role_required(*ALERT_HANDLERS)
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        if action == "acknowledge":
            services.alert_acknowledge(alert_id=pk, user=request.user)
            messages.success(request, _("Alert acknowledged."))
        elif action == "resolve":
            services.alert_resolve(alert_id=pk, user=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("Alert resolved."))
        elif action == "assign":
            assignee_id = request.POST.get("assignee") or None
            assignee = get_user_model().objects.filter(pk=assignee_id).first() if assignee_id else None
            services.alert_assign(alert_id=pk, user=request.user, assignee=assignee)
            messages.success(request, _("Assignee saved."))
        elif action == "comment":
            services.alert_comment(alert_id=pk, user=request.user, text=request.POST.get("text", ""))
            messages.success(request, _("Comment added."))
        else:
            raise Http404("Unknown action")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else reverse("sop:alert", args=[pk]))


@role_required(*SUPPLY_PAGE_ROLES)
def capacity(request: HttpRequest) -> HttpResponse:
    run = selectors.latest_plan_run(user=request.user)
    plant = request.GET.get("plant", "")

    heat = selectors.capacity_heatmap(run=run, plant=plant or None)
    fmt = wants_export(request)
    if fmt:  # the heat map as rows: work center × month
        return export_response(
            fmt,
            name="capacity-load",
            header=[
                _("Work center"),
                _("Name"),
                _("Plant"),
                _("Period"),
                _("Load h"),
                _("Available"),
                _("Utilisation %"),
            ],
            rows=(
                [row["code"], row["name"], row["plant"], cell["period"], cell["load"], cell["available"], cell["pct"]]
                for row in heat["rows"]
                for cell in row["cells"]
            ),
        )
    return render(
        request,
        "sop/capacity.html",
        {
            "run": run,
            "latest_run": run,
            "heat": heat,
            "plant": plant,
            "plants": list(Plant.objects.values_list("code", flat=True)),
            "can_run": has_role(request.user, r.ADMIN, r.OPS_LEAD, r.PLANNER),
        },
    )


@role_required(*SUPPLY_PAGE_ROLES)
def capacity_cell(request: HttpRequest, code: str, period: str) -> HttpResponse:
    work_center = get_object_or_404(WorkCenter.objects.for_user(request.user).select_related("plant"), code=code)
    try:
        period_start = dt.date.fromisoformat(period)
    except ValueError as exc:
        raise Http404("Bad period") from exc
    can_edit = has_role(request.user, r.ADMIN, r.OPS_LEAD)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only operations leads and admins edit capacity."))
        try:
            services.capacity_update(
                work_center=work_center,
                period_start=period_start,
                user=request.user,
                shifts=int(request.POST["shifts"]),
                hours_per_shift=Decimal(request.POST["hours_per_shift"]),
                working_days=int(request.POST["working_days"]),
                efficiency=Decimal(request.POST["efficiency"]),
                downtime_hours=Decimal(request.POST.get("downtime_hours") or "0"),
            )
            messages.success(request, _("Capacity saved. It counts from the next plan run."))
        except (ApplicationError, KeyError, ValueError, InvalidOperation) as exc:
            messages.error(request, getattr(exc, "message", "Check the numbers: shifts, hours, days, efficiency."))
        return redirect("sop:capacity-cell", code=code, period=period)
    run = selectors.latest_plan_run(user=request.user)
    entry = CapacityCalendar.objects.filter(work_center=work_center, period_start=period_start).first()
    load = None
    if run is not None:
        load = WorkCenterLoad.objects.filter(run=run, work_center=work_center, period_start=period_start).first()
    products = selectors.work_center_products(run=run, work_center=work_center, period=period_start) if run else []
    fmt = wants_export(request)
    if fmt:  # the products loading this work center in this month
        return export_response(
            fmt,
            name=f"capacity-{work_center.code}-{period_start:%Y-%m}",
            header=[
                _("Product"),
                _("Name"),
                _("h / unit"),
                _("Required units"),
                _("Load h"),
                _("Planned units"),
                _("Shortfall units"),
            ],
            rows=(
                [
                    p["sku"],
                    p["name"],
                    p["hours_per_unit"],
                    p["required"],
                    p["load_hours"],
                    p["constrained"],
                    p["shortfall"],
                ]
                for p in products
            ),
        )
    return render(
        request,
        "sop/capacity_cell.html",
        {
            "work_center": work_center,
            "period": period_start,
            "run": run,
            "entry": entry,
            "load": load,
            "products": products,
            "can_edit": can_edit,
        },
    )


@role_required(*SUPPLY_PAGE_ROLES)
def product(request: HttpRequest, sku: str) -> HttpResponse:
    item = get_object_or_404(Product.objects.for_user(request.user).select_related("family"), sku=sku)
    run = selectors.latest_plan_run(user=request.user)
    plan = selectors.product_plan(run=run, product_id=item.pk)
    as_of = run.as_of if run else timezone.localdate()
    fmt = wants_export(request)
    if fmt:  # the supply plan table (the charts draw the same months)
        return export_response(
            fmt,
            name=f"supply-plan-{item.sku}",
            header=[
                _("Month"),
                _("Demand"),
                _("Required"),
                _("Planned"),
                _("Pre-build"),
                _("Shortfall"),
                _("Stock end"),
                _("Safety stock"),
                _("Feasible"),
            ],
            rows=(
                [
                    p["period_start"],
                    p["demand_qty"],
                    p["production_required"],
                    p["constrained_production"],
                    p["prebuild_qty"],
                    p["shortfall_qty"],
                    p["projected_inventory_after"],
                    p["safety_stock"],
                    p["feasible_qty"],
                ]
                for p in plan
            ),
        )
    chart = {
        "labels": [p["period_start"].strftime("%Y-%m") for p in plan],
        "inventory": [round(p["projected_inventory_after"], 1) for p in plan],
        "safety": [round(p["safety_stock"], 1) for p in plan],
        "demand": [round(p["demand_qty"], 1) for p in plan],
        "feasible": [round(p["feasible_qty"], 1) for p in plan],
        "names": {
            "inventory": _("Projected inventory"),
            "safety": _("Safety stock"),
            "demand": _("Demand"),
            "feasible": _("Feasible"),
        },
    }
    open_alerts = list(
        CapacityAlert.objects.for_user(request.user).active().filter(product=item).order_by("severity", "type")
    )
    return render(
        request,
        "sop/product.html",
        {
            "product": item,
            "run": run,
            "plan": plan,
            "chart": chart,
            "alerts": open_alerts,
            "lots": selectors.product_lot_ages(product_id=item.pk, as_of=as_of),
            "panels": extensions.panels(extensions.PRODUCT_PANELS, request=request, product=item),
        },
    )


@require_POST
@role_required(r.ADMIN, r.OPS_LEAD, r.PLANNER)
def run_start(request: HttpRequest) -> HttpResponse:
    forecast = request.POST.get("forecast") == "1"
    try:
        run = services.plan_run_start(trigger=PlanRun.Trigger.USER, user=request.user, forecast=forecast)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.code == "run_in_progress":
            return redirect(exc.details["page_url"])
        return redirect("sop:alerts")
    messages.success(request, _("Plan run %(id)s started.") % {"id": run.pk})
    return redirect("sop:run", pk=run.pk)


@role_required(*SUPPLY_PAGE_ROLES)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        PlanRun.objects.for_user(request.user).select_related("triggered_by", "forecast_run"), pk=pk
    )
    fmt = wants_export(request)
    if fmt:  # the run's supply plan: product × month (read through the same scoping as every plan line)
        lines = (
            PlanLine.objects.for_user(request.user)
            .filter(run=run)
            .select_related("product")
            .order_by("product__sku", "period_start")
        )
        return export_response(
            fmt,
            name=f"plan-run-{run.pk}",
            header=[
                _("Product"),
                _("Name"),
                _("Period"),
                _("Demand"),
                _("Forecast"),
                _("Target"),
                _("Safety stock"),
                _("Production required"),
                _("Constrained production"),
                _("Prebuild"),
                _("Shortfall"),
                _("Projected inventory"),
                _("Feasible"),
                _("Unserved"),
            ],
            rows=(
                [
                    line.product.sku,
                    line.product.name,
                    line.period_start,
                    line.demand_qty,
                    line.forecast_qty,
                    line.target_qty,
                    line.safety_stock,
                    line.production_required,
                    line.constrained_production,
                    line.prebuild_qty,
                    line.shortfall_qty,
                    line.projected_inventory_after,
                    line.feasible_qty,
                    line.unserved_qty,
                ]
                for line in lines.iterator(chunk_size=2000)
            ),
        )
    return render(request, "sop/run.html", {"run": run})
