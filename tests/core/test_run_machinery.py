"""What every run shares (core/runs.py): claims, the heartbeat, the queue check and sending
that never fails its caller."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
from django.utils import timezone

from core import runs
from forecasting.models import ForecastRun
from tests.conftest import AS_OF


def claim(run, task_id, token=None):
    return runs.claim_step(
        ForecastRun, run.pk, token=token or runs.new_claim(task_id), task_id=task_id, statuses=("queued",)
    )


def test_a_step_is_claimed_once_while_its_holder_is_alive(db, settings):
    settings.RUN_MAX_ATTEMPTS = 2
    run = ForecastRun.objects.create(as_of=AS_OF)
    assert claim(run, "message-a") == runs.Claim.CLAIMED
    assert claim(run, "message-b") == runs.Claim.BUSY  # a twin delivery while the holder beats
    assert claim(run, "message-a") == runs.Claim.CLAIMED  # the same message again: its attempt is over
    ForecastRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert claim(run, "message-b") == runs.Claim.EXHAUSTED  # silent holder, but 2 attempts used
    ForecastRun.objects.filter(pk=run.pk).update(status="completed")
    assert claim(run, "message-c") == runs.Claim.PAST


def test_a_released_step_is_free_for_the_next_delivery(db):
    run = ForecastRun.objects.create(as_of=AS_OF)
    token = runs.new_claim("m1")
    assert claim(run, "m1", token) == runs.Claim.CLAIMED
    runs.release_step(ForecastRun, run.pk, token=token)
    assert claim(run, "m2") == runs.Claim.CLAIMED
    run.refresh_from_db()
    assert run.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_stamps_the_work_while_it_runs_and_stops_after():
    run = ForecastRun.objects.create(as_of=AS_OF)

    def stamp():
        return ForecastRun.objects.get(pk=run.pk).heartbeat_at

    with runs.heartbeat(ForecastRun.objects.filter(pk=run.pk), every=0.1):
        time.sleep(0.5)
        first = stamp()
        assert first is not None
        time.sleep(0.4)
        assert stamp() > first
    last = stamp()
    time.sleep(0.3)
    assert stamp() == last


def test_no_heartbeat_thread_when_it_is_off(db, settings):
    settings.RUN_HEARTBEAT_SECONDS = 0
    run = ForecastRun.objects.create(as_of=AS_OF)
    with runs.heartbeat(ForecastRun.objects.filter(pk=run.pk)):
        time.sleep(0.1)
    assert ForecastRun.objects.get(pk=run.pk).heartbeat_at is None


def test_the_queue_check_says_no_quickly_when_redis_is_refused_or_hung():
    from config.celery import app

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts (in the kernel) and never answers
    previous = app.conf.broker_url
    try:
        for port in (refused_port, hung.getsockname()[1]):
            app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
            started = time.monotonic()
            assert runs.queue_available(timeout=0.5) is False
            assert time.monotonic() - started < 2.5
    finally:
        app.conf.broker_url = previous
        hung.close()


def test_sending_to_a_refused_broker_fails_quietly(monkeypatch):
    from kombu.exceptions import OperationalError

    from forecasting.tasks import forecast_run_start_task

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(forecast_run_start_task, "apply_async", refused)
    assert runs.send(forecast_run_start_task, 1) is False
