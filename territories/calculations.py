"""Pure territory and quota maths (no Django): one import point for services and selectors.

The work lives in purpose-named modules, each documenting its input columns, outputs and
conventions:

* ``territories.rules`` — assignment rules over accounts (:func:`match_accounts`) and the
  realignment preview (:func:`realignment_diff`);
* ``territories.ownership`` — effective-dated ownership (``valid_to`` inclusive), primary share
  validation, crediting of order lines to reps and roll-up to managers;
* ``territories.quota_allocation`` — exact top-down splits (largest remainder), seasonality,
  new-hire ramp, bottom-up roll-up over the territory tree;
* ``territories.balancing`` — balancing report and suggested account moves;
* ``territories.attainment`` — credited actuals vs quota, year to date;
* ``territories.money`` — the ``Decimal`` conversion rule shared by all of them.

Money and percentages are ``Decimal`` throughout; every date the maths depends on is a
parameter (``as_of``, ``effective_from``), never "today".
"""

from __future__ import annotations

from territories.attainment import attainment, fiscal_year_start, month_start
from territories.balancing import MEASURES, balancing_report, measure_spread, suggest_moves
from territories.hierarchy import ancestor_pairs
from territories.ownership import (
    credit_lines,
    primary_share_errors,
    rep_counts_as_of,
    roll_up_credits,
    territories_as_of,
    territory_on_dates,
)
from territories.quota_allocation import (
    BASES,
    DEFAULT_RAMP_PCT,
    allocate_exact,
    allocate_top_down,
    allocation_weights,
    apply_ramp,
    roll_up_quotas,
    seasonality_weights,
    spread_by_season,
)
from territories.rules import (
    ASSIGNED,
    CONFLICT,
    KEPT,
    UNASSIGNED,
    match_accounts,
    realignment_diff,
)

__all__ = [
    "ASSIGNED",
    "BASES",
    "CONFLICT",
    "DEFAULT_RAMP_PCT",
    "KEPT",
    "MEASURES",
    "UNASSIGNED",
    "allocate_exact",
    "allocate_top_down",
    "allocation_weights",
    "ancestor_pairs",
    "apply_ramp",
    "attainment",
    "balancing_report",
    "credit_lines",
    "fiscal_year_start",
    "match_accounts",
    "measure_spread",
    "month_start",
    "primary_share_errors",
    "realignment_diff",
    "rep_counts_as_of",
    "roll_up_credits",
    "roll_up_quotas",
    "seasonality_weights",
    "spread_by_season",
    "suggest_moves",
    "territories_as_of",
    "territory_on_dates",
]
