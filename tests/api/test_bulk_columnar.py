"""The columnar CSV path (core.bulk.columnar) accepts only batches the exact pandas path
accepts, and produces the same db values; on anything else it declines (None). No db."""

import csv
import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.bulk import columnar, validation
from core.bulk.service import parse_body, parse_json_rows
from core.bulk.writer import _arrow_csv
from core.errors import ApplicationError
from sales import bulk as sales_bulk
from territories.ownership import OwnershipIndex
from tests.api.test_bulk_validation import CLEAN, DIRTY, MORE_DIRTY, REFS, SPEC

TEXT_KINDS = ("str", "choice")


def body_of(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


def exact(body: bytes, spec=SPEC, refs=REFS, context=None) -> validation.Validated:
    return validation.validate_batch(parse_body(body, "text/csv"), spec, refs, context=context)


def fast(body: bytes, spec=SPEC, refs=REFS, context=None):
    table = columnar.read_csv(body)
    return None if table is None else columnar.validate(table, spec, refs, context)


def db_values(spec, frame: pd.DataFrame | pa.Table) -> dict[str, list]:
    """Cells as the database will store them: NULL for an empty non-text cell, ids as ints."""
    text = {f.db_column for f in spec.stored_fields if f.kind in TEXT_KINDS and f.ref is None}
    out = {}
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    for name in names:
        cells = frame.column(name).to_pylist() if isinstance(frame, pa.Table) else list(frame[name])
        values = []
        for v in cells:
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                values.append(None)
            elif isinstance(v, str):
                values.append(None if v == "" and name not in text else v)
            else:
                values.append(int(v))
        out[name] = values
    return out


def same_outcome(reference: validation.Validated, result, spec, must_be_fast: bool):
    """The columnar result is None (declined) or the exact path's accepted values."""
    if result is None:
        assert not must_be_fast, "the columnar path declined a clean batch"
        return reference, None
    assert reference.ok, f"columnar accepted a batch the exact path rejects: {reference.errors.head()}"
    assert db_values(spec, result) == db_values(spec, reference.frame)
    return reference, result


def agree(body: bytes, spec=SPEC, refs=REFS, context=None, *, must_be_fast=False):
    return same_outcome(exact(body, spec, refs, context), fast(body, spec, refs, context), spec, must_be_fast)


def test_clean_batch_takes_the_columnar_path_with_the_exact_values():
    _, result = agree(body_of(pd.DataFrame(CLEAN)), must_be_fast=True)
    assert result.column("product_id").to_pylist() == [11, 12, 13, 11]
    assert result.column("owner_id").to_pylist() == [21, None, 22, None]
    assert result.column("kind").to_pylist() == ["a", "b", "a", "a"]  # the default fills the blank
    assert result.column("until").to_pylist() == [None, "2026-02-01", None, "2030-01-01"]
    assert result.column("label").to_pylist()[0] == ""  # an empty text cell stays text


@pytest.mark.parametrize("column", sorted(DIRTY))
def test_a_dirty_cell_sends_the_batch_to_the_exact_path(column):
    frame = pd.DataFrame(CLEAN)
    frame.loc[2, column] = DIRTY[column]
    agree(body_of(frame))
    assert fast(body_of(frame)) is None


@pytest.mark.parametrize("column", sorted(MORE_DIRTY))
def test_edge_cells_are_never_accepted_differently(column):
    for cell in MORE_DIRTY[column]:
        frame = pd.DataFrame(CLEAN)
        frame.loc[1, column] = cell
        agree(body_of(frame))


@pytest.mark.parametrize("pad", [" ", "\t", "\u00a0", "\x1c", "\u2003", "\r"])
@pytest.mark.parametrize("column", ["code", "label", "price", "day", "kind", "product"])
def test_padded_cells_leave_the_trimming_to_the_exact_path(column, pad):
    for cell in (pad + CLEAN[column][1], CLEAN[column][1] + pad):
        frame = pd.DataFrame(CLEAN)
        frame.loc[1, column] = cell
        if pad == "\r":  # an unquoted CR is a line break to both readers: mid-row, it cuts the row
            try:
                agree(body_of(frame))
            except ApplicationError as exc:
                assert exc.code == "invalid_rows" and fast(body_of(frame)) is None
            continue
        reference, result = agree(body_of(frame))
        assert reference.ok and result is None


@pytest.mark.parametrize(
    "body",
    [
        b"",  # empty
        b"code,price,day,product\n",  # header only
        b"code,price,day,product\nA1,1,2026-01-01,P1,extra\n",  # a row too long
        b"code,price,day,product\nA1,1,2026-01-01\n",  # a row too short
        b"code, price,day,product\nA1,1,2026-01-01,P1\n",  # a header cell with a space
        b"code,code,day,product\nA1,1,2026-01-01,P1\n",  # a repeated column
        b"code,price,day,product\nA1,1,2026-01-01,\xff\n",  # invalid UTF-8
        b'code,price,day,product\nA1,1,2026-01-01, "P1"\n',  # space before a quoted cell
    ],
)
def test_csv_quirks_are_judged_by_the_exact_reader(body):
    assert fast(body) is None


@pytest.mark.parametrize(
    "rows",
    [
        b'x,"q""r",y\n',
        b'x,q"r,y\n',
        b'x,"q"r,y\n',
        b'x,"q" ,y\n',
        b'x,q""r,y\n',
        b'x,"q\r\nr",y\n',
        b"x,q,y",
        b"x,q,y\n\n\n",
        b'"x",,\n',
        b"x,\\,y\n",
        b'x,"",y\n',
        b",,\n",
        b" \n",
        b"x,q,y\r\r\n",
        b"x,#q,y\n",
        b'x,"q\nr,y\n',
        b"x;q;y\n",
        b"x,q,y,\n",
    ],
)
def test_the_two_readers_agree_on_quoting_and_line_ends(rows):
    """Whatever Arrow reads is what pandas (the exact path's reader) reads, cell for cell."""
    body = b"a,b,c\n" + rows
    table = columnar.read_csv(body)
    if table is None:
        return
    frame = parse_body(body, "text/csv")
    assert [list(r.values()) for r in table.to_pylist()] == frame.values.tolist()


def test_bom_quotes_crlf_and_blank_lines_read_as_pandas_reads_them():
    body = (
        '\ufeffcode,price,day,product,label\r\nA1,1.50,2026-01-01,P1,"x, ""q""\ny"\r\n\r\nA2,2,2026-01-02,P2,\r\n'
    ).encode()
    _, result = agree(body, must_be_fast=True)
    assert result.column("label").to_pylist() == ['x, "q"\ny', ""]


def test_duplicate_keys_and_missing_columns_decline():
    frame = pd.DataFrame(CLEAN)
    frame.loc[3, "code"] = "A1"
    assert fast(body_of(frame)) is None and not exact(body_of(frame)).ok
    gaps = pd.DataFrame(CLEAN).drop(columns=["label", "kind", "until", "owner"])
    _, result = agree(body_of(gaps), must_be_fast=True)
    assert result.column("kind").to_pylist() == ["a"] * 4


POOL = [
    "",
    " ",
    "0",
    "A\x00",
    "P\x001",
    "-0",
    "+1",
    "1.",
    ".5",
    "1e3",
    "12.345",
    "12.3456",
    "99999999.99",
    "100000000",
    "2026-02-29",
    "2024-02-29",
    "2026-1-1",
    "1899-12-31",
    "a",
    "b",
    "B",
    "P1",
    "P9",
    "O1",
    "é",
    "x\ty",
    "A1",
    "A\\1",
    "null",
    "NaN",
    "N/A",
    '"',
    "long-long-label",
    "P\u200b1",
    "e\u0301",
    "A\u202eB",
]


def test_random_mutations_never_make_the_paths_disagree():
    rng = np.random.default_rng(20261126)
    columns = list(CLEAN)
    for _ in range(300):
        frame = pd.DataFrame(CLEAN)
        for _ in range(rng.integers(1, 4)):
            frame.loc[int(rng.integers(0, 4)), columns[rng.integers(0, len(columns))]] = POOL[
                rng.integers(0, len(POOL))
            ]
        agree(body_of(frame))


# -- sales lines: the rule and the derived columns have columnar twins -----------------------
SALES_REFS = {"account": {"C1": 1, "C2": 2, "C3": 3}, "product": {"S1": 10, "S2": 20}}


def sales_context():
    # C1: territory 100 until 2024-06-30, then 200; C2: 300 from 2024-01-01; C3: nobody.
    owners = pd.DataFrame(
        {
            "account": [1, 1, 2],
            "from": ["2020-01-01", "2024-07-01", "2024-01-01"],
            "to": ["2024-06-30", None, None],
            "territory": [100, 200, 300],
        }
    )
    return {
        "ownership": OwnershipIndex(
            owners["account"].to_numpy(),
            pd.to_datetime(owners["from"]).to_numpy(),
            pd.to_datetime(owners["to"]).to_numpy(),
        ),
        "territory_ids": owners["territory"].to_numpy(),
    }


def sales_body(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "external_id",
            "order_date",
            "ship_date",
            "account_external_id",
            "product_sku",
            "quantity",
            "net_amount",
            "status",
        ]
    )
    writer.writerows(rows)
    return out.getvalue().encode()


SALES = [
    ["L1", "2024-06-30", "2024-07-02", "C1", "S1", "5", "50.00", "invoiced"],
    ["L2", "2024-07-01", "", "C1", "S2", "1.5", "0", "booked"],
    ["L3", "2023-12-31", "2024-01-05", "C2", "S1", "-2", "-20.00", "returned"],
    ["L4", "2024-03-01", "2024-03-01", "C2", "S2", "3", "30", "returned"],
    ["L5", "2024-03-01", "2024-03-04", "C3", "S1", "2", "0.00", "cancelled"],
]


def test_sales_lines_fast_rule_and_derive_match_the_exact_path():
    _, result = agree(sales_body(SALES), sales_bulk.SALES_LINES, SALES_REFS, sales_context(), must_be_fast=True)
    assert result.column("territory_id").to_pylist() == [100, 200, None, 300, None]
    assert result.column("quantity").to_pylist() == ["5", "1.5", "-2", "-3", "2"]
    assert result.column("net_amount").to_pylist() == ["50.00", "0", "-20.00", "-30", "0.00"]


@pytest.mark.parametrize(
    "row, column, cell",
    [
        (0, 5, "0"),  # zero quantity on a sale
        (0, 6, "-1"),  # negative amount on a sale
        (2, 5, "0"),  # a return of nothing
        (0, 2, "2024-06-29"),  # shipped before it was ordered
        (1, 7, "Booked"),  # a status only the exact path lower-cases
    ],
)
def test_sales_lines_rule_breaks_go_to_the_exact_path(row, column, cell):
    rows = [list(r) for r in SALES]
    rows[row][column] = cell
    agree(sales_body(rows), sales_bulk.SALES_LINES, SALES_REFS, sales_context())
    assert fast(sales_body(rows), sales_bulk.SALES_LINES, SALES_REFS, sales_context()) is None


def test_arrow_csv_for_copy_quotes_only_when_a_cell_needs_it():
    plain = pa.table({"a": pa.array(["", None, "x y"]), "b": pa.array([1, None, 3])})
    assert _arrow_csv(plain) == b",1\n,\nx y,3\n"
    special = pa.table({"a": pa.array(["", 'x"y', "t,b\nc"]), "b": pa.array([1, None, 4])})
    assert _arrow_csv(special) == b'"",1\n"x""y",\n"t,b\nc",4\n'
    assert _arrow_csv(pa.table({"a": pa.array(["\\."])})) == b'"\\."\n'  # never a bare end marker


# -- JSON arrays: decoded once, then the same columnar proofs ---------------------------------
def exact_json(body: bytes, spec=SPEC, refs=REFS, context=None) -> validation.Validated:
    return validation.validate_batch(parse_body(body, "application/json"), spec, refs, context=context)


def fast_json(body: bytes, spec=SPEC, refs=REFS, context=None):
    table = columnar.from_rows(parse_json_rows(body))
    return None if table is None else columnar.validate(table, spec, refs, context)


def agree_json(rows: list[dict], *, must_be_fast=False):
    body = json.dumps(rows).encode()
    return same_outcome(exact_json(body), fast_json(body), SPEC, must_be_fast)


def clean_rows() -> list[dict]:
    return pd.DataFrame(CLEAN).to_dict("records")


def test_clean_json_takes_the_columnar_path_with_the_exact_values():
    _, result = agree_json(clean_rows(), must_be_fast=True)
    assert result.column("owner_id").to_pylist() == [21, None, 22, None]


def test_json_rows_without_optional_keys_or_with_nulls_match():
    rows = clean_rows()
    del rows[0]["label"], rows[1]["until"], rows[3]["owner"]
    rows[2]["qty"] = None
    _, result = agree_json(rows, must_be_fast=True)
    assert result.column("label").to_pylist()[0] == "" and result.column("qty").to_pylist()[2] is None


@pytest.mark.parametrize("value", [True, False, ["P1"], {"sku": "P1"}, 1.5, 3])
def test_json_values_that_need_converting_go_to_the_exact_path(value):
    rows = clean_rows()
    rows[1]["label"] = value
    assert columnar.from_rows(rows) is None
    if not isinstance(value, dict):  # an object is a row error of the exact path (test_bulk_ingest)
        agree_json(rows)


@pytest.mark.parametrize("column", sorted(DIRTY))
def test_a_dirty_json_cell_goes_to_the_exact_path(column):
    rows = clean_rows()
    rows[2][column] = DIRTY[column]
    agree_json(rows)
    assert fast_json(json.dumps(rows).encode()) is None


def test_numbers_in_json_keep_every_digit_on_the_columnar_path():
    body = json.dumps(clean_rows()).replace('"12.5"', "12.50").encode()  # a JSON number
    table = columnar.from_rows(parse_json_rows(body))
    assert table.column("price").to_pylist()[1] == "12.50"


# -- the other resources with row rules: their columnar twins agree too ----------------------
def _rule_cases():
    from compensation.bulk import COMP_ASSIGNMENTS
    from sop.bulk import CAPACITY, ROUTINGS

    wc = {"work center": {"WC1": 1, "WC2": 2}}
    return [
        (
            CAPACITY,
            wc,
            "work_center_code,period_start,available_hours\nWC1,2026-01-01,160\nWC2,2026-02-01,0\n",
            [("period_start", "2026-02-15"), ("available_hours", "-1")],
        ),
        (
            ROUTINGS,
            {**wc, "product": {"P1": 10}},
            "product_sku,work_center_code,hours_per_unit\nP1,WC1,0.25\nP1,WC2,1\n",
            [("hours_per_unit", "0"), ("hours_per_unit", "-0.5")],
        ),
        (
            COMP_ASSIGNMENTS,
            {"user": {"alice": 5, "bob": 6}, "comp plan": {"STD": 7}},
            "rep_username,plan_code,valid_from,valid_to,quota\nalice,STD,2026-01-01,2026-12-31,1000\nbob,STD,2026-01-01,,\n",
            [("valid_to", "2025-12-31")],
        ),
    ]


@pytest.mark.parametrize("case", range(3))
def test_rule_twins_of_capacity_routings_and_comp_assignments_agree(case):
    spec, refs, body, breaks = _rule_cases()[case]
    assert columnar.eligible(spec)
    agree(body.encode(), spec, refs, must_be_fast=True)
    for field, cell in breaks:  # one rule break in row 1: declined, and the exact path names it
        frame = parse_body(body.encode(), "text/csv")
        frame.loc[1, field] = cell
        dirty = frame.to_csv(index=False).encode()
        reference, result = agree(dirty, spec, refs)
        assert result is None and not reference.ok
        assert (1, field) in set(zip(reference.errors["row"], reference.errors["field"], strict=True))
