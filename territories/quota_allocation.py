"""Quota maths: exact top-down splits, seasonality, new-hire ramp and bottom-up roll-up.

Exact splitting (largest remainder)
-----------------------------------
:func:`allocate_exact` splits ``target`` into parts proportional to ``weights`` in whole
multiples of ``quantum`` (``Decimal("0.01")`` for money, ``1`` for units) so that the parts
sum to ``target`` exactly:

1. every part gets ``floor(T × w_i / W)`` quanta, ``T = target / quantum`` (must be whole);
2. the quanta left over (fewer than the number of parts) go one each to the parts with the
   largest remainders ``T × w_i mod W``;
3. ties go to the part listed first (the caller's order decides; :func:`allocate_top_down`
   orders by ``owner`` for that purpose), so the result is deterministic.

Weights are converted exactly (``Decimal``/``int``/``Fraction``; ``float`` through its
``repr``), and all arithmetic is on Python integers, so there is no rounding drift.
Missing weights count as 0 and negative ones are clipped to 0 (a part whose history is net
returns gets no share). **Fallback**: when no weight is positive, the split is even.
A negative target is split like its absolute value and negated.
Results are ``int`` when both ``target`` and ``quantum`` are ``int``, else ``Decimal`` with
the quantum's decimal places.

Example: 1,000,000 over weights 1/3, 1/3, 1/3 with quantum 1 -> 333,334 + 333,333 + 333,333.

Other functions
---------------
:func:`allocate_top_down` — a company/region target over owners by ``even``, ``history``,
    ``forecast`` or ``potential`` share (columns of the same names).
:func:`seasonality_weights` — 12 monthly weights from history, summing to exactly 1.
:func:`spread_by_season` — an annual quota over monthly periods by those weights, exact.
:func:`apply_ramp` — new-hire ramp (e.g. 25/50/75/100 %) on a rep's monthly quotas.
:func:`roll_up_quotas` — bottom-up sums over the territory tree and the gap to a target.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from core.calendar import month_ordinal, month_ordinals
from territories.hierarchy import ancestor_pairs
from territories.money import (
    HUNDRED,
    ZERO,
    decimal_column,
    is_missing,
    quantize,
    sum_decimals,
    to_decimal,
)

Number = Decimal | int

EVEN = "even"
HISTORY = "history"
FORECAST = "forecast"
POTENTIAL = "potential"
BASES = (EVEN, HISTORY, FORECAST, POTENTIAL)

DEFAULT_RAMP_PCT: tuple[int, ...] = (25, 50, 75, 100)
WEIGHT_QUANTUM = Decimal("0.000000001")


def _fraction(value: object) -> Fraction:
    if isinstance(value, Fraction):
        return value
    return Fraction(to_decimal(value))


def allocate_exact(target: Number, weights: Sequence[object], *, quantum: Number) -> list[Number]:
    """Split ``target`` over ``weights`` exactly (largest remainder); see the module docstring.

    Returns one amount per weight, in the same order, summing exactly to ``target``.
    """
    count = len(weights)
    if count == 0:
        if to_decimal(target) != 0:
            raise ValueError("cannot split a non-zero target over no parts")
        return []
    q = to_decimal(quantum)
    if q <= 0:
        raise ValueError("quantum must be positive")
    total = to_decimal(target)
    steps = total / q
    if steps != steps.to_integral_value():
        raise ValueError(f"target {target} is not a whole multiple of quantum {quantum}")
    units = int(steps)
    sign = -1 if units < 0 else 1
    units = abs(units)

    fractions = [Fraction(0) if is_missing(w) else max(_fraction(w), Fraction(0)) for w in weights]
    if not any(fractions):
        fractions = [Fraction(1)] * count  # documented fallback: even split
    common = math.lcm(*(f.denominator for f in fractions))
    ints = [f.numerator * (common // f.denominator) for f in fractions]
    whole = sum(ints)

    base = [units * w // whole for w in ints]
    remainder = [units * w - b * whole for w, b in zip(ints, base)]
    left = units - sum(base)
    # Largest remainder first; ties to the earlier part.
    for index in sorted(range(count), key=lambda i: (-remainder[i], i))[:left]:
        base[index] += 1

    as_int = isinstance(target, int | np.integer) and isinstance(quantum, int | np.integer)
    if as_int:
        return [sign * b * int(quantum) for b in base]
    return [Decimal(sign * b) * q for b in base]


def allocation_weights(parts: pd.DataFrame, *, basis: str) -> tuple[pd.Series, str]:
    """Weights for a basis and the basis actually used (``even`` on fallback).

    ``parts`` needs the column named by ``basis`` (``history``, ``forecast``, ``potential``)
    unless ``basis`` is ``even``. Returns ``(Decimal weights, basis_used)``; negative and
    missing values become 0, and when none is positive the split falls back to ``even``.
    """
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}; got {basis!r}")
    if basis != EVEN:
        weights = decimal_column(parts[basis]).map(lambda d: max(d, ZERO))
        if any(w > 0 for w in weights):
            return weights, basis
    return pd.Series([Decimal(1)] * len(parts), index=parts.index, dtype=object), EVEN


def allocate_top_down(target: Number, parts: pd.DataFrame, *, basis: str, quantum: Number) -> pd.DataFrame:
    """Split a company/region ``target`` over ``parts`` by ``basis``.

    ``parts`` columns: ``owner`` (unique rep username or territory code) and the basis column
    (``history``, ``forecast`` or ``potential``; not needed for ``even``). Ties in the
    largest-remainder step go to the smaller ``owner``.

    Returns ``parts`` (same order) plus ``weight`` (``Decimal``), ``share_pct`` (weight / total
    × 100, rounded to 0.01 for display only), ``amount`` (exact; sums to ``target``) and
    ``basis_used`` (``even`` when the requested basis had no positive weight).
    """
    if parts["owner"].duplicated().any():
        raise ValueError("owner must be unique among parts")
    weights, used = allocation_weights(parts, basis=basis)
    order = np.argsort(parts["owner"].astype(str).to_numpy(), kind="stable")
    amounts_sorted = allocate_exact(target, list(weights.iloc[order]), quantum=quantum)
    amounts: list[Number] = [0] * len(parts)
    for position, amount in zip(order, amounts_sorted):
        amounts[position] = amount
    total = sum_decimals(weights)
    out = parts.copy()
    out["weight"] = weights.to_numpy()
    out["share_pct"] = [quantize(w * HUNDRED / total, Decimal("0.01")) for w in weights]
    out["amount"] = pd.Series(amounts, index=parts.index, dtype=object)
    out["basis_used"] = used
    return out


# ---------------------------------------------------------------------------------------------
# Seasonality
# ---------------------------------------------------------------------------------------------


def seasonality_weights(
    history: pd.DataFrame,
    *,
    first_month: dt.date,
    last_month: dt.date,
    quantum: Decimal = WEIGHT_QUANTUM,
) -> pd.Series:
    """Monthly seasonality weights from history, summing to exactly 1.

    ``history`` columns: ``period_start`` (any day of the month), ``amount`` (``Decimal``);
    rows outside ``[first_month, last_month]`` (by month) are ignored, and a month of the window
    without rows counts as zero sales — so pass the window the history really covers. The
    window must span at least 12 months.

    Weight of calendar month m ∝ mean amount of month m over its occurrences in the window
    (a mean, so a window of 18 months does not over-weight the months seen twice), negative
    means clipped to 0; when nothing is positive the weights are flat. Weights are rounded to
    ``quantum`` (default 1e-9, fine enough that spreading a quota of millions by them lands on
    the exact cents) by largest remainder, so they sum to exactly 1.

    Returns a ``Decimal`` Series indexed by month number 1..12.
    """
    first, last = month_ordinal(first_month), month_ordinal(last_month)
    if last - first + 1 < 12:
        raise ValueError("seasonality needs a window of at least 12 months")
    window = np.arange(first, last + 1)
    occurrences = np.bincount(window % 12, minlength=12)
    index = month_ordinals(history["period_start"])
    inside = (index >= first) & (index <= last)
    amounts = decimal_column(history["amount"]).to_numpy()[inside]
    sums = [ZERO] * 12
    for month, amount in zip(index[inside] % 12, amounts):
        sums[month] += amount
    means = [Fraction(sums[m]) / int(occurrences[m]) for m in range(12)]  # exact
    weights = allocate_exact(Decimal(1), means, quantum=quantum)
    return pd.Series(weights, index=pd.RangeIndex(1, 13, name="month"), dtype=object)


def spread_by_season(
    annual: Number, periods: Sequence[dt.date], weights: pd.Series, *, quantum: Number
) -> pd.DataFrame:
    """Split an annual quota over monthly ``periods`` by seasonality ``weights``, exactly.

    ``periods``: the first days of the months to fill (usually the 12 of a fiscal year; fewer
    re-normalises the weights over those months). ``weights``: indexed by month 1..12 (the
    output of :func:`seasonality_weights`). Returns ``period_start``, ``amount``; the amounts
    sum to ``annual`` exactly.
    """
    months = [pd.Timestamp(p).month for p in periods]
    amounts = allocate_exact(annual, [weights.get(m, ZERO) for m in months], quantum=quantum)
    return pd.DataFrame(
        {
            "period_start": pd.Series([pd.Timestamp(p).date() for p in periods], dtype=object),
            "amount": pd.Series(amounts, dtype=object),
        }
    )


# ---------------------------------------------------------------------------------------------
# New-hire ramp
# ---------------------------------------------------------------------------------------------


def apply_ramp(
    quotas: pd.DataFrame,
    hires: pd.DataFrame,
    *,
    ramp_pct: Sequence[object] = DEFAULT_RAMP_PCT,
    quantum: Number,
) -> pd.DataFrame:
    """Reduce new hires' monthly quotas by the ramp.

    ``quotas`` columns: ``owner``, ``period_start`` (first day of a month), ``amount``.
    ``hires`` columns: ``owner``, ``hire_date`` (missing = not a new hire).

    Month 1 of the ramp is the month that contains the hire date; month k of the ramp gets
    ``ramp_pct[k-1]`` % of the quota, months after the ramp 100 %, months before the hire
    0 %. With the default ``(25, 50, 75, 100)`` a rep hired on 10 March gets 25 % in March,
    50 % in April, 75 % in May, 100 % from June. Owners without a hire date get 100 %.
    Ramped amounts are rounded half up to ``quantum`` (they are not re-spread: the plan total
    falls by what the ramp takes, and the bottom-up roll-up shows that gap).

    Returns ``quotas`` (same order) plus ``full_amount`` (the input amount), ``ramp_pct``
    (``Decimal``) and ``amount`` (ramped).
    """
    steps = [to_decimal(p) for p in ramp_pct]
    hire_of = hires.dropna(subset=["hire_date"]).drop_duplicates("owner", keep="last")
    hire_dates = quotas["owner"].map(hire_of.set_index("owner")["hire_date"])
    hired = pd.to_datetime(hire_dates.astype(object))
    period = pd.to_datetime(quotas["period_start"].astype(object))
    month_number = ((period.dt.year - hired.dt.year) * 12 + (period.dt.month - hired.dt.month)).to_numpy(
        dtype="float64"
    )
    table = np.array([Decimal(0), *steps, HUNDRED], dtype=object)
    position = np.where(np.isnan(month_number), len(steps) + 1, np.clip(month_number + 1, 0, len(steps) + 1)).astype(
        "int64"
    )
    pct = table[position]
    q = to_decimal(quantum)
    full = decimal_column(quotas["amount"])
    ramped = [quantize(a * p / HUNDRED, q) for a, p in zip(full, pct)]
    as_int = isinstance(quantum, int | np.integer)
    out = quotas.copy()
    out["full_amount"] = full.to_numpy()
    out["ramp_pct"] = pd.Series(pct, index=quotas.index, dtype=object)
    out["amount"] = pd.Series([int(r) if as_int else r for r in ramped], index=quotas.index, dtype=object)
    return out


# ---------------------------------------------------------------------------------------------
# Bottom-up roll-up
# ---------------------------------------------------------------------------------------------

ROLL_UP_COLUMNS = ["territory_code", "parent_code", "depth", "own_amount", "rolled_up"]


def roll_up_quotas(
    tree: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    targets: pd.DataFrame | None = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Bottom-up quota per node of the territory tree and its gap to a top-down target.

    ``tree`` columns: ``code``, ``parent_code`` (missing for roots); any depth.
    ``quotas`` columns: ``territory_code``, ``amount`` (``Decimal``) and the ``by`` columns
    (e.g. ``period_start``, ``measure``, ``family_code``).
    ``targets`` (optional) columns: ``territory_code``, ``target`` and the ``by`` columns.

    Returns one row per node (× ``by`` key) with ``territory_code``, ``parent_code``,
    ``depth`` (0 = root), the ``by`` columns, ``own_amount`` (quotas booked on the node
    itself), ``rolled_up`` (own + every descendant's), ``target`` (``None`` when not set) and
    ``gap = target − rolled_up`` (positive: the bottom-up plan falls short of the target;
    ``None`` without a target). Without ``by`` every node appears (zeros where nothing rolls
    up); with ``by`` a node × key row appears when its subtree has a quota or it has a target
    for that key. Sorted by ``depth``, ``territory_code``, then ``by``.
    """
    keys = list(by)
    nodes = tree[["code", "parent_code"]].copy()
    pairs = ancestor_pairs(nodes, child="code", parent="parent_code")
    depth = pairs.groupby("node")["distance"].max()
    unknown = ~quotas["territory_code"].isin(nodes["code"])
    if unknown.any():
        missing = sorted(quotas.loc[unknown, "territory_code"].astype(str).unique())
        raise ValueError(f"quota territory not in the tree: {', '.join(missing)}")

    booked = quotas[["territory_code", *keys]].copy()
    booked["amount"] = decimal_column(quotas["amount"]).to_numpy()
    spread = booked.merge(pairs, left_on="territory_code", right_on="node")
    rolled = spread.groupby(["ancestor", *keys], sort=False)["amount"].sum()
    own = booked.groupby(["territory_code", *keys], sort=False)["amount"].sum()
    rolled.index = rolled.index.set_names(["territory_code", *keys])

    frames = [rolled.rename("rolled_up"), own.rename("own_amount")]
    if targets is not None:
        target_rows = targets[["territory_code", *keys]].copy()
        target_rows["target"] = decimal_column(targets["target"]).to_numpy()
        target_rows = target_rows.loc[targets["target"].notna().to_numpy()]
        frames.append(target_rows.groupby(["territory_code", *keys])["target"].sum())
    out = pd.concat(frames, axis=1)
    if not keys:
        out = out.reindex(pd.Index(nodes["code"], name="territory_code"))
    out = out.reset_index()
    out["own_amount"] = decimal_column(out["own_amount"]).to_numpy()
    out["rolled_up"] = decimal_column(out["rolled_up"]).to_numpy()
    if "target" not in out.columns:
        out["target"] = None
    out["target"] = out["target"].astype(object).where(out["target"].notna(), None)
    out["gap"] = [None if t is None else t - r for t, r in zip(out["target"], out["rolled_up"])]
    parent_of = nodes.set_index("code")["parent_code"]
    out["parent_code"] = out["territory_code"].map(parent_of).astype(object)
    out["parent_code"] = out["parent_code"].where(out["parent_code"].notna(), None)
    out["depth"] = out["territory_code"].map(depth).astype("int64")
    columns = ["territory_code", "parent_code", "depth", *keys, "own_amount", "rolled_up"]
    out = out[[*columns, "target", "gap"]]
    return out.sort_values(["depth", "territory_code", *keys], kind="stable").reset_index(drop=True)
