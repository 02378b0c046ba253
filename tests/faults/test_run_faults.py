"""Runs survive what kills them in production, on the real stack: a worker SIGKILLed mid-run,
Redis restarted empty mid-run, a chunk that raises every time, PostgreSQL unreachable for
a chunk. A real worker and a real beat (the database scheduler, so the reaper runs as in
production) with the run settings in seconds: heartbeat 0.5 s, stale after 3 s, reaper
every 1 s."""

from __future__ import annotations

import signal
import time
import uuid

import pytest
from django.db.models import F

from core import runs
from forecasting import services
from forecasting.models import Forecast, ForecastChunk, ForecastRun, ForecastSeries
from tests.conftest import AS_OF
from tests.services import (
    PrivateRedis,
    TcpProxy,
    celery_beat,
    celery_worker,
    real_broker,
    stop_process_group,
    wait_for,
    worker_output,
)

FAST = {"RUN_HEARTBEAT_SECONDS": "0.5", "RUN_STALE_SECONDS": "3", "RUN_REAPER_SECONDS": "1"}
STALE, REAPER = 3, 1
ENDED = ("completed", "completed_with_errors", "failed")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiny(settings):
    from home.demo import seed_demo

    settings.RUN_STALE_SECONDS = STALE
    seed_demo(scale="tiny", seed=11, as_of=AS_OF)


@pytest.fixture
def queue():
    return f"test-faults-{uuid.uuid4().hex[:8]}"


def run_of(run_id: int) -> ForecastRun:
    return ForecastRun.objects.get(pk=run_id)


def wait_for_end(run_id: int, *processes, timeout: float = 120) -> ForecastRun:
    if not wait_for(lambda: run_of(run_id).status in ENDED, timeout=timeout):
        logs = "\n---\n".join(worker_output(p) for p in processes)
        pytest.fail(
            f"run {run_id} did not end: {run_of(run_id).status}; chunks "
            f"{list(ForecastChunk.objects.filter(run_id=run_id).values_list('index', 'status', 'attempts'))}"
            f"\n{logs}"
        )
    return run_of(run_id)


def wait_for_a_running_chunk(run_id: int, *, after_done: int = 1) -> ForecastChunk:
    """Mid-run: some chunks done, one being forecast right now."""

    def running():
        run = run_of(run_id)
        if run.chunks_done < after_done:
            return None
        return ForecastChunk.objects.filter(run_id=run_id, status="running").first()

    chunk = wait_for(running, timeout=90, interval=0.02)
    assert chunk is not None, f"no chunk ever ran: {run_of(run_id).status}"
    return chunk


def assert_each_series_once(run: ForecastRun) -> None:
    keys = [tuple(k) for keys in run.chunks.values_list("series_keys", flat=True) for k in keys]
    assert len(keys) == len(set(keys)) == run.series_total > 0
    assert ForecastSeries.objects.filter(run=run).count() == run.series_total
    assert run.series_done + run.series_failed == run.series_total
    assert Forecast.objects.filter(run=run, level="product_territory").count() == run.series_done * run.horizon


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes_each_series_once(tiny, queue):
    with celery_beat(queue, env=FAST) as beat, real_broker(queue):
        worker = celery_worker(queue, env=FAST)
        first = worker.__enter__()
        try:
            run = services.forecast_run_start(as_of=AS_OF, trigger="api", parameters={"chunk_size": 3})
            lost = wait_for_a_running_chunk(run.pk)
            stop_process_group(first, signal.SIGKILL)  # the worker and its pool, mid-chunk
        finally:
            worker.__exit__(None, None, None)
        killed_at = time.monotonic()
        assert ForecastChunk.objects.get(pk=lost.pk).status == "running"  # nobody told the database
        with celery_worker(queue, env=FAST) as second:
            run = wait_for_end(run.pk, second, beat, timeout=90)
            recovered_in = time.monotonic() - killed_at
    assert run.status == "completed", run.error
    assert_each_series_once(run)
    lost.refresh_from_db()
    assert lost.status == "done" and lost.attempts == 2  # taken back by the reaper, done once
    # Within the reaper's reach: stale after 3 s, a reaper pass every 1 s, a worker start and
    # the chunks still to do (a few seconds on the tiny demo).
    assert recovered_in < STALE + REAPER + 45, recovered_in


def test_redis_restarted_empty_mid_run_loses_messages_and_the_run_still_completes(tiny, queue):
    with PrivateRedis() as redis:
        env = {**FAST, "REDIS_URL": redis.url}
        with (
            celery_worker(queue, env=env) as worker,
            celery_beat(queue, env=env) as beat,
            real_broker(queue, url=redis.url),
        ):
            run = services.forecast_run_start(as_of=AS_OF, trigger="api", parameters={"chunk_size": 3})
            wait_for_a_running_chunk(run.pk)
            redis.stop()  # no persistence: every queued message is gone
            time.sleep(2)
            redis.start()
            run = wait_for_end(run.pk, worker, beat, timeout=120)
    assert run.status == "completed", run.error
    assert_each_series_once(run)
    assert run.chunks.filter(status="done").count() == run.chunks_total


def test_a_chunk_that_raises_every_time_ends_the_run_completed_with_errors(tiny, queue):
    from forecasting.tasks import forecast_chunk_task
    from inventory.models import Product

    run = services.forecast_run_create(as_of=AS_OF, trigger="api", parameters={"chunk_size": 4})
    indexes = services.forecast_run_plan(run_id=run.pk)
    # Chunk 1 holds a product that no longer exists: its save breaks a foreign key every time.
    bad = ForecastChunk.objects.get(run=run, index=1)
    bad.series_keys = [[Product.objects.order_by("-id").first().pk + 1000, None], *bad.series_keys]
    bad.save()
    ForecastRun.objects.filter(pk=run.pk).update(series_total=F("series_total") + 1)
    with celery_worker(queue, env=FAST) as worker, celery_beat(queue, env=FAST) as beat, real_broker(queue):
        for index in indexes:
            runs.send(forecast_chunk_task, run.pk, index)
        run = wait_for_end(run.pk, worker, beat, timeout=90)
    bad.refresh_from_db()
    assert run.status == "completed_with_errors"
    assert bad.status == "failed" and bad.attempts == 3 and "IntegrityError" in bad.error
    assert run.error.startswith(f"1 of {run.chunks_total} chunks failed after 3 attempts")
    assert run.series_failed == len(bad.series_keys)
    good = run.series_total - len(bad.series_keys)
    assert run.series_done == good == ForecastSeries.objects.filter(run=run, status="ok").count()
    assert Forecast.objects.filter(run=run, level="product_territory").count() == good * run.horizon


def test_postgresql_cut_off_from_the_worker_mid_chunk_is_retried_and_the_run_ends_honestly(tiny, queue, settings):
    db_port = int(settings.DATABASES["default"]["PORT"] or 5432)
    with (
        TcpProxy(db_port) as proxy,
        celery_worker(queue, env=FAST, db_port=proxy.port) as worker,
        celery_beat(queue, env=FAST) as beat,
        real_broker(queue),
    ):
        run = services.forecast_run_start(as_of=AS_OF, trigger="api", parameters={"chunk_size": 3})
        wait_for_a_running_chunk(run.pk)
        proxy.cut()  # the worker's database is gone: connections reset, new ones refused
        time.sleep(22)  # as long as the outage that used to leave runs running for an hour
        proxy.restore()
        run = wait_for_end(run.pk, worker, beat, timeout=150)
        log = worker_output(worker)
    assert run.status in ("completed", "completed_with_errors"), run.error
    if run.status == "completed_with_errors":
        assert run.error  # and says why
    assert_each_series_once(run)
    retried = run.chunks.filter(attempts__gte=2).exists() or "met an outage" in log
    assert retried, log
