"""Reads of the CRM: opportunity frames with calibrated probabilities, the pipeline beside the
cycle's forecast, availability inputs from the latest plan, feedback and training lists.

ORM rows become DataFrames here only; the maths is in ``crm.hit_rates``, ``crm.pipeline``,
``crm.availability`` and ``crm.enablement``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from core import memo
from core.calendar import add_months
from core.roles import ROLES, user_roles
from crm.availability import Availability, answer, availability_curve
from crm.enablement import missing_certifications, training_status
from crm.hit_rates import apply_hit_rates, calibrate_hit_rates
from crm.models import (
    CertificationRule,
    FeedbackNote,
    Opportunity,
    TrainingCompletion,
    TrainingModule,
)
from crm.pipeline import pipeline_beside_forecast, pipeline_demand
from sales.models import SalesOrderLine
from sales.selectors import sales_version
from sop.models import DemandPlanLine, PlanCycle, PlanLine, PlanRun, Routing, WorkCenterLoad
from territories.models import TerritoryAssignment, valid_on
from territories.selectors import visible_reps

DEAL_FIELDS = {
    "id": "id",
    "external_id": "external_id",
    "account_id": "account_id",
    "product_sku": "product__sku",
    "family_code": "family_code",
    "territory_code": "territory__code",
    "quantity": "quantity",
    "amount": "amount",
    "status": "status",
    "stage": "stage",
    "probability": "probability",
    "expected_close_date": "expected_close_date",
    "requested_delivery_date": "requested_delivery_date",
    "owner_id": "owner_id",
    "owner_username": "owner__username",
    "account_name": "account__name",
}


def _with_family(queryset):
    return queryset.annotate(family_code=Coalesce(F("product__family__code"), F("family__code")))


def hit_rate_calibration() -> pd.DataFrame:
    """Stage × family hit rates from every closed deal (history is company-wide, whoever asks)."""
    rows = list(
        _with_family(Opportunity.objects.exclude(status=Opportunity.Status.OPEN)).values_list(
            "stage", "family_code", "status", "probability"
        )
    )
    closed = pd.DataFrame.from_records(rows, columns=["stage", "family_code", "status", "probability"])
    return calibrate_hit_rates(closed)


def deals_frame(queryset, *, limit: int | None = None) -> pd.DataFrame:
    """Deals of ``queryset`` (the first ``limit`` by close date) with ``probability_used``
    (fraction) and its ``source``."""
    queryset = _with_family(queryset).order_by("expected_close_date", "external_id")
    if limit is not None:
        queryset = queryset[:limit]
    rows = list(queryset.values_list(*DEAL_FIELDS.values()))
    frame = pd.DataFrame.from_records(rows, columns=list(DEAL_FIELDS))
    frame["quantity"] = frame["quantity"].astype(float)
    return apply_hit_rates(frame, hit_rate_calibration())


def order_lines_frame(deals: pd.DataFrame) -> pd.DataFrame:
    """Order lines that may fulfil the won deals: their accounts, ordered since the earliest close."""
    columns = ["account_id", "product_sku", "family_code", "order_date", "quantity", "opportunity_external_id"]
    won = deals[deals["status"] == Opportunity.Status.WON]
    if won.empty:
        return pd.DataFrame(columns=columns)
    lines = SalesOrderLine.objects.filter(
        account_id__in=won["account_id"].unique().tolist(), order_date__gte=won["expected_close_date"].min()
    ).exclude(status__in=["cancelled", "returned"])
    rows = list(
        lines.values_list(
            "account_id", "product__sku", "product__family__code", "order_date", "quantity", "opportunity_external_id"
        )
    )
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["opportunity_external_id"] = frame["opportunity_external_id"].where(
        frame["opportunity_external_id"] != "", None
    )
    return frame


def pipeline_rows(*, user, level: str, cycle: PlanCycle | None, period_start: dt.date | None = None) -> pd.DataFrame:
    """The pipeline beside the cycle's statistical forecast and sales input (both in ``user``'s
    scope), per product (or family) × territory × month where deals count; see ``crm.pipeline``.

    Kept per process while the deals, the sales lines and their owners, and the cycles (whose
    revision counts every edit of the demand plan) are unchanged."""
    return memo.by_tables(
        f"pipeline-rows:{user.pk}:{sorted(user_roles(user))}:{level}:{cycle and cycle.pk}:{period_start}",
        (Opportunity, PlanCycle),
        lambda: _pipeline_rows(user=user, level=level, cycle=cycle, period_start=period_start),
        version=sales_version(),
    )


def _pipeline_rows(*, user, level: str, cycle: PlanCycle | None, period_start: dt.date | None) -> pd.DataFrame:
    deals = Opportunity.objects.for_user(user).exclude(status=Opportunity.Status.LOST)
    if period_start is not None:
        end = (period_start + dt.timedelta(days=32)).replace(day=1)
        deals = deals.filter(requested_delivery_date__gte=period_start, requested_delivery_date__lt=end)
    frame = deals_frame(deals)
    pipeline = pipeline_demand(frame, order_lines_frame(frame), level=level)
    key = "product__sku" if level == "product" else "family__code"
    forecast = pd.DataFrame(
        columns=["key", "territory_code", "period_start", "statistical", "sales_override", "consensus"]
    )
    if cycle is not None:
        lines = DemandPlanLine.objects.for_user(user).filter(cycle=cycle)
        if period_start is not None:
            lines = lines.filter(period_start=period_start)
        # Only the keys the pipeline touches: the review shows where deals argue with the forecast.
        lines = lines.filter(**{f"{key}__in": sorted(set(pipeline["key"]))})
        rows = list(
            lines.order_by()
            .values(key, "territory__code", "period_start")
            .annotate(s=Sum("statistical"), o=Sum("sales_override"), c=Sum("consensus"))
            .values_list(key, "territory__code", "period_start", "s", "o", "c")
        )
        forecast = pd.DataFrame.from_records(rows, columns=list(forecast.columns))
    out = pipeline_beside_forecast(pipeline, forecast)
    out = out[out["deals"] > 0]  # where deals argue with the forecast
    if cycle is not None and len(out):
        months = {add_months(cycle.month, i) for i in range(cycle.horizon_periods)}
        out = out[out["period_start"].isin(months)]
    return out.reset_index(drop=True)


def latest_plan_run() -> PlanRun | None:
    return (
        PlanRun.objects.filter(status__in=[PlanRun.Status.COMPLETED, PlanRun.Status.COMPLETED_WITH_ERRORS])
        .order_by("-finished_at", "-id")
        .first()
    )


def routing_frame(*, product_ids: list[int] | None = None) -> pd.DataFrame:
    routings = Routing.objects.all() if product_ids is None else Routing.objects.filter(product_id__in=product_ids)
    routing = pd.DataFrame.from_records(
        list(routings.values_list("product__sku", "work_center__code", "hours_per_unit")),
        columns=["product_sku", "work_center_code", "hours_per_unit"],
    )
    routing["hours_per_unit"] = routing["hours_per_unit"].astype(float)
    return routing


def plan_frames(*, run: PlanRun, product_ids: list[int] | None = None) -> tuple[pd.DataFrame, ...]:
    """The plan lines, routings and free capacity of a run (for ``crm.availability``)."""
    lines = PlanLine.objects.filter(run=run)
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    plan = pd.DataFrame.from_records(
        list(lines.values_list("product__sku", "period_start", "projected_inventory_after", "safety_stock")),
        columns=["product_sku", "period_start", "projected_inventory_after", "safety_stock"],
    )
    routing = routing_frame(product_ids=product_ids)
    capacity = pd.DataFrame.from_records(
        list(
            WorkCenterLoad.objects.filter(run=run, work_center__code__in=set(routing["work_center_code"])).values_list(
                "work_center__code", "period_start", "free_hours"
            )
        ),
        columns=["work_center_code", "period_start", "free_hours"],
    )
    return plan, routing, capacity


def product_availability(*, product, quantity: float, date: dt.date) -> tuple[Availability | None, PlanRun | None]:
    """Can ``quantity`` of ``product`` be delivered by ``date``, on the latest plan (None without one)."""
    run = latest_plan_run()
    if run is None:
        return None, None
    plan, routing, capacity = plan_frames(run=run, product_ids=[product.pk])
    curve = availability_curve(product_sku=product.sku, plan=plan, routing=routing, capacity=capacity)
    return answer(curve, quantity=quantity, date=date, as_of=run.as_of), run


def opportunities_for_page(
    *, user, status: str | None = None, product_id: int | None = None, limit: int = 300
) -> list[dict]:
    qs = Opportunity.objects.for_user(user)
    if status:
        qs = qs.filter(status=status)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    frame = deals_frame(qs, limit=limit)
    frame["probability_pct"] = frame["probability_used"] * 100
    frame["weighted_units"] = frame["quantity"] * frame["probability_used"]
    return frame.to_dict("records")


def opportunity_probability(opportunity: Opportunity) -> dict:
    row = deals_frame(Opportunity.objects.filter(pk=opportunity.pk)).iloc[0]
    return {"probability_used": float(row["probability_used"]) * 100, "source": row["source"]}


def feedback_for(
    *, user, product_ids: list[int] | None = None, family_code: str | None = None, limit: int = 20
) -> list[FeedbackNote]:
    qs = FeedbackNote.objects.for_user(user).select_related("account", "product", "author")
    if product_ids is not None:
        qs = qs.filter(product_id__in=product_ids)
    if family_code:
        qs = qs.filter(product__family__code=family_code)
    return list(qs.order_by("-noted_on", "-id")[:limit])


def demand_signal_counts(*, user, since: dt.date) -> list[dict]:
    """Demand-signal notes per family since ``since`` (notes without a product count as none)."""
    return list(
        FeedbackNote.objects.for_user(user)
        .filter(category=FeedbackNote.Category.DEMAND_SIGNAL, noted_on__gte=since)
        .values(family_code=F("product__family__code"))
        .annotate(notes=Count("id"), negative=Count("id", filter=Q(sentiment="negative")))
        .order_by("family_code")
    )


# --- enablement ----------------------------------------------------------------------------


def _required_frame(users) -> pd.DataFrame:
    """Person × module required for any of their roles."""
    modules = list(TrainingModule.objects.values_list("code", "name", "required_for_roles"))
    people = list(users.values_list("username", "groups__name").distinct())
    roles_of: dict[str, set[str]] = {}
    for username, role in people:
        roles_of.setdefault(username, set())
        if role in ROLES:
            roles_of[username].add(role)
    rows = [
        (username, code, name)
        for username, roles in sorted(roles_of.items())
        for code, name, required in modules
        if roles & {part.strip() for part in required.split(";") if part.strip()}
    ]
    return pd.DataFrame.from_records(rows, columns=["username", "module_code", "module_name"])


def _completions_frame(completions) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        list(completions.values_list("user__username", "module__code", "completed_on", "expires_on")),
        columns=["username", "module_code", "completed_on", "expires_on"],
    )


def training_due_list(*, user, today: dt.date) -> list[dict]:
    """Who is overdue, missing or due to renew a required module — the manager's subtree (a rep:
    their own), each row with the certification rules that block on it."""
    people = visible_reps(user=user)
    frame = training_status(
        _required_frame(people),
        _completions_frame(TrainingCompletion.objects.for_user(user).filter(user__in=people)),
        today=today,
    )
    blocking = {}
    for rule in CertificationRule.objects.filter(active=True).select_related("module"):
        blocking.setdefault(rule.module.code, []).append(rule.get_applies_to_display())
    frame["blocks"] = frame["module_code"].map(lambda code: blocking.get(code, []))
    return frame.to_dict("records")


def certification_rules() -> list[CertificationRule]:
    return list(CertificationRule.objects.filter(active=True).select_related("module"))


def missing_certifications_for(*, user, applies_to: str, day: dt.date) -> list[TrainingModule]:
    """Modules a rule of ``applies_to`` requires that ``user`` holds no current completion of."""
    rules = CertificationRule.objects.filter(active=True, applies_to=applies_to).select_related("module")
    modules = {rule.module.code: rule.module for rule in rules}
    if not modules:
        return []
    completions = _completions_frame(TrainingCompletion.objects.filter(user=user, module__code__in=list(modules)))
    return [modules[code] for code in missing_certifications(sorted(modules), completions, day=day)]


def training_reminders(*, user, today: dt.date) -> list[dict]:
    """The person's own required modules that are overdue, missing or due (the home reminder)."""
    me = get_user_model().objects.filter(pk=user.pk)
    frame = training_status(
        _required_frame(me), _completions_frame(TrainingCompletion.objects.filter(user=user)), today=today
    )
    return frame[frame["status"] != "current"].to_dict("records")


def unmet_rules(*, user, today: dt.date) -> list[dict]:
    """People in ``user``'s reach who miss a module a certification rule requires today: for a
    SPIFF rule every rep (their SPIFFs are held), for a territory rule the reps holding a
    territory assignment today (the assignment stands, the gap is shown)."""
    rules = list(CertificationRule.objects.filter(active=True).select_related("module").order_by("applies_to", "id"))
    if not rules:
        return []
    people = dict(visible_reps(user=user).values_list("id", "username"))
    assigned = set(
        TerritoryAssignment.objects.filter(valid_on(today), rep_id__in=list(people)).values_list("rep_id", flat=True)
    )
    completions = _completions_frame(
        TrainingCompletion.objects.filter(user_id__in=list(people), module_id__in=[rule.module_id for rule in rules])
    )
    by_person = {name: group for name, group in completions.groupby("username")}
    empty = completions.iloc[:0]
    out = []
    for rep_id, username in sorted(people.items(), key=lambda item: item[1]):
        for rule in rules:
            if rule.applies_to == CertificationRule.AppliesTo.TERRITORY_ASSIGNMENT and rep_id not in assigned:
                continue
            if missing_certifications([rule.module.code], by_person.get(username, empty), day=today):
                out.append({"username": username, "rule": rule.get_applies_to_display(), "module": rule.module})
    return out
