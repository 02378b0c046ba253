"""Forecast runs never hang: chunk state in the database, claims, the reaper, one active run,
Idempotency-Key on the start. Tasks run eagerly here, so whatever the reaper sends runs at
once; losing a message or a worker is simulated by leaving the database in the state they
leave behind (a fault test kills real ones: tests/faults/)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import OperationalError
from django.utils import timezone

from core import runs
from forecasting import services
from forecasting.models import Forecast, ForecastChunk, ForecastRun, ForecastSeries
from sop.services import runs_reap
from tests.conftest import AS_OF

LONG_AGO = dt.timedelta(hours=1)


def planned(chunk_size: int = 6, **fields) -> ForecastRun:
    run = services.forecast_run_create(as_of=AS_OF, trigger="api", parameters={"chunk_size": chunk_size})
    assert services.forecast_run_plan(run_id=run.pk)
    ForecastRun.objects.filter(pk=run.pk).update(**fields)
    run.refresh_from_db()
    return run


def backdate(queryset, **fields) -> None:
    """Make rows look like their worker (or message) went silent an hour ago."""
    queryset.update(heartbeat_at=timezone.now() - LONG_AGO, **fields)


def assert_each_series_once(run: ForecastRun) -> None:
    run.refresh_from_db()
    keys = [tuple(k) for keys in run.chunks.values_list("series_keys", flat=True) for k in keys]
    assert len(keys) == len(set(keys)) == run.series_total
    assert ForecastSeries.objects.filter(run=run).count() == run.series_total
    assert Forecast.objects.filter(run=run, level="product_territory").count() == run.series_done * run.horizon


def test_a_chunk_whose_worker_died_is_taken_back_and_the_run_completes_each_series_once(demo):
    # Given a run whose chunk 1 was claimed by a worker that was then killed (no heartbeat since).
    run = planned()
    lost_token, _last = services.forecast_chunk_claim(run_id=run.pk, index=1, task_id="killed-worker")
    backdate(ForecastChunk.objects.filter(run=run, index=1))
    for index in range(run.chunks_total):
        if index != 1:
            services.forecast_chunk_attempt(run_id=run.pk, index=index, task_id=f"m{index}")
    backdate(ForecastRun.objects.filter(pk=run.pk))
    # When the reaper passes, it takes chunk 1 back and sends it; the last chunk sends the finish.
    done = runs_reap()
    assert done["chunks_requeued"] == 1
    run.refresh_from_db()
    assert run.status == "completed", run.error
    chunk = ForecastChunk.objects.get(run=run, index=1)
    assert chunk.status == "done" and chunk.attempts == 2
    assert_each_series_once(run)
    # The killed worker's late save, had it survived, would write nothing.
    assert services.forecast_chunk_process(run_id=run.pk, index=1, token=lost_token) is False
    assert_each_series_once(run)


def test_a_chunk_lost_on_its_last_attempt_fails_and_the_run_ends_completed_with_errors(demo):
    run = planned()
    services.forecast_chunk_claim(run_id=run.pk, index=0, task_id="w")
    backdate(ForecastChunk.objects.filter(run=run, index=0), attempts=3)
    for index in range(1, run.chunks_total):
        services.forecast_chunk_attempt(run_id=run.pk, index=index)
    assert runs_reap()["chunks_failed"] == 1
    run.refresh_from_db()
    assert run.status == "completed_with_errors"
    assert "went silent" in run.error and "after 3 attempts" in run.error
    size = len(ForecastChunk.objects.get(run=run, index=0).series_keys)
    assert run.series_failed == size == ForecastSeries.objects.filter(run=run, status="failed").count()
    assert_each_series_once(run)


def test_a_live_chunk_is_left_alone_by_the_reaper_and_by_other_deliveries(demo):
    run = planned()
    token, _ = services.forecast_chunk_claim(run_id=run.pk, index=0, task_id="alive")
    assert token and services.forecast_chunk_claim(run_id=run.pk, index=0, task_id="twin") == (None, False)
    assert runs_reap() == {}
    assert ForecastChunk.objects.get(run=run, index=0).claimed_by == token


def test_messages_lost_with_redis_are_sent_again_once_the_run_is_stale(demo):
    # Given a planned run none of whose chunk messages arrived (Redis restarted empty).
    run = planned()
    assert runs_reap() == {}  # not stale yet: messages may still be on their way
    backdate(ForecastRun.objects.filter(pk=run.pk))
    assert runs_reap()["runs_resent"] == 1
    run.refresh_from_db()
    assert run.status == "completed" and run.chunks_done == run.chunks_total
    assert_each_series_once(run)


def test_a_queued_run_whose_start_was_lost_is_started_by_the_reaper(demo):
    run = services.forecast_run_create(as_of=AS_OF, trigger="api", parameters={"chunk_size": 50})
    ForecastRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - LONG_AGO)
    run.refresh_from_db()
    assert run.is_stalled
    runs_reap()
    run.refresh_from_db()
    assert run.status == "completed" and not run.is_stalled


def test_a_lost_finishing_step_is_sent_again(demo):
    run = planned()
    for index in range(run.chunks_total):
        services.forecast_chunk_attempt(run_id=run.pk, index=index)  # the last one's finish message is lost
    backdate(ForecastRun.objects.filter(pk=run.pk))
    runs_reap()
    run.refresh_from_db()
    assert run.status == "completed" and run.percent == 100


def test_concurrent_reapers_send_a_stalled_run_once(demo, monkeypatch):
    run = planned()
    backdate(ForecastRun.objects.filter(pk=run.pk))
    sent = []
    monkeypatch.setattr(runs, "send", lambda task, *args, **kw: sent.append((task.name, args)) or True)
    stale = ForecastRun.objects.get(pk=run.pk).heartbeat_at
    services.forecast_runs_reap()
    ForecastRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)  # a second reaper read the old stamp…
    first = len(sent)
    ForecastRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())  # …but the first one's landed
    services.forecast_runs_reap()
    assert first == run.chunks_total and len(sent) == first


def test_an_error_while_planning_fails_the_run_and_its_plan_run(demo, monkeypatch):
    from sop.models import PlanRun
    from sop.services import PLAN_RUN_FOLLOW_UP, plan_run_create

    plan = plan_run_create(trigger="api")
    run = services.forecast_run_create(as_of=AS_OF, trigger="api", follow_up=(PLAN_RUN_FOLLOW_UP, plan.pk))

    def broken(**kwargs):
        raise AttributeError("Can only use .str accessor with string values!")

    monkeypatch.setattr(services, "series_universe", broken)
    services.forecast_run_plan_step(run_id=run.pk, task_id="start")
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == "failed" and "Could not split the run into chunks: AttributeError" in run.error
    assert plan.status == PlanRun.Status.FAILED and f"forecast run {run.pk} failed" in plan.error


def test_an_outage_while_planning_is_retried_and_the_retry_plans(demo, monkeypatch):
    run = services.forecast_run_create(as_of=AS_OF, trigger="api", parameters={"chunk_size": 50})
    real = services.series_universe

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "series_universe", down)
    with pytest.raises(OperationalError):
        services.forecast_run_plan(run_id=run.pk, task_id="start-1")
    run.refresh_from_db()
    assert run.status == "queued" and run.claimed_by == "" and run.attempts == 1
    monkeypatch.setattr(services, "series_universe", real)
    assert services.forecast_run_plan(run_id=run.pk, task_id="start-1")  # the task's retry
    run.refresh_from_db()
    assert run.status == "running" and run.attempts == 0


def test_a_run_that_no_worker_could_plan_in_its_attempts_fails(demo):
    run = services.forecast_run_create(as_of=AS_OF, trigger="api")
    ForecastRun.objects.filter(pk=run.pk).update(
        attempts=3, claimed_by="dead:1", heartbeat_at=timezone.now() - LONG_AGO
    )
    assert services.forecast_run_plan(run_id=run.pk, task_id="another") is None
    run.refresh_from_db()
    assert run.status == "failed" and "3 attempts" in run.error


def test_an_outage_in_a_chunk_releases_it_for_another_attempt(demo, monkeypatch):
    run = planned()
    real = services.forecast_chunk_process

    def down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "forecast_chunk_process", down)
    outcome = services.forecast_chunk_attempt(run_id=run.pk, index=0, task_id="m")
    chunk = ForecastChunk.objects.get(run=run, index=0)
    assert outcome.retry and chunk.status == "pending" and chunk.attempts == 1
    assert chunk.error.startswith("OperationalError")
    monkeypatch.setattr(services, "forecast_chunk_process", real)
    assert services.forecast_chunk_attempt(run_id=run.pk, index=0, task_id="m2").retry is False
    assert ForecastChunk.objects.get(run=run, index=0).status == "done"


def test_a_chunk_failed_for_good_counts_the_series_it_cannot_record(demo):
    # Given a chunk holding a product deleted since the run was planned, on its last attempt.
    from inventory.models import Product

    run = planned()
    chunk = ForecastChunk.objects.get(run=run, index=0)
    ghost = Product.objects.order_by("-id").first().pk + 1000
    chunk.series_keys = [[ghost, None], *chunk.series_keys]
    chunk.save()
    token, _ = services.forecast_chunk_claim(run_id=run.pk, index=0)
    ForecastChunk.objects.filter(pk=chunk.pk).update(attempts=3)
    # When it fails once more, it fails for good: its real series are recorded as failed, the
    # ghost is counted (the run's figures add up) but not recorded (it has no product).
    outcome = services.forecast_chunk_release(run_id=run.pk, index=0, token=token, error="IntegrityError: product gone")
    chunk.refresh_from_db()
    run.refresh_from_db()
    assert outcome == services.ChunkOutcome(retry=False, last=run.chunks_total == 1)
    assert chunk.status == "failed" and run.series_failed == len(chunk.series_keys)
    assert ForecastSeries.objects.filter(run=run, status="failed").count() == len(chunk.series_keys) - 1


def test_a_stalled_run_shows_as_stalled_on_the_pages_and_in_the_api(demo, login, erp):
    run = services.forecast_run_create(as_of=AS_OF, trigger="api")
    page = login("planner").get("/forecasts/").content.decode()
    assert "stalled" not in page
    ForecastRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - LONG_AGO)
    page = login("planner").get("/forecasts/").content.decode()
    assert 'class="badge stalled"' in page and "waiting for a worker" in page
    detail = login("planner").get(f"/forecasts/runs/{run.pk}/").content.decode()
    assert 'class="badge stalled"' in detail
    home = login("planner").get("/").content.decode()
    assert 'class="badge stalled"' in home
    assert erp(scopes=["plans:read"]).get(f"/api/v1/forecast-runs/{run.pk}/").json()["stalled"] is True


# ---------------------------------------------------------------------------------------
# One active run; Idempotency-Key
# ---------------------------------------------------------------------------------------


def start(api, body=None, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        "/api/v1/forecast-runs/",
        data=json.dumps(body or {"as_of": "2026-06-15"}),
        content_type="application/json",
        **headers,
    )


def test_a_second_start_while_a_run_is_active_answers_409_with_the_active_run(demo, erp):
    api = erp(scopes=["forecasts:run", "plans:read"])
    first = start(api)  # queued: on_commit never fires inside the test transaction
    assert first.status_code == 202
    second = start(api)
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "run_in_progress" and error["details"]["id"] == first.json()["id"]
    assert error["details"]["url"] == first.json()["url"]
    assert error["details"]["page_url"].endswith(f"/forecasts/runs/{first.json()['id']}/")
    assert ForecastRun.objects.count() == 1
    # Once it ended, a new start is accepted.
    ForecastRun.objects.update(status="completed")
    assert start(api).status_code == 202


def test_a_second_start_from_the_page_leads_to_the_active_run(demo, login):
    run = services.forecast_run_create(as_of=AS_OF, trigger="api")
    response = login("planner").post("/forecasts/runs/start/", follow=True)
    assert response.redirect_chain[-1][0] == f"/forecasts/runs/{run.pk}/"
    assert "already in progress" in response.content.decode()
    assert ForecastRun.objects.count() == 1


def test_idempotency_key_replays_the_first_start_and_refuses_another_body(demo, erp):
    api = erp(scopes=["forecasts:run", "plans:read"])
    first = start(api, key="nightly-1")
    assert first.status_code == 202 and "Idempotent-Replayed" not in first
    again = start(api, key="nightly-1")
    assert again.status_code == 202 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = start(api, body={"as_of": "2026-05-15"}, key="nightly-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert ForecastRun.objects.count() == 1
    # Keys belong to their client: another client's same key is its own (and meets the active run).
    assert (
        start(erp(scopes=["forecasts:run"], name="erp-2"), key="nightly-1").json()["error"]["code"] == "run_in_progress"
    )


def test_a_start_while_the_queue_is_down_answers_503_and_records_nothing(demo, erp, login, monkeypatch):
    monkeypatch.setattr(runs, "queue_available", lambda **kw: False)
    response = start(erp(scopes=["forecasts:run"]), key="k1")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "service_unavailable" and error["details"]["dependency"] == "queue"
    page = login("planner").post("/forecasts/runs/start/", follow=True)
    assert "The task queue is not reachable, so the run was not started" in page.content.decode()
    assert ForecastRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # the scheduler closes old connections, as beat does
def test_beat_sends_the_reaper_every_run_reaper_seconds(settings):
    # The database scheduler (production's) installs the reaper from the settings at start-up.
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    DatabaseScheduler(app=app)
    task = PeriodicTask.objects.get(name="Run reaper")
    assert task.task == "runs.reap" and task.enabled
    assert task.interval.every == settings.RUN_REAPER_SECONDS == 30 and task.interval.period == "seconds"
