"""Walking parent-pointer trees (territories.hierarchy); no database."""

from __future__ import annotations

import pandas as pd
import pytest

from territories.hierarchy import ancestor_pairs


def test_ancestor_pairs_any_depth_and_bad_trees():
    tree = pd.DataFrame({"code": ["R", "D", "T"], "parent": [None, "R", "D"]})
    pairs = ancestor_pairs(tree, child="code", parent="parent")
    assert pairs.loc[pairs["node"] == "T", ["ancestor", "distance"]].values.tolist() == [
        ["T", 0],
        ["D", 1],
        ["R", 2],
    ]
    with pytest.raises(ValueError, match="not found"):
        ancestor_pairs(pd.DataFrame({"code": ["A"], "parent": ["Z"]}), child="code", parent="parent")
    with pytest.raises(ValueError, match="cycle"):
        ancestor_pairs(pd.DataFrame({"code": ["A", "B"], "parent": ["B", "A"]}), child="code", parent="parent")
    with pytest.raises(ValueError, match="duplicate"):
        ancestor_pairs(
            pd.DataFrame({"code": ["A", "A"], "parent": [None, None]}),
            child="code",
            parent="parent",
        )
