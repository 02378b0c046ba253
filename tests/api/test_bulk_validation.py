"""The validator's one-pass fast path gives exactly what the cell-by-cell checks give (no db)."""

import numpy as np
import pandas as pd
import pytest

from core.bulk import validation
from core.bulk.spec import Field, Ref, ResourceSpec

SPEC = ResourceSpec(
    name="things",
    table="things",
    key=("code",),
    scope="x",
    fields=(
        Field("code", max_length=8),
        Field("label", max_length=12, required=False),
        Field("price", kind="decimal", max_digits=8, decimal_places=2, min_value=0),
        Field("qty", kind="decimal", max_digits=6, decimal_places=3, required=False),
        Field("day", kind="date"),
        Field("until", kind="date", required=False),
        Field("kind", kind="choice", choices=("a", "b"), required=False, default="a"),
        Field("product", ref=Ref("product", "product_id", "x.Product", "sku")),
        Field("owner", ref=Ref("owner", "owner_id", "x.Owner", "code"), required=False),
    ),
)
REFS = {"product": {"P1": 11, "P2": 12, "P3": 13}, "owner": {"O1": 21, "O2": 22}}

CLEAN = {
    "code": ["A1", "A2", "A3", "A4"],
    "label": ["", "x y", "long label", "é"],
    "price": ["0", "12.5", "000123.40", ".5"],
    "qty": ["", "-3", "7.", "1.2500"],
    "day": ["2026-01-31", "2024-02-29", "1999-12-31", "2026-06-01"],
    "until": ["", "2026-02-01", "", "2030-01-01"],
    "kind": ["a", "b", "", "a"],
    "product": ["P1", "P2", "P3", "P1"],
    "owner": ["O1", "", "O2", ""],
}
# One bad cell per column (or a cell only the exact path may normalise).
DIRTY = {
    "code": " A1",
    "label": "thirteen char",
    "price": "1,234.5",
    "qty": "+1",
    "day": "2026-02-30",
    "until": "2026-1-01",
    "kind": "B",
    "product": "P9",
    "owner": "O3",
}
MORE_DIRTY = {
    "price": ["-1", "1234567.1", "1.234", "1e3", "abc", ""],
    "qty": ["12345678", "0.0001", "-.5", "."],
    "day": ["", "0999-01-01", "2026-13-01", "20260101"],
    "code": ["", "123456789", "A\x1fB"],
}


def validate(frame, fast: bool, monkeypatch):
    if not fast:
        monkeypatch.setattr(validation, "_fast_field", lambda *args, **kwargs: None)
    result = validation.validate_batch(frame, SPEC, REFS)
    monkeypatch.undo()
    return result


def same(a: validation.Validated, b: validation.Validated):
    assert a.rows == b.rows
    pd.testing.assert_frame_equal(a.errors.reset_index(drop=True), b.errors.reset_index(drop=True), check_dtype=False)
    if a.frame is None or b.frame is None:
        assert a.frame is None and b.frame is None
        return
    assert list(a.frame.columns) == list(b.frame.columns)
    for column in a.frame.columns:
        left = [
            None if pd.isna(v) else str(int(v)) if isinstance(v, float | np.integer | int) else str(v)
            for v in a.frame[column]
        ]
        right = [
            None if pd.isna(v) else str(int(v)) if isinstance(v, float | np.integer | int) else str(v)
            for v in b.frame[column]
        ]
        assert left == right, column


def test_clean_batch_takes_the_fast_path_and_matches_the_exact_one(monkeypatch):
    frame = pd.DataFrame(CLEAN)
    fast, exact = validate(frame, True, monkeypatch), validate(frame, False, monkeypatch)
    assert fast.ok
    same(fast, exact)
    assert fast.frame["product_id"].tolist() == [11, 12, 13, 11]
    assert fast.frame["kind"].tolist() == ["a", "b", "a", "a"]


@pytest.mark.parametrize("column", sorted(DIRTY))
def test_one_dirty_cell_gives_the_exact_errors(column, monkeypatch):
    frame = pd.DataFrame(CLEAN)
    frame.loc[2, column] = DIRTY[column]
    same(validate(frame, True, monkeypatch), validate(frame, False, monkeypatch))


@pytest.mark.parametrize("column", sorted(MORE_DIRTY))
def test_edge_cells_give_the_exact_result(column, monkeypatch):
    for cell in MORE_DIRTY[column]:
        frame = pd.DataFrame(CLEAN)
        frame.loc[1, column] = cell
        same(validate(frame, True, monkeypatch), validate(frame, False, monkeypatch))


def test_missing_optional_column_and_json_gaps_match(monkeypatch):
    frame = pd.DataFrame(CLEAN).drop(columns=["label", "kind"])
    same(validate(frame, True, monkeypatch), validate(frame, False, monkeypatch))
    gaps = pd.DataFrame.from_records(
        [
            {"code": "A", "price": "1", "day": "2026-01-01", "product": "P1"},
            {"code": "B", "price": "2", "day": "2026-01-02", "product": "P2", "owner": "O1", "qty": "3"},
        ]
    ).astype(object)
    same(validate(gaps, True, monkeypatch), validate(gaps, False, monkeypatch))


@pytest.mark.parametrize("pad", [" ", "\t", "\u00a0", "\x1c", "\r"])
@pytest.mark.parametrize("column", ["code", "label", "price", "day", "kind", "product"])
def test_cells_padded_with_whitespace_match_the_exact_path(column, pad, monkeypatch):
    """The fast path strips only columns whose joined text shows a cell edge in whitespace."""
    for cell in (pad + CLEAN[column][1], CLEAN[column][1] + pad):
        frame = pd.DataFrame(CLEAN)
        frame.loc[1, column] = cell
        fast, exact = validate(frame, True, monkeypatch), validate(frame, False, monkeypatch)
        same(fast, exact)
        assert fast.ok, fast.errors
