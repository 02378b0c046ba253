"""The nightly chain on the real stack: a forecast run on Celery workers hands over to the
reconciliation (``sop.plan_run_reconcile``) through Redis, results land in PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import AS_OF
from tests.services import celery_worker, real_broker, requires_services, wait_for, worker_output


@requires_services
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_started_plan_run_forecasts_then_reconciles_on_real_workers():
    from home.demo import seed_demo
    from sop.models import CapacityAlert, PlanLine, PlanRun
    from sop.services import plan_run_start

    seed_demo(scale="tiny", seed=11, as_of=AS_OF)
    queue = f"test-plan-{uuid.uuid4().hex[:8]}"
    with celery_worker(queue, concurrency=2) as worker, real_broker(queue):
        # No test transaction here: the start commits and its on_commit enqueues the forecast.
        run = plan_run_start(as_of=AS_OF, trigger=PlanRun.Trigger.API, forecast=True)
        done = wait_for(lambda: PlanRun.objects.get(pk=run.pk).status not in ("queued", "running"), timeout=240)
        if not done:
            pytest.fail("plan run did not finish; worker output:\n" + worker_output(worker))
    run.refresh_from_db()
    assert run.status == PlanRun.Status.COMPLETED, (run.error, run.warnings)
    assert run.forecast_run.status in ("completed", "completed_with_errors")
    assert PlanLine.objects.filter(run=run).count() == run.plan_lines_count > 0
    assert CapacityAlert.objects.filter(run=run).exists()
