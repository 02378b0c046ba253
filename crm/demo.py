"""Demo step: the sales team's pipeline, closed deals to calibrate stage hit rates on, customer
feedback, and the CRM training programme.

- Closed deals over the last 18 months whose true hit rates differ from the CRM's stage
  probabilities (the calibration has something to correct), and open deals closing in the next
  four months for the accounts each rep owns — a few of them large enough that the plan cannot
  deliver them by the requested date (``deal_at_risk`` once a plan run has seen them).
- Feedback notes on some accounts (a share of them demand signals).
- Modules ``CRM-101`` (CRM basics, reps and managers, 12 months) and ``PL-PUMPS`` (pump product
  line, reps, 24 months); most reps completed them, some have expired or never did; a SPIFF
  payout needs a current ``CRM-101``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.contrib.auth import get_user_model

from crm.models import (
    CertificationRule,
    FeedbackNote,
    Opportunity,
    TrainingCompletion,
    TrainingModule,
)
from inventory.models import Product
from territories.models import AccountAssignment, TerritoryAssignment, valid_on

# stage: (CRM probability %, true hit rate)
STAGES = {"qualification": (10, 0.06), "proposal": (30, 0.22), "negotiation": (60, 0.48), "commit": (80, 0.74)}
NOTES = {
    "quality": ["Seal failures after six months on two units.", "Very happy with the finish of the last batch."],
    "price": ["Competitor quoted 8 % below our list price.", "Accepts the price rise if lead times hold."],
    "delivery": ["Last order arrived a week late.", "Asks for split deliveries per site."],
    "demand_signal": [
        "Plans a second plant next year: expects to double volumes.",
        "New municipal contract: more units from the autumn.",
        "Will cut orders while their warehouse is rebuilt.",
    ],
    "other": ["Wants training for their maintenance staff."],
}


def wipe() -> None:
    CertificationRule.objects.all().delete()
    TrainingCompletion.objects.all().delete()
    TrainingModule.objects.all().delete()
    FeedbackNote.objects.all().delete()
    Opportunity.objects.all().delete()


def _rep_accounts(day: dt.date) -> dict[int, list[tuple[int, int]]]:
    """Rep id → [(account id, territory id)] of the accounts their territories own on ``day``."""
    owners = dict(AccountAssignment.objects.filter(valid_on(day)).values_list("account_id", "territory_id"))
    by_territory: dict[int, list[int]] = {}
    for account_id, territory_id in sorted(owners.items()):
        by_territory.setdefault(territory_id, []).append(account_id)
    reps: dict[int, list[tuple[int, int]]] = {}
    for rep_id, territory_id in (
        TerritoryAssignment.objects.filter(valid_on(day), role="primary")
        .order_by("rep_id", "territory_id")
        .values_list("rep_id", "territory_id")
    ):
        reps.setdefault(rep_id, []).extend((a, territory_id) for a in by_territory.get(territory_id, []))
    return {rep: accounts for rep, accounts in reps.items() if accounts}


def seed(ctx) -> None:
    rng = ctx.child_rng("crm")
    as_of = ctx.as_of
    meta = ctx.data["products"]  # (sku, family, price, per_line)
    product_ids = dict(Product.objects.values_list("sku", "id"))
    reps = _rep_accounts(as_of)
    stages = list(STAGES)
    deals = []
    per_rep_open = max(3, ctx.scale.accounts // max(1, 4 * len(reps)))
    for rep_id, accounts in sorted(reps.items()):
        for kind, count in (("closed", 3 * per_rep_open), ("open", per_rep_open)):
            for i in range(count):
                account_id, territory_id = accounts[int(rng.integers(0, len(accounts)))]
                sku, _family, price, per_line = meta[int(rng.integers(0, len(meta)))]
                stage = stages[int(rng.choice(4, p=[0.2, 0.35, 0.3, 0.15]))]
                crm_probability, true_rate = STAGES[stage]
                large = kind == "open" and i == 0 and rng.random() < 0.35
                quantity = max(1, round(per_line * rng.uniform(3, 25) * (40 if large else 1)))
                if kind == "closed":
                    close = as_of - dt.timedelta(days=int(rng.integers(10, 540)))
                    status = "won" if rng.random() < true_rate else "lost"
                else:
                    close = as_of + dt.timedelta(days=int(rng.integers(5, 120)))
                    status = "open"
                    if large:  # the rep pushed it to commit: the plan must check it
                        stage, crm_probability = "commit", STAGES["commit"][0]
                delivery = close + dt.timedelta(days=int(rng.integers(7, 60)))
                amount = Decimal(str(round(quantity * price * rng.uniform(0.85, 1.0), 2)))
                deals.append(
                    Opportunity(
                        external_id=f"OPP-{len(deals) + 1:06d}",
                        account_id=account_id,
                        product_id=product_ids[sku],
                        quantity=Decimal(quantity),
                        amount=amount,
                        expected_close_date=close,
                        requested_delivery_date=delivery,
                        stage=stage,
                        probability=Decimal(crm_probability),
                        owner_id=rep_id,
                        status=status,
                        territory_id=territory_id,
                    )
                )
    Opportunity.objects.bulk_create(deals, batch_size=2000)

    User = get_user_model()
    rep_ids = sorted(reps)
    notes = []
    categories = list(NOTES)
    for i in range(max(12, len(deals) // 6)):
        deal = deals[int(rng.integers(0, len(deals)))]
        category = categories[int(rng.choice(len(categories), p=[0.2, 0.2, 0.15, 0.35, 0.1]))]
        text = NOTES[category][int(rng.integers(0, len(NOTES[category])))]
        sentiment = (
            "negative"
            if any(w in text for w in ("failures", "late", "below", "cut"))
            else "positive"
            if any(w in text for w in ("happy", "double", "more"))
            else "neutral"
        )
        notes.append(
            FeedbackNote(
                external_id=f"FB-{i + 1:05d}",
                account_id=deal.account_id,
                product_id=deal.product_id if rng.random() < 0.8 else None,
                category=category,
                sentiment=sentiment,
                text=text,
                author_id=deal.owner_id,
                noted_on=as_of - dt.timedelta(days=int(rng.integers(0, 150))),
            )
        )
    FeedbackNote.objects.bulk_create(notes, batch_size=2000)

    crm101 = TrainingModule.objects.create(
        code="CRM-101", name="CRM basics", required_for_roles="sales_rep;sales_manager", valid_months=12
    )
    pumps = TrainingModule.objects.create(
        code="PL-PUMPS", name="Pump product line", required_for_roles="sales_rep", valid_months=24
    )
    managers = list(
        User.objects.filter(groups__name="sales_manager", profile__is_demo=True)
        .order_by("username")
        .values_list("id", flat=True)
    )
    completions = []
    for n, user_id in enumerate([*rep_ids, *managers]):
        for module in (crm101, pumps):
            if module is pumps and user_id in managers:
                continue
            roll = rng.random()
            if roll < 0.12 and n > 0:  # never took it (rep1, the first, always did: the demo's own login)
                continue
            # current through the demo's pay periods, or lapsed during them (400–500 days ago)
            age = int(rng.integers(400, 500)) if roll < 0.25 and n > 0 else int(rng.integers(150, 300))
            done = as_of - dt.timedelta(days=age)
            completions.append(
                TrainingCompletion(
                    user_id=user_id,
                    module=module,
                    completed_on=done,
                    expires_on=(pd.Timestamp(done) + pd.DateOffset(months=module.valid_months)).date(),
                )
            )
    TrainingCompletion.objects.bulk_create(completions)
    CertificationRule.objects.create(applies_to=CertificationRule.AppliesTo.SPIFF_PAYOUT, module=crm101)
    ctx.say(f"crm: {len(deals):,} opportunities, {len(notes):,} feedback notes, {len(completions)} completions")
