"""Celery task of scenario runs: take the id, call the service (which records failures)."""

from __future__ import annotations

from celery import shared_task

from core import runs
from scenarios import services


@shared_task(name="scenarios.scenario_run", bind=True, acks_late=True)
def scenario_run_task(self, scenario_id: int) -> None:
    try:
        services.scenario_run_execute(scenario_id=scenario_id, task_id=self.request.id)
    except runs.TRANSIENT_ERRORS as exc:
        runs.retry_later(self, exc)


@shared_task(name="scenarios.reap")
def scenarios_reap_task() -> None:
    services.scenarios_reap()
