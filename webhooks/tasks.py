"""Celery tasks of webhook deliveries: one attempt per task; retries are new tasks with a
countdown; the sweeper (every minute, from beat) sends whatever is due and was not queued."""

from __future__ import annotations

from celery import shared_task

from webhooks import services


@shared_task(name="webhooks.deliver", bind=True, acks_late=True)
def webhook_deliver_task(self, delivery_id: int) -> None:
    delay = services.delivery_attempt(delivery_id=delivery_id)
    if delay is not None and not self.request.is_eager:
        webhook_deliver_task.apply_async((delivery_id,), countdown=delay)


@shared_task(name="webhooks.sweep")
def webhook_sweep_task() -> None:
    for delivery_id in services.deliveries_due():
        services.delivery_attempt(delivery_id=delivery_id)
