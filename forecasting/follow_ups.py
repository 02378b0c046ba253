"""What happens when a forecast run ends, decided by whoever started it.

An app above forecasting (``sop``: the plan run that waits for the forecast) names a
follow-up on the run it starts, ``forecast_run_create(follow_up=(name, target_id))``, and
registers the callable under that name when it loads (``AppConfig.ready``). When the run
ends — finished, finished with errors, or failed — forecasting calls it once as
``callback(run, target_id)``. So forecasting never imports the apps that build on it; the run
row records the follow-up (``parameters["follow_up"]``), so any worker can call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

FollowUp = Callable[[object, int], None]

_REGISTRY: dict[str, FollowUp] = {}


def register(name: str, callback: FollowUp) -> None:
    """Make ``callback`` the follow-up called ``name`` (idempotent: ``ready`` may run twice)."""
    _REGISTRY[name] = callback


def as_parameter(follow_up: tuple[str, int] | None) -> dict:
    """The ``parameters`` entry recording ``(name, target_id)`` on a run ({} for none)."""
    if follow_up is None:
        return {}
    name, target_id = follow_up
    if name not in _REGISTRY:
        raise ValueError(f"unknown forecast run follow-up {name!r}")
    return {"follow_up": {"name": name, "id": int(target_id)}}


def call(run) -> None:
    """Call the run's follow-up, if it names one (after the run's end is committed)."""
    entry = (run.parameters or {}).get("follow_up")
    if not entry:
        return
    callback = _REGISTRY.get(entry["name"])
    if callback is None:  # the app that asked for it is not installed in this process
        log.error("forecast run %s: no follow-up registered as %r", run.pk, entry["name"])
        return
    callback(run, entry["id"])
