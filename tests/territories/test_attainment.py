"""Attainment vs quota with year to date (territories.attainment); no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from territories.attainment import attainment, fiscal_year_start, month_start

D = Decimal
MAR, APR, MAY = dt.date(2025, 3, 1), dt.date(2025, 4, 1), dt.date(2025, 5, 1)


def test_month_and_fiscal_year_start():
    dates = pd.Series([dt.date(2025, 3, 31), dt.date(2025, 4, 1), None])
    assert month_start(dates).tolist() == [MAR, APR, None]
    periods = pd.Series([MAR, APR])
    assert fiscal_year_start(periods, fiscal_year_start_month=4).tolist() == [
        dt.date(2024, 4, 1),
        dt.date(2025, 4, 1),
    ]
    assert fiscal_year_start(periods, fiscal_year_start_month=1).tolist() == [dt.date(2025, 1, 1)] * 2
    with pytest.raises(ValueError):
        fiscal_year_start(periods, fiscal_year_start_month=13)


def test_attainment_returns_and_cancellations_reduce_actuals_and_ytd_restarts():
    # Fiscal year starts in April. alice: March 50 of 100; April 120 sold, 20 returned, of 100;
    # May a 999 order that was cancelled, quota 0. bob: sales but no quota.
    actuals = pd.DataFrame(
        {
            "owner": ["alice", "alice", "alice", "alice", "bob"],
            "period_start": [MAR, APR, APR, MAY, APR],
            "amount": [D("50.00"), D("120.00"), D("-20.00"), D("999.00"), D("5.00")],
            "status": ["invoiced", "invoiced", "returned", "cancelled", "booked"],
        }
    )
    quotas = pd.DataFrame(
        {
            "owner": ["alice", "alice", "alice", "bob"],
            "period_start": [MAR, APR, MAY, APR],
            "amount": [D("100.00"), D("100.00"), D("0.00"), None],
        }
    )
    result = attainment(actuals, quotas, fiscal_year_start_month=4)
    rows = [
        (
            r["owner"],
            r["period_start"],
            r["quota"],
            r["actual"],
            r["attainment_pct"],
            r["ytd_quota"],
            r["ytd_actual"],
            r["ytd_attainment_pct"],
        )
        for r in result.to_dict("records")
    ]
    assert rows == [
        ("alice", MAR, D("100.00"), D("50.00"), D("50.00"), D("100.00"), D("50.00"), D("50.00")),
        # New fiscal year: YTD restarts; 120 - 20 = 100 of 100.
        (
            "alice",
            APR,
            D("100.00"),
            D("100.00"),
            D("100.00"),
            D("100.00"),
            D("100.00"),
            D("100.00"),
        ),
        # Quota 0 -> no %; the cancelled order does not count.
        ("alice", MAY, D("0.00"), D(0), None, D("100.00"), D("100.00"), D("100.00")),
        ("bob", APR, None, D("5.00"), None, None, D("5.00"), None),
    ]
    assert result["fiscal_year_start"].tolist()[:2] == [dt.date(2024, 4, 1), dt.date(2025, 4, 1)]


def test_attainment_rounds_half_up_and_splits_by_family():
    actuals = pd.DataFrame(
        {
            "owner": ["T1", "T1"],
            "family_code": ["PUMPS", "VALVES"],
            "period_start": [APR, APR],
            "amount": [D(2), D(1)],
        }
    )
    quotas = pd.DataFrame(
        {
            "owner": ["T1", "T1"],
            "family_code": ["PUMPS", "VALVES"],
            "period_start": [APR, APR],
            "amount": [D(3), D(8)],
        }
    )
    result = attainment(actuals, quotas, fiscal_year_start_month=1, by=["family_code"])
    # 2/3 = 66.666.. -> 66.67; 1/8 = 12.5 -> 12.50.
    assert result["attainment_pct"].tolist() == [D("66.67"), D("12.50")]


def test_attainment_of_nothing_is_empty():
    empty = pd.DataFrame({"owner": [], "period_start": [], "amount": []})
    assert attainment(empty, empty, fiscal_year_start_month=1).empty
