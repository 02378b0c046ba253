"""One horizon: the organisation's planning horizon sets the months both forecast and planned."""

from __future__ import annotations

import pytest

from tests.conftest import AS_OF


@pytest.fixture
def demo24(db):
    from core.services import organisation_settings_get
    from home.demo import seed_demo

    org = organisation_settings_get()
    org.plan_horizon_periods = 24
    org.save()
    return seed_demo(scale="tiny", seed=7, as_of=AS_OF, cycles=False)


def test_a_24_month_setting_forecasts_and_plans_24_months(demo24, django_capture_on_commit_callbacks):
    from forecasting.models import Forecast
    from sop.models import PlanLine, PlanRun
    from sop.services import plan_run_start

    with django_capture_on_commit_callbacks(execute=True):
        run = plan_run_start(as_of=AS_OF, trigger=PlanRun.Trigger.API, forecast=True)
    run.refresh_from_db()
    assert run.status in ("completed", "completed_with_errors"), run.error
    assert run.horizon_periods == 24 and run.forecast_run.horizon == 24
    forecast_months = sorted(
        Forecast.objects.filter(run=run.forecast_run, level="total").values_list("period_start", flat=True)
    )
    assert len(forecast_months) == 24
    plan_months = sorted(set(PlanLine.objects.filter(run=run).values_list("period_start", flat=True)))
    assert plan_months == forecast_months
    # Months 19–24 are planned on the forecast, not on zero demand.
    late = PlanLine.objects.filter(run=run, period_start__in=plan_months[18:])
    assert sum(late.values_list("forecast_qty", flat=True)) > 0
