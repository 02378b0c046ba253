"""Pages of compensation: statements (list, printable detail with drill-down, CSV), payroll
export, disputes, plans and assignments, the plan-cost what-if and the period close (admin).

Views are thin: selectors read (scoped by ``for_user``), services write; failures of a service
show as messages.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compensation import selectors, services
from compensation.models import CompPlan, Statement
from core.api.csv_export import streaming_csv_response
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from core.pages import bad_request, id_param
from core.roles import ADMIN, OPS_LEAD, SALES_MANAGER, SALES_REP, has_role, role_required

PAY_ROLES = (ADMIN, SALES_MANAGER, SALES_REP)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context["perms_what_if"] = has_role(request.user, ADMIN, SALES_MANAGER)
    context["perms_periods"] = has_role(request.user, ADMIN)
    return render(request, template, context, status=status)


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@role_required(*PAY_ROLES)
def statements(request: HttpRequest) -> HttpResponse:
    context = selectors.statements_page(
        user=request.user,
        period_start=_date(request.GET.get("period_start")),
        rep_username=request.GET.get("rep") or None,
        status=request.GET.get("status") or None,
    )
    context["is_admin"] = has_role(request.user, ADMIN)
    fmt = wants_export(request)
    if fmt and request.GET.get("table") == "payroll":  # the payroll file for people: closed statements
        period_start = _date(request.GET.get("period_start"))
        return export_response(
            fmt,
            name=f"payroll-{period_start or 'all'}",
            header=[
                _("Rep"),
                _("First name"),
                _("Last name"),
                _("Period"),
                _("Period end"),
                _("Plan"),
                _("Version"),
                _("Status"),
                _("Total"),
                _("Draw balance carried"),
            ],
            rows=(
                [*row[:7], dict(Statement.Status.choices).get(row[7], row[7]), *row[8:]]
                for row in selectors.payroll_rows(user=request.user, period_start=period_start)
            ),
        )
    if fmt:  # the statements of the filter as listed (scoped by the same selector)
        return export_response(
            fmt,
            name="statements",
            header=[
                _("Period"),
                _("Rep"),
                _("Name"),
                _("Plan"),
                _("Version"),
                _("Status"),
                _("Attainment %"),
                _("Total"),
            ],
            rows=(
                [
                    s.period_start,
                    s.rep.username,
                    s.rep.get_full_name(),
                    s.plan_code,
                    s.plan_version,
                    s.get_status_display(),
                    s.attainment,
                    s.total,
                ]
                for s in context["statements"]
            ),
        )
    return _render(request, "compensation/statements.html", context)


@role_required(*PAY_ROLES)
def statement(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        context = selectors.statement_detail(user=request.user, pk=pk)
    except ApplicationError as exc:
        return _render(request, "compensation/not_found.html", {"message": exc.message}, status=404)
    context["can_dispute"] = context["statement"].rep_id == request.user.pk
    fmt = wants_export(request)
    if fmt:  # for people: translated headers, the locale's CSV dialect or XLSX
        item = context["statement"]
        _header, rows = selectors.statement_csv_rows(item)
        return export_response(
            fmt,
            name=f"statement-{item.rep.username}-{item.period_start}",
            header=[
                _("Rep"),
                _("Period"),
                _("Status"),
                _("Line"),
                _("Component"),
                _("Description"),
                _("Base"),
                _("Rate"),
                _("Rate unit"),
                _("Amount"),
                _("Order lines"),
                _("Corrects"),
            ],
            rows=rows,
        )
    return _render(request, "compensation/statement.html", context)


@role_required(*PAY_ROLES)
def statement_csv(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = selectors.statement_get(user=request.user, pk=pk)
    except ApplicationError as exc:
        return _render(request, "compensation/not_found.html", {"message": exc.message}, status=404)
    header, rows = selectors.statement_csv_rows(item)
    return streaming_csv_response(header, rows, f"statement-{item.rep.username}-{item.period_start}.csv")


@role_required(ADMIN, SALES_MANAGER, SALES_REP)
def payroll_csv(request: HttpRequest) -> HttpResponse:
    start = _date(request.GET.get("period_start"))
    rows = selectors.payroll_rows(user=request.user, period_start=start)
    return streaming_csv_response(selectors.PAYROLL_HEADER, rows.iterator(), f"payroll-{start or 'all'}.csv")


# --- disputes ---------------------------------------------------------------------------------


@role_required(*PAY_ROLES)
def disputes(request: HttpRequest) -> HttpResponse:
    context = selectors.disputes_page(user=request.user, status=request.GET.get("status") or None)
    context["can_answer"] = has_role(request.user, ADMIN, SALES_MANAGER)
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name="disputes",
            header=[
                _("Dispute"),
                _("Rep"),
                _("Period"),
                _("Line"),
                _("Component"),
                _("Raised by"),
                _("Raised"),
                _("Reason"),
                _("Status"),
                _("Answer"),
                _("Answered by"),
            ],
            rows=(
                [
                    d.pk,
                    d.line.statement.rep.username,
                    d.line.statement.period_start,
                    d.line.position,
                    d.line.component,
                    d.raised_by.username,
                    d.created_at,
                    d.reason,
                    d.get_status_display(),
                    d.answer,
                    d.answered_by.username if d.answered_by else "",
                ]
                for d in context["disputes"]
            ),
        )
    return _render(request, "compensation/disputes.html", context)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/compensation/") else fallback)


@require_POST
@role_required(*PAY_ROLES)
def dispute_raise(request: HttpRequest) -> HttpResponse:
    line_id = id_param(request.POST.get("line_id"))
    if line_id is None:
        return bad_request(request, "line_id must be the number of a line of your statement.")
    try:
        services.dispute_raise(user=request.user, line_id=line_id, reason=request.POST.get("reason", ""))
        messages.success(request, _("Your dispute was sent to your manager."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, reverse("compensation:disputes"))


@require_POST
@role_required(*PAY_ROLES)
def dispute_answer(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.dispute_answer(user=request.user, dispute_id=pk, answer=request.POST.get("answer", ""))
        messages.success(request, _("Answer recorded."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, reverse("compensation:disputes"))


@require_POST
@role_required(*PAY_ROLES)
def dispute_close(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.dispute_close(user=request.user, dispute_id=pk)
        messages.success(request, _("Dispute closed."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, reverse("compensation:disputes"))


# --- plans, what-if, periods, SPIFFs ----------------------------------------------------------


@role_required(*PAY_ROLES)
def plans(request: HttpRequest) -> HttpResponse:
    context = selectors.plans_page(user=request.user)
    context["is_admin"] = has_role(request.user, ADMIN)
    context["show_budget"] = has_role(request.user, ADMIN, SALES_MANAGER)
    fmt = wants_export(request)
    if fmt and request.GET.get("table") == "spiffs":
        budget = context["show_budget"]
        return export_response(
            fmt,
            name="spiffs",
            header=[
                _("Code"),
                _("Name"),
                _("From"),
                _("To"),
                _("Kind"),
                _("Amount"),
                _("SKUs"),
                _("Families"),
                _("Margin floor %"),
                *([_("Budget"), _("Used")] if budget else []),
            ],
            rows=(
                [
                    s.code,
                    s.name,
                    s.start,
                    s.end,
                    s.get_kind_display(),
                    s.amount,
                    ", ".join(s.skus),
                    ", ".join(s.families),
                    s.margin_floor_pct,
                    *([s.budget, s.budget_used] if budget else []),
                ]
                for s in context["spiffs"]
            ),
        )
    if fmt:  # the assignments the viewer may see (a rep: their own)
        return export_response(
            fmt,
            name="comp-assignments",
            header=[_("Rep"), _("Name"), _("Plan"), _("From"), _("To"), _("Quota / period")],
            rows=(
                [a.rep.username, a.rep.get_full_name(), a.plan.code, a.valid_from, a.valid_to, a.quota]
                for a in context["assignments"]
            ),
        )
    return _render(request, "compensation/plans.html", context)


@role_required(ADMIN, SALES_MANAGER)
def what_if(request: HttpRequest) -> HttpResponse:
    plans_visible = list(CompPlan.objects.for_user(request.user).order_by("code"))
    form = {
        "plan_code": request.POST.get("plan_code") or (plans_visible[0].code if plans_visible else ""),
        "tiers": request.POST.get("tiers", ""),
        "threshold": request.POST.get("threshold", ""),
        "cap": request.POST.get("cap", ""),
        "period_from": request.POST.get("period_from", ""),
        "period_to": request.POST.get("period_to", ""),
    }
    result = None
    if request.method == "POST":
        changes = {}
        for name in ("tiers", "threshold", "cap"):
            if form[name].strip():
                changes[name] = form[name].strip()
        try:
            result = services.plan_cost_what_if(
                user=request.user,
                plan_code=form["plan_code"],
                changes=changes,
                start=_date(form["period_from"]),
                end=_date(form["period_to"]),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
    current = next((p for p in plans_visible if p.code == form["plan_code"]), None)
    return _render(
        request,
        "compensation/what_if.html",
        {"plans": plans_visible, "form": form, "result": result, "current": current},
    )


@role_required(ADMIN)
def periods(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        start = _date(request.POST.get("period_start"))
        try:
            if start is None:
                raise ApplicationError(gettext("Choose a month."), code="invalid_period")
            if request.POST.get("action") == "close":
                services.comp_period_close_start(period_start=start, actor=request.user)
                messages.success(
                    request,
                    _("Closing %(month)s: statements lock when the run completes.") % {"month": f"{start:%Y-%m}"},
                )
            else:
                services.comp_period_compute(period_start=start, actor=request.user)
                messages.success(request, _("Draft statements of %(month)s computed.") % {"month": f"{start:%Y-%m}"})
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("compensation:periods")
    context = selectors.periods_page()
    context["this_month"] = timezone.localdate().replace(day=1)
    return _render(request, "compensation/periods.html", context)


@require_POST
@role_required(ADMIN, OPS_LEAD, SALES_MANAGER)
def spiff_from_alert(request: HttpRequest) -> HttpResponse:
    """The one-click button of an aged-stock alert: a SPIFF on its product."""
    alert_id = id_param(request.POST.get("alert_id"))
    if alert_id is None:
        return bad_request(request, "alert_id must be the number of an aged-stock alert.")
    try:
        spiff = services.spiff_create_from_alert(alert_id=alert_id, actor=request.user)
        messages.success(
            request,
            _("SPIFF %(code)s created: %(amount)s per unit until %(end)s.")
            % {"code": spiff.code, "amount": spiff.amount, "end": spiff.end},
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else "home")
