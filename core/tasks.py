"""Core Celery tasks."""

from celery import shared_task

from core.services import audit_record


@shared_task(name="core.heartbeat")
def heartbeat_task(token: str) -> None:
    """Record that a worker ran: used by the health check test and operators."""
    audit_record(actor=None, action="celery.heartbeat", actor_label=token)
