"""Celery tasks of plan runs: the nightly chain (beat), the reconciliation (after its forecast
run, or alone), and the reaper that keeps every run moving (beat every ``RUN_REAPER_SECONDS``)."""

from __future__ import annotations

from celery import shared_task

from core import runs
from sop import services


@shared_task(name="sop.plan_run_reconcile", bind=True, acks_late=True)
def plan_run_reconcile_task(self, plan_run_id: int) -> None:
    """Idempotent: a finished plan run is left alone; the service records failures on the run."""
    try:
        services.plan_run_execute(run_id=plan_run_id, task_id=self.request.id)
    except runs.TRANSIENT_ERRORS as exc:
        runs.retry_later(self, exc)


@shared_task(name="planning.nightly")
def nightly_pipeline_task() -> None:
    """Started by Celery beat (schedule stored in the database by ``forecasting.0002``,
    editable in admin): the nightly chain on the workers (``services.plan_run_nightly``)."""
    services.plan_run_nightly()


@shared_task(name="runs.reap")
def runs_reap_task() -> None:
    services.runs_reap()
