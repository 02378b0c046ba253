"""The demand plan's measures (sop/demand_plan.py), worked by hand; no database."""

import datetime as dt

import numpy as np
import pandas as pd

from sop.demand_plan import (
    family_territory_actuals,
    seasonal_naive,
    share_out_feasible,
    spread_targets,
    starting_consensus,
    totals_by_node,
)

D = dt.date


def grid(rows):
    return pd.DataFrame(
        rows, columns=["product_id", "territory_id", "family_id", "territory_path", "period_start", "statistical"]
    )


def test_seasonal_naive_takes_the_same_month_a_year_back_and_repeats_the_last_year():
    g = grid(
        [
            (1, 10, 7, "/R/T/", D(2027, 3, 1), 0),
            (1, 10, 7, "/R/T/", D(2028, 2, 1), 0),
            (1, 10, 7, "/R/T/", D(2028, 4, 1), 0),
            (2, 10, 7, "/R/T/", D(2027, 3, 1), 0),
        ]
    )
    history = pd.DataFrame(
        {
            "product_id": [1, 1, 1],
            "territory_id": [10, 10, 10],
            "period_start": [D(2026, 3, 1), D(2026, 4, 1), D(2027, 1, 1)],
            "units": [12, 7, 3],
        }
    )
    # History ends January 2027: March 2027 ← March 2026 (12); February 2028 ← February 2026
    # (no sales: 0); April 2028 ← April 2026 (7, two years back); product 2 sold nothing.
    assert seasonal_naive(g, history, last_history_month=D(2027, 1, 1)).tolist() == [12, 0, 7, 0]


def test_quotas_spread_by_forecast_share_and_nested_quotas_take_their_part_first():
    g = grid(
        [
            (1, 11, 7, "/R/A/", D(2027, 3, 1), 60),
            (2, 11, 7, "/R/A/", D(2027, 3, 1), 30),
            (1, 12, 7, "/R/B/", D(2027, 3, 1), 10),
            (1, 13, 7, "/R/C/", D(2027, 3, 1), 0),
            (1, 13, 7, "/R/C/", D(2027, 4, 1), 5),
            (3, 11, 8, "/R/A/", D(2027, 3, 1), 9),
        ]
    )
    quotas = pd.DataFrame(
        {
            "family_id": [7, 7, 7, 9],
            "territory_path": ["/R/", "/R/A/", "/Q/", "/R/"],
            "period_start": [D(2027, 3, 1)] * 4,
            "quota_qty": [200.0, 100.0, 50.0, 5.0],
        }
    )
    target, missing = spread_targets(g, quotas)
    # /R/A/ takes its own 100 by forecast 60 : 30 → 66.67 / 33.33 → 67, 33. The region's 200
    # minus A's 100 = 100 goes to R's other rows, B (10) and C (0): 100 and 0. April has no quota;
    # family 8 has none. The quotas of /Q/ (no territory with rows) and family 9 find no row.
    assert np.nan_to_num(target, nan=-1).tolist() == [67, 33, 100, 0, -1, -1]
    assert sorted(missing["territory_path"]) == ["/Q/", "/R/"]


def test_starting_consensus_carries_the_published_plan_and_rounds_the_rest_per_family():
    g = grid(
        [
            (1, 10, 7, "/R/T/", D(2027, 3, 1), 0.4),
            (2, 10, 7, "/R/T/", D(2027, 3, 1), 0.4),
            (3, 10, 7, "/R/T/", D(2027, 3, 1), 0.4),
            (1, 10, 7, "/R/T/", D(2027, 4, 1), 9.6),
        ]
    )
    previous = pd.DataFrame(
        {"product_id": [1], "territory_id": [10], "period_start": [D(2027, 4, 1)], "consensus": [20]}
    )
    # March: 3 × 0.4 = 1.2 → one unit for the family, to the first row (equal remainders);
    # April's row carries the published 20.
    assert starting_consensus(g, previous).tolist() == [1, 0, 0, 20]


def test_feasible_is_shared_by_consensus_then_forecast_then_evenly():
    g = grid(
        [
            (1, 10, 7, "/R/A/", D(2027, 3, 1), 5),
            (1, 11, 7, "/R/B/", D(2027, 3, 1), 15),
            (2, 10, 7, "/R/A/", D(2027, 3, 1), 1),
            (2, 11, 7, "/R/B/", D(2027, 3, 1), 3),
            (3, 10, 7, "/R/A/", D(2027, 3, 1), 0),
            (3, 11, 7, "/R/B/", D(2027, 3, 1), 0),
        ]
    )
    g["consensus"] = [30, 10, 0, 0, 0, 0]
    feasible = pd.DataFrame(
        {"product_id": [1, 2, 3], "period_start": [D(2027, 3, 1)] * 3, "feasible_qty": [20.0, 8.0, 4.0]}
    )
    assert share_out_feasible(g, feasible).tolist() == [15.0, 5.0, 2.0, 6.0, 2.0, 2.0]


def test_totals_by_node_add_up_the_subtree():
    lines = pd.DataFrame(
        {
            "family_id": ["P", "P", "P"],
            "territory_path": ["/R/A/", "/R/B/", "/S/C/"],
            "period_start": [D(2027, 3, 1)] * 3,
            "consensus": [5.0, 7.0, 1.0],
        }
    )
    nodes = pd.DataFrame(
        {"family_id": ["P", "P", "P"], "territory_path": ["/R/", "/R/B/", "/X/"], "period_start": [D(2027, 3, 1)] * 3}
    )
    assert totals_by_node(lines, nodes, value="consensus").tolist() == [12.0, 7.0, 0.0]


def test_actuals_sum_sales_to_family_territory_month_and_keep_lines_of_no_territory_apart():
    months = [np.datetime64("2027-01-01"), np.datetime64("2027-02-01")]
    sales = pd.DataFrame(
        {
            "product_id": [1, 2, 1, 2, 3, 9],
            "territory_id": pd.array([10, 10, None, None, 99, 10], dtype="Int64"),
            "period_start": [months[0], months[0], months[0], months[1], months[1], months[1]],
            "units": [5.0, 2.5, 4.0, 1.0, 3.0, 8.0],
        }
    )
    # Products 1 and 2 are family 7, product 3 family 8; product 9 is unknown (left out).
    # Territory 10 lies in region 1; territory 99 is no longer known: its line counts as no
    # territory (as the sales line's territory would after the territory's deletion).
    out = family_territory_actuals(sales, families=pd.Series({1: 7, 2: 7, 3: 8}), regions=pd.Series({10: 1}))
    rows = {
        (
            int(r.family_id),
            None if pd.isna(r.territory_id) else int(r.territory_id),
            None if pd.isna(r.region_id) else int(r.region_id),
            str(r.period_start)[:10],
            r.units,
        )
        for r in out.itertuples()
    }
    assert rows == {
        (7, 10, 1, "2027-01-01", 7.5),
        (7, None, None, "2027-01-01", 4.0),
        (7, None, None, "2027-02-01", 1.0),
        (8, None, None, "2027-02-01", 3.0),
    }
    assert len(out) == 4
    assert family_territory_actuals(sales.iloc[0:0], families=pd.Series({1: 7}), regions=pd.Series({})).empty
