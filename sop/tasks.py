"""Celery task of a plan run: the reconciliation (after its forecast run, or alone)."""

from __future__ import annotations

from celery import shared_task

from sop import services


@shared_task(name="sop.plan_run_reconcile", acks_late=True)
def plan_run_reconcile_task(plan_run_id: int) -> None:
    """Idempotent: a finished plan run is left alone; the service records failures on the run."""
    services.plan_run_execute(run_id=plan_run_id)
