"""The role home pages: each role's dashboard, the CSV of each chart, a rep's accounts."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core import roles as r
from core.exports import export_response, wants_export
from core.roles import role_required
from crm.selectors import training_reminders
from dashboards import pages, selectors
from scenarios.services import planner_accuracy_trend
from sop import cycle_selectors


def today() -> dt.date:
    return timezone.localdate()


def _dashboard(request: HttpRequest, role: str | None) -> pages.Dashboard:
    allowed = pages.dashboards_for(request.user)
    if role is None:
        if not allowed:
            raise PermissionDenied("Your role has no home page.")
        return allowed[0]
    chosen = next((d for d in allowed if d.role == role), None)
    if chosen is None:
        if role in pages.DASHBOARDS:
            raise PermissionDenied("Your role does not give access to this dashboard.")
        raise Http404("No such dashboard.")
    return chosen


@never_cache  # a rep's home shows their commission
def home(request: HttpRequest) -> HttpResponse:
    """The home of the user's first role; ``?view=<role>`` opens another role they hold."""
    dashboard = _dashboard(request, request.GET.get("view") or None)
    context = pages.dashboard_context(dashboard=dashboard, user=request.user, as_of=today())
    context |= {
        "dashboard": dashboard,
        "dashboards": pages.dashboards_for(request.user),
        "as_of": today(),
        # links to the territory and quota pages (the quotas:read roles)
        "quota_reader": r.has_role(request.user, r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.EXECUTIVE),
        # S&OP cycle: the stages the viewer owns (due, overdue, just handed over)
        "takes_part_in_cycle": r.has_role(request.user, r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER),
        "cycle_tasks": cycle_selectors.home_panel(user=request.user),
        # CRM training the person's roles require that is overdue, missing or due to renew
        "training": training_reminders(user=request.user, today=today()),
        # forecast value added at lag 1 of the published cycles (the planner's home)
        "fva_trend": planner_accuracy_trend(user=request.user) if dashboard.role == r.PLANNER else None,
    }
    return render(request, dashboard.template, context)


@never_cache
def export(request: HttpRequest, role: str, chart: str, fmt: str = "csv") -> HttpResponse:
    """A chart's table: CSV in the viewer's locale dialect, or XLSX."""
    dashboard = _dashboard(request, role)
    out = pages.export_rows(dashboard=dashboard, chart_id=chart, user=request.user, as_of=today())
    if out is None:
        raise Http404("No such chart.")
    header, rows = out
    return export_response(fmt, header=header, rows=rows, name=f"{role}-{chart}-{today():%Y-%m-%d}")


@role_required(r.ADMIN, r.SALES_REP, r.SALES_MANAGER, r.EXECUTIVE)
@never_cache
def accounts(request: HttpRequest) -> HttpResponse:
    """The accounts of the viewer's territories (a rep: their own) with last-12-month sales."""
    rows = selectors.my_accounts(user=request.user, as_of=today())
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name=f"accounts-{today():%Y-%m-%d}",
            header=[_("Account"), _("Name"), _("Industry"), _("City"), _("Country"), _("Sales, last 12 months")],
            rows=(
                [a["external_id"], a["name"], a["industry"], a["city"], a["country"], a["revenue_l12m"]] for a in rows
            ),
        )
    return render(request, "dashboards/accounts.html", {"accounts": rows, "as_of": today()})


@never_cache
def floor(request: HttpRequest) -> HttpResponse:
    """A fixed page through the same middleware, session and menu as every page: the floor
    that ``bench/pages.py`` measures the other pages against."""
    return render(request, "dashboards/floor.html")
