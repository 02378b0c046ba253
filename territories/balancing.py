"""Balancing report: how evenly accounts, revenue, forecast, potential and workload are spread
over territories, and account moves between neighbouring territories that even it out.

Inputs
------
``territories``: ``code``, ``parent_code`` (missing for roots), ``reps`` (number of primary
    reps; ``ownership.rep_counts_as_of`` gives it; missing = 0). Pass the territories to
    balance, usually the leaves of a manager's subtree.
``accounts``: ``account_id`` (unique), ``territory_code`` (owner today), ``revenue_l12m``,
    ``forecast_n12m``, ``potential`` (``Decimal``, missing = 0), optional
    ``exclude_from_realignment`` (bool; such accounts are never suggested for a move).
    Accounts of territories not in ``territories`` are ignored.

Measures (``MEASURES``)
-----------------------
``accounts`` (count), ``revenue_l12m``, ``forecast_n12m``, ``potential`` (``Decimal``) and
``workload`` = accounts per rep (``Decimal`` rounded half up to 0.01; ``None`` when a territory
has no rep — such territories are left out of the workload spread and moves). The
``potential`` column of the report is configurable with ``potential_source``: the imported
``potential`` field, or ``revenue_l12m`` or ``forecast_n12m`` used as potential.

Spread = max − min of the measure over the territories in the report.

Suggested moves (:func:`suggest_moves`)
---------------------------------------
Greedy, one account at a time, only between neighbouring territories (siblings: same
``parent_code``; roots are siblings of each other). At each step every (donor, receiver)
sibling pair with donor above receiver is tried with every movable account of the donor;
the move kept is the one with the lowest resulting spread, ties broken by the largest fall in
the sum of squared values (the imbalance). A move is only suggested when it lowers the spread,
or keeps it and lowers the imbalance (needed when several territories share the maximum).
Each account is moved at most once. Stops after ``max_moves`` or when nothing improves.
Candidates are ranked in float (numpy, vectorised over a donor's accounts); the spreads
reported are recomputed exactly in ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from territories.money import ZERO, decimal_column, quantize

ACCOUNTS = "accounts"
REVENUE = "revenue_l12m"
FORECAST = "forecast_n12m"
POTENTIAL = "potential"
WORKLOAD = "workload"
MEASURES = (ACCOUNTS, REVENUE, FORECAST, POTENTIAL, WORKLOAD)
POTENTIAL_SOURCES = (POTENTIAL, REVENUE, FORECAST)
WORKLOAD_QUANTUM = Decimal("0.01")

REPORT_COLUMNS = [
    "territory_code",
    "parent_code",
    "accounts",
    "reps",
    "revenue_l12m",
    "forecast_n12m",
    "potential",
    "workload",
]
MOVE_COLUMNS = [
    "step",
    "account_id",
    "from_territory_code",
    "to_territory_code",
    "account_value",
    "from_before",
    "from_after",
    "to_before",
    "to_after",
    "spread_before",
    "spread_after",
]


def _prepare(
    territories: pd.DataFrame, accounts: pd.DataFrame, potential_source: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if potential_source not in POTENTIAL_SOURCES:
        raise ValueError(f"potential_source must be one of {', '.join(POTENTIAL_SOURCES)}")
    if territories["code"].duplicated().any():
        raise ValueError("territory codes must be unique")
    if accounts["account_id"].duplicated().any():
        raise ValueError("account_id must be unique")
    terr = pd.DataFrame(
        {
            "territory_code": territories["code"].astype(str).to_numpy(dtype=object),
            "parent_code": territories["parent_code"].astype(object).to_numpy(),
        }
    )
    terr["parent_code"] = terr["parent_code"].where(terr["parent_code"].notna(), None)
    reps = territories["reps"] if "reps" in territories.columns else pd.Series(0, territories.index)
    terr["reps"] = reps.fillna(0).astype("int64").to_numpy()

    acc = pd.DataFrame(
        {
            "account_id": accounts["account_id"].to_numpy(dtype=object),
            "territory_code": accounts["territory_code"].astype(object).to_numpy(),
            REVENUE: decimal_column(accounts[REVENUE]).to_numpy(),
            FORECAST: decimal_column(accounts[FORECAST]).to_numpy(),
            POTENTIAL: decimal_column(accounts[potential_source]).to_numpy(),
        }
    )
    excluded = accounts.get("exclude_from_realignment")
    acc["movable"] = True if excluded is None else ~excluded.fillna(False).astype(bool).to_numpy()
    acc = acc.loc[acc["territory_code"].isin(terr["territory_code"])].reset_index(drop=True)
    acc["territory_code"] = acc["territory_code"].astype(str)
    return terr, acc


def _workload(accounts: int, reps: int) -> Decimal | None:
    if reps <= 0:
        return None
    return quantize(Decimal(accounts) / Decimal(reps), WORKLOAD_QUANTUM)


def balancing_report(territories: pd.DataFrame, accounts: pd.DataFrame, *, potential_source: str) -> pd.DataFrame:
    """Per territory: ``REPORT_COLUMNS`` (territory order kept).

    ``accounts`` (int), ``reps`` (int), ``revenue_l12m``, ``forecast_n12m``, ``potential``
    (``Decimal`` sums), ``workload`` (accounts per rep, ``Decimal`` or ``None``).
    """
    terr, acc = _prepare(territories, accounts, potential_source)
    grouped = acc.groupby("territory_code")
    out = terr.copy()
    out["accounts"] = out["territory_code"].map(grouped.size()).fillna(0).astype("int64")
    for column in (REVENUE, FORECAST, POTENTIAL):
        sums = grouped[column].agg(lambda values: sum(values, ZERO))
        out[column] = decimal_column(out["territory_code"].map(sums)).to_numpy()
    out["workload"] = pd.Series([_workload(a, r) for a, r in zip(out["accounts"], out["reps"])], dtype=object)
    return out[REPORT_COLUMNS]


def measure_spread(report: pd.DataFrame, *, measure: str) -> Decimal | int | None:
    """max − min of ``measure`` over the report rows (``None`` values left out).

    ``None`` when fewer than one value is present; an ``int`` for ``accounts``.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    values = [v for v in report[measure] if v is not None and not pd.isna(v)]
    if not values:
        return None
    spread = max(values) - min(values)
    return int(spread) if measure == ACCOUNTS else spread


def suggest_moves(
    territories: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    measure: str,
    potential_source: str,
    max_moves: int,
) -> pd.DataFrame:
    """Greedy account moves between sibling territories that reduce the spread of ``measure``.

    Returns ``MOVE_COLUMNS``, one row per suggested move in the order they apply (each
    assumes the earlier ones were made): ``step`` (1, 2, ...), ``account_id``,
    ``from_territory_code``, ``to_territory_code``, ``account_value`` (the account's own value
    of the measure; 1 for ``accounts`` and ``workload``), the two territories' measure
    before/after, and the report-wide ``spread_before``/``spread_after``.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    terr, acc = _prepare(territories, accounts, potential_source)
    codes = terr["territory_code"].tolist()
    position = {code: i for i, code in enumerate(codes)}
    reps = terr["reps"].to_numpy()
    owner = acc["territory_code"].map(position).to_numpy(dtype="int64").copy()
    counts = np.bincount(owner, minlength=len(codes)).tolist()
    if measure in (ACCOUNTS, WORKLOAD):
        own_value = [Decimal(1)] * len(acc)
    else:
        own_value = list(acc[measure])
    sums = pd.Series(own_value, dtype=object).groupby(owner).agg(lambda v: sum(v, ZERO))
    totals = [sums.get(i, ZERO) for i in range(len(codes))]

    def exact(i: int) -> Decimal | int | None:
        if measure == ACCOUNTS:
            return counts[i]
        if measure == WORKLOAD:
            return _workload(counts[i], int(reps[i]))
        return totals[i]

    def exact_spread() -> Decimal | int | None:
        values = [v for v in (exact(i) for i in range(len(codes))) if v is not None]
        return max(values) - min(values) if values else None

    in_play = np.array([measure != WORKLOAD or r > 0 for r in reps], dtype=bool)
    if in_play.sum() < 2:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    per_rep = np.where(reps > 0, 1.0 / np.maximum(reps, 1), 0.0)
    account_float = np.array([float(v) for v in own_value], dtype="float64")
    movable = acc["movable"].to_numpy().copy()
    parent = terr["parent_code"].tolist()
    groups: dict[object, list[int]] = {}
    for i, p in enumerate(parent):
        if in_play[i]:
            groups.setdefault(p, []).append(i)
    pairs = [(d, r) for members in groups.values() for d in members for r in members if d != r]

    def current_values() -> np.ndarray:
        if measure == WORKLOAD:
            return np.array(counts, dtype="float64") * per_rep
        if measure == ACCOUNTS:
            return np.array(counts, dtype="float64")
        return np.array([float(t) for t in totals], dtype="float64")

    rows = []
    for step in range(1, max_moves + 1):
        values = current_values()
        live = np.flatnonzero(in_play)
        spread_now = values[live].max() - values[live].min()
        tolerance = 1e-9 * max(1.0, float(np.abs(values[live]).max()))
        best: tuple[float, float, int, int, int] | None = None
        # Movable accounts of each territory, from one sort per step.
        free = np.flatnonzero(movable)
        free = free[np.argsort(owner[free], kind="stable")]
        bounds = np.searchsorted(owner[free], np.arange(len(codes) + 1))
        for donor, receiver in pairs:
            if values[donor] <= values[receiver]:
                continue
            candidates = free[bounds[donor] : bounds[donor + 1]]
            if not len(candidates):
                continue
            if measure == WORKLOAD:
                take = np.full(len(candidates), per_rep[donor])
                give = np.full(len(candidates), per_rep[receiver])
            else:
                take = give = account_float[candidates]
            donor_after = values[donor] - take
            receiver_after = values[receiver] + give
            others = live[(live != donor) & (live != receiver)]
            high = values[others].max() if len(others) else -np.inf
            low = values[others].min() if len(others) else np.inf
            spread = np.maximum(np.maximum(donor_after, receiver_after), high) - np.minimum(
                np.minimum(donor_after, receiver_after), low
            )
            imbalance = donor_after**2 + receiver_after**2 - values[donor] ** 2 - values[receiver] ** 2
            pick = np.lexsort((imbalance, spread))[0]
            candidate = (float(spread[pick]), float(imbalance[pick]), donor, receiver)
            if best is None or candidate[:2] < best[:2]:
                best = (*candidate, int(candidates[pick]))
        if best is None:
            break
        spread_after_f, imbalance_change, donor, receiver, account = best
        lowers_spread = spread_after_f < spread_now - tolerance
        evens_out = spread_after_f <= spread_now + tolerance and imbalance_change < -tolerance
        if not (lowers_spread or evens_out):
            break
        spread_before = exact_spread()
        donor_before, receiver_before = exact(donor), exact(receiver)
        counts[donor] -= 1
        counts[receiver] += 1
        totals[donor] -= own_value[account]
        totals[receiver] += own_value[account]
        spread_after = exact_spread()
        if spread_before is not None and spread_after is not None and spread_after > spread_before:
            # Float ranking disagreed with exact maths: undo and stop rather than worsen.
            counts[donor] += 1
            counts[receiver] -= 1
            totals[donor] += own_value[account]
            totals[receiver] -= own_value[account]
            break
        owner[account] = receiver
        movable[account] = False
        rows.append(
            (
                step,
                acc.at[account, "account_id"],
                codes[donor],
                codes[receiver],
                1 if measure in (ACCOUNTS, WORKLOAD) else own_value[account],
                donor_before,
                exact(donor),
                receiver_before,
                exact(receiver),
                spread_before,
                spread_after,
            )
        )
    return pd.DataFrame(rows, columns=MOVE_COLUMNS).astype(object)
