"""Writes and plan-run callbacks of the CRM: ``deal_at_risk`` alert candidates for a plan run,
feedback notes entered on the page, training completions entered by a manager."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMIN, SALES_MANAGER, has_role
from crm import selectors
from crm.availability import deals_at_risk
from crm.models import FeedbackNote, Opportunity, TrainingCompletion, TrainingModule
from sop.alert_rules import ALERT_COLUMNS
from sop.models import WorkCenter
from territories.selectors import visible_reps

#: an open deal at or above this probability (calibrated where history is enough) that cannot
#: be delivered by its requested date raises ``deal_at_risk``
AT_RISK_PROBABILITY = 0.5
ALERT_TYPE = "deal_at_risk"


def _msg(key: str, **params) -> dict:
    return {"key": key, "params": params}


def deal_at_risk_candidates(*, run, result) -> pd.DataFrame:
    """Alert candidates of a plan run (``sop.alert_rules.ALERT_COLUMNS``): one per open product
    deal with probability ≥ 50 % that the run's plan cannot deliver by its requested date.
    Fingerprint ``deal_at_risk:<external id>``: a rerun updates it, and resolves it once the
    deal can be delivered, is won or lost, or drops below 50 %."""
    deals = selectors.deals_frame(Opportunity.objects.open().filter(product__isnull=False))
    if deals.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    product_ids = list(
        Opportunity.objects.open().filter(product__isnull=False).values_list("product_id", flat=True).distinct()
    )
    routing = selectors.routing_frame(product_ids=product_ids)  # the run's own plan is in ``result``
    plan = result.product_plan[["product_sku", "period_start", "projected_inventory_after", "safety_stock"]]
    capacity = result.capacity_load[["work_center_code", "period_start", "free_hours"]]
    risky = deals_at_risk(
        deals=deals,
        plan=plan[plan["product_sku"].isin(set(deals["product_sku"]))],
        routing=routing,
        capacity=capacity,
        as_of=run.as_of,
        min_probability=AT_RISK_PROBABILITY,
    )
    if risky.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)

    names = dict(WorkCenter.objects.values_list("code", "name"))
    messages, work_centers = [], []
    for deal in risky.to_dict("records"):
        # Keys and parameters of sop.alert_messages: pages word them in the viewer's language.
        if deal["constraint_kind"] == "work_center":
            code = deal["constraint_code"]
            limit = _msg("deal_at_risk.work_center_full", work_center=names.get(code, code))
            work_centers.append(code)
        else:
            limit = _msg("deal_at_risk.no_stock")
            work_centers.append(None)
        earliest = deal["earliest_full_date"]
        messages.append(
            _msg(
                "deal_at_risk",
                deal=deal["external_id"],
                account=deal["account_name"],
                probability_pct=int(round(float(deal["probability_used"]) * 100)),
                qty_units=int(round(float(deal["quantity"]))),
                sku=deal["product_sku"],
                date=deal["requested_delivery_date"].isoformat(),
                available_units=int(round(float(deal["available_by_date"]))),
                limit=limit,
                earliest=_msg("deal_at_risk.earliest", earliest_date=earliest.isoformat())
                if earliest
                else _msg("deal_at_risk.beyond_horizon"),
            )
        )
    short = risky["quantity"].astype(float) - risky["available_by_date"].astype(float)
    amount = risky["amount"].astype(float) * short / risky["quantity"].astype(float)
    severity = np.where(
        (risky["available_by_date"].astype(float) <= 0) | risky["earliest_full_date"].isna(), "critical", "warning"
    )
    return pd.DataFrame(
        {
            "fingerprint": [f"{ALERT_TYPE}:{e}" for e in risky["external_id"]],
            "type": ALERT_TYPE,
            "severity": severity,
            "work_center_code": work_centers,
            "product_sku": risky["product_sku"].to_numpy(),
            "family_code": None,
            "territory_code": risky["territory_code"].where(risky["territory_code"].notna(), None),
            "period_start": [d.replace(day=1) for d in risky["requested_delivery_date"]],
            "amount": short.to_numpy(dtype=float),
            "unit": "units",
            "value": amount.to_numpy(dtype=float),
            "message_key": [m["key"] for m in messages],
            "message_params": [m["params"] for m in messages],
            "suggestion_key": "deal_at_risk.suggestion",
            "suggestion_params": [{} for _m in messages],
        }
    )[ALERT_COLUMNS]


# --- feedback ------------------------------------------------------------------------------


def feedback_note_create(
    *, author, account, product=None, category: str, sentiment: str, text: str, noted_on: dt.date
) -> FeedbackNote:
    if category not in FeedbackNote.Category.values:
        raise ApplicationError(_("Choose a category."), code="invalid", details={"field": "category"})
    if sentiment not in FeedbackNote.Sentiment.values:
        raise ApplicationError(_("Choose a sentiment."), code="invalid", details={"field": "sentiment"})
    text = (text or "").strip()
    if not text or len(text) > 4000:
        raise ApplicationError(
            _("Write the note (at most 4,000 characters)."), code="invalid", details={"field": "text"}
        )
    if "\x00" in text:
        raise ApplicationError(_("The note contains a NUL character."), code="invalid", details={"field": "text"})
    return FeedbackNote.objects.create(
        external_id=f"web-{uuid.uuid4().hex[:16]}",
        account=account,
        product=product,
        category=category,
        sentiment=sentiment,
        text=text,
        author=author,
        noted_on=noted_on,
    )


# --- training ------------------------------------------------------------------------------


def training_completion_record(
    *, actor, user, module: TrainingModule, completed_on: dt.date, expires_on: dt.date | None = None
) -> TrainingCompletion:
    """A manager (or admin) records a completion for one of their reps; without ``expires_on``
    the module's ``valid_months`` decide (never, when 0)."""
    if not has_role(actor, ADMIN, SALES_MANAGER):
        raise ApplicationError(
            _("Only a manager or an administrator records completions."), code="forbidden", status=403
        )
    if not has_role(actor, ADMIN) and not visible_reps(user=actor).filter(pk=user.pk).exists():
        raise ApplicationError(
            _("%(user)s is not on your team.") % {"user": user.username}, code="forbidden", status=403
        )
    if expires_on is None and module.valid_months:
        expires_on = (pd.Timestamp(completed_on) + pd.DateOffset(months=module.valid_months)).date()
    if expires_on is not None and expires_on < completed_on:
        raise ApplicationError(
            _("The expiry date is before the completion date."), code="invalid", details={"field": "expires_on"}
        )
    with transaction.atomic():
        completion, _created = TrainingCompletion.objects.update_or_create(
            user=user, module=module, completed_on=completed_on, defaults={"expires_on": expires_on}
        )
    return completion
