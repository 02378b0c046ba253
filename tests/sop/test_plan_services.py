"""Plan runs through the services: hand-worked reconciliation cases, stored results, alert
upserts and resolution on rerun."""

from __future__ import annotations

import pandas as pd
import pytest

from sop.models import (
    CapacityAlert,
    CapacityCalendar,
    FamilyPlan,
    PlanLine,
    PlanRun,
    WorkCenterLoad,
)
from tests.sop.factories import HORIZON, run_plan, supply_world

pytestmark = pytest.mark.django_db


def active(type_: str):
    return CapacityAlert.objects.active().filter(type=type_)


def test_overload_150_percent_raises_a_50_hour_overload_alert():
    # given capacity 100 h in every period, 1 h/unit, demand 150 in the second period, no build-ahead
    world = supply_world(demand={1: 150.0})
    run = run_plan()
    assert run.status == PlanRun.Status.COMPLETED, run.error
    load = WorkCenterLoad.objects.get(run=run, period_start=HORIZON[1])
    assert load.load_hours == pytest.approx(150)
    assert load.utilisation == pytest.approx(1.5)
    alert = active("capacity_overload").get()
    assert alert.severity == "critical" and alert.unit == "hours"
    assert float(alert.amount) == pytest.approx(50)
    assert alert.work_center == world["work_centers"][0] and alert.period_start == HORIZON[1]
    assert alert.run == run and alert.first_run == run
    line = PlanLine.objects.get(run=run, period_start=HORIZON[1])
    assert line.shortfall_qty == pytest.approx(50) and line.feasible_qty == pytest.approx(100)
    assert run.forecast_run_id == world["forecast_run"].pk
    assert run.plan_lines_count == 18 and run.percent == 100


def test_build_ahead_one_pre_builds_50_in_the_free_period_before():
    supply_world(demand={1: 150.0}, build_ahead=1)
    run = run_plan()
    first, second = PlanLine.objects.filter(run=run, period_start__in=HORIZON[:2]).order_by("period_start")
    assert first.prebuild_qty == pytest.approx(50)
    assert first.projected_inventory_after == pytest.approx(50)  # carried into the peak
    assert second.pulled_forward_qty == pytest.approx(50)
    assert second.shortfall_qty == pytest.approx(0)
    assert second.feasible_qty == pytest.approx(150)
    assert not active("stockout_risk").exists()


def test_build_ahead_zero_leaves_a_shortfall_and_the_quota_is_not_buildable(monkeypatch):
    from territories.models import Territory

    Territory.objects.create(code="T1", name="Territory 1", path="/T1/")
    monkeypatch.setattr(
        "sop.selectors.family_quotas_frame",
        lambda *, period_starts: pd.DataFrame(
            {"family_code": ["PMP"], "territory_code": ["T1"], "period_start": [HORIZON[1]], "quota_qty": [150.0]}
        ),
    )
    supply_world(demand={1: 150.0}, build_ahead=0)
    run = run_plan()
    assert PlanLine.objects.get(run=run, period_start=HORIZON[1]).shortfall_qty == pytest.approx(50)
    family = FamilyPlan.objects.get(run=run, period_start=HORIZON[1])
    assert family.quota_qty == pytest.approx(150) and family.not_buildable_qty == pytest.approx(50)
    alert = active("target_not_buildable").get()
    assert float(alert.amount) == pytest.approx(50)
    assert alert.territory.code == "T1" and alert.family.code == "PMP" and alert.period_start == HORIZON[1]
    assert active("stockout_risk").filter(product__sku="P0").exists()


def test_rerun_updates_alerts_instead_of_duplicating_them():
    supply_world(demand={1: 150.0})
    first = run_plan()
    before = {a.fingerprint: a.pk for a in CapacityAlert.objects.all()}
    second = run_plan()
    assert second.alerts_raised == 0 and second.alerts_resolved == 0
    after = {a.fingerprint: a.pk for a in CapacityAlert.objects.all()}
    assert after == before
    overload = active("capacity_overload").get()
    assert overload.run == second and overload.first_run == first


def test_fixing_capacity_and_rerunning_resolves_the_alert_and_records_it():
    world = supply_world(demand={1: 150.0})
    run_plan()
    overload = active("capacity_overload").get()
    CapacityCalendar.objects.filter(work_center=world["work_centers"][0], period_start=HORIZON[1]).update(
        available_hours=200
    )
    rerun = run_plan()
    overload.refresh_from_db()
    assert overload.status == CapacityAlert.Status.RESOLVED
    assert overload.resolved_by_run == rerun and overload.resolved_at is not None
    assert f"plan run {rerun.pk}" in overload.resolution
    assert rerun.alerts_resolved >= 1
    assert not active("capacity_overload").exists()


def test_an_acknowledged_alert_stays_acknowledged_while_its_cause_remains():
    from sop.services import alert_acknowledge
    from tests.sop.factories import user_with_roles

    supply_world(demand={1: 150.0})
    run_plan()
    ops = user_with_roles("ops1", "ops_lead")
    alert = alert_acknowledge(alert_id=active("capacity_overload").get().pk, user=ops)
    run_plan()
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.assignee == ops


def test_no_finished_forecast_run_completes_with_a_warning():
    from forecasting.models import ForecastRun

    supply_world()
    ForecastRun.objects.update(status=ForecastRun.Status.FAILED)
    run = run_plan()
    assert run.status == PlanRun.Status.COMPLETED_WITH_ERRORS
    assert "No finished forecast run" in run.warnings[0]


def test_a_crash_leaves_the_run_failed_with_the_error(monkeypatch):
    supply_world()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sop.services.plan_calculate", boom)
    run = run_plan()
    assert run.status == PlanRun.Status.FAILED and "disk full" in run.error


def test_start_without_forecast_reconciles_at_once():
    from sop.services import plan_run_start

    supply_world()
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        run = plan_run_start(forecast=False, as_of=HORIZON[0])
    run.refresh_from_db()
    assert run.status == PlanRun.Status.COMPLETED and run.forecast_run_id is not None


def test_no_target_alert_when_the_quota_fits_what_can_be_built(monkeypatch):
    from territories.models import Territory

    Territory.objects.create(code="T1", name="Territory 1", path="/T1/")
    monkeypatch.setattr(
        "sop.selectors.family_quotas_frame",
        lambda *, period_starts: pd.DataFrame(
            {"family_code": ["PMP"], "territory_code": ["T1"], "period_start": [HORIZON[1]], "quota_qty": [100.0]}
        ),
    )
    supply_world(demand={1: 150.0}, build_ahead=0)
    run_plan()
    assert not active("target_not_buildable").exists()
    assert active("capacity_overload").exists()
