"""Pages of the CRM: opportunities (with "can we deliver?"), customer feedback, rep enablement;
and the panels the CRM adds to the cycle's demand review and the product page (``crm.hooks``)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import roles as r
from core.api.permissions import CRM_PLAN_READERS
from core.errors import ApplicationError
from core.exports import export_response, wants_export
from core.roles import has_role, role_required
from crm import selectors, services
from crm.models import FeedbackNote, Opportunity, TrainingModule
from inventory.models import Product
from sop.models import WorkCenter
from territories.models import Account

PEOPLE = tuple(sorted(set(r.ROLES) - {r.ERP}))
#: who adds feedback notes on the page (those who hear customers, and the planners they tell)
FEEDBACK_AUTHORS = (r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.PLANNER)
#: the manager's enablement view
TRAINING_VIEWERS = (r.ADMIN, r.SALES_MANAGER, r.EXECUTIVE, r.SALES_REP)
SIGNAL_DAYS = 90


# --- opportunities -------------------------------------------------------------------------


@role_required(*PEOPLE)
def opportunities(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "open"
    if status not in Opportunity.Status.values:
        status = "open"
    deals = selectors.opportunities_for_page(user=request.user, status=status)
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name=f"opportunities-{status}",
            header=[
                _("Deal"),
                _("Account"),
                _("Product or family"),
                _("Units"),
                _("Amount"),
                _("Stage"),
                _("CRM probability"),
                _("Probability used"),
                _("Close"),
                _("Delivery"),
                _("Owner"),
            ],
            rows=(
                [
                    d["external_id"],
                    d["account_name"],
                    d["product_sku"] or d["family_code"],
                    d["quantity"],
                    d["amount"],
                    d["stage"],
                    d["probability"],
                    d["probability_pct"],
                    d["expected_close_date"],
                    d["requested_delivery_date"],
                    d["owner_username"],
                ]
                for d in deals
            ),
        )
    return render(
        request,
        "crm/opportunities.html",
        {
            "deals": deals,
            "status": status,
            "statuses": Opportunity.Status.choices,
            "calibration": selectors.hit_rate_calibration().to_dict("records"),
        },
    )


def _positive(raw: str | None, default: float) -> float:
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if 0 < value <= 1e9 else default


@role_required(*PEOPLE)
def opportunity(request: HttpRequest, external_id: str) -> HttpResponse:
    deal = get_object_or_404(
        Opportunity.objects.for_user(request.user).select_related("account", "product", "family", "owner", "territory"),
        external_id=external_id,
    )
    quantity = _positive(request.GET.get("quantity"), float(deal.quantity))
    try:
        date = dt.date.fromisoformat(request.GET["date"]) if request.GET.get("date") else deal.requested_delivery_date
    except ValueError:
        date = deal.requested_delivery_date
    answer = run = None
    if deal.product_id:
        answer, run = selectors.product_availability(product=deal.product, quantity=quantity, date=date)
    constraint_name = None
    if answer and answer.constrained_by and answer.constrained_by["kind"] == "work_center":
        constraint_name = (
            WorkCenter.objects.filter(code=answer.constrained_by["code"]).values_list("name", flat=True).first()
        )
    return render(
        request,
        "crm/opportunity.html",
        {
            "deal": deal,
            "probability": selectors.opportunity_probability(deal),
            "answer": answer,
            "run": run,
            "asked": {"quantity": quantity, "date": date},
            "constraint_name": constraint_name,
            "feedback": selectors.feedback_for(user=request.user, product_ids=[deal.product_id], limit=10)
            if deal.product_id
            else [],
        },
    )


# --- feedback ------------------------------------------------------------------------------


@role_required(*PEOPLE)
def feedback(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _feedback_add(request)
    since = timezone.localdate() - dt.timedelta(days=SIGNAL_DAYS)
    notes = selectors.feedback_for(user=request.user, family_code=request.GET.get("family_code") or None, limit=200)
    fmt = wants_export(request)
    if fmt:
        return export_response(
            fmt,
            name="feedback",
            header=[_("Noted on"), _("Account"), _("Product"), _("Category"), _("Sentiment"), _("Note"), _("Author")],
            rows=(
                [
                    n.noted_on,
                    n.account.name,
                    n.product.sku if n.product else "",
                    n.get_category_display(),
                    n.get_sentiment_display(),
                    n.text,
                    n.author.username,
                ]
                for n in notes
            ),
        )
    return render(
        request,
        "crm/feedback.html",
        {
            "notes": notes,
            "signals": selectors.demand_signal_counts(user=request.user, since=since),
            "since": since,
            "categories": FeedbackNote.Category.choices,
            "sentiments": FeedbackNote.Sentiment.choices,
            "can_add": has_role(request.user, *FEEDBACK_AUTHORS),
            "today": timezone.localdate(),
        },
    )


def _feedback_add(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, *FEEDBACK_AUTHORS):
        raise Http404(_("Not found."))
    post = request.POST
    try:
        account = Account.objects.for_user(request.user).filter(external_id=post.get("account", "").strip()).first()
        if account is None:
            raise ApplicationError(
                _("No account '%(id)s' you may see.") % {"id": post.get("account", "")},
                code="invalid",
                details={"field": "account"},
            )
        product = None
        if post.get("product", "").strip():
            product = Product.objects.filter(sku=post["product"].strip()).first()
            if product is None:
                raise ApplicationError(
                    _("No product '%(sku)s'.") % {"sku": post["product"]}, code="invalid", details={"field": "product"}
                )
        try:
            noted_on = dt.date.fromisoformat(post.get("noted_on", "")) if post.get("noted_on") else timezone.localdate()
        except ValueError as exc:
            raise ApplicationError(
                _("The date is not a date (YYYY-MM-DD)."), code="invalid", details={"field": "noted_on"}
            ) from exc
        services.feedback_note_create(
            author=request.user,
            account=account,
            product=product,
            category=post.get("category", ""),
            sentiment=post.get("sentiment", "neutral"),
            text=post.get("text", ""),
            noted_on=noted_on,
        )
        messages.success(request, _("Feedback noted."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("crm:feedback")


# --- enablement ----------------------------------------------------------------------------


@role_required(*TRAINING_VIEWERS)
def training(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    due = selectors.training_due_list(user=request.user, today=today)
    fmt = wants_export(request)
    if fmt:  # the due and overdue list as on the page (current completions are not listed)
        words = {"overdue": _("Overdue"), "missing": _("Never completed"), "due": _("Due to renew")}
        return export_response(
            fmt,
            name="training-due",
            header=[_("Person"), _("Module"), _("Name"), _("Status"), _("Completed"), _("Expires"), _("Blocks")],
            rows=(
                [
                    row["username"],
                    row["module_code"],
                    row["module_name"],
                    words.get(row["status"], row["status"]),
                    row["completed_on"],
                    row["expires_on"],
                    ", ".join(row["blocks"] or []),
                ]
                for row in due
                if row["status"] != "current"
            ),
        )
    return render(
        request,
        "crm/training.html",
        {
            "due": due,
            "today": today,
            "modules": list(TrainingModule.objects.order_by("code")),
            "rules": selectors.certification_rules(),
            "unmet": selectors.unmet_rules(user=request.user, today=today),
            "can_record": has_role(request.user, r.ADMIN, r.SALES_MANAGER),
        },
    )


@require_POST
@role_required(r.ADMIN, r.SALES_MANAGER)
def training_record(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        user = get_user_model().objects.filter(username=post.get("username", "")).first()
        module = TrainingModule.objects.filter(code=post.get("module", "")).first()
        if user is None or module is None:
            raise ApplicationError(_("Choose a rep and a module."), code="invalid")
        try:
            completed_on = dt.date.fromisoformat(post.get("completed_on", ""))
            expires_on = dt.date.fromisoformat(post["expires_on"]) if post.get("expires_on") else None
        except ValueError as exc:
            raise ApplicationError(_("Check the dates (YYYY-MM-DD)."), code="invalid") from exc
        services.training_completion_record(
            actor=request.user, user=user, module=module, completed_on=completed_on, expires_on=expires_on
        )
        messages.success(request, _("Completion recorded."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("crm:training")


# --- panels on the plan's pages (see crm.hooks) --------------------------------------------


def demand_review_panel(*, request, cycle, filters: dict) -> dict | None:
    """Pipeline beside the statistical forecast and the sales input, feedback, demand signals."""
    if not has_role(request.user, *CRM_PLAN_READERS):
        return None
    family = filters.get("family_code")
    level = "product" if family else "family"
    frame = selectors.pipeline_rows(user=request.user, level=level, cycle=cycle)
    if family and len(frame):
        in_family = set(Product.objects.filter(family__code=family).values_list("sku", flat=True))
        frame = frame[frame["key"].isin(in_family)]
    if filters.get("territory_code") and len(frame):
        frame = frame[frame["territory_code"] == filters["territory_code"]]
    rows = frame.sort_values(["period_start", "key"]).head(300).to_dict("records")
    since = cycle.month - dt.timedelta(days=SIGNAL_DAYS)
    return {
        "template": "crm/_demand_review_panel.html",
        "level": level,
        "rows": rows,
        "more": len(frame) > 300,
        "totals": {
            "pipeline_units": float(frame["pipeline_units"].sum()) if len(frame) else 0.0,
            "weighted_units": float(frame["weighted_units"].sum()) if len(frame) else 0.0,
        },
        "feedback": selectors.feedback_for(user=request.user, family_code=family, limit=10),
        "signals": selectors.demand_signal_counts(user=request.user, since=since),
        "since": since,
    }


def product_panel(*, request, product) -> dict | None:
    deals = [d for d in selectors.opportunities_for_page(user=request.user, status="open", product_id=product.pk)]
    return {
        "template": "crm/_product_panel.html",
        "deals": deals,
        "feedback": selectors.feedback_for(user=request.user, product_ids=[product.pk], limit=10),
    }
