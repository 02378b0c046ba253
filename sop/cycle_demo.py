"""Demo step: the S&OP cycle populated — last month's cycle published (with its plan run), this
month's in demand review with the sales managers' input, planner edits and open decisions.

It runs a forecast first (in this process), because a cycle's demand plan starts from the
latest finished forecast run; the run's horizon covers the cycle's last month.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core.calendar import add_months, months_between
from core.services import planning_horizon
from forecasting.models import ForecastRun
from forecasting.services import forecast_run_create, forecast_run_execute
from sop import cycle_selectors, cycle_services
from sop.models import PlanCycle, PlanRun
from sop.services import plan_run_execute
from territories.models import Territory


def wipe() -> None:
    for cycle in PlanCycle.objects.all():
        cycle_services.cycle_delete(cycle=cycle)
    ForecastRun.objects.all().delete()


def _edit(cycle, user, *, level, keys, period, measure, value, reason) -> None:
    row = cycle_selectors.demand_plan_row(cycle=cycle, user=user, level=level, keys=keys, period_start=period)
    if row is not None:
        cycle_services.demand_plan_edit(
            cycle=cycle,
            user=user,
            level=level,
            keys=keys,
            period_start=period,
            measure=measure,
            value=value,
            reason=reason,
            etag=row["etag"],
        )


def _run_plan(cycle: PlanCycle, as_of) -> None:
    """The plan run that entering the supply review queued: run it here, now (the queued task
    finds it finished and leaves it alone)."""
    cycle.refresh_from_db()
    if cycle.plan_run_id and PlanRun.objects.get(pk=cycle.plan_run_id).is_active:
        last = cycle_selectors.cycle_periods(cycle)[-1]
        start = as_of.replace(day=1)
        PlanRun.objects.filter(pk=cycle.plan_run_id).update(
            as_of=as_of, horizon_start=start, horizon_periods=months_between(start, last) + 1
        )
        plan_run_execute(run_id=cycle.plan_run_id)


def seed(ctx) -> None:
    if not ctx.data.get("cycles", True):
        return
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["planner", "ops", "exec", "manager"])}
    horizon = planning_horizon()
    run = forecast_run_create(as_of=ctx.as_of, trigger=ForecastRun.Trigger.COMMAND, horizon=horizon + 1)
    forecast_run_execute(run)
    this_month = ctx.as_of.replace(day=1)
    published_month, current_month = this_month, add_months(this_month, 1)

    # Last month's cycle (it plans from this month): edited, reviewed and published.
    done = cycle_services.cycle_create(month=published_month, user=users["planner"])
    peak = add_months(published_month, 1)
    family_rows = cycle_selectors.demand_plan_rows(
        cycle=done, user=users["planner"], level="family", filters={"period_start": peak}
    )
    for row in family_rows[:1]:
        _edit(
            done,
            users["planner"],
            level="family",
            keys={"family_code": row["family_code"]},
            period=peak,
            measure="consensus",
            value=round(row["consensus"] * 1.05),
            reason="Distributor restocking ahead of the season (+5 %)",
        )
    for user, comment in (
        (users["planner"], "Actuals to the end of last month; forecast run done."),
        (users["planner"], "Demand agreed with sales."),
        (users["ops"], "Feasible with overtime in the peak; pre-build agreed."),
        (users["exec"], "Approved."),
    ):
        done = cycle_services.cycle_advance(cycle=done, user=user, comment=comment)
        if done.stage == "supply_review":
            _run_plan(done, ctx.as_of)
    cycle_services.decision_create(
        cycle=done,
        user=users["ops"],
        topic="Peak-season capacity",
        decision="Saturday shifts on pump assembly in the two peak months",
        family_code="PMP",
    )

    # This month's cycle: in demand review, with the managers' input and open decisions.
    current = cycle_services.cycle_create(month=current_month, user=users["planner"])
    current = cycle_services.cycle_advance(
        cycle=current, user=users["planner"], comment="Actuals loaded, forecast run done."
    )
    manager = users["manager"]
    managed = Territory.objects.filter(manager=manager).values_list("code", flat=True).first()
    first = current_month
    if managed:
        rows = cycle_selectors.demand_plan_rows(
            cycle=current, user=manager, level="family", filters={"period_start": first}
        )
        for row in rows[:2]:
            _edit(
                current,
                manager,
                level="family",
                keys={"family_code": row["family_code"]},
                period=first,
                measure="sales_override",
                value=round(row["consensus"] * 1.15),
                reason="Two key accounts confirmed larger orders",
            )
    totals = cycle_selectors.demand_plan_rows(
        cycle=current, user=users["planner"], level="family", filters={"period_start": add_months(first, 1)}
    )
    for row in totals[-1:]:
        _edit(
            current,
            users["planner"],
            level="family",
            keys={"family_code": row["family_code"]},
            period=add_months(first, 1),
            measure="consensus",
            value=round(row["consensus"] * 0.9),
            reason="Statistical forecast over-reads last year's promotion (-10 %)",
        )
    cycle_services.decision_create(
        cycle=current,
        user=users["planner"],
        topic="Sales input above the forecast",
        decision="Keep the statistical forecast until the orders are booked",
        owner_id=users["planner"].pk,
    )
    cycle_services.decision_create(
        cycle=current, user=users["planner"], topic="New pump launch ramp", owner_id=manager.pk, family_code="PMP"
    )
    ctx.say(
        f"S&OP cycles: {published_month:%Y-%m} published ({done.lines_count:,} demand plan rows), "
        f"{current_month:%Y-%m} in demand review with sales input, edits and decisions "
        f"(forecast run {run.pk}: {run.series_total:,} series)"
    )
