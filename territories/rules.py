"""Account assignment rules: which territory each account belongs to, and what a realignment
would move.

Inputs
------
``accounts`` (one row per account):
    ``external_id`` (unique), ``country``, ``region``, ``state``, ``postal_code``,
    ``industry`` (text or missing); optional ``territory_code`` (current owner, missing = none)
    and ``exclude_from_realignment`` (bool, missing = False).
``rules`` (one row per rule):
    ``code`` (unique), ``territory_code``, ``priority`` (int, **higher wins**; missing = 0),
    ``named_accounts`` (list/tuple/set of external ids, or missing/empty), ``country``,
    ``region``, ``state``, ``postal_prefix``, ``industry`` (text or missing; an empty
    criterion matches anything); optional ``valid_from`` (date; missing = always).

Conventions
-----------
* Text comparisons ignore case and surrounding/repeated whitespace: both sides are stripped,
  case-folded and inner whitespace runs become one space (``" New  York"`` == ``"new york"``).
  External ids in ``named_accounts`` are compared the same way.
* Postal codes and prefixes are additionally stripped of all spaces and hyphens before the
  prefix test: prefix ``"SW1A"`` matches ``"sw1a 1aa"``, prefix ``"12345"`` matches
  ``"12345-6789"``.
* A rule matches an account when **every** non-empty criterion matches (AND); a rule with no
  criterion at all matches every account (a catch-all). ``named_accounts`` is a criterion:
  the account's external id is in the list.
* Rules whose ``valid_from`` is after ``as_of`` are ignored.
* Named accounts win over geography regardless of priority: when any rule with a non-empty
  ``named_accounts`` matches an account, only such rules are considered for it. Within that
  tier the highest ``priority`` wins.
* Resolution per account (``status``):
  ``kept`` — ``exclude_from_realignment`` is set: ``territory_code`` stays the current one;
  ``unassigned`` — no rule matches: ``territory_code`` is missing;
  ``conflict`` — rules of two or more different territories share the top priority:
  ``territory_code`` is missing (never a silent pick) and ``candidate_territory_codes`` lists
  them for the manager;
  ``assigned`` — otherwise (several top rules of the *same* territory are no conflict).

Output of :func:`match_accounts` (same row order as ``accounts``):
    ``external_id``, ``current_territory_code``, ``territory_code`` (proposed), ``status``,
    ``rule_codes`` (sorted tuple of the winning-tier, top-priority rules that matched; for a
    kept account the rules that would have applied), ``candidate_territory_codes`` (sorted
    tuple of their territories).

Rules are few, accounts many (100k): each criterion is evaluated for all rules at once as a
boolean accounts × rules matrix (factorised codes compared by numpy broadcasting), in row
chunks that bound memory; there is no per-account Python work except building the output
tuples.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from territories.money import decimal_column, is_missing

ASSIGNED = "assigned"
KEPT = "kept"
UNASSIGNED = "unassigned"
CONFLICT = "conflict"

TEXT_CRITERIA = ("country", "region", "state", "industry")
# Cells of the accounts × rules matrix evaluated at once; bounds memory to a few tens of MB.
MATRIX_CELLS = 4_000_000

MATCH_COLUMNS = [
    "external_id",
    "current_territory_code",
    "territory_code",
    "status",
    "rule_codes",
    "candidate_territory_codes",
]


def normalise_text(values: pd.Series) -> pd.Series:
    """Strip, case-fold and collapse inner whitespace; missing -> ``""``."""
    # Normalise each distinct value once: countries, states and industries repeat a lot.
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype(str)
    text = text.str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)
    lookup = np.append(text.to_numpy(dtype=object), "")  # code -1 (missing) -> ""
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def normalise_postal(values: pd.Series) -> pd.Series:
    """:func:`normalise_text` without any spaces or hyphens (``"SW1A 1AA"`` -> ``"sw1a1aa"``)."""
    return normalise_text(values).str.replace(r"[\s\-]", "", regex=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _shared_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for two text Series from one shared factorisation."""
    codes, _ = pd.factorize(pd.concat([left, right], ignore_index=True))
    return codes[: len(left)], codes[len(left) :]


def _named_lists(values: pd.Series) -> list[list[str]]:
    out: list[list[str]] = []
    for value in values:
        if isinstance(value, str):
            items = [value] if value.strip() else []
        elif value is None or is_missing(value):
            items = []
        else:
            items = [str(v) for v in value if not is_missing(v) and str(v).strip()]
        out.append(items)
    return out


def match_accounts(accounts: pd.DataFrame, rules: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Run the rules over the accounts and resolve one territory (or none) per account.

    See the module docstring for input columns, conventions and the output columns.
    """
    if accounts["external_id"].isna().any():
        raise ValueError("every account needs an external_id")
    if accounts["external_id"].duplicated().any():
        raise ValueError("external_id must be unique among accounts")
    if rules["code"].duplicated().any():
        dupes = sorted(rules.loc[rules["code"].duplicated(), "code"].astype(str).unique())
        raise ValueError(f"duplicate rule codes: {', '.join(dupes)}")
    if rules["territory_code"].isna().any():
        raise ValueError("every rule needs a territory_code")

    # Only rules in force on as_of, sorted by code so the output tuples come out sorted.
    valid_from = pd.to_datetime(_column(rules, "valid_from"))
    live = rules.loc[valid_from.isna() | (valid_from <= pd.Timestamp(as_of))]
    live = live.sort_values("code", kind="stable").reset_index(drop=True)
    n_accounts, n_rules = len(accounts), len(live)

    rule_codes = live["code"].astype(str).to_numpy(dtype=object)
    rule_territories = live["territory_code"].astype(str).to_numpy(dtype=object)
    territory_ids, territory_names = pd.factorize(rule_territories)
    priority = live["priority"].fillna(0).astype("int64").to_numpy()
    named_lists = _named_lists(_column(live, "named_accounts"))
    is_named = np.array([bool(items) for items in named_lists], dtype=bool)

    # Factorised criteria: account codes vs rule codes, one shared code space per criterion.
    equality: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for name in TEXT_CRITERIA:
        rule_values = normalise_text(_column(live, name))
        active = np.flatnonzero(rule_values.to_numpy() != "")
        if len(active):
            acc_codes, rule_value_codes = _shared_codes(normalise_text(_column(accounts, name)), rule_values)
            equality.append((acc_codes, active, rule_value_codes[active]))
    postal_rules = normalise_postal(_column(live, "postal_prefix"))
    account_postal = normalise_postal(_column(accounts, "postal_code"))
    lengths = postal_rules.str.len().to_numpy()
    for length in sorted(set(lengths[lengths > 0].tolist())):
        active = np.flatnonzero(lengths == length)
        acc_codes, rule_value_codes = _shared_codes(account_postal.str[:length], postal_rules)
        equality.append((acc_codes, active, rule_value_codes[active]))

    # Named accounts as (account row, rule column) hits.
    account_keys = pd.Index(normalise_text(accounts["external_id"]))
    pair_rule = np.repeat(np.arange(n_rules), [len(items) for items in named_lists])
    pair_keys = normalise_text(pd.Series([i for items in named_lists for i in items], dtype=object))
    pair_row = account_keys.get_indexer(pair_keys) if len(pair_keys) else np.zeros(0, "int64")
    found = pair_row >= 0
    pair_rule, pair_row = pair_rule[found], pair_row[found]
    named_columns = np.flatnonzero(is_named)

    status = np.empty(n_accounts, dtype=object)
    chosen = np.full(n_accounts, -1, dtype="int64")
    top_lists: list[np.ndarray] = []
    chunk = max(1, MATRIX_CELLS // max(n_rules, 1))
    excluded = _column(accounts, "exclude_from_realignment").fillna(False).astype(bool).to_numpy()

    for start in range(0, n_accounts, chunk):
        stop = min(start + chunk, n_accounts)
        match = np.ones((stop - start, n_rules), dtype=bool)
        for acc_codes, active, wanted in equality:
            match[:, active] &= acc_codes[start:stop, None] == wanted[None, :]
        if len(named_columns):
            hits = np.zeros_like(match)
            inside = (pair_row >= start) & (pair_row < stop)
            hits[pair_row[inside] - start, pair_rule[inside]] = True
            match[:, named_columns] &= hits[:, named_columns]

        # Winning tier (named beats geography), then the top priority within it.
        has_named = (match & is_named[None, :]).any(axis=1)
        eligible = match & (is_named[None, :] == has_named[:, None])
        lowest = np.iinfo("int64").min
        top_priority = np.where(eligible, priority[None, :], lowest).max(axis=1, initial=lowest)
        top = eligible & (priority[None, :] == top_priority[:, None])
        n_top = top.sum(axis=1)
        first_territory = np.where(top, territory_ids[None, :], np.iinfo("int64").max).min(
            axis=1, initial=np.iinfo("int64").max
        )
        last_territory = np.where(top, territory_ids[None, :], -1).max(axis=1, initial=-1)

        block = np.where(
            n_top == 0,
            UNASSIGNED,
            np.where(first_territory != last_territory, CONFLICT, ASSIGNED),
        ).astype(object)
        block[excluded[start:stop]] = KEPT
        status[start:stop] = block
        chosen[start:stop] = np.where(block == ASSIGNED, first_territory, -1)
        _, columns = np.nonzero(top)  # row-major: grouped by account, rule codes ascending
        top_lists.extend(np.split(columns, np.cumsum(n_top)[:-1]))

    current = _column(accounts, "territory_code").astype(object)
    current = current.where(current.notna(), None).to_numpy(dtype=object)
    # Index -1 (no choice) lands on the appended None.
    proposed = np.append(np.asarray(territory_names, dtype=object), None)[chosen]
    proposed = np.where(status == KEPT, current, proposed)
    columns = {
        "external_id": accounts["external_id"].to_numpy(dtype=object),
        "current_territory_code": current,
        "territory_code": proposed,
        "status": status,
        "rule_codes": [tuple(rule_codes[cols]) for cols in top_lists],
        "candidate_territory_codes": [tuple(sorted(set(rule_territories[cols]))) for cols in top_lists],
    }
    # Object columns keep None (not NaN) for "no territory".
    return pd.DataFrame(
        {name: pd.Series(values, index=accounts.index, dtype=object) for name, values in columns.items()}
    )


# ---------------------------------------------------------------------------------------------
# Realignment preview
# ---------------------------------------------------------------------------------------------

MOVE_COLUMNS = [
    "external_id",
    "from_territory_code",
    "to_territory_code",
    "revenue_l12m",
    "forecast_n12m",
]
SUMMARY_COLUMNS = [
    "territory_code",
    "accounts_before",
    "accounts_after",
    "accounts_out",
    "accounts_in",
    "revenue_before",
    "revenue_after",
    "revenue_out",
    "revenue_in",
    "forecast_before",
    "forecast_after",
    "forecast_out",
    "forecast_in",
]
_NONE_KEY = ""  # stands for "unassigned" inside group-bys; territory codes are never empty


def _none_for_unassigned(keys: pd.Series) -> pd.Series:
    keys = keys.astype(object)
    return keys.where(keys != _NONE_KEY, None)


def realignment_diff(proposal: pd.DataFrame, figures: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a realignment would move, per account and per territory.

    ``proposal`` columns: ``external_id``, ``current_territory_code``, ``territory_code``
    (proposed; missing = unassigned) and optionally ``status`` — the output of
    :func:`match_accounts` fits as is. Unresolved accounts (``unassigned``/``conflict``) have a
    missing proposal and therefore *move to unassigned*; a caller that wants them kept where
    they are fills ``territory_code`` from ``current_territory_code`` first.

    ``figures`` columns: ``external_id``, ``revenue_l12m`` (last 12 months), ``forecast_n12m``
    (next 12 months), ``Decimal``; accounts missing from it count as 0.

    Returns ``(moves, summary)``:

    * ``moves`` — one row per account whose territory changes (proposal order):
      ``external_id``, ``from_territory_code``, ``to_territory_code`` (missing = unassigned),
      ``revenue_l12m``, ``forecast_n12m`` (+ ``status`` when given);
    * ``summary`` — one row per territory (and one with ``territory_code`` ``None`` for the
      unassigned pool, first, when it is involved), sorted by code, ``SUMMARY_COLUMNS``:
      account counts and revenue/forecast sums before and after, and what leaves/arrives.
    """
    frame = proposal[["external_id", "current_territory_code", "territory_code"]].copy()
    if "status" in proposal.columns:
        frame["status"] = proposal["status"].to_numpy()
    lookup = figures.drop_duplicates("external_id", keep="last").set_index("external_id")
    for column in ("revenue_l12m", "forecast_n12m"):
        frame[column] = decimal_column(frame["external_id"].map(lookup[column]))
    before = frame["current_territory_code"].astype(object)
    after = frame["territory_code"].astype(object)
    frame["from_key"] = before.where(before.notna(), _NONE_KEY).astype(str)
    frame["to_key"] = after.where(after.notna(), _NONE_KEY).astype(str)
    moved = frame["from_key"] != frame["to_key"]

    moves = frame.loc[moved].copy()
    moves["from_territory_code"] = _none_for_unassigned(moves["from_key"])
    moves["to_territory_code"] = _none_for_unassigned(moves["to_key"])
    move_columns = MOVE_COLUMNS + (["status"] if "status" in frame.columns else [])
    moves = moves[move_columns].astype(object).reset_index(drop=True)

    def totals(rows: pd.DataFrame, key: str, suffix: str) -> pd.DataFrame:
        grouped = rows.groupby(key, sort=False)
        out = pd.DataFrame(
            {
                f"accounts_{suffix}": grouped.size(),
                f"revenue_{suffix}": grouped["revenue_l12m"].sum(),
                f"forecast_{suffix}": grouped["forecast_n12m"].sum(),
            }
        )
        out.index.name = "territory_code"
        return out

    parts = [
        totals(frame, "from_key", "before"),
        totals(frame, "to_key", "after"),
        totals(frame.loc[moved], "from_key", "out"),
        totals(frame.loc[moved], "to_key", "in"),
    ]
    summary = pd.concat(parts, axis=1).sort_index()
    for column in SUMMARY_COLUMNS[1:]:
        if column.startswith("accounts_"):
            summary[column] = summary[column].fillna(0).astype("int64")
        else:
            summary[column] = decimal_column(summary[column])
    summary = summary.reset_index()
    summary["territory_code"] = _none_for_unassigned(summary["territory_code"])
    return moves, summary[SUMMARY_COLUMNS].reset_index(drop=True)
