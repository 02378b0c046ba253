"""What the apps above sop add to its plan runs and pages, handed in as callbacks when they
start (``AppConfig.ready``): sop never imports them (DESIGN.md, "Dependencies between apps").

- ``PLAN_ALERT_SOURCES``: ``source(run=, result=) -> DataFrame`` of extra alert candidates
  (``sop.alert_rules.ALERT_COLUMNS``), synced with the run's own so a rerun raises, updates
  and resolves them like every alert.
- ``DEMAND_REVIEW_PANELS``: ``panel(request=, cycle=, filters=) -> {"template": ..., **context}``
  or None, shown under the cycle's demand review.
- ``PRODUCT_PANELS``: ``panel(request=, product=) -> {"template": ..., **context}`` or None,
  shown on the product page.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

PLAN_ALERT_SOURCES: list[Callable[..., pd.DataFrame]] = []
DEMAND_REVIEW_PANELS: list[Callable[..., dict | None]] = []
PRODUCT_PANELS: list[Callable[..., dict | None]] = []


def connect(registry: list, callback: Callable) -> None:
    if callback not in registry:
        registry.append(callback)


def panels(registry: list, **kwargs) -> list[dict]:
    return [panel for panel in (source(**kwargs) for source in registry) if panel]


def with_extra_alerts(alerts: pd.DataFrame, **kwargs) -> pd.DataFrame:
    extra = [frame for frame in (source(**kwargs) for source in PLAN_ALERT_SOURCES) if frame is not None and len(frame)]
    if not extra:
        return alerts
    return pd.concat([alerts, *[frame[list(alerts.columns)] for frame in extra]], ignore_index=True)
