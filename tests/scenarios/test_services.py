"""Scenario runs through the plan's own calculation: equal to a plan on inputs changed by hand,
neutral changes equal the base, deterministic, and stored as results only."""

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from scenarios import selectors, services
from scenarios.models import Scenario, ScenarioBase
from sop import cycle_services
from sop.models import PlanLine
from tests.sop.cycle_world import APR, MAY, MONTH, cycle_world

CUT = {
    "type": "capacity",
    "work_center_code": "WC1",
    "period_from": "2027-04-01",
    "period_to": "2027-05-01",
    "change_pct": -80,
}


@pytest.fixture
def world(db):
    world = cycle_world()
    world["cycle"] = cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])
    return world


def run(world, changes, name="s") -> Scenario:
    scenario = services.scenario_create(
        name=name, cycle=world["cycle"], changes=changes, user=world["users"]["planner"]
    )
    Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.QUEUED)
    return services.scenario_run_execute(scenario_id=scenario.pk)


def test_a_capacity_cut_equals_a_plan_on_hand_changed_inputs(world):
    scenario = run(world, [CUT])
    assert scenario.status == "completed", scenario.error
    base = scenario.base.kpis
    # WC1 loads 150 × 1 h + 30 × 2 h = 210 h a month; cut to 200 h in April and May: 10 h over each.
    assert scenario.kpis["overload_hours"] == 20.0 and base["overload_hours"] == 0.0
    assert scenario.kpis["overloaded_work_center_months"] == 2
    assert float(scenario.kpis["shortfall_units"]) > float(base["shortfall_units"])

    as_of, inputs = selectors.scenario_plan_inputs(cycle=world["cycle"])
    capacity = inputs.capacity.copy()
    cut = capacity["period_start"].isin([APR, MAY]) & (capacity["work_center_code"] == "WC1")
    capacity.loc[cut, "available_hours"] = capacity.loc[cut, "available_hours"] * 0.2
    by_hand, alerts, _months = services.plan_results(dataclasses.replace(inputs, capacity=capacity), as_of=as_of)
    assert scenario.kpis == by_hand and scenario.alerts == alerts
    assert as_of == MONTH == scenario.as_of


def test_neutral_changes_give_the_base_and_runs_are_deterministic(world):
    neutral = run(
        world,
        [
            {
                "type": "demand",
                "family_code": "PMP",
                "period_from": "2027-03-01",
                "period_to": "2027-05-01",
                "factor": 1.0,
            },
            {**CUT, "change_pct": 0},
        ],
    )
    assert neutral.kpis == neutral.base.kpis
    first = run(world, [CUT], "one")
    second = run(world, [CUT], "two")
    assert first.kpis == second.kpis and first.family_months == second.family_months
    assert ScenarioBase.objects.count() == 1  # one base for the same inputs
    assert PlanLine.objects.count() == 0  # a scenario stores no plan lines


def test_a_demand_lift_on_a_territory_raises_demand_and_revenue(world):
    lifted = run(
        world,
        [
            {
                "type": "demand",
                "territory_code": "EAST",
                "period_from": "2027-03-01",
                "period_to": "2027-03-01",
                "factor": 2.0,
            }
        ],
    )
    months = {(r["family_code"], r["period_start"]): r for r in lifted.family_months}
    base = {(r["family_code"], r["period_start"]): r for r in lifted.base.family_months}
    # PMP in March: EAST-1 P1 100 + EAST-2 P1 50 doubled (+150), WEST's P2 30 unchanged
    assert months[("PMP", "2027-03-01")]["demand_qty"] == base[("PMP", "2027-03-01")]["demand_qty"] + 150
    assert months[("PMP", "2027-04-01")]["demand_qty"] == base[("PMP", "2027-04-01")]["demand_qty"]


def test_a_failed_run_is_visible(world, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("engine broke")

    monkeypatch.setattr(services, "plan_results", broken)
    scenario = run(world, [CUT])
    assert scenario.status == "failed" and "engine broke" in scenario.error and scenario.percent == 100


def test_a_second_start_while_running_is_refused(world, monkeypatch):
    from core.errors import ApplicationError

    monkeypatch.setattr("core.runs.require_queue", lambda: None)
    scenario = services.scenario_create(name="x", cycle=world["cycle"], changes=[CUT], user=world["users"]["ops"])
    started = services.scenario_run_start(scenario=scenario, user=world["users"]["ops"])
    assert started.status == "queued"
    with pytest.raises(ApplicationError) as exc:
        services.scenario_run_start(scenario=scenario, user=world["users"]["ops"])
    assert exc.value.status_code == 409


def test_reps_may_not_create_scenarios(world):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        services.scenario_create(name="x", cycle=world["cycle"], changes=[CUT], user=world["users"]["rep"])
    assert exc.value.status_code == 403


def test_on_the_latest_plan_without_a_cycle(world):
    scenario = services.scenario_create(name="no cycle", cycle=None, changes=[CUT], user=world["users"]["planner"])
    Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.QUEUED)
    scenario = services.scenario_run_execute(scenario_id=scenario.pk)
    assert scenario.status in ("completed", "completed_with_errors"), scenario.error
    assert scenario.as_of == timezone.localdate() and scenario.kpis and scenario.base.cycle is None


def test_the_reaper_sends_a_silent_run_again(world, monkeypatch):
    from django.utils import timezone

    sent = []
    monkeypatch.setattr("core.runs.send", lambda task, *args, **kw: sent.append(args) or True)
    scenario = services.scenario_create(
        name="lost", cycle=world["cycle"], changes=[CUT], user=world["users"]["planner"]
    )
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Scenario.objects.filter(pk=scenario.pk).update(
        status=Scenario.Status.RUNNING, heartbeat_at=long_ago, claimed_by="lost-worker:1"
    )
    assert services.scenarios_reap() == 1 and sent == [(scenario.pk,)]
    assert services.scenarios_reap() == 0  # its heartbeat was renewed: not sent twice
    finished = services.scenario_run_execute(scenario_id=scenario.pk, task_id="again")
    assert finished.status == "completed" and finished.kpis
