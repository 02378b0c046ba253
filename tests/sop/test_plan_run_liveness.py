"""Plan runs never hang: a company without territories plans, a lost or dead reconciliation
is sent again by the reaper, a plan run waiting for its forecast run is left to it, the
nightly start skips while a run is active, and a plan run start honours one active run and
Idempotency-Key."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from core import runs
from forecasting.models import Forecast, ForecastRun, ForecastSeries
from sop.models import PlanLine, PlanRun
from sop.services import (
    plan_run_create,
    plan_run_execute,
    plan_run_nightly,
    plan_run_start,
    runs_reap,
)
from tests.conftest import AS_OF

LONG_AGO = dt.timedelta(hours=1)


def without_territories():
    """The tiny demo as a company that credits its sales to no territory at all (as one that
    never set territories up does)."""
    from sales.models import SalesOrderLine

    SalesOrderLine.objects.update(territory=None)
    assert SalesOrderLine.objects.exists()


def test_a_company_with_sales_but_no_territories_forecasts_and_plans(demo, login, django_capture_on_commit_callbacks):
    without_territories()
    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_run_start(as_of=AS_OF, trigger=PlanRun.Trigger.API, forecast=True)
    plan.refresh_from_db()
    forecast = plan.forecast_run
    assert forecast.status == "completed", forecast.error
    assert plan.status in ("completed", "completed_with_errors"), plan.error
    # One series per product sold, with no territory, each written once; the levels add up.
    series = ForecastSeries.objects.filter(run=forecast)
    assert series.count() == forecast.series_total == series.filter(territory__isnull=True).count() > 0
    assert set(series.values_list("product_id", flat=True).distinct()) == set(
        Forecast.objects.filter(run=forecast, level="product").values_list("product_id", flat=True)
    )
    leaf = Forecast.objects.filter(run=forecast, level="product_territory")
    assert leaf.count() == forecast.series_done * forecast.horizon
    assert set(leaf.values_list("series_key", flat=True)) == {
        f"{p}:-" for p in series.values_list("product_id", flat=True)
    }
    period = leaf.order_by("period_start").first().period_start
    total = Forecast.objects.get(run=forecast, level="total", period_start=period).point
    region = Forecast.objects.get(run=forecast, level="region", period_start=period)
    assert region.series_key == "r:-" and region.territory_id is None
    parts = sum(leaf.filter(period_start=period).values_list("point", flat=True))
    assert total == region.point == pytest.approx(parts, rel=1e-6)
    assert PlanLine.objects.filter(run=plan).count() == plan.plan_lines_count > 0
    # The planner sees such a series with its history and forecast.
    one = series.filter(status="ok").first()
    page = login("planner").get(f"/forecasts/runs/{forecast.pk}/series/{one.pk}/")
    assert page.status_code == 200 and "no territory" in page.content.decode()
    assert sum(v for v in page.context["chart"]["history"] if v) > 0 and page.context["chart"]["point"][-1] >= 0


def test_a_plan_run_whose_worker_died_is_reconciled_again_by_the_reaper(demo):
    run = plan_run_create(as_of=AS_OF, trigger="api", parameters={"forecast": False})
    PlanRun.objects.filter(pk=run.pk).update(
        status="running", attempts=1, claimed_by="dead:1", heartbeat_at=timezone.now() - LONG_AGO
    )
    assert runs_reap() == {"plan_runs_resent": 1}
    run.refresh_from_db()
    assert run.status in ("completed", "completed_with_errors"), run.error
    assert run.attempts == 2 and run.claimed_by == ""


def test_a_plan_run_no_worker_could_finish_in_its_attempts_fails_with_the_reason(demo):
    run = plan_run_create(as_of=AS_OF, trigger="api")
    PlanRun.objects.filter(pk=run.pk).update(
        status="running",
        attempts=3,
        claimed_by="dead:1",
        heartbeat_at=timezone.now() - LONG_AGO,
        error="OperationalError: gone",
    )
    runs_reap()
    run.refresh_from_db()
    assert run.status == "failed" and "3 attempts" in run.error and "OperationalError: gone" in run.error


def test_a_plan_run_waiting_for_its_forecast_run_is_left_to_it(demo):
    forecast = ForecastRun.objects.create(as_of=AS_OF, status="running", heartbeat_at=timezone.now())
    run = plan_run_create(as_of=AS_OF, trigger="api")
    PlanRun.objects.filter(pk=run.pk).update(forecast_run=forecast, created_at=timezone.now() - LONG_AGO)
    run = PlanRun.objects.select_related("forecast_run").get(pk=run.pk)
    assert not run.is_stalled  # its forecast run is alive
    assert runs_reap() == {}
    assert plan_run_execute(run_id=run.pk).status == "queued"  # a stray reconcile waits too
    ForecastRun.objects.filter(pk=forecast.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    assert PlanRun.objects.select_related("forecast_run").get(pk=run.pk).is_stalled


def test_the_nightly_start_skips_while_a_run_is_active(demo, caplog):
    ForecastRun.objects.create(as_of=AS_OF, status="running")
    assert plan_run_nightly() is None
    assert PlanRun.objects.count() == 0 and "nightly planning run not started" in caplog.text


def start(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/v1/plan-runs/", data=json.dumps(body), content_type="application/json", **headers)


def test_plan_run_starts_one_at_a_time_and_honour_idempotency_key(demo, erp):
    api = erp(scopes=["plans:run", "plans:read"])
    first = start(api, {"forecast": True}, key="k-1")
    assert first.status_code == 202
    assert start(api, {"forecast": True}, key="k-1").json() == first.json()
    assert start(api, {"forecast": False}, key="k-1").status_code == 409
    busy = start(api, {"forecast": False})
    assert busy.status_code == 409 and busy.json()["error"]["details"]["id"] == first.json()["id"]
    assert busy.json()["error"]["details"]["url"] == first.json()["url"]
    assert PlanRun.objects.count() == 1 and ForecastRun.objects.count() == 1
    # A forecast run alone blocks a plan run that forecasts first, not one that reconciles.
    PlanRun.objects.update(status="failed")
    conflict = start(api, {"forecast": True})
    assert conflict.status_code == 409 and "forecast run" in conflict.json()["error"]["message"]
    assert start(api, {"forecast": False}).status_code == 202


def test_a_plan_run_start_while_the_queue_is_down_records_nothing(demo, erp, login, monkeypatch):
    monkeypatch.setattr(runs, "queue_available", lambda **kw: False)
    response = start(erp(scopes=["plans:run"]), {"forecast": True})
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"
    page = login("ops").post("/supply/runs/start/", {"forecast": "1"}, follow=True)
    assert page.status_code == 200 and "task queue is not reachable" in page.content.decode()
    assert PlanRun.objects.count() == 0 and ForecastRun.objects.count() == 0
