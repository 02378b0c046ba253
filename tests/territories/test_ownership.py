"""Effective-dated ownership, primary shares, crediting, manager roll-up
(territories.ownership); no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from territories.ownership import (
    credit_lines,
    primary_share_errors,
    rep_counts_as_of,
    roll_up_credits,
    territories_as_of,
    territory_on_dates,
)

D = Decimal
JUN_30, JUL_1 = dt.date(2025, 6, 30), dt.date(2025, 7, 1)


def history_moved_on_1_july() -> pd.DataFrame:
    # Account 1 belonged to OLD until 30 June (inclusive) and to NEW from 1 July.
    return pd.DataFrame(
        {
            "account_id": [1, 1, 2],
            "territory_code": ["OLD", "NEW", "OTHER"],
            "valid_from": [dt.date(2024, 1, 1), JUL_1, dt.date(2025, 1, 1)],
            "valid_to": [JUN_30, None, dt.date(2025, 3, 31)],
        }
    )


def lines_frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["line_id", "account_id", "order_date", "quantity", "amount", "status"])


def test_account_moved_on_1_july_credits_june_to_old_and_july_to_new():
    lines = lines_frame(
        ("L-jun-1", 1, dt.date(2025, 6, 1), D(1), D("10.00"), "invoiced"),
        ("L-jun-30", 1, JUN_30, D(1), D("10.00"), "invoiced"),
        ("L-jul-1", 1, JUL_1, D(1), D("10.00"), "invoiced"),
        ("L-jul-31", 1, dt.date(2025, 7, 31), D(1), D("10.00"), "invoiced"),
    )
    owned = territory_on_dates(lines, history_moved_on_1_july())
    assert owned["territory_code"].tolist() == ["OLD", "OLD", "NEW", "NEW"]
    assert owned["line_id"].tolist() == lines["line_id"].tolist()  # order kept


def test_dates_outside_every_interval_have_no_owner():
    lines = lines_frame(
        ("before", 1, dt.date(2023, 12, 31), D(1), D(1), "booked"),
        ("ended", 2, dt.date(2025, 4, 1), D(1), D(1), "booked"),
        ("unknown", 99, JUL_1, D(1), D(1), "booked"),
        ("last-day", 2, dt.date(2025, 3, 31), D(1), D(1), "booked"),
    )
    owned = territory_on_dates(lines, history_moved_on_1_july())
    assert owned["territory_code"].tolist() == [None, None, None, "OTHER"]


def test_unclosed_old_row_is_superseded_by_the_later_start():
    history = pd.DataFrame(
        {
            "account_id": ["A", "A"],
            "territory_code": ["OLD", "NEW"],
            "valid_from": [dt.date(2024, 1, 1), JUL_1],
            "valid_to": [None, None],
        }
    )
    lines = pd.DataFrame({"account_id": ["A", "A"], "order_date": [JUN_30, JUL_1]})
    assert territory_on_dates(lines, history)["territory_code"].tolist() == ["OLD", "NEW"]


def test_territories_as_of():
    history = history_moved_on_1_july()
    assert territories_as_of(history, as_of=JUN_30)["territory_code"].tolist() == ["OLD", None]
    assert territories_as_of(history, as_of=JUL_1)["territory_code"].tolist() == ["NEW", None]
    early = territories_as_of(history, as_of=dt.date(2025, 2, 1))
    assert early.to_dict("records") == [
        {"account_id": 1, "territory_code": "OLD"},
        {"account_id": 2, "territory_code": "OTHER"},
    ]


def assignment_frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["rep_username", "territory_code", "role", "share", "valid_from", "valid_to"],
    )


def test_primary_shares_of_100_percent_pass():
    assignments = assignment_frame(
        ("alice", "T1", "primary", D(60), dt.date(2025, 1, 1), None),
        ("bob", "T1", "primary", D(40), dt.date(2025, 1, 1), JUN_30),
        ("carol", "T1", "primary", D(40), JUL_1, None),
        ("dave", "T1", "overlay", D(100), dt.date(2025, 1, 1), None),
    )
    assert primary_share_errors(assignments, allow_vacancies=False).empty


def test_primary_shares_not_100_percent_are_rejected_with_a_clear_message():
    # Given alice 60 % all year, bob 30 % until 30 June, carol 40 % from 1 July.
    assignments = assignment_frame(
        ("alice", "T1", "primary", D("60.00"), dt.date(2025, 1, 1), None),
        ("bob", "T1", "primary", D("30.00"), dt.date(2025, 1, 1), JUN_30),
        ("carol", "T1", "primary", D("40.00"), JUL_1, None),
        ("erin", "T1", "overlay", D("50.00"), dt.date(2025, 1, 1), None),
    )
    errors = primary_share_errors(assignments, allow_vacancies=False)
    # Then only January-June is wrong: 60 + 30 = 90 %.
    assert len(errors) == 1
    error = errors.iloc[0]
    assert error["territory_code"] == "T1"
    assert (error["valid_from"], error["valid_to"]) == (dt.date(2025, 1, 1), JUN_30)
    assert error["total_share"] == D(90)
    assert error["message"] == (
        "Territory T1: primary credit shares total 90 % from 2025-01-01 to 2025-06-30 "
        "(alice 60 %, bob 30 %); they must total exactly 100 %."
    )


def test_over_100_percent_and_open_ended_intervals():
    assignments = assignment_frame(
        ("alice", "T2", "primary", D(100), dt.date(2025, 1, 1), None),
        ("bob", "T2", "primary", D("12.5"), dt.date(2025, 3, 1), dt.date(2025, 4, 30)),
        ("carol", "T2", "primary", D("12.5"), dt.date(2025, 5, 1), None),
    )
    errors = primary_share_errors(assignments, allow_vacancies=False)
    # bob hands over to carol at the same (wrong) total: one row per interval, reps named.
    assert errors[["valid_from", "valid_to", "total_share"]].values.tolist() == [
        [dt.date(2025, 3, 1), dt.date(2025, 4, 30), D("112.5")],
        [dt.date(2025, 5, 1), None, D("112.5")],
    ]
    assert "to 2025-04-30 (alice 100 %, bob 12.5 %)" in errors.iloc[0]["message"]
    assert "from 2025-05-01 onwards (alice 100 %, carol 12.5 %)" in errors.iloc[1]["message"]


def test_vacancy_between_reps_is_an_error_unless_allowed():
    assignments = assignment_frame(
        ("alice", "T3", "primary", D(100), dt.date(2025, 1, 1), dt.date(2025, 1, 31)),
        ("bob", "T3", "primary", D(100), dt.date(2025, 3, 1), dt.date(2025, 12, 31)),
    )
    errors = primary_share_errors(assignments, allow_vacancies=False)
    assert errors[["valid_from", "valid_to", "total_share"]].values.tolist() == [
        [dt.date(2025, 2, 1), dt.date(2025, 2, 28), D(0)]
    ]
    assert errors.iloc[0]["message"].endswith("(no primary rep); they must total exactly 100 %.")
    assert primary_share_errors(assignments, allow_vacancies=True).empty


def test_rep_counts_as_of():
    assignments = assignment_frame(
        ("alice", "T1", "primary", D(50), dt.date(2025, 1, 1), None),
        ("bob", "T1", "primary", D(50), dt.date(2025, 1, 1), JUN_30),
        ("carol", "T1", "overlay", D(100), dt.date(2025, 1, 1), None),
        ("dave", "T2", "primary", D(100), JUL_1, None),
    )
    counts = rep_counts_as_of(assignments, as_of=JUN_30)
    assert counts.to_dict("records") == [{"territory_code": "T1", "reps": 2}]


def test_crediting_splits_primaries_adds_overlays_and_follows_the_order_date():
    # Given OLD: alice 60 % + bob 40 % primaries and an overlay; NEW: carol 100 % from 1 July.
    assignments = assignment_frame(
        ("alice", "OLD", "primary", D("60.00"), dt.date(2024, 1, 1), None),
        ("bob", "OLD", "primary", D("40.00"), dt.date(2024, 1, 1), None),
        ("olga", "OLD", "overlay", D("100.00"), dt.date(2024, 1, 1), None),
        ("carol", "NEW", "primary", D("100.00"), JUL_1, None),
    )
    lines = lines_frame(
        ("L1", 1, JUN_30, D("3.000"), D("100.01"), "invoiced"),
        ("L2", 1, JUL_1, D("-1.000"), D("-50.00"), "returned"),
        ("L3", 1, JUL_1, D("9.000"), D("900.00"), "cancelled"),
    )
    owned = territory_on_dates(lines, history_moved_on_1_july())
    credits = credit_lines(owned, assignments)

    table = credits[["line_id", "rep_username", "role", "quantity", "amount"]]
    assert table.values.tolist() == [
        ["L1", "alice", "primary", D("1.8"), D("60.006")],
        ["L1", "bob", "primary", D("1.2"), D("40.004")],
        ["L1", "olga", "overlay", D("3"), D("100.01")],
        ["L2", "carol", "primary", D("-1"), D("-50.00")],
    ]
    # Primary credits add up to the line exactly; the overlay comes on top.
    l1 = credits.loc[(credits["line_id"] == "L1") & (credits["role"] == "primary")]
    assert sum(l1["amount"]) == D("100.01")
    assert credits["line_amount"].tolist()[:1] == [D("100.01")]
    assert credits["territory_code"].tolist() == ["OLD", "OLD", "OLD", "NEW"]


def test_crediting_skips_lines_without_a_rep_on_the_date():
    assignments = assignment_frame(("carol", "NEW", "primary", D(100), dt.date(2025, 8, 1), None))
    lines = lines_frame(("L1", 1, JUL_1, D(1), D(10), "booked"))
    lines["territory_code"] = "NEW"
    assert credit_lines(lines, assignments).empty


def test_roll_up_credits_to_every_manager_above():
    credits = pd.DataFrame(
        {
            "line_id": ["L1", "L1", "L2"],
            "rep_username": ["alice", "bob", "zed"],
            "role": ["primary", "primary", "primary"],
            "amount": [D(60), D(40), D(5)],
        }
    )
    managers = pd.DataFrame(
        {
            "username": ["alice", "bob", "mia", "vp"],
            "manager_username": ["mia", "mia", "vp", None],
        }
    )
    rolled = roll_up_credits(credits, managers)
    totals = rolled.groupby("credited_to")["amount"].sum().to_dict()
    assert totals == {"alice": D(60), "bob": D(40), "mia": D(100), "vp": D(100), "zed": D(5)}
    assert sorted(set(zip(rolled["credited_to"], rolled["distance"]))) == [
        ("alice", 0),
        ("bob", 0),
        ("mia", 1),
        ("vp", 2),
        ("zed", 0),
    ]


def test_manager_cycle_is_rejected():
    credits = pd.DataFrame({"line_id": ["L1"], "rep_username": ["a"], "amount": [D(1)]})
    managers = pd.DataFrame({"username": ["a", "b"], "manager_username": ["b", "a"]})
    with pytest.raises(ValueError, match="cycle"):
        roll_up_credits(credits, managers)


def test_ownership_index_finds_the_interval_covering_each_day():
    from territories.ownership import OwnershipIndex

    # Rows: 0 = A until 30 June (inclusive), 1 = A from 1 July (open), 2 = B for March only,
    # 3 = C from 1 Jan, 4 = C again from 1 Jan (a later row with the same start wins).
    index = OwnershipIndex(
        ["A", "A", "B", "C", "C"],
        np.array(["2026-01-01", "2026-07-01", "2026-03-01", "2026-01-01", "2026-01-01"], dtype="datetime64[D]"),
        np.array(["2026-06-30", "NaT", "2026-03-31", "NaT", "NaT"], dtype="datetime64[D]"),
    )
    accounts = ["A", "A", "A", "A", "B", "B", "C", "Z", "A"]
    days = np.array(
        [
            "2025-12-31",
            "2026-01-01",
            "2026-06-30",
            "2026-07-01",
            "2026-03-31",
            "2026-04-01",
            "2026-05-05",
            "2026-05-05",
            "NaT",
        ],
        dtype="datetime64[D]",
    )
    assert index.positions(accounts, days).tolist() == [-1, 0, 0, 1, 2, -1, 4, -1, -1]


def test_ownership_index_with_no_history_owns_nothing():
    from territories.ownership import OwnershipIndex

    empty = OwnershipIndex([], np.array([], dtype="datetime64[D]"), np.array([], dtype="datetime64[D]"))
    assert empty.positions([1, 2], np.array(["2026-01-01", "2026-02-01"], dtype="datetime64[D]")).tolist() == [-1, -1]
