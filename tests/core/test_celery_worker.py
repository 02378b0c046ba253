"""A real Celery worker process, fed through Redis, writes to PostgreSQL."""

import uuid

import pytest

from core.models import AuditEvent
from tests.services import celery_worker, real_broker, requires_services, wait_for, worker_output


@requires_services
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_and_its_result_lands_in_postgresql():
    from core.tasks import heartbeat_task

    token = f"ci-{uuid.uuid4().hex[:12]}"
    queue = f"test-{token}"
    with celery_worker(queue) as worker, real_broker():
        heartbeat_task.apply_async(args=[token], queue=queue)
        found = wait_for(lambda: AuditEvent.objects.filter(action="celery.heartbeat", actor_label=token).exists())
        if not found:
            pytest.fail(f"worker did not record the heartbeat; its output:\n{worker_output(worker)}")
