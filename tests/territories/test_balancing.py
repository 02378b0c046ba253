"""Balancing report and suggested moves (territories.balancing); no database."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from territories.balancing import balancing_report, measure_spread, suggest_moves

D = Decimal


def territories_frame() -> pd.DataFrame:
    # North has three sibling territories; SOUTH-1 is alone under South.
    return pd.DataFrame(
        {
            "code": ["N-1", "N-2", "N-3", "S-1"],
            "parent_code": ["NORTH", "NORTH", "NORTH", "SOUTH"],
            "reps": [1, 2, 1, 1],
        }
    )


def accounts_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["a1", "a2", "a3", "a4", "a5", "b1", "c1", "s1", "x1"],
            "territory_code": ["N-1"] * 5 + ["N-2", "N-3", "S-1", "ELSEWHERE"],
            "revenue_l12m": [D(100), D(50), D(10), D(10), D(30), D(20), D(5), D(60), D(999)],
            "forecast_n12m": [D(1)] * 9,
            "potential": [D(7), None, None, None, None, D(3), None, None, None],
            "exclude_from_realignment": [False] * 9,
        }
    )


def test_report_per_territory():
    report = balancing_report(territories_frame(), accounts_frame(), potential_source="potential")
    rows = {r["territory_code"]: r for r in report.to_dict("records")}
    assert [rows[t]["accounts"] for t in ("N-1", "N-2", "N-3", "S-1")] == [5, 1, 1, 1]
    assert rows["N-1"]["revenue_l12m"] == D(200)
    assert rows["N-1"]["forecast_n12m"] == D(5)
    assert rows["N-1"]["potential"] == D(7)
    assert rows["N-2"]["workload"] == D("0.50")  # 1 account, 2 reps
    # The unknown territory's account is ignored.
    assert sum(report["accounts"]) == 8
    # Potential can be configured to be the revenue.
    by_revenue = balancing_report(territories_frame(), accounts_frame(), potential_source="revenue_l12m")
    assert by_revenue["potential"].tolist() == [D(200), D(20), D(5), D(60)]


def test_spread_of_each_measure():
    report = balancing_report(territories_frame(), accounts_frame(), potential_source="potential")
    assert measure_spread(report, measure="accounts") == 4
    assert measure_spread(report, measure="revenue_l12m") == D(195)
    assert measure_spread(report, measure="workload") == D("4.50")
    with pytest.raises(ValueError):
        measure_spread(report, measure="vibes")


def test_suggested_account_moves_reduce_the_spread_between_siblings():
    moves = suggest_moves(
        territories_frame(),
        accounts_frame(),
        measure="accounts",
        potential_source="potential",
        max_moves=10,
    )
    # N-1 (5) gives one account to N-2 (1), then one to N-3 (1): 3/2/2 vs S-1 1 -> spread 2.
    # S-1 has no sibling, so nothing can lift it; the greedy stops there.
    assert moves[["from_territory_code", "to_territory_code"]].values.tolist() == [
        ["N-1", "N-2"],
        ["N-1", "N-3"],
    ]
    assert moves["spread_before"].tolist() == [4, 3]
    assert moves["spread_after"].tolist() == [3, 2]
    assert moves["step"].tolist() == [1, 2]
    assert set(moves["from_territory_code"]) | set(moves["to_territory_code"]) <= {
        "N-1",
        "N-2",
        "N-3",
    }


def test_revenue_moves_pick_the_account_that_evens_out_best():
    moves = suggest_moves(
        territories_frame(),
        accounts_frame(),
        measure="revenue_l12m",
        potential_source="potential",
        max_moves=10,
    )
    # N-1 200, N-2 20, N-3 5, S-1 60: moving a1 (100) to N-3 gives 100/20/105/60 -> spread 85.
    first = moves.iloc[0]
    assert (first["account_id"], first["from_territory_code"], first["to_territory_code"]) == (
        "a1",
        "N-1",
        "N-3",
    )
    assert (first["spread_before"], first["spread_after"]) == (D(195), D(85))
    assert (first["from_before"], first["from_after"]) == (D(200), D(100))
    assert (first["to_before"], first["to_after"]) == (D(5), D(105))
    # Every suggestion lowers the spread and no account moves twice.
    assert all(m["spread_after"] < m["spread_before"] for m in moves.to_dict("records"))
    assert moves["account_id"].is_unique


def test_excluded_accounts_never_move_and_workload_uses_reps():
    accounts = accounts_frame()
    accounts.loc[accounts["territory_code"] == "N-1", "exclude_from_realignment"] = True
    assert suggest_moves(
        territories_frame(), accounts, measure="accounts", potential_source="potential", max_moves=5
    ).empty
    moves = suggest_moves(
        territories_frame(),
        accounts_frame(),
        measure="workload",
        potential_source="potential",
        max_moves=1,
    )
    # Workload N-1 5.00, N-2 0.50, N-3 1.00, S-1 1.00. One account N-1 -> N-2 (2 reps, +0.50)
    # gives 4.00 / 1.00 / 1.00 / 1.00: spread 3.00; N-1 -> N-3 would leave N-2 at 0.50: 3.50.
    assert moves[["from_territory_code", "to_territory_code"]].values.tolist() == [["N-1", "N-2"]]
    assert (moves.iloc[0]["spread_before"], moves.iloc[0]["spread_after"]) == (D("4.50"), D("3.00"))
