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


def nightly_steps() -> list[Callable[..., str]]:
    return [periods_step]


def pipeline_run(*, as_of: dt.date, say: Progress = lambda _m: None) -> list[str]:
    summaries = []
    for step in nightly_steps():
        summary = step(as_of=as_of, say=say)
        say(summary)
        summaries.append(summary)
    return summaries
