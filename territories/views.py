"""Pages for sales managers (and reps, read-only on their own): the territory tree, the
assignment rules editor, realignment preview/apply, balancing, quota plans and attainment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from core import roles as r
from core.api.permissions import QUOTA_READERS
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from core.models import Comment
from core.pages import bad_request, id_param
from core.roles import has_role, role_required
from core.services import comment_add
from territories import selectors, services
from territories.models import AssignmentRule, QuotaPlan, Territory
from territories.sources import READERS

VIEW_ROLES = (r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.EXECUTIVE)
#: quotas and attainment: one rule for these pages and the API (``quotas:read``)
QUOTA_ROLES = tuple(sorted(QUOTA_READERS))
MANAGE_ROLES = (r.ADMIN, r.SALES_MANAGER)
MEASURES = ("revenue", "units", "margin")
MEASURE_LABELS = {"revenue": gettext_lazy("Revenue"), "units": gettext_lazy("Units"), "margin": gettext_lazy("Margin")}


def _date(raw: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _decimal(raw: str | None, label: str) -> Decimal:
    try:
        return Decimal((raw or "").replace(",", "").strip())
    except InvalidOperation as exc:
        raise ApplicationError(f"{label} '{raw}' is not a number.", code="invalid_number") from exc


def _nav(active: str, user) -> list[dict]:
    items = [("tree", _("Tree")), ("quotas", _("Quota plans")), ("attainment", _("Attainment"))]
    if has_role(user, *MANAGE_ROLES, r.EXECUTIVE):
        items += [("balancing", _("Balancing"))]
    if has_role(user, *MANAGE_ROLES):
        items += [("rules", _("Assignment rules")), ("realignment", _("Realignment"))]
    return [{"url": reverse(f"territories:{name}"), "label": label, "active": name == active} for name, label in items]


@role_required(*VIEW_ROLES)
def tree(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = selectors.territory_tree(user=request.user, as_of=today)
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name="territories",
            header=[
                _("Territory"),
                _("Name"),
                _("Level"),
                _("Manager"),
                _("Reps"),
                _("Accounts"),
                _("Revenue, last 12 months"),
                _("FY quota"),
                _("FY sales to date"),
                _("Of quota"),
            ],
            rows=(
                [
                    t["code"],
                    t["name"],
                    t["level"],
                    t["manager"],
                    ", ".join(t["reps"]),
                    t["accounts"],
                    t["revenue_l12m"],
                    t["quota"],
                    t["ytd_actual"],
                    t["ytd_pct"],
                ]
                for t in rows
            ),
        )
    return render(
        request,
        "territories/tree.html",
        {
            "rows": rows,
            "as_of": today,
            "fiscal_year": selectors.fiscal_year_of(today),
            "subnav": _nav("tree", request.user),
        },
    )


# --- assignment rules ----------------------------------------------------------------------


@role_required(*MANAGE_ROLES)
def rules(request: HttpRequest) -> HttpResponse:
    visible_rules = AssignmentRule.objects.for_user(request.user).select_related("territory")
    territories = Territory.objects.for_user(request.user).filter(children__isnull=True).order_by("path")
    editing = None
    if request.method == "POST":
        try:
            if "delete" in request.POST:
                rule = get_object_or_404(visible_rules, code=request.POST["delete"])
                services.assignment_rule_delete(rule=rule, actor=request.user)
                messages.success(request, _("Rule %(code)s deleted.") % {"code": rule.code})
            else:
                territory = territories.filter(code=request.POST.get("territory_code", "")).first()
                if territory is None:
                    raise ApplicationError(gettext("Choose one of your territories."), code="invalid_territory")
                existing = AssignmentRule.objects.filter(code=request.POST.get("code", "").strip()).first()
                if existing is not None and not visible_rules.filter(pk=existing.pk).exists():
                    raise ApplicationError(
                        gettext("That rule code belongs to another manager's territory."), code="out_of_scope"
                    )
                rule = services.assignment_rule_save(
                    code=request.POST.get("code", ""),
                    territory=territory,
                    priority=int(request.POST.get("priority") or 0),
                    named_accounts=request.POST.get("named_accounts", ""),
                    valid_from=_date(request.POST.get("valid_from"), None) if request.POST.get("valid_from") else None,
                    actor=request.user,
                    **{f: request.POST.get(f, "") for f in services.RULE_TEXT_FIELDS},
                )
                messages.success(request, _("Rule %(code)s saved.") % {"code": rule.code})
            return redirect("territories:rules")
        except (ApplicationError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
    if request.GET.get("edit"):
        editing = visible_rules.filter(code=request.GET["edit"]).first()
    fmt = wants_export(request) if request.method == "GET" else None
    if fmt:
        return export_response(
            fmt,
            name="assignment-rules",
            header=[
                _("Code"),
                _("Territory"),
                _("Priority"),
                _("Country"),
                _("Region"),
                _("State"),
                _("Postal prefix"),
                _("Industry"),
                _("Named accounts"),
                _("Valid from"),
            ],
            rows=(
                [
                    rule.code,
                    rule.territory.code,
                    rule.priority,
                    rule.country,
                    rule.region,
                    rule.state,
                    rule.postal_prefix,
                    rule.industry,
                    rule.named_accounts,
                    rule.valid_from,
                ]
                for rule in visible_rules.order_by("-priority", "code")[:1000]
            ),
        )
    return render(
        request,
        "territories/rules.html",
        {
            "rules": list(visible_rules.order_by("-priority", "code")[:1000]),
            "territories": list(territories),
            "editing": editing,
            "subnav": _nav("rules", request.user),
        },
    )


# --- realignment ---------------------------------------------------------------------------


@role_required(*MANAGE_ROLES)
def realignment(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # By default preview the next planned rule change (else today).
    planned = (
        AssignmentRule.objects.filter(valid_from__gt=today)
        .order_by("valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    effective = _date(request.POST.get("effective_from") or request.GET.get("effective_from"), planned or today)
    if request.method == "POST":
        if not has_role(request.user, r.ADMIN):
            raise PermissionDenied(_("Only an administrator applies a realignment (it moves every territory)."))
        try:
            result = services.realignment_run(effective_from=effective, dry_run=False, actor=request.user)
            messages.success(
                request,
                _(
                    "Realignment from %(date)s applied: %(moved)s accounts moved; sales before "
                    "that date keep their territory."
                )
                % {"date": effective, "moved": result.counts["moved"]},
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(f"{reverse('territories:realignment')}?effective_from={effective}")
    result = services.realignment_run(effective_from=effective, dry_run=True)
    data = result.as_dict(limit=500)
    visible = set(Territory.objects.for_user(request.user).values_list("code", flat=True))

    def mine(*codes) -> bool:
        return any(c in visible for c in codes if c)

    data["moved"] = [m for m in data["moved"] if mine(m["from_territory_code"], m["to_territory_code"])]
    data["unassigned"] = [
        u for u in data["unassigned"] if mine(u["current_territory_code"]) or has_role(request.user, r.ADMIN)
    ]
    data["conflicts"] = [
        c for c in data["conflicts"] if mine(c["current_territory_code"], *c["candidate_territory_codes"])
    ]
    data["territories"] = [
        t for t in data["territories"] if mine(t["territory_code"]) and (t["accounts_in"] or t["accounts_out"])
    ]
    data["counts"] = {
        **data["counts"],
        "moved": len(data["moved"]),
        "unassigned": len(data["unassigned"]),
        "conflicts": len(data["conflicts"]),
    }
    return render(
        request,
        "territories/realignment.html",
        {
            "result": data,
            "effective_from": effective,
            "can_apply": has_role(request.user, r.ADMIN),
            "subnav": _nav("realignment", request.user),
        },
    )


# --- balancing -----------------------------------------------------------------------------


@role_required(r.ADMIN, r.SALES_MANAGER, r.EXECUTIVE)
def balancing(request: HttpRequest) -> HttpResponse:
    source = request.GET.get("potential", "potential")
    measure = request.GET.get("measure", "revenue_l12m")
    if source not in ("potential", "revenue_l12m", "forecast_n12m"):
        source = "potential"
    if measure not in ("accounts", "revenue_l12m", "forecast_n12m", "potential", "workload"):
        measure = "revenue_l12m"
    data = selectors.balancing(user=request.user, as_of=timezone.localdate(), potential_source=source, measure=measure)
    fmt = wants_export(request)
    if fmt and request.GET.get("table") == "moves":
        return export_response(
            fmt,
            name="territory-moves",
            header=[
                "#",
                _("Account"),
                _("Name"),
                _("From"),
                _("To"),
                _("Account value"),
                _("Spread before"),
                _("Spread after"),
            ],
            rows=(
                [
                    m["step"],
                    m["external_id"],
                    m["account_name"],
                    m["from_territory_code"],
                    m["to_territory_code"],
                    m["account_value"],
                    m["spread_before"],
                    m["spread_after"],
                ]
                for m in data["moves"]
            ),
        )
    if fmt:  # the balancing report
        return export_response(
            fmt,
            name="territory-balancing",
            header=[
                _("Territory"),
                _("Accounts"),
                _("Reps"),
                _("Revenue, last 12 months"),
                _("Forecast, next 12 months"),
                _("Potential"),
                _("Accounts per rep"),
            ],
            rows=(
                [
                    t["territory_code"],
                    t["accounts"],
                    t["reps"],
                    t["revenue_l12m"],
                    t["forecast_n12m"],
                    t["potential"],
                    t["workload"],
                ]
                for t in data["report"]
            ),
        )
    return render(
        request,
        "territories/balancing.html",
        {**data, "potential": source, "measure": measure, "subnav": _nav("balancing", request.user)},
    )


# --- quota plans ---------------------------------------------------------------------------


@role_required(*QUOTA_ROLES)
def quotas(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not has_role(request.user, *MANAGE_ROLES):
            raise PermissionDenied
        try:
            plan = services.quota_plan_create(
                code=request.POST.get("code", ""),
                fiscal_year=int(request.POST.get("fiscal_year") or 0),
                actor=request.user,
            )
            return redirect("territories:quota_plan", code=plan.code)
        except (ApplicationError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
    plans = list(QuotaPlan.objects.for_user(request.user).latest_first().select_related("approved_by", "submitted_by"))
    standing = selectors.quota_plan_standing(plans)
    for plan in plans:
        plan.standing = standing.get(plan.pk, "")
    fmt = wants_export(request) if request.method == "GET" else None
    if fmt:
        words = {"superseded": _("superseded"), "in_force": _("in force")}
        return export_response(
            fmt,
            name="quota-plans",
            header=[
                _("Plan"),
                _("Name"),
                _("Fiscal year"),
                _("Status"),
                _("Standing"),
                _("Submitted by"),
                _("Submitted"),
                _("Approved by"),
                _("Approved"),
            ],
            rows=(
                [
                    p.code,
                    p.name,
                    p.fiscal_year,
                    p.get_status_display(),
                    words.get(p.standing, ""),
                    p.submitted_by.username if p.submitted_by else "",
                    p.submitted_at,
                    p.approved_by.username if p.approved_by else "",
                    p.approved_at,
                ]
                for p in plans
            ),
        )
    return render(
        request,
        "territories/quota_plans.html",
        {
            "plans": plans,
            "can_edit": has_role(request.user, *MANAGE_ROLES),
            "next_year": selectors.fiscal_year_of(timezone.localdate()) + 1,
            "subnav": _nav("quotas", request.user),
        },
    )


@role_required(*QUOTA_ROLES)
def quota_plan(request: HttpRequest, code: str) -> HttpResponse:
    plan = get_object_or_404(QuotaPlan.objects.for_user(request.user), code=code)
    measure = request.GET.get("measure", "revenue")
    if measure not in MEASURES:
        measure = "revenue"
    fmt = wants_export(request) if request.method == "GET" else None
    if fmt:  # the grid as shown: one row per owner the viewer sees × the fiscal year's months
        grid = selectors.quota_grid(user=request.user, plan=plan, measure=measure)
        return export_response(
            fmt,
            name=f"quota-plan-{plan.code}-{measure}",
            header=[_("Owner"), _("Name"), *[date_format(m, "M Y") for m in grid["months"]], _("Year")],
            rows=([o["owner"], o["label"], *[c["amount"] for c in o["cells"]], o["total"]] for o in grid["owners"]),
        )
    can_edit = has_role(request.user, *MANAGE_ROLES)
    is_executive = has_role(request.user, r.EXECUTIVE)
    if request.method == "POST":
        action = request.POST.get("action")
        if not (can_edit or (is_executive and action in ("approve", "return", "comment"))):
            raise PermissionDenied(_("Only sales managers and administrators change quota plans."))
        try:
            _quota_plan_post(request, plan)
        except (ApplicationError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        # Back on the measure just worked on (an allocation in units shows the units).
        shown = request.POST.get("measure") if request.POST.get("measure") in MEASURES else measure
        return redirect(f"{reverse('territories:quota_plan', args=[plan.code])}?measure={shown}")
    months = selectors.fiscal_year_months(fiscal_year=plan.fiscal_year)
    nodes = Territory.objects.for_user(request.user).filter(children__isnull=False).distinct().order_by("path")
    check = selectors.quota_plan_buildability(user=request.user, plan=plan)
    others = list(QuotaPlan.objects.for_user(request.user).latest_first())
    standing = selectors.quota_plan_standing(others)
    plan.standing = standing.get(plan.pk, "")
    can_review = (
        plan.status == "submitted"
        and (can_edit or is_executive)
        and (plan.submitted_by_id != request.user.pk or request.user.is_superuser)
        and selectors.quota_plan_in_reach(user=request.user, plan=plan)
    )
    comments = Comment.objects.filter(
        content_type=ContentType.objects.get_for_model(QuotaPlan), object_id=str(plan.pk)
    ).select_related("author")
    return render(
        request,
        "territories/quota_plan.html",
        {
            "plan": plan,
            "measure": measure,
            "measures": [(m, MEASURE_LABELS[m]) for m in MEASURES],
            "measure_label": MEASURE_LABELS[measure],
            "grid": selectors.quota_grid(user=request.user, plan=plan, measure=measure),
            "roll_up": selectors.quota_roll_up(
                user=request.user, plan=plan, measure=measure, as_of=timezone.localdate()
            )
            if can_edit or has_role(request.user, r.EXECUTIVE)
            else [],
            "families": selectors.family_units_summary(user=request.user, plan=plan),
            # Alerts of the reconciliation belong to the version it reads; any other version is
            # checked against the latest plan run's feasible quantities instead.
            "alerts": READERS.target_not_buildable_alerts(user=request.user, months=months) if check["counted"] else [],
            "check": check,
            "months": months,
            "nodes": list(nodes),
            "comments": list(comments),
            "can_edit": can_edit and plan.status == "draft",
            "can_manage": can_edit,
            "can_comment": can_edit or is_executive,
            "can_submit": can_edit and plan.status == "draft",
            "can_review": can_review,
            "is_admin": has_role(request.user, r.ADMIN),
            "plans": [
                {
                    "code": p.code,
                    "status": p.status,
                    "label": p.get_status_display(),
                    "standing": standing.get(p.pk, ""),
                }
                for p in others
            ],
            "subnav": _nav("quotas", request.user),
        },
    )


def _quota_plan_post(request: HttpRequest, plan: QuotaPlan) -> None:
    action = request.POST.get("action")
    user = request.user
    if action in ("submit", "approve", "return"):
        services.quota_plan_transition(plan=plan, action=action, actor=user, comment=request.POST.get("comment", ""))
        messages.success(
            request,
            {
                "submit": _("Plan %(code)s submitted for approval."),
                "approve": _("Plan %(code)s approved."),
                "return": _("Plan %(code)s returned to draft."),
            }[action]
            % {"code": plan.code},
        )
    elif action == "comment":
        comment_add(author=user, target=plan, text=request.POST.get("comment", ""))
    elif action == "allocate":
        node_code = request.POST.get("node") or ""
        node = None
        if node_code:
            node = Territory.objects.for_user(user).filter(code=node_code).first()
            if node is None:
                raise ApplicationError(gettext("Choose a node of your own subtree."), code="out_of_scope")
        elif not has_role(user, r.ADMIN):
            raise ApplicationError(
                gettext("Only an administrator allocates the company target; choose your region."), code="out_of_scope"
            )
        split = services.quota_allocate_top_down(
            plan=plan,
            target=_decimal(request.POST.get("target"), "Target"),
            basis=request.POST.get("basis", "even"),
            owner_kind=request.POST.get("owner_kind", "rep"),
            node=node,
            measure=request.POST.get("measure", "revenue"),
            ramp=bool(request.POST.get("ramp")),
            actor=user,
        )
        used = set(split["basis_used"])
        messages.success(
            request,
            _("Allocated over %(count)s owners by %(basis)s; the parts sum exactly to the target.")
            % {"count": len(split), "basis": ", ".join(sorted(used))},
        )
    elif action == "set":
        month = _date(request.POST.get("period_start"), None)
        if month is None:
            raise ApplicationError(gettext("Choose a month."), code="invalid_date")
        owner = request.POST.get("owner", "")
        kind = request.POST.get("owner_kind", "rep")
        if kind == "rep":
            rep = selectors.visible_reps(user=user).filter(username=owner).first()
            if rep is None:
                raise ApplicationError(f"No rep '{owner}' in your territories.", code="out_of_scope")
            territory = None
        else:
            rep = None
            territory = Territory.objects.for_user(user).filter(code=owner).first()
            if territory is None:
                raise ApplicationError(f"No territory '{owner}' in your subtree.", code="out_of_scope")
        services.quota_set(
            plan=plan,
            period_start=month,
            amount=_decimal(request.POST.get("amount"), "Amount"),
            measure=request.POST.get("measure", "revenue"),
            rep=rep,
            territory=territory,
            actor=user,
        )
        messages.success(request, _("Quota saved."))
    else:
        raise ApplicationError(gettext("Unknown action."), code="invalid_action")


# --- attainment ----------------------------------------------------------------------------


@role_required(*QUOTA_ROLES)
def attainment(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    raw_year = request.GET.get("year") or ""
    year = selectors.fiscal_year_of(today) if not raw_year else id_param(raw_year)
    if year is None or not selectors.MIN_FISCAL_YEAR <= year <= selectors.MAX_FISCAL_YEAR:
        return bad_request(
            request,
            f"year '{raw_year}' is not a fiscal year ({selectors.MIN_FISCAL_YEAR}–{selectors.MAX_FISCAL_YEAR}).",
        )
    kind = request.GET.get("kind", "rep")
    if kind not in ("rep", "territory"):
        kind = "rep"
    measure = request.GET.get("measure", "revenue")
    if measure not in MEASURES:
        measure = "revenue"
    table = selectors.attainment_table(user=request.user, fiscal_year=year, owner_kind=kind, measure=measure)
    months = selectors.fiscal_year_months(fiscal_year=year)
    owners: dict[str, dict] = {}
    for row in table.itertuples(index=False):
        item = owners.setdefault(
            row.owner, {"owner": row.owner, "name": row.owner_name, "cells": {m: None for m in months}, "ytd": None}
        )
        item["cells"][row.period_start] = row
        if row.period_start <= today:
            item["ytd"] = row
    rows = [
        {**o, "cells": [{"month": m, "row": o["cells"][m], "future": m > today} for m in months]}
        for o in sorted(owners.values(), key=lambda o: o["owner"])
    ]
    fmt = wants_export(request)
    if fmt:  # one row per owner × month, as the cells of the page
        return export_response(
            fmt,
            name=f"attainment-{year}-{kind}-{measure}",
            header=[
                _("Owner"),
                _("Name"),
                _("Month"),
                _("Quota"),
                _("Actual"),
                _("Attainment %"),
                _("YTD quota"),
                _("YTD actual"),
                _("YTD %"),
            ],
            rows=(
                [
                    o["owner"],
                    o["name"],
                    c["month"],
                    c["row"].quota,
                    c["row"].actual,
                    c["row"].attainment_pct,
                    c["row"].ytd_quota,
                    c["row"].ytd_actual,
                    c["row"].ytd_attainment_pct,
                ]
                for o in rows
                for c in o["cells"]
                if c["row"] is not None
            ),
        )
    return render(
        request,
        "territories/attainment.html",
        {
            "rows": rows,
            "months": months,
            "year": year,
            "kind": kind,
            "measure": measure,
            "measures": MEASURES,
            "subnav": _nav("attainment", request.user),
        },
    )


@role_required(*QUOTA_ROLES)
def attainment_lines(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "rep")
    owner = request.GET.get("owner", "")
    measure = request.GET.get("measure", "revenue")
    month = _date(request.GET.get("period"), timezone.localdate().replace(day=1))
    visible = (
        selectors.visible_reps(user=request.user).filter(username=owner).exists()
        if kind == "rep"
        else Territory.objects.for_user(request.user).filter(code=owner).exists()
    )
    if not visible or measure not in MEASURES:
        raise PermissionDenied(_("You may not see this owner's attainment."))
    lines = READERS.attainment_lines(
        user=request.user, owner_kind=kind, owner=owner, period_start=month, measure=measure
    )
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name=f"attainment-lines-{owner}-{month:%Y-%m}-{measure}",
            header=[
                _("Line"),
                _("Order date"),
                _("Status"),
                _("Account"),
                _("Name"),
                _("Product"),
                _("Territory"),
                _("Quantity"),
                _("Net amount"),
                _("Share %"),
                _("Credit"),
            ],
            rows=(
                [
                    line["external_id"],
                    line["order_date"],
                    line["status"],
                    line["account_external_id"],
                    line["account"],
                    line["product"],
                    line["territory"],
                    line["quantity"],
                    line["net_amount"],
                    line["share"],
                    line["credit"],
                ]
                for line in lines
            ),
        )
    return render(
        request,
        "territories/attainment_lines.html",
        {
            "lines": lines,
            "owner": owner,
            "kind": kind,
            "month": month,
            "measure": measure,
            "total": sum((line["credit"] for line in lines), Decimal(0)),
            "subnav": _nav("attainment", request.user),
        },
    )
