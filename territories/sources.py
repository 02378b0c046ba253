"""What territory performance reads from the apps above territories, handed in as plain
functions when those apps load (``AppConfig.ready``): territories never imports them
(CONTRIBUTING.md, "Which app may import which"). The reads themselves live with the tables
they read, in the providing app's selectors/services.

Provided by ``sales`` (``sales.selectors``, ``sales.services``):

- ``sales_by_territory(start=, end=, territory_ids=None) -> {territory id | None: net amount}``
- ``sales_by_account(start=, end=, account_ids=None) -> {account id: net amount}``
- ``sales_by_month(start=, end=, measure=, path=None) -> DataFrame[period_start, amount]``
- ``family_units_by_month(first=, before=, months=) -> [(month, territory id, family id, family code, qty)]``
- ``daily_sales(start=, end=, measure=) -> DataFrame`` (the attainment actuals)
- ``attainment_lines(user=, owner_kind=, owner=, period_start=, measure=, limit=) -> [dict]``
- ``ownership_moved(moves=, effective_from=)``: accounts (id → territory id) changed owner
  from that day; sales re-stamps the lines ordered on or after it.

Provided by ``forecasting`` (``forecasting.selectors``):

- ``territory_forecast_n12m(as_of=) -> {territory id: Decimal}``

Provided by ``sop`` (``sop.selectors``):

- ``target_not_buildable_alerts(user=, months=) -> [dict]``
- ``family_plan_feasible(months=) -> (plan run | None, DataFrame[family_code, period_start,
  demand_qty, feasible_qty])`` of the latest finished plan run.

Sales lines are always present (the ``sales`` app is part of every installation); a reader
nobody provided raises ``ImproperlyConfigured`` at its first call rather than reading as empty.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

NAMES = (
    "sales_by_territory",
    "sales_by_account",
    "sales_by_month",
    "family_units_by_month",
    "daily_sales",
    "attainment_lines",
    "ownership_moved",
    "territory_forecast_n12m",
    "target_not_buildable_alerts",
    "family_plan_feasible",
)


class _Readers:
    """``READERS.<name>(...)`` calls what an app provided under that name."""

    def __getattr__(self, name: str) -> Callable:
        if name in NAMES:
            raise ImproperlyConfigured(f"No installed app provides {name!r} to territories (territories/sources.py).")
        raise AttributeError(name)


READERS = _Readers()


def provide(**readers: Callable) -> None:
    """Hand territories these readers (idempotent: ``ready`` may run twice)."""
    unknown = set(readers) - set(NAMES)
    if unknown:
        raise ValueError(f"territories reads no {', '.join(sorted(unknown))}")
    for name, reader in readers.items():
        setattr(READERS, name, reader)
