"""Effective-dated ownership and sales crediting.

Date convention (same as the models): an interval is ``[valid_from, valid_to]`` with
``valid_to`` **inclusive** (the last day) and missing for open-ended. Moving an account on
1 July therefore closes the old row with ``valid_to = 30 June`` and opens the new one with
``valid_from = 1 July``. Dates in: ``datetime.date`` or anything ``pd.to_datetime`` reads;
dates out: ``datetime.date`` (``None`` when missing).

Inputs
------
``history`` (account ownership): ``account_id``, ``territory_code``, ``valid_from``,
    ``valid_to``. Intervals of one account should not overlap; where they do, the row with the
    latest ``valid_from`` on or before the date wins (so a new assignment supersedes an old
    one that was never closed).
``lines`` (order lines): ``line_id``, ``account_id``, ``order_date``, ``quantity``, ``amount``
    (``Decimal``; returns are negative), optional ``status`` (``cancelled`` lines are dropped
    from crediting), optional ``territory_code`` (owner on the order date, as stored on
    ``SalesOrderLine``; else add it with :func:`territory_on_dates`). Other columns pass
    through (product, family, ...).
``assignments`` (reps on territories): ``rep_username``, ``territory_code``, ``role``
    (``primary``/``overlay``), ``share`` (percent, ``Decimal``), ``valid_from``, ``valid_to``.
``managers``: ``username``, ``manager_username`` (missing for the top).

Functions
---------
:func:`territory_on_dates` — owner of each line's account on its order date (:class:`OwnershipIndex`).
:func:`territories_as_of` — owner of every account on one date.
:func:`primary_share_errors` — intervals where a territory's primary shares are not 100 %.
:func:`rep_counts_as_of` — reps per territory on one date (for workload).
:func:`credit_lines` — credit rows: line × rep valid on the order date × share.
:func:`roll_up_credits` — the same credit rows repeated for every manager above the rep.

Crediting is exact: ``credited = line × share / 100`` in ``Decimal`` with no rounding (a 2-dp
amount times a 2-dp share is exact to 6 dp), so the primary credits of a line always add up to
the line. Overlay credits are additive on top of the primaries (they do not reduce them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd

from territories.hierarchy import ancestor_pairs
from territories.money import HUNDRED, decimal_column, format_decimal, to_decimal

PRIMARY = "primary"
OVERLAY = "overlay"
CANCELLED = "cancelled"
_NS = "datetime64[ns]"


def as_timestamps(values: pd.Series) -> pd.Series:
    """Dates as ``datetime64[ns]`` (missing -> ``NaT``), keeping the index."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype(_NS)
    return pd.to_datetime(values.astype(object)).astype(_NS)


def as_dates(values: pd.Series) -> pd.Series:
    """Timestamps as ``datetime.date`` objects, ``None`` when missing."""
    stamps = as_timestamps(values)
    days = stamps.dt.date.astype(object)
    return days.where(stamps.notna(), None)


class OwnershipIndex:
    """Ownership intervals prepared for fast "who owned account *a* on day *d*" look-ups.

    Built once from ``account``/``valid_from``/``valid_to`` arrays (any hashable account key;
    dates as anything numpy reads as ``datetime64[D]``, ``valid_to`` NaT when open-ended);
    :meth:`positions` answers a whole batch with one binary search (``np.searchsorted`` on a
    combined account × day key). Among intervals starting on or before the day, the latest
    start wins; between equal starts, the later row in the given order. Used by crediting
    (:func:`territory_on_dates`) and by the sales-line ingestion, which keeps one per process.
    """

    _SHIFT = np.int64(1 << 32)
    _OFFSET = np.int64(1 << 31)

    def __init__(self, accounts, valid_from, valid_to):
        accounts = np.asarray(accounts)
        start = np.asarray(valid_from, dtype="datetime64[D]").astype("int64")
        end = np.asarray(valid_to, dtype="datetime64[D]")
        if np.isnat(start.astype("datetime64[D]")).any():
            raise ValueError("every ownership row needs a valid_from")
        self.keys = pd.Index(pd.unique(accounts))
        codes = self.keys.get_indexer(accounts).astype("int64")
        order = np.lexsort((np.arange(len(codes)), start, codes))  # account, start, then row order
        self.rows = order
        self.codes = codes[order]
        self.combined = self.codes * self._SHIFT + (start[order] + self._OFFSET)
        self.open_ended = np.isnat(end[order])
        self.end = np.where(self.open_ended, 0, end[order].astype("int64"))

    def positions(self, accounts, days) -> np.ndarray:
        """Row (in the order given to the constructor) of the interval covering each
        (account, day), or -1."""
        days = np.asarray(days, dtype="datetime64[D]")
        if not len(self.rows) or not len(days):
            return np.full(len(days), -1, dtype="int64")
        codes = self.keys.get_indexer(np.asarray(accounts)).astype("int64")
        when = days.astype("int64")
        found = np.searchsorted(self.combined, codes * self._SHIFT + (when + self._OFFSET), side="right") - 1
        at = found.clip(0)
        covered = (
            (found >= 0)
            & (codes >= 0)
            & ~np.isnat(days)
            & (self.codes[at] == codes)
            & (self.open_ended[at] | (when <= self.end[at]))
        )
        return np.where(covered, self.rows[at], -1)


def territory_on_dates(lines: pd.DataFrame, history: pd.DataFrame, *, date_column: str = "order_date") -> pd.DataFrame:
    """``lines`` with ``territory_code`` set to the account's owner on ``date_column``.

    ``None`` where no ownership interval covers the date. Row order and index are kept; an
    existing ``territory_code`` column is replaced. Between intervals of one account starting
    on the same day, the one with the greater territory code wins (deterministic).
    """
    when = as_timestamps(lines[date_column])
    if when.isna().any():
        raise ValueError(f"every line needs a {date_column}")
    history = history.assign(_from=as_timestamps(history["valid_from"]), _to=as_timestamps(history["valid_to"]))
    if history["_from"].isna().any():
        raise ValueError("every ownership row needs a valid_from")
    history = history.sort_values(["_from", "territory_code"], kind="stable")
    index = OwnershipIndex(
        history["account_id"].astype(object).to_numpy(), history["_from"].to_numpy(), history["_to"].to_numpy()
    )
    found = index.positions(lines["account_id"].astype(object).to_numpy(), when.to_numpy())
    codes = history["territory_code"].astype(object).to_numpy()
    owner = np.where(found >= 0, codes[found.clip(0)] if len(codes) else None, None)
    out = lines.copy()
    out["territory_code"] = pd.Series(owner, index=lines.index, dtype=object)
    return out


def territories_as_of(history: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Owner of every account in ``history`` on ``as_of``.

    Returns ``account_id``, ``territory_code`` (``None`` when no interval covers ``as_of``),
    one row per account, sorted by ``account_id``.
    """
    accounts = pd.DataFrame({"account_id": pd.unique(history["account_id"])})
    accounts["order_date"] = pd.Timestamp(as_of)
    owned = territory_on_dates(accounts, history)
    return owned[["account_id", "territory_code"]].sort_values("account_id").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Rep assignments
# ---------------------------------------------------------------------------------------------

SHARE_ERROR_COLUMNS = ["territory_code", "valid_from", "valid_to", "total_share", "message"]


def _scaled_integers(values: pd.Series) -> tuple[np.ndarray, int]:
    """Decimals as exact integers times ``10**-places`` (one common ``places``)."""
    decimals = [to_decimal(v) for v in values]
    places = max([0] + [-int(d.as_tuple().exponent) for d in decimals])
    return np.array([int(d.scaleb(places)) for d in decimals], dtype=object), places


def primary_share_errors(assignments: pd.DataFrame, *, allow_vacancies: bool) -> pd.DataFrame:
    """Every interval in which a territory's primary shares do not total exactly 100 %.

    ``assignments`` columns: ``territory_code``, ``role``, ``share``, ``valid_from``,
    ``valid_to``; optional ``rep_username`` (named in the message). Overlay rows are ignored.

    A gap with no primary at all between two staffed intervals (total 0 %) is an error unless
    ``allow_vacancies``; the open end after a territory's last primary row ends is never one.
    Intervals are cut wherever a primary row starts or ends (so each message names the reps
    of exactly that interval, e.g. a handover at an unchanged wrong total gives two rows).

    Returns ``SHARE_ERROR_COLUMNS``: ``territory_code``, ``valid_from``, ``valid_to``
    (inclusive; ``None`` = open-ended), ``total_share`` (``Decimal`` percent), ``message``, e.g.
    ``"Territory T1: primary credit shares total 90 % from 2025-01-01 to 2025-06-30 (alice
    60 %, bob 30 %); they must total exactly 100 %."``. Empty frame = valid. Sorted by
    territory then date.
    """
    primaries = assignments.loc[assignments["role"].astype(str).str.casefold() == PRIMARY].copy()
    if primaries.empty:
        return pd.DataFrame(columns=SHARE_ERROR_COLUMNS)
    starts = as_timestamps(primaries["valid_from"])
    ends = as_timestamps(primaries["valid_to"])
    if starts.isna().any():
        raise ValueError("every assignment needs a valid_from")
    if (ends.notna() & (ends < starts)).any():
        raise ValueError("valid_to must not be before valid_from")
    shares, places = _scaled_integers(primaries["share"])
    full = 100 * 10**places
    one_day = pd.Timedelta(days=1)

    # +share on the first day, -share on the day after the last: the running total per
    # territory is the sum of shares in force from that change point to the next.
    territory = primaries["territory_code"].astype(str).to_numpy()
    closed = ends.notna().to_numpy()
    events = pd.DataFrame(
        {
            "territory_code": np.concatenate([territory, territory[closed]]),
            "day": np.concatenate([starts.to_numpy(), (ends[closed] + one_day).to_numpy()]),
            "delta": np.concatenate([shares, -shares[closed]]),
        }
    )
    events = events.groupby(["territory_code", "day"], sort=True, as_index=False)["delta"].sum()
    events["total"] = events.groupby("territory_code")["delta"].transform(lambda d: d.astype(object).cumsum())
    next_day = events.groupby("territory_code")["day"].shift(-1)
    is_last = next_day.isna()
    events["valid_to"] = next_day - one_day
    bad = events["total"] != full
    bad &= ~(is_last & (events["total"] == 0))  # after the last primary row ends
    if allow_vacancies:
        bad &= events["total"] != 0
    errors = events.loc[bad].reset_index(drop=True)

    has_reps = "rep_username" in primaries.columns
    rows = []
    for error in errors.itertuples(index=False):  # errors are few; assignments are few
        total = _from_scaled(error.total, places)
        start = error.day.date()
        end = None if pd.isna(error.valid_to) else error.valid_to.date()
        period = f"from {start} to {end}" if end else f"from {start} onwards"
        reps = ""
        if has_reps:
            active = (primaries["territory_code"].astype(str) == error.territory_code) & (starts <= error.day)
            active &= ends.isna() | (ends >= error.day)
            names = [
                f"{rep} {format_decimal(to_decimal(share))} %"
                for rep, share in sorted(
                    zip(primaries.loc[active, "rep_username"], primaries.loc[active, "share"]),
                    key=lambda pair: str(pair[0]),
                )
            ]
            reps = f" ({', '.join(names)})" if names else " (no primary rep)"
        message = (
            f"Territory {error.territory_code}: primary credit shares total "
            f"{format_decimal(total)} % {period}{reps}; they must total exactly 100 %."
        )
        rows.append((error.territory_code, start, end, total, message))
    return pd.DataFrame(rows, columns=SHARE_ERROR_COLUMNS).astype(object)


def _from_scaled(value: int, places: int) -> Decimal:
    return Decimal(int(value)).scaleb(-places)


def rep_counts_as_of(assignments: pd.DataFrame, *, as_of: dt.date, roles: tuple[str, ...] = (PRIMARY,)) -> pd.DataFrame:
    """Distinct reps per territory on ``as_of`` (``role`` in ``roles``).

    Returns ``territory_code``, ``reps`` (int), only territories with at least one rep.
    """
    day = pd.Timestamp(as_of)
    starts, ends = as_timestamps(assignments["valid_from"]), as_timestamps(assignments["valid_to"])
    live = (starts <= day) & (ends.isna() | (ends >= day))
    live &= assignments["role"].astype(str).str.casefold().isin([r.casefold() for r in roles])
    counts = assignments.loc[live].groupby("territory_code")["rep_username"].nunique()
    return counts.rename("reps").reset_index().astype({"reps": "int64"})


# ---------------------------------------------------------------------------------------------
# Crediting
# ---------------------------------------------------------------------------------------------


def credit_lines(lines: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """One credit row per (line, rep assigned to the line's territory on its order date).

    ``lines`` need ``territory_code`` (owner on the order date; see :func:`territory_on_dates`).
    Cancelled lines (``status == "cancelled"``) and lines without a territory or without a rep
    on the date get no credit rows.

    Returns every ``lines`` column, with ``quantity`` and ``amount`` replaced by the credited
    values (``line × share / 100``, exact ``Decimal``) and the line's own values kept as
    ``line_quantity`` and ``line_amount``, plus ``rep_username``, ``role``, ``share``. Sorted by
    ``line_id`` then ``role`` (primary first) then ``rep_username``.
    """
    work = lines
    if "status" in work.columns:
        work = work.loc[work["status"].astype(str).str.casefold() != CANCELLED]
    work = work.loc[work["territory_code"].notna()].copy()
    work["_on"] = as_timestamps(work["order_date"])
    work["territory_code"] = work["territory_code"].astype(str)
    reps = pd.DataFrame(
        {
            "territory_code": assignments["territory_code"].astype(str).to_numpy(),
            "rep_username": assignments["rep_username"].to_numpy(dtype=object),
            "role": assignments["role"].astype(str).str.casefold().to_numpy(dtype=object),
            "share": decimal_column(assignments["share"]).to_numpy(),
            "_from": as_timestamps(assignments["valid_from"]).to_numpy(),
            "_to": as_timestamps(assignments["valid_to"]).to_numpy(),
        }
    )
    # Territories have a handful of assignment rows over time, so the merge stays small.
    credits = work.merge(reps, on="territory_code", how="inner", suffixes=("", "_assignment"))
    on_date = (credits["_from"] <= credits["_on"]) & (credits["_to"].isna() | (credits["_on"] <= credits["_to"]))
    credits = credits.loc[on_date].drop(columns=["_on", "_from", "_to"])
    credits["line_quantity"] = decimal_column(credits["quantity"])
    credits["line_amount"] = decimal_column(credits["amount"])
    factor = credits["share"] / HUNDRED
    credits["quantity"] = credits["line_quantity"] * factor
    credits["amount"] = credits["line_amount"] * factor
    credits["_role_order"] = (credits["role"] != PRIMARY).astype(int)
    credits = credits.sort_values(["line_id", "_role_order", "rep_username"], kind="stable")
    return credits.drop(columns="_role_order").reset_index(drop=True)


def primary_share_totals_off(credits: pd.DataFrame) -> pd.Series:
    """Total primary share per ``line_id`` of the credit rows (:func:`credit_lines`) whose
    primary shares do not add up to exactly 100 % (empty when every line is whole)."""
    primary = credits.loc[credits["role"] == PRIMARY]
    totals = primary.groupby("line_id", sort=True)["share"].sum()
    return totals[totals != HUNDRED]


def roll_up_credits(credits: pd.DataFrame, managers: pd.DataFrame) -> pd.DataFrame:
    """Credit rows for the rep and everyone above them in the manager chain.

    ``managers`` columns: ``username``, ``manager_username``. Returns the ``credits`` columns
    plus ``credited_to`` (the rep themself at ``distance`` 0, their manager at 1, ...) and
    ``distance``. Reps absent from ``managers`` are credited to themselves only. The role is
    kept, so a manager's primary-role rows add up to each line at most once, while overlay rows
    stay separable.
    """
    people = managers[["username", "manager_username"]].copy()
    known = set(people["username"])
    extra = [r for r in pd.unique(credits["rep_username"]) if r not in known]
    if extra:
        people = pd.concat(
            [people, pd.DataFrame({"username": extra, "manager_username": None})],
            ignore_index=True,
        )
    chain = ancestor_pairs(people, child="username", parent="manager_username")
    chain = chain.rename(columns={"node": "rep_username", "ancestor": "credited_to"})
    out = credits.merge(chain, on="rep_username", how="inner")
    return out.sort_values(["credited_to", "line_id", "rep_username"], kind="stable").reset_index(drop=True)
