"""Celery tasks of a forecast run: start → one task per chunk (any worker) → finish.

Each takes ids and calls one service step; the step's state is in the database, so a task
that meets an outage retries later with backoff (``core.runs.retry_later``), and one that is
lost altogether is sent again by the reaper (``runs.reap``, started by beat).
"""

from __future__ import annotations

from celery import shared_task

from core import runs
from forecasting import services


@shared_task(name="forecasting.run_start", bind=True, acks_late=True)
def forecast_run_start_task(self, run_id: int) -> None:
    try:
        services.forecast_run_plan_step(run_id=run_id, task_id=self.request.id)
    except runs.TRANSIENT_ERRORS as exc:
        runs.retry_later(self, exc)


@shared_task(name="forecasting.chunk", bind=True, acks_late=True)
def forecast_chunk_task(self, run_id: int, index: int) -> None:
    try:
        services.forecast_chunk_step(run_id=run_id, index=index, task_id=self.request.id)
    except runs.TRANSIENT_ERRORS as exc:
        runs.retry_later(self, exc)


@shared_task(name="forecasting.run_finish", bind=True, acks_late=True)
def forecast_run_finish_task(self, run_id: int) -> None:
    try:
        services.forecast_run_finish(run_id=run_id, task_id=self.request.id)
    except runs.TRANSIENT_ERRORS as exc:
        runs.retry_later(self, exc)
