"""Celery tasks of a forecast run: start → one task per chunk (any worker) → finish."""

from __future__ import annotations

from celery import shared_task

from forecasting import services

MAX_RETRIES = 3


@shared_task(name="forecasting.run_start", acks_late=True)
def forecast_run_start_task(run_id: int) -> None:
    indexes = services.forecast_run_plan(run_id=run_id)
    if not indexes:
        forecast_run_finish_task.delay(run_id)
        return
    for index in indexes:
        forecast_chunk_task.delay(run_id, index)


@shared_task(name="forecasting.chunk", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def forecast_chunk_task(self, run_id: int, index: int) -> None:
    try:
        last = services.forecast_chunk_process(run_id=run_id, index=index)
    except Exception as exc:
        if self.request.retries < MAX_RETRIES and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
        last = services.forecast_chunk_fail(run_id=run_id, index=index, error=f"{type(exc).__name__}: {exc}")
    if last:
        forecast_run_finish_task.delay(run_id)


@shared_task(name="forecasting.run_finish", acks_late=True)
def forecast_run_finish_task(run_id: int) -> None:
    services.forecast_run_finish(run_id=run_id)


@shared_task(name="planning.nightly")
def nightly_pipeline_task() -> None:
    """Started by Celery beat (schedule stored in the database, editable in admin): the
    forecast run over all series, then the reconciliation against capacity."""
    from sop.services import plan_run_start

    plan_run_start(trigger="schedule", forecast=True)
