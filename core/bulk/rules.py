"""Row rules shared by bulk specs: one wording each, each with its columnar twin.

A rule takes the batch's text frame and returns its row errors (``ERROR_COLUMNS``); its twin
(``fast_rules``) takes the Arrow columns and returns True only when no row breaks the rule
(``core/bulk/columnar.py``). Use the pair together::

    ResourceSpec(..., rules=(MONTH.rule,), fast_rules=(MONTH.proof,))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from core.bulk.columnar import dates_in_order
from core.bulk.validation import ERROR_COLUMNS, row_errors

__all__ = ["MONTH_START", "VALIDITY", "RulePair", "dates_ordered", "errors_where", "first_of_month", "row_errors"]


def errors_where(frame: pd.DataFrame, mask, field: str, code: str, message: str) -> pd.DataFrame:
    """Row errors of the rows of ``frame`` where ``mask`` holds (an empty frame when none). A
    missing value in the mask (a comparison with a cell that is not a number) does not hold:
    the type check reports that cell."""
    if isinstance(mask, pd.Series):
        mask = mask.array
    if isinstance(mask, pd.arrays.BooleanArray):  # nullable (pandas' numbers of a typed frame)
        mask = mask.fillna(False)
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return pd.DataFrame(columns=ERROR_COLUMNS)
    return row_errors(frame.index[mask], field, code, message)


@dataclass(frozen=True)
class RulePair:
    rule: Callable[[pd.DataFrame], pd.DataFrame]
    proof: Callable[[dict], bool]


def first_of_month(field: str) -> RulePair:
    """``field`` (an ISO date, or empty) is the first day of a month."""

    def rule(frame: pd.DataFrame) -> pd.DataFrame:
        text = frame[field].astype(str)
        return errors_where(
            frame,
            (text != "") & ~text.str.endswith("-01"),
            field,
            "not_month_start",
            "must be the first day of a month",
        )

    def proof(values: dict) -> bool:
        start = values[field]
        return bool(pc.all(pc.or_(pc.equal(start, ""), pc.ends_with(start, "-01"))).as_py()) if len(start) else True

    return RulePair(rule, proof)


def dates_ordered(earlier: str, later: str) -> RulePair:
    """``later`` (an ISO date, or empty) is not before ``earlier``."""

    def rule(frame: pd.DataFrame) -> pd.DataFrame:
        first, then = frame[earlier], frame[later]
        return errors_where(
            frame,
            (then != "") & (first != "") & (then < first),
            later,
            f"before_{earlier}",
            f"{later} is before {earlier}",
        )

    return RulePair(rule, dates_in_order(earlier, later))


MONTH_START = first_of_month("period_start")
VALIDITY = dates_ordered("valid_from", "valid_to")
