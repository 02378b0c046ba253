"""Demo step: past published cycles for forecast value added, and two what-if scenarios.

The demo company starts today, so it has no real past cycles. This step simulates the six
cycles before the published one, each planning three months, from the demo's own sales: the
seasonal naive (the same month a year before), a statistical forecast (half the level of the
three complete months before the cycle was worked, half last year's month), the sales
managers' input on a third of the series (+15 %) and a consensus halfway between. The actuals
of those months are the history stored with the current cycle, so the forecast value added
page shows real figures at lags 1–3. Then it runs two scenarios on the current cycle ("the
first work center −20 % for three months", "the first family +15 %").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.calendar import add_months, month_ordinal
from forecasting.selectors import demand_history_frame, series_universe
from inventory.models import ProductFamily
from scenarios import services
from scenarios.models import QuotaChangeRequest, Scenario, ScenarioBase
from sop.demand_plan_store import lines_insert
from sop.models import CapacityCalendar, PlanCycle
from territories.models import Territory

PAST_CYCLES = 6
HORIZON = 3


def wipe() -> None:
    QuotaChangeRequest.objects.all().delete()
    Scenario.objects.all().delete()
    ScenarioBase.objects.all().delete()


def _past_lines(ctx, months: list) -> dict:
    """Grid rows per simulated cycle month (``sop.demand_plan_store.LINE_COLUMNS`` but cycle_id)."""
    series = series_universe(as_of=ctx.as_of, history_months=30)
    if series.empty:
        return {}
    history = demand_history_frame(as_of=ctx.as_of, history_months=30, series=series)
    index = {
        sid: i
        for i, sid in enumerate(
            pd.Series(
                series["product_id"].astype(str)
                + ":"
                + series["territory_id"].astype("Int64").astype(str).where(series["territory_id"].notna(), "-")
            )
        )
    }
    first = month_ordinal(add_months(ctx.as_of.replace(day=1), -30))
    sales = np.zeros((len(series), 31))
    rows = history["series_id"].map(index)
    ok = rows.notna().to_numpy()
    sales[rows[ok].astype(int).to_numpy(), (history["period"][ok] - first).to_numpy()] = history["value"][ok]
    regions = dict(zip(series["territory_id"], series["region_code"], strict=False))
    region_ids = dict(Territory.objects.filter(parent__isnull=True).values_list("code", "id"))
    lifted = (np.arange(len(series)) % 3) == 0  # the managers gave input on a third of the series
    out = {}
    for month in months:
        made = month_ordinal(month) - first  # the cycle's first month, as a column of ``sales``
        level = sales[:, made - 4 : made - 1].mean(axis=1)  # the 3 complete months before it was worked
        frames = []
        for step in range(HORIZON):
            col = made + step
            naive = sales[:, col - 12]
            statistical = np.round(0.5 * level + 0.5 * naive, 2)
            override = np.where(lifted, np.round(statistical * 1.15), np.nan)
            consensus = np.round(np.where(lifted, (statistical + override) / 2, statistical))
            frames.append(
                pd.DataFrame(
                    {
                        "product_id": series["product_id"].to_numpy(),
                        "territory_id": series["territory_id"].array,
                        "family_id": series["family_id"].to_numpy(),
                        "region_id": [
                            region_ids.get(regions.get(t)) if pd.notna(t) else None for t in series["territory_id"]
                        ],
                        "period_start": add_months(month, step),
                        "statistical": statistical,
                        "naive": naive,
                        "target": None,
                        "sales_override": pd.array(override, dtype="Int64"),
                        "consensus": consensus.astype("int64"),
                        "feasible": None,
                        "revision": 0,
                    }
                )
            )
        out[month] = pd.concat(frames, ignore_index=True)
    return out


def seed(ctx) -> None:
    if not ctx.data.get("cycles", True):
        return
    this_month = ctx.as_of.replace(day=1)
    months = [add_months(this_month, -k) for k in range(PAST_CYCLES, 0, -1)]
    lines = _past_lines(ctx, months)
    now = timezone.now()
    for month, frame in lines.items():
        if PlanCycle.objects.filter(month=month).exists():
            continue
        cycle = PlanCycle.objects.create(
            month=month,
            stage="published",
            status=PlanCycle.Status.PUBLISHED,
            horizon_periods=HORIZON,
            published_at=now,
            lines_count=len(frame),
        )
        lines_insert(frame.assign(cycle_id=cycle.pk))
    ctx.say(f"forecast value added: {len(lines)} past cycles simulated")

    current = PlanCycle.objects.open().order_by("month").first()
    planner = get_user_model().objects.filter(username="planner").first()
    work_center = (
        CapacityCalendar.objects.order_by("work_center__code").values_list("work_center__code", flat=True).first()
    )
    if current is None or planner is None or work_center is None:
        return
    family_code = ProductFamily.objects.order_by("code").values_list("code", flat=True).first()
    span = {
        "period_from": add_months(current.month, 1).isoformat(),
        "period_to": add_months(current.month, 3).isoformat(),
    }
    for name, change in (
        (
            f"{work_center} −20 % for three months",
            {"type": "capacity", "work_center_code": work_center, "change_pct": -20, **span},
        ),
        (f"{family_code} +15 %", {"type": "demand", "family_code": family_code, "factor": 1.15, **span}),
    ):
        scenario = services.scenario_create(name=name, cycle=current, changes=[change], user=planner)
        Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.QUEUED)
        services.scenario_run_execute(scenario_id=scenario.pk)
    ctx.say("what-if scenarios: 2 run on the current cycle")
