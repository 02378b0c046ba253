"""Demo step: two commission plans, every demo rep on one, a SPIFF on spare parts, and closed
statements for the last three complete months (plus the current month as a draft).

- ``STD-2026``: marginal tiers on revenue attainment per month (3 % up to quota, an accelerator
  of 4.5 % from 100 % and 6 % from 150 %), a payout cap of 25,000 per month; controls are
  supply-constrained (base rate only, no accelerator).
- ``NEWHIRE``: the same tiers, uncapped, with a recoverable draw (set 10 % above the new hire's first month),
  recovery capped at 50 % of the month's earnings; the rep hired two months before the demo date is on it.
Quotas: 95 % of the monthly revenue of each rep's territories (× share) over the year before the
closed months, rounded to hundreds (deterministic).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, Sum

from compensation.models import (
    CompAssignment,
    CompPeriod,
    CompPlan,
    Credit,
    Dispute,
    Spiff,
    Statement,
)
from compensation.services import comp_period_close, comp_period_compute
from core.calendar import add_months
from sales.models import SalesOrderLine
from territories.models import TerritoryAssignment, valid_on

TIERS = [
    {"from": "0", "to": "100", "rate": "3"},
    {"from": "100", "to": "150", "rate": "4.5"},
    {"from": "150", "to": "", "rate": "6"},
]
CLOSED_MONTHS = 3


def wipe() -> None:
    Dispute.objects.all().delete()
    Statement.objects.all().delete()
    CompPeriod.objects.all().delete()
    Credit.objects.all().delete()
    CompAssignment.objects.all().delete()
    CompPlan.objects.all().delete()
    Spiff.objects.all().delete()


def _quotas(start: dt.date, end: dt.date, months: int, on: dt.date) -> dict[str, Decimal]:
    """Per rep: the average monthly revenue of the territories they hold on ``on`` (× share)
    over [start, end], 95 % of it, to hundreds (a new hire inherits their territory's history)."""
    revenue = dict(
        SalesOrderLine.objects.counting()
        .between(start, end)
        .values("territory_id")
        .annotate(total=Sum("net_amount"))
        .values_list("territory_id", "total")
    )
    out: dict[str, Decimal] = defaultdict(Decimal)
    for username, territory_id, share in TerritoryAssignment.objects.filter(valid_on(on)).values_list(
        "rep__username", "territory_id", "share"
    ):
        out[username] += (revenue.get(territory_id) or Decimal(0)) * share / 100
    return {
        rep: max(Decimal(100), (total / months * Decimal("0.95") / 100).quantize(Decimal(1)) * 100)
        for rep, total in out.items()
    }


def seed(ctx) -> None:
    User = get_user_model()
    this_month = ctx.as_of.replace(day=1)
    first_closed = add_months(this_month, -CLOSED_MONTHS)
    year_start = add_months(first_closed, -12)
    common = dict(
        measure="revenue",
        basis="period",
        tier_on="attainment",
        mode="marginal",
        tiers=TIERS,
        cap_kind="payout",
        cap_value=Decimal("25000"),
        base_rate=Decimal("3"),
        family_rules=[{"family": "CTL", "multiplier": "1", "constrained": True}],
    )
    standard = CompPlan.objects.create(
        code="STD-2026", name="Field sales: marginal tiers with accelerators", valid_from=year_start, **common
    )
    new_hire = CompPlan.objects.create(
        code="NEWHIRE",
        name="New hire: standard tiers with a recoverable draw",
        valid_from=year_start,
        draw_kind="recoverable",
        draw_amount=Decimal("3000"),
        draw_recovery_cap_pct=Decimal("50"),
        draw_on_termination="due",
        **{**common, "cap_kind": "", "cap_value": None},
    )

    reps = list(
        User.objects.filter(groups__name="sales_rep", profile__is_demo=True)
        .select_related("profile")
        .order_by("username")
    )
    quotas = _quotas(add_months(first_closed, -12), first_closed - dt.timedelta(days=1), 12, this_month)
    last_day = dict(
        TerritoryAssignment.objects.values("rep__username")
        .annotate(open=Count("id", filter=Q(valid_to__isnull=True)), last=Max("valid_to"))
        .values_list("rep__username", "last")
        .filter(open=0)
    )
    hire_cutoff = add_months(this_month, -6)
    assignments = []
    for rep in reps:
        hired = rep.profile.hire_date or year_start
        plan = new_hire if hired >= hire_cutoff else standard
        # A rep who left their territory leaves the plan the same day (and settles the draw).
        left = last_day.get(rep.username)
        quota = quotas.get(rep.username)
        if quota is None and left is not None:
            quota = _quotas(add_months(first_closed, -12), first_closed - dt.timedelta(days=1), 12, left).get(
                rep.username
            )
        assignments.append(
            CompAssignment(rep=rep, plan=plan, valid_from=max(year_start, hired), valid_to=left, quota=quota)
        )
    CompAssignment.objects.bulk_create(assignments)

    Spiff.objects.create(
        code="SPR-PUSH",
        name="Spare parts push",
        start=first_closed,
        end=add_months(this_month, 1) - dt.timedelta(days=1),
        kind="per_unit",
        amount=Decimal("1.00"),
        families=["SPR"],
        margin_floor_pct=Decimal("20"),
        budget=Decimal("10000"),
    )
    hires = [a for a in assignments if a.plan_id == new_hire.pk]
    for i in range(CLOSED_MONTHS):
        month = add_months(first_closed, i)
        if hires and month == hires[0].valid_from.replace(day=1):
            # The guarantee is set 10 % above the new hire's first month, so the draw tops that
            # month up and is recovered from a better one.
            comp_period_compute(period_start=month, actor=None)
            earned = Statement.objects.get(rep=hires[0].rep, period_start=month).total
            new_hire.draw_amount = max(Decimal(100), (earned * Decimal("1.1") / 100).quantize(Decimal(1)) * 100)
            new_hire.save(update_fields=["draw_amount", "updated_at"])
        comp_period_close(period_start=month, actor=None)
    comp_period_compute(period_start=this_month, actor=None)
    ctx.say(f"2 comp plans, {len(assignments)} reps on plans, {CLOSED_MONTHS} closed pay periods")
