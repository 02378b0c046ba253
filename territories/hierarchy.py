"""Walking parent-pointer trees: the territory tree and the rep -> manager chain.

Input: a frame of nodes with a child column and a parent column (parent missing = root).
Output of :func:`ancestor_pairs`: one row per (node, ancestor) with ``distance`` (0 = the node
itself, 1 = its parent, ...). The walk is vectorised: one merge per tree level, so the Python
loop runs ``depth`` times, never once per node. A cycle or a parent that is not itself a node
raises ``ValueError``.
"""

from __future__ import annotations

import pandas as pd


def ancestor_pairs(nodes: pd.DataFrame, *, child: str, parent: str) -> pd.DataFrame:
    """Every node paired with itself and each of its ancestors.

    ``nodes`` columns: ``child`` (unique), ``parent`` (missing for roots). Returns columns
    ``node``, ``ancestor``, ``distance`` (int), sorted by node then distance.
    """
    frame = nodes[[child, parent]].copy()
    if frame[child].isna().any():
        raise ValueError(f"{child} must not be empty")
    if frame[child].duplicated().any():
        dupes = sorted(frame.loc[frame[child].duplicated(), child].astype(str).unique())
        raise ValueError(f"duplicate {child}: {', '.join(dupes)}")
    has_parent = frame[parent].notna()
    unknown = ~frame.loc[has_parent, parent].isin(frame[child])
    if unknown.any():
        missing = sorted(frame.loc[has_parent, parent][unknown].astype(str).unique())
        raise ValueError(f"{parent} not found among {child}: {', '.join(missing)}")

    parent_of = frame.loc[has_parent].set_index(child)[parent]
    level = pd.DataFrame({"node": frame[child].to_numpy(), "ancestor": frame[child].to_numpy()})
    level["distance"] = 0
    levels = [level]
    for distance in range(1, len(frame) + 1):
        up = level["ancestor"].map(parent_of)
        keep = up.notna()
        if not keep.any():
            break
        level = pd.DataFrame({"node": level.loc[keep, "node"].to_numpy(), "ancestor": up[keep].to_numpy()})
        level["distance"] = distance
        levels.append(level)
    else:
        if len(level):  # still climbing after as many steps as there are nodes
            raise ValueError(f"cycle in the {parent} chain of {child}")
    out = pd.concat(levels, ignore_index=True)
    return out.sort_values(["node", "distance"], kind="stable").reset_index(drop=True)
