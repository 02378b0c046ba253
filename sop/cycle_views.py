"""Pages of the S&OP cycle: overview, demand review, supply review, executive review,
decision log and published versions. Edits of the demand plan go through the API from the
page's script (static/js/cycle.js), so pages and ERP share one path, etags included."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import roles as r
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from core.roles import has_role, role_required
from inventory.models import ProductFamily
from sop import cycle_selectors, cycle_services, extensions
from sop.models import Decision, PlanCycle, WorkCenter

CYCLE_PAGE_ROLES = (r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER)
#: Panels that apps above sop add to the executive review (the callback the layering asks
#: for: ``scenarios`` appends its forecast-value-added figures in its ``AppConfig.ready``).
#: Each is called with the viewing user and returns ``{"title", "header", "rows", "url",
#: "link"}`` or None.
EXECUTIVE_PANELS: list[Callable[[object], dict | None]] = []
MEASURE_ROWS = (
    ("statistical", gettext_lazy("Statistical")),
    ("naive", gettext_lazy("Seasonal naive")),
    ("target", gettext_lazy("Target")),
    ("sales_override", gettext_lazy("Sales input")),
    ("consensus", gettext_lazy("Consensus")),
    ("feasible", gettext_lazy("Feasible")),
)


def _cycle(request: HttpRequest, month: str) -> PlanCycle:
    try:
        day = dt.date.fromisoformat(month)
    except ValueError as exc:
        raise Http404(_("No such cycle.")) from exc
    cycle = cycle_selectors.cycle_for(user=request.user, month=day)
    if cycle is None:
        raise Http404(_("No such cycle."))
    return cycle


def _common(request: HttpRequest, cycle: PlanCycle, tab: str) -> dict:
    stage = next((s for s in cycle.stages.all() if s.code == cycle.stage), None)
    return {
        "cycle": cycle,
        "tab": tab,
        "current_stage": stage,
        "stage_label": cycle_services.stage_label(cycle.stage),
        "can_advance": stage is not None
        and not cycle.is_published
        and (has_role(request.user, r.ADMIN, stage.owner_role) or stage.owner_id == request.user.pk),
    }


@role_required(*CYCLE_PAGE_ROLES)
def cycle(request: HttpRequest) -> HttpResponse:
    """The current cycle's overview (or ``?month=``), and the list of cycles."""
    month = request.GET.get("month")
    current = _cycle(request, month) if month else cycle_selectors.current_cycle(user=request.user)
    today = timezone.localdate()
    context = {
        "cycles": list(cycle_selectors.cycles_for(user=request.user)[:24]),
        "can_create": has_role(request.user, r.ADMIN, r.PLANNER),
        "next_month": (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1),
        "tab": "overview",
    }
    if current is not None:
        context.update(_common(request, current, "overview"))
        context.update(cycle_selectors.overview(cycle=current, user=request.user, today=today))
        context["stage_labels"] = {s["code"]: cycle_services.stage_label(s["code"]) for s in context["stages"]}
        context["owners"] = (
            list(
                get_user_model()
                .objects.filter(groups__name__in=[s["stage"].owner_role for s in context["stages"]])
                .distinct()
                .order_by("username")
                .values("id", "username")
            )
            if has_role(request.user, r.ADMIN, r.PLANNER)
            else []
        )
    return render(request, "sop/cycle.html", context)


@require_POST
@role_required(r.ADMIN, r.PLANNER)
def cycle_create(request: HttpRequest) -> HttpResponse:
    try:
        month = dt.date.fromisoformat(request.POST.get("month", "") + "-01")
        created = cycle_services.cycle_create(month=month, user=request.user)
    except ValueError:
        messages.error(request, _("Choose the month the cycle plans (YYYY-MM)."))
        return redirect("sop:cycle")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("sop:cycle")
    messages.success(
        request,
        _("The %(month)s cycle is open with %(n)s demand plan rows.")
        % {"month": created.month.strftime("%Y-%m"), "n": f"{created.lines_count:,}"},
    )
    return redirect(f"{reverse('sop:cycle')}?month={created.month.isoformat()}")


@require_POST
@role_required(*CYCLE_PAGE_ROLES)
def cycle_action(request: HttpRequest, month: str, action: str) -> HttpResponse:
    item = _cycle(request, month)
    comment = request.POST.get("comment", "")
    try:
        if action == "advance":
            item = cycle_services.cycle_advance(cycle=item, user=request.user, comment=comment)
            messages.success(
                request,
                _("Stage done: the cycle is now in %(stage)s.") % {"stage": cycle_services.stage_label(item.stage)},
            )
        elif action == "send-back":
            item = cycle_services.cycle_send_back(cycle=item, user=request.user, comment=comment)
            messages.success(request, _("Sent back to %(stage)s.") % {"stage": cycle_services.stage_label(item.stage)})
        elif action == "plan-run":
            run = cycle_services.cycle_plan_run_start(cycle=item, user=request.user)
            messages.success(request, _("Plan run %(id)s started on the consensus.") % {"id": run.pk})
        elif action == "assign":
            cycle_services.cycle_stage_assign(
                cycle=item,
                code=request.POST.get("stage", ""),
                owner_id=int(request.POST.get("owner") or 0) or None,
                user=request.user,
            )
            messages.success(request, _("Stage owner saved."))
        elif action == "decision":
            due = request.POST.get("due_date") or None
            cycle_services.decision_create(
                cycle=item,
                user=request.user,
                topic=request.POST.get("topic", ""),
                decision=request.POST.get("decision", ""),
                owner_id=int(request.POST.get("owner") or 0) or None,
                due_date=dt.date.fromisoformat(due) if due else None,
                family_code=request.POST.get("family_code", ""),
                product_sku=request.POST.get("product_sku", ""),
                work_center_code=request.POST.get("work_center_code", ""),
                alert_id=int(request.POST.get("alert_id") or 0) or None,
            )
            messages.success(request, _("Decision recorded."))
        elif action == "decision-status":
            decision = Decision.objects.for_user(request.user).filter(cycle=item, pk=request.POST.get("id")).first()
            if decision is None:
                raise Http404(_("No such decision."))
            cycle_services.decision_update(item=decision, user=request.user, status=request.POST.get("status"))
            messages.success(request, _("Decision updated."))
        else:
            raise Http404(_("Unknown action."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    except ValueError:
        messages.error(request, _("Check the dates and numbers you entered."))
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect(f"{reverse('sop:cycle')}?month={item.month.isoformat()}")


@role_required(*CYCLE_PAGE_ROLES)
def demand_review(request: HttpRequest, month: str) -> HttpResponse:
    item = _cycle(request, month)
    filters = {k: request.GET.get(k) for k in ("family_code", "territory_code", "region_code") if request.GET.get(k)}
    grid = cycle_selectors.demand_grid(cycle=item, user=request.user, filters=filters)
    fmt = wants_export(request)
    if fmt:  # the grid as shown: each family's measures by month, then the totals
        return export_response(
            fmt,
            name=f"demand-review-{item.month:%Y-%m}",
            header=[_("Family"), _("Measure"), *[date_format(p, "M Y") for p in grid["periods"]], _("Total")],
            rows=(
                [
                    row["key"] if row["key"] is not None else _("Total"),
                    str(label),
                    *[cell[code] if cell else None for cell in row["cells"]],
                    row["sum"][code],
                ]
                for row in [*grid["rows"], *grid["total"]]
                for code, label in MEASURE_ROWS
            ),
        )
    editable = (
        []
        if item.is_published
        else [m for m, roles in cycle_services.MEASURE_ROLES.items() if has_role(request.user, *roles)]
    )
    context = {
        **_common(request, item, "demand"),
        "grid": grid,
        "measures": MEASURE_ROWS,
        "editable": editable,
        "filters": filters,
        "families": list(ProductFamily.objects.order_by("code").values_list("code", flat=True)),
        "chart": {
            **cycle_selectors.demand_chart(
                cycle=item, user=request.user, filters=filters, plan_totals=grid["total_rows"]
            ),
            "names": {
                "history": _("History"),
                "statistical": _("Statistical"),
                "consensus": _("Consensus"),
                "target": _("Target"),
                "feasible": _("Feasible"),
                "sales_override": _("Sales input"),
            },
        },
        "edits": cycle_selectors.edits_for(cycle=item, user=request.user, limit=15),
        "page_config": {
            "api": reverse("plan-cycles-demand-plan", kwargs={"month": month}),
            "edit_url": reverse("plan-cycles-demand-plan-edits", kwargs={"month": month}),
            "editable": editable,
            "periods": [p.isoformat() for p in grid["periods"]],
            "messages": {
                "conflict": _(
                    "Someone changed this row since you loaded the page; nothing was saved. Reload to see their change."
                ),
                "reason": _("Say why you change it: fill in the reason first."),
                "saved": _("Saved."),
                "failed": _("Not saved:"),
                "products": _("Products"),
                "territories": _("Territories"),
                "no_territory": _("No territory"),
            },
        },
        "panels": extensions.panels(extensions.DEMAND_REVIEW_PANELS, request=request, cycle=item, filters=filters),
    }
    return render(request, "sop/cycle_demand.html", context)


@role_required(*CYCLE_PAGE_ROLES)
def supply_review(request: HttpRequest, month: str) -> HttpResponse:
    item = _cycle(request, month)
    review = cycle_selectors.supply_review(cycle=item)
    fmt = wants_export(request)
    if fmt and request.GET.get("table") == "gaps":
        return export_response(
            fmt,
            name=f"supply-gaps-{item.month:%Y-%m}",
            header=[
                _("Family"),
                _("Month"),
                _("Short of consensus"),
                _("Target not buildable"),
                _("Bottleneck"),
                _("Utilisation"),
            ],
            rows=(
                [
                    g["family_code"],
                    g["period_start"],
                    g["shortfall"],
                    g.get("target_gap"),
                    g.get("bottleneck") or "",
                    g.get("utilisation"),
                ]
                for g in review["gaps"]
            ),
        )
    if fmt:  # consensus against capacity and inventory, family × month as on the page
        return export_response(
            fmt,
            name=f"supply-review-{item.month:%Y-%m}",
            header=[
                _("Family"),
                _("Month"),
                _("Consensus"),
                _("Target"),
                _("Feasible"),
                _("Shortfall"),
                _("Bottleneck"),
                _("Utilisation"),
                _("Projected inventory"),
            ],
            rows=(
                [
                    row["family_code"],
                    c["period_start"],
                    c["consensus"],
                    c["target"],
                    c["feasible"],
                    c["shortfall"],
                    c["bottleneck"] or "",
                    c["utilisation"],
                    c["inventory"],
                ]
                for row in review["rows"]
                for c in row["cells"]
                if c
            ),
        )
    return render(
        request,
        "sop/cycle_supply.html",
        {
            **_common(request, item, "supply"),
            "review": review,
            "can_run": not item.is_published and has_role(request.user, r.ADMIN, r.PLANNER, r.OPS_LEAD),
            "work_centers": list(WorkCenter.objects.order_by("code").values_list("code", flat=True)),
        },
    )


@role_required(*CYCLE_PAGE_ROLES)
def executive_review(request: HttpRequest, month: str) -> HttpResponse:
    item = _cycle(request, month)
    review = cycle_selectors.executive_review(cycle=item, today=timezone.localdate())
    fmt = wants_export(request)
    if fmt and request.GET.get("table") == "changes":
        return export_response(
            fmt,
            name=f"executive-changes-{item.month:%Y-%m}",
            header=[_("Family"), _("Published"), _("Now"), _("Change"), _("Change %")],
            rows=(
                [c["family_code"], c["previous"], c["current"], c["change"], c["change_pct"]] for c in review["changes"]
            ),
        )
    if fmt and request.GET.get("table") == "risk":
        return export_response(
            fmt,
            name=f"executive-capacity-risk-{item.month:%Y-%m}",
            header=[_("Work center"), _("Name"), _("Month"), _("Utilisation %")],
            rows=(
                [
                    line.work_center.code,
                    line.work_center.name,
                    line.period_start,
                    None if line.utilisation is None else round(line.utilisation * 100, 1),
                ]
                for line in review["capacity_risk"]
            ),
        )
    if fmt:  # the revenue chart's numbers by month
        return export_response(
            fmt,
            name=f"executive-revenue-{item.month:%Y-%m}",
            header=[_("Month"), _("Revenue plan"), _("Target revenue"), _("Last year")],
            rows=([m["period_start"], m["revenue"], m["target_revenue"], m["last_year"]] for m in review["months"]),
        )
    chart = {
        "labels": [m["period_start"].strftime("%Y-%m") for m in review["months"]],
        "revenue": [m["revenue"] for m in review["months"]],
        "target": [m["target_revenue"] for m in review["months"]],
        "last_year": [m["last_year"] for m in review["months"]],
        "names": {"revenue": _("Revenue plan"), "target": _("Target revenue"), "last_year": _("Last year")},
    }
    panels = [panel for panel in (add(request.user) for add in EXECUTIVE_PANELS) if panel]
    return render(
        request,
        "sop/cycle_executive.html",
        {**_common(request, item, "executive"), "review": review, "chart": chart, "panels": panels},
    )


@role_required(*CYCLE_PAGE_ROLES)
def decisions(request: HttpRequest, month: str) -> HttpResponse:
    item = _cycle(request, month)
    rows = list(cycle_selectors.decisions_for(cycle=item, user=request.user))
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name=f"decisions-{item.month:%Y-%m}",
            header=[
                _("Topic"),
                _("Decision"),
                _("Owner"),
                _("Due"),
                _("Family"),
                _("Product"),
                _("Work center"),
                _("Alert"),
                _("Status"),
            ],
            rows=(
                [
                    d.topic,
                    d.decision,
                    d.owner.username if d.owner else "",
                    d.due_date,
                    d.family.code if d.family else "",
                    d.product.sku if d.product else "",
                    d.work_center.code if d.work_center else "",
                    d.alert_id,
                    d.get_status_display(),
                ]
                for d in rows
            ),
        )
    return render(
        request,
        "sop/cycle_decisions.html",
        {
            **_common(request, item, "decisions"),
            "decisions": rows,
            "statuses": Decision.Status.choices,
            "people": list(
                get_user_model()
                .objects.filter(is_active=True, groups__name__in=CYCLE_PAGE_ROLES)
                .distinct()
                .order_by("username")
                .values("id", "username")
            ),
            "families": list(ProductFamily.objects.order_by("code").values_list("code", flat=True)),
            "work_centers": list(WorkCenter.objects.order_by("code").values_list("code", flat=True)),
        },
    )


@role_required(*CYCLE_PAGE_ROLES)
def versions(request: HttpRequest) -> HttpResponse:
    published = list(
        PlanCycle.objects.for_user(request.user).published().select_related("published_by").order_by("-month")
    )
    return render(request, "sop/cycle_versions.html", {"published": published, "tab": "versions"})
