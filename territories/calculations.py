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

import numpy as np
import pandas as pd

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


def quota_buildability(quotas: pd.DataFrame, family_plan: pd.DataFrame, *, min_units: float = 1.0) -> pd.DataFrame:
    """Check one quota plan version's family unit quotas against a plan run's feasible quantities.

    ``quotas``: ``family_code``, ``territory_code``, ``period_start``, ``quota_qty`` (the version
    checked, e.g. a draft before it is submitted). ``family_plan``: ``family_code``,
    ``period_start``, ``demand_qty``, ``feasible_qty`` (a finished plan run). As in
    :func:`reconcile`, the family's not-buildable quantity is max(0, min(quota, demand) − feasible)
    and each territory carries its quota share of it. Returns the rows short by more than
    ``min_units``: the quota columns plus ``family_quota_qty``, ``feasible_qty``, ``short_qty``,
    sorted by period, family and territory. Families × periods the run did not plan are left out.
    """
    columns = [
        "family_code",
        "territory_code",
        "period_start",
        "quota_qty",
        "family_quota_qty",
        "feasible_qty",
        "short_qty",
    ]
    if not len(quotas) or not len(family_plan):
        return pd.DataFrame(columns=columns)
    q = quotas[["family_code", "territory_code", "period_start", "quota_qty"]].copy()
    q["quota_qty"] = pd.to_numeric(q["quota_qty"], errors="coerce").fillna(0.0).astype(float)
    q["family_quota_qty"] = q.groupby(["family_code", "period_start"])["quota_qty"].transform("sum")
    fp = family_plan[["family_code", "period_start", "demand_qty", "feasible_qty"]]
    q = q.merge(fp, on=["family_code", "period_start"], how="inner")
    family_short = np.maximum(
        np.fmin(q["family_quota_qty"].to_numpy(float), q["demand_qty"].to_numpy(float))
        - q["feasible_qty"].to_numpy(float),
        0.0,
    )
    family_quota = q["family_quota_qty"].to_numpy(float)
    share = np.divide(q["quota_qty"].to_numpy(float), family_quota, out=np.zeros(len(q)), where=family_quota > 0)
    q["short_qty"] = family_short * share
    out = q[q["short_qty"] > min_units]
    return out.sort_values(["period_start", "family_code", "territory_code"]).reset_index(drop=True)[columns]
