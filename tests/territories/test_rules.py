"""Assignment rules and the realignment preview (territories.rules); no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from territories import rules as rules_module
from territories.rules import (
    ASSIGNED,
    CONFLICT,
    KEPT,
    UNASSIGNED,
    match_accounts,
    normalise_postal,
    normalise_text,
    realignment_diff,
)

AS_OF = dt.date(2025, 7, 1)


def accounts_frame(*rows: dict) -> pd.DataFrame:
    base = {
        "external_id": None,
        "country": "US",
        "region": None,
        "state": None,
        "postal_code": None,
        "industry": None,
        "territory_code": None,
        "exclude_from_realignment": False,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


def rules_frame(*rows: dict) -> pd.DataFrame:
    base = {
        "code": None,
        "territory_code": None,
        "priority": 0,
        "named_accounts": None,
        "country": None,
        "region": None,
        "state": None,
        "postal_prefix": None,
        "industry": None,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


def by_id(result: pd.DataFrame) -> dict[str, dict]:
    return {row["external_id"]: row for row in result.to_dict("records")}


def test_normalisation_ignores_case_and_whitespace():
    values = pd.Series(["  New   York ", "NEW YORK", None, "new\tyork"])
    assert normalise_text(values).tolist() == ["new york", "new york", "", "new york"]
    postal = pd.Series(["SW1A 1AA", "12345-6789", " 941 05 "])
    assert normalise_postal(postal).tolist() == ["sw1a1aa", "123456789", "94105"]


def test_zero_one_and_several_matches_at_top_priority():
    # Given three rules at priority 10: CA -> WEST, NY -> EAST, and postal 100 -> METRO.
    accounts = accounts_frame(
        {"external_id": "A-none", "state": "TX", "postal_code": "73301"},
        {"external_id": "A-one", "state": "CA", "postal_code": "94105"},
        {"external_id": "A-two", "state": "NY", "postal_code": "10001"},
    )
    rules = rules_frame(
        {"code": "R-CA", "territory_code": "WEST", "priority": 10, "state": "CA"},
        {"code": "R-NY", "territory_code": "EAST", "priority": 10, "state": "NY"},
        {"code": "R-NYC", "territory_code": "METRO", "priority": 10, "postal_prefix": "100"},
    )
    # When the rules run.
    result = by_id(match_accounts(accounts, rules, as_of=AS_OF))
    # Then 0 matches -> unassigned, 1 -> taken, 2 territories at the top -> conflict, no pick.
    assert result["A-none"]["status"] == UNASSIGNED
    assert result["A-none"]["territory_code"] is None
    assert result["A-none"]["rule_codes"] == ()
    assert result["A-one"]["status"] == ASSIGNED
    assert result["A-one"]["territory_code"] == "WEST"
    assert result["A-one"]["rule_codes"] == ("R-CA",)
    assert result["A-two"]["status"] == CONFLICT
    assert result["A-two"]["territory_code"] is None
    assert result["A-two"]["rule_codes"] == ("R-NY", "R-NYC")
    assert result["A-two"]["candidate_territory_codes"] == ("EAST", "METRO")


def test_higher_priority_wins_and_same_territory_ties_are_no_conflict():
    accounts = accounts_frame({"external_id": "A1", "state": "NY", "postal_code": "10001"})
    rules = rules_frame(
        {"code": "R-NY", "territory_code": "EAST", "priority": 5, "state": "NY"},
        {"code": "R-NYC", "territory_code": "METRO", "priority": 20, "postal_prefix": "100"},
        {"code": "R-NYC2", "territory_code": "METRO", "priority": 20, "country": "us"},
    )
    row = by_id(match_accounts(accounts, rules, as_of=AS_OF))["A1"]
    assert row["status"] == ASSIGNED
    assert row["territory_code"] == "METRO"
    assert row["rule_codes"] == ("R-NYC", "R-NYC2")


def test_named_account_beats_geography_regardless_of_priority():
    accounts = accounts_frame(
        {"external_id": "KEY-1", "state": "CA"},
        {"external_id": "A2", "state": "CA"},
    )
    rules = rules_frame(
        {"code": "GEO", "territory_code": "WEST", "priority": 100, "state": "CA"},
        # Ids compare without case/whitespace; the unknown id is simply ignored.
        {
            "code": "NAMED",
            "territory_code": "KEYS",
            "priority": 1,
            "named_accounts": [" key-1", "X"],
        },
    )
    result = by_id(match_accounts(accounts, rules, as_of=AS_OF))
    assert result["KEY-1"]["territory_code"] == "KEYS"
    assert result["KEY-1"]["rule_codes"] == ("NAMED",)
    assert result["A2"]["territory_code"] == "WEST"


def test_two_named_rules_of_different_territories_conflict():
    accounts = accounts_frame({"external_id": "KEY-1"})
    rules = rules_frame(
        {"code": "N1", "territory_code": "KEYS", "priority": 1, "named_accounts": ["KEY-1"]},
        {"code": "N2", "territory_code": "GLOBAL", "priority": 1, "named_accounts": ("KEY-1",)},
    )
    row = by_id(match_accounts(accounts, rules, as_of=AS_OF))["KEY-1"]
    assert row["status"] == CONFLICT
    assert row["candidate_territory_codes"] == ("GLOBAL", "KEYS")


def test_criteria_combine_with_and_and_compare_case_insensitively():
    accounts = accounts_frame(
        {"external_id": "A1", "country": " us", "state": "ca", "industry": "Food  &  Beverage"},
        {"external_id": "A2", "country": "US", "state": "CA", "industry": "Mining"},
        {"external_id": "A3", "country": "DE", "state": "CA", "industry": "food & beverage"},
    )
    rules = rules_frame(
        {
            "code": "R",
            "territory_code": "FOOD-W",
            "country": "US",
            "state": "CA ",
            "industry": "FOOD & BEVERAGE",
        }
    )
    result = by_id(match_accounts(accounts, rules, as_of=AS_OF))
    assert [result[a]["status"] for a in ("A1", "A2", "A3")] == [ASSIGNED, UNASSIGNED, UNASSIGNED]


def test_postal_prefix_matches_normalised_codes():
    accounts = accounts_frame(
        {"external_id": "UK", "country": "GB", "postal_code": "sw1a 1aa"},
        {"external_id": "ZIP9", "postal_code": "12345-6789"},
        {"external_id": "SHORT", "postal_code": "12"},
        {"external_id": "NONE", "postal_code": None},
    )
    rules = rules_frame(
        {"code": "LDN", "territory_code": "LONDON", "postal_prefix": "SW1A"},
        {"code": "Z", "territory_code": "ZONE", "postal_prefix": "123-45"},
    )
    result = by_id(match_accounts(accounts, rules, as_of=AS_OF))
    assert result["UK"]["territory_code"] == "LONDON"
    assert result["ZIP9"]["territory_code"] == "ZONE"
    assert result["SHORT"]["status"] == UNASSIGNED
    assert result["NONE"]["status"] == UNASSIGNED


def test_excluded_account_is_kept_where_it_is():
    accounts = accounts_frame(
        {
            "external_id": "A1",
            "state": "CA",
            "territory_code": "OLD",
            "exclude_from_realignment": True,
        },
        {
            "external_id": "A2",
            "state": "CA",
            "territory_code": None,
            "exclude_from_realignment": None,
        },
    )
    rules = rules_frame({"code": "R-CA", "territory_code": "WEST", "state": "CA"})
    result = by_id(match_accounts(accounts, rules, as_of=AS_OF))
    assert result["A1"]["status"] == KEPT
    assert result["A1"]["territory_code"] == "OLD"
    assert result["A1"]["rule_codes"] == ("R-CA",)  # what would have applied
    assert result["A2"]["status"] == ASSIGNED  # missing flag = not excluded


def test_catch_all_rule_and_future_rules():
    accounts = accounts_frame({"external_id": "A1", "state": "CA"})
    rules = rules_frame(
        {"code": "ALL", "territory_code": "HOUSE", "priority": 0},
        {"code": "LATER", "territory_code": "WEST", "priority": 9, "state": "CA"},
    )
    rules["valid_from"] = [None, dt.date(2025, 7, 2)]
    row = by_id(match_accounts(accounts, rules, as_of=AS_OF))["A1"]
    assert (row["territory_code"], row["rule_codes"]) == ("HOUSE", ("ALL",))
    later = by_id(match_accounts(accounts, rules, as_of=dt.date(2025, 7, 2)))["A1"]
    assert later["territory_code"] == "WEST"


def test_no_rules_leaves_everyone_unassigned_and_keeps_input_order():
    accounts = accounts_frame({"external_id": "B"}, {"external_id": "A"})
    no_rules = rules_frame({"code": "R", "territory_code": "T"}).iloc[:0]
    result = match_accounts(accounts, no_rules, as_of=AS_OF)
    assert result["external_id"].tolist() == ["B", "A"]
    assert set(result["status"]) == {UNASSIGNED}


def test_duplicate_rule_codes_are_rejected():
    rules = rules_frame({"code": "R", "territory_code": "A"}, {"code": "R", "territory_code": "B"})
    with pytest.raises(ValueError, match="duplicate rule codes: R"):
        match_accounts(accounts_frame({"external_id": "A1"}), rules, as_of=AS_OF)


def test_chunked_matrix_gives_the_same_answer(monkeypatch):
    # Given many accounts and a tiny chunk size, the result equals the unchunked one.
    rng = np.random.default_rng(7)
    n = 500
    accounts = pd.DataFrame(
        {
            "external_id": [f"A{i}" for i in range(n)],
            "country": rng.choice(["US", "DE"], n),
            "region": None,
            "state": rng.choice(["CA", "NY", "TX"], n),
            "postal_code": [f"{x:05d}" for x in rng.integers(0, 99999, n)],
            "industry": rng.choice(["Food", "Mining"], n),
        }
    )
    rules = rules_frame(
        {"code": "R1", "territory_code": "T1", "priority": 1, "state": "CA"},
        {"code": "R2", "territory_code": "T2", "priority": 1, "industry": "food"},
        {"code": "R3", "territory_code": "T3", "priority": 2, "postal_prefix": "1"},
        {"code": "R4", "territory_code": "T4", "priority": 0, "named_accounts": ["A1", "A7"]},
    )
    whole = match_accounts(accounts, rules, as_of=AS_OF)
    monkeypatch.setattr(rules_module, "MATRIX_CELLS", 7)
    chunked = match_accounts(accounts, rules, as_of=AS_OF)
    pd.testing.assert_frame_equal(whole, chunked)
    assert whole.loc[1, "territory_code"] == "T4"


def test_realignment_diff_lists_moves_and_sums_per_territory():
    # Given A1 W->E, A2 stays W, A3 W->unassigned (conflict), A4 new -> E.
    proposal = pd.DataFrame(
        {
            "external_id": ["A1", "A2", "A3", "A4"],
            "current_territory_code": ["W", "W", "W", None],
            "territory_code": ["E", "W", None, "E"],
            "status": [ASSIGNED, ASSIGNED, CONFLICT, ASSIGNED],
        }
    )
    figures = pd.DataFrame(
        {
            "external_id": ["A1", "A2", "A3"],
            "revenue_l12m": [Decimal("100.10"), Decimal("50.00"), Decimal("7.50")],
            "forecast_n12m": [Decimal("120.00"), Decimal("40.00"), None],
        }
    )
    moves, summary = realignment_diff(proposal, figures)

    assert moves["external_id"].tolist() == ["A1", "A3", "A4"]
    assert moves["from_territory_code"].tolist() == ["W", "W", None]
    assert moves["to_territory_code"].tolist() == ["E", None, "E"]
    assert moves["revenue_l12m"].tolist() == [Decimal("100.10"), Decimal("7.50"), Decimal(0)]
    assert moves["status"].tolist() == [ASSIGNED, CONFLICT, ASSIGNED]

    rows = {row["territory_code"]: row for row in summary.to_dict("records")}
    assert list(rows) == [None, "E", "W"]
    west, east, pool = rows["W"], rows["E"], rows[None]
    assert (west["accounts_before"], west["accounts_after"]) == (3, 1)
    assert (west["accounts_out"], west["accounts_in"]) == (2, 0)
    assert west["revenue_before"] == Decimal("157.60")
    assert west["revenue_after"] == Decimal("50.00")
    assert west["revenue_out"] == Decimal("107.60")
    assert west["forecast_out"] == Decimal("120.00")
    assert (east["accounts_before"], east["accounts_after"], east["accounts_in"]) == (0, 2, 2)
    assert east["revenue_in"] == Decimal("100.10")
    assert (pool["accounts_before"], pool["accounts_after"]) == (1, 1)
    assert pool["revenue_in"] == Decimal("7.50")


def test_realignment_diff_with_nothing_moving():
    proposal = pd.DataFrame({"external_id": ["A1"], "current_territory_code": ["W"], "territory_code": ["W"]})
    figures = pd.DataFrame({"external_id": [], "revenue_l12m": [], "forecast_n12m": []})
    moves, summary = realignment_diff(proposal, figures)
    assert moves.empty
    assert summary.to_dict("records")[0]["accounts_out"] == 0
