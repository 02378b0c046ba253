"""Celery tasks of compensation: thin, idempotent (closing a closed period is a no-op)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from compensation.services import comp_period_close_run


@shared_task(name="compensation.close_period", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def comp_period_close_task(period_start: str, actor_id: int | None = None) -> None:
    comp_period_close_run(period_start=dt.date.fromisoformat(period_start), actor_id=actor_id)
