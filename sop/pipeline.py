"""The nightly planning pipeline: a plain ordered list of steps.

Each step takes the run's ``as_of`` date and a progress callback and returns a one-line
summary. Celery beat starts it at night (``sop.tasks.nightly_pipeline_task``); ``make run``
and ``manage.py run_pipeline`` run it in-process once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.services import organisation_settings_get, periods_ensure

Progress = Callable[[str], None]


def periods_step(*, as_of: dt.date, say: Progress) -> str:
    horizon = organisation_settings_get().plan_horizon_periods
    periods = periods_ensure(start=as_of, count=horizon)
    return f"planning periods {periods[0].label} … {periods[-1].label} ready"


def forecast_step(*, as_of: dt.date, say: Progress) -> str:
    from forecasting.models import ForecastRun
    from forecasting.services import forecast_run_create, forecast_run_execute

    run = forecast_run_create(as_of=as_of, trigger=ForecastRun.Trigger.PIPELINE)
    run = forecast_run_execute(run, say=say)
    return (f"forecast run {run.pk} {run.status}: {run.series_done:,} series, "
            f"{run.series_failed:,} failed")


def reconcile_step(*, as_of: dt.date, say: Progress) -> str:
    from sop.models import PlanRun
    from sop.services import plan_run_create, plan_run_execute

    run = plan_run_execute(run_id=plan_run_create(as_of=as_of, trigger=PlanRun.Trigger.PIPELINE).pk, say=say)
    return (f"plan run {run.pk} {run.status}: {run.plan_lines_count:,} plan lines, "
            f"{run.alerts_raised} alerts raised, {run.alerts_resolved} resolved")


def nightly_steps() -> list[Callable[..., str]]:
    return [periods_step, forecast_step, reconcile_step]


def pipeline_run(*, as_of: dt.date, say: Progress = lambda _m: None) -> list[str]:
    summaries = []
    for step in nightly_steps():
        summary = step(as_of=as_of, say=say)
        say(summary)
        summaries.append(summary)
    return summaries
