"""One nightly chain: Celery beat's task and ``manage.py run_pipeline`` (``make run``) both
record the chain with ``sop.services.plan_chain_create`` — a forecast run over the planning
horizon whose follow-up reconciles the plan run — and run it to the end."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.conftest import AS_OF


@pytest.fixture
def chains(monkeypatch):
    """Every chain recorded, by the one function that records chains."""
    from sop import services

    recorded = []
    real = services.plan_chain_create

    def spy(**kwargs):
        run = real(**kwargs)
        recorded.append(run)
        return run

    monkeypatch.setattr(services, "plan_chain_create", spy)
    return recorded


def assert_chain_ran(run, *, trigger: str) -> None:
    from forecasting.models import Forecast
    from sop.models import PlanLine

    run.refresh_from_db()
    forecast = run.forecast_run
    assert run.trigger == trigger and forecast.trigger == trigger
    assert forecast.parameters["follow_up"] == {"name": "sop.plan_run", "id": run.pk}
    assert forecast.status in ("completed", "completed_with_errors"), forecast.error
    assert run.status in ("completed", "completed_with_errors"), run.error
    assert forecast.horizon == run.horizon_periods
    assert PlanLine.objects.filter(run=run).count() == run.plan_lines_count > 0
    assert Forecast.objects.filter(run=forecast, level="total").count() == run.horizon_periods


def test_the_beat_task_runs_the_chain(demo, chains, django_capture_on_commit_callbacks):
    from sop.models import PlanRun
    from sop.tasks import nightly_pipeline_task

    with django_capture_on_commit_callbacks(execute=True):
        nightly_pipeline_task.delay()
    assert len(chains) == 1 and PlanRun.objects.get() == chains[0]
    assert_chain_ran(chains[0], trigger="schedule")


def test_run_pipeline_runs_the_same_chain_in_process(demo, chains, capsys):
    from sop.models import PlanRun

    call_command("run_pipeline", "--as-of", AS_OF.isoformat())
    assert len(chains) == 1 and PlanRun.objects.get() == chains[0]
    assert_chain_ran(chains[0], trigger="pipeline")
    out = capsys.readouterr().out
    assert f"plan run {chains[0].pk} completed" in out and "Pipeline done" in out


def test_run_pipeline_skips_while_a_run_is_active(demo, chains, capsys):
    from sop.services import plan_run_create

    plan_run_create(trigger="api")  # queued, never run
    call_command("run_pipeline", "--as-of", AS_OF.isoformat())
    assert chains == [] and "not run:" in capsys.readouterr().out


def test_the_beat_schedule_names_the_chain_task(db):
    from django_celery_beat.models import PeriodicTask

    from config.celery import app
    from sop.tasks import nightly_pipeline_task

    task = PeriodicTask.objects.get(name="Nightly planning pipeline")
    assert task.task == nightly_pipeline_task.name == "planning.nightly" and task.enabled
    assert app.tasks[task.task].run is nightly_pipeline_task.run
    assert (task.crontab.hour, task.crontab.minute) == ("2", "0")
