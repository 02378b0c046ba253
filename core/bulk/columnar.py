"""Columnar fast path for bulk batches: parse, prove valid and hand to the writer without a
Python object per cell (pyarrow; pure, no Django). CSV bodies are read by Arrow's CSV reader;
JSON arrays, once decoded, are turned into Arrow columns (``from_rows``).

A nightly feed is millions of clean lines. Reading them into pandas makes one Python string
per cell, and checking and re-encoding those strings cost more than PostgreSQL's own work.
Here the body is parsed by Arrow's CSV reader and every field is checked with Arrow kernels
over the whole column: the same conservative proofs as the pandas fast path in
``core.bulk.validation`` (strict patterns, no whitespace to trim, every reference known,
no duplicate key, the spec's row rules). When every proof holds, the result is an Arrow
table of db columns, ready to be written as CSV for ``COPY``.

Nothing here reports errors. Whenever a proof fails — a bad cell, a cell that needs
trimming, a lower-case status, a quirk of the CSV — the functions return ``None`` and the
caller runs the exact pandas path, which accepts or rejects each row and names every error.
The fast path therefore only ever accepts a subset of what the exact path accepts, and stores
the same values (tested in ``tests/core/test_bulk_columnar.py``).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from core.bulk.keys import FORBIDDEN_RE2
from core.bulk.spec import Field, ResourceSpec
from core.bulk.validation import (
    FAST_DATE,
    FAST_DATE_RANGE,
    RefMap,
    _fast_decimal_cell,
    is_key_field,
)

BOM = b"\xef\xbb\xbf"
FAST_KINDS = ("str", "decimal", "date", "choice")
# What str.strip() removes among ASCII characters (str.isspace): a cell starting or ending
# with one of them must be trimmed, which the exact path does.
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[c for c in range(128) if chr(c).isspace()]] = True
_NON_ASCII = np.arange(256) >= 128


def read_csv(body: bytes) -> pa.Table | None:
    """Every cell as text, as the exact path's ``pandas.read_csv`` would read it; ``None``
    when the body has anything the two readers might read differently (a header cell with
    spaces or a repeated name, a row with the wrong number of cells, invalid UTF-8, …)."""
    if body.startswith(BOM):
        body = body[len(BOM) :]
    end = body.find(b"\n")
    header_line = body if end < 0 else body[:end]
    try:
        names = next(csv.reader([header_line.decode("utf-8").rstrip("\r")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    if (
        not names
        or len(set(names)) != len(names)
        or any(not name or name != name.strip() or '"' in name for name in names)
    ):
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if table.column_names != names or table.num_rows == 0:
        return None
    return table.combine_chunks()


def from_rows(rows: list[dict]) -> pa.Table | None:
    """A JSON array of objects (decoded with numbers kept as text) as text columns, when
    every value is a string or null; a missing key or a null is "" as on the exact path.
    ``None`` for anything the exact path converts itself (booleans, lists, objects) or an
    empty batch."""
    if not rows:
        return None
    first = rows[0].keys()
    if all(row.keys() == first for row in rows):
        names = list(first)
    else:  # optional keys left out of some rows: every key, in order of first appearance
        names = list(dict.fromkeys(key for row in rows for key in row))
    try:
        table = pa.Table.from_pylist(rows, schema=pa.schema([(name, pa.string()) for name in names]))
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None
    columns = [pc.fill_null(column, "") if column.null_count else column for column in table.columns]
    return pa.table(dict(zip(names, columns, strict=True))).combine_chunks()


def eligible(spec: ResourceSpec) -> bool:
    """True when every field and rule of the spec has a columnar proof."""
    return (
        all(f.kind in FAST_KINDS for f in spec.fields)
        and (not spec.rules or spec.fast_rules is not None)
        and (spec.derive is None or spec.fast_derive is not None)
    )


def _offsets(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(value offsets, data bytes) of a string array without copying."""
    validity, offsets, data = column.buffers()
    start = column.offset
    bounds = np.frombuffer(offsets, dtype=np.int32)[start : start + len(column) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return bounds, raw


def _needs_trim(column: pa.Array) -> bool:
    """True when a cell starts or ends with what ``str.strip()`` removes, or holds a NUL
    (which the exact path rejects): the exact path must see the column."""
    bounds, raw = _offsets(column)
    lengths = np.diff(bounds)
    filled = lengths > 0
    if not filled.any():
        return False
    if not raw[bounds[0] : bounds[-1]].all():
        return True  # a NUL byte: the exact path names the cell
    first = raw[bounds[:-1][filled]]
    last = raw[bounds[1:][filled] - 1]
    if _SPACE[first].any() or _SPACE[last].any():
        return True
    wide = _NON_ASCII[first] | _NON_ASCII[last]
    if wide.any():  # a non-ASCII first or last character: str.strip() decides, on those cells only
        cells = pc.take(column, pa.array(np.flatnonzero(filled)[wide])).to_pylist()
        return any(cell != cell.strip() for cell in cells)
    return False


def _plain_key(column: pa.Array) -> bool:
    """True when no key cell needs the exact path: no control character (ASCII) and, for
    non-ASCII text, already in Unicode NFC and free of invisible characters
    (``core.bulk.keys``)."""
    bounds, raw = _offsets(column)
    data = raw[bounds[0] : bounds[-1]]
    if ((data < 0x20) | (data == 0x7F)).any():
        return False
    if not _NON_ASCII[data].any():
        return True
    if pc.any(pc.match_substring_regex(column, FORBIDDEN_RE2)).as_py():
        return False
    return pc.all(pc.equal(pc.utf8_normalize(column, form="NFC"), column)).as_py() is not False


def _text(table: pa.Table, f: Field, n: int) -> pa.Array | None:
    """The field's cells with its default applied, when none needs trimming."""
    if f.name not in table.column_names:
        return pa.repeat(pa.scalar(f.default if f.default is not None else "", pa.string()), n)
    column = table.column(f.name).combine_chunks()
    if _needs_trim(column):
        return None
    if f.default is not None:
        column = pc.if_else(pc.equal(column, ""), pa.scalar(f.default, pa.string()), column)
    return column


def _all(mask) -> bool:
    return bool(pc.all(mask).as_py()) if len(mask) else True


def _matches(column: pa.Array, cell: str, required: bool) -> bool:
    pattern = f"^(?:{cell})$" if required else f"^(?:{cell})?$"
    return _all(pc.match_substring_regex(column, pattern))


def _field(table: pa.Table, f: Field, n: int, refs: dict, *, is_key: bool = False) -> tuple[pa.Array, pa.Array] | None:
    """(parsed value, db value) of a provably valid field: parsed values are the cleaned text
    ("" when empty) or the referenced ids; db values have NULL for an empty non-text cell."""
    column = _text(table, f, n)
    if column is None:
        return None
    if is_key and not _plain_key(column):
        return None
    present = pc.not_equal(column, "")
    if f.required and not _all(present):
        return None
    if f.max_length is not None and n and pc.max(pc.utf8_length(column)).as_py() > f.max_length:
        return None
    if f.kind == "decimal":
        if not _matches(column, _fast_decimal_cell(f), f.required):
            return None
        if f.min_value is not None:
            filled = pc.filter(column, present)
            if len(filled) and pc.min(pc.cast(filled, pa.float64())).as_py() < f.min_value:
                return None
    elif f.kind == "date":
        if not _matches(column, FAST_DATE, f.required):
            return None
        filled = pc.filter(column, present)
        if len(filled):
            bounds = pc.min_max(filled)
            if bounds["min"].as_py() < FAST_DATE_RANGE[0] or bounds["max"].as_py() > FAST_DATE_RANGE[1]:
                return None
            try:
                pc.cast(filled, pa.date32())  # rejects 2026-02-30
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
    elif f.kind == "choice":
        allowed = list(f.choices) if f.required else [*f.choices, ""]
        if not _all(pc.is_in(column, value_set=pa.array(allowed, pa.string()))):
            return None
    if f.ref is not None:
        keys, ids = RefMap.arrow_arrays(refs.get(f.ref.table, {}))
        position = pc.index_in(column, value_set=keys)
        known = pc.is_valid(position)
        if not _all(pc.or_(known, pc.invert(present))):
            return None
        missing = ~known.to_numpy(zero_copy_only=False)  # blanks of an optional reference
        found = pc.fill_null(position, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        values = pa.array(ids[found], pa.int64(), mask=missing if missing.any() else None)
        return values, values
    if f.kind in ("str", "choice"):
        return column, column
    return column, pc.if_else(present, column, pa.scalar(None, pa.string()))


def validate(table: pa.Table, spec: ResourceSpec, refs: dict, context: dict | None = None) -> pa.Table | None:
    """The batch as db columns when every cell and rule is provably valid, else ``None``.
    The caller has checked the batch's shape (columns and row count) already."""
    if not eligible(spec):
        return None
    n = table.num_rows
    parsed: dict[str, pa.Array] = {}
    out: dict[str, pa.Array] = {}
    for f in spec.fields:
        result = _field(table, f, n, refs, is_key=is_key_field(spec, f))
        if result is None:
            return None
        parsed[f.name], stored = result
        if f.db_column:
            out[f.db_column] = stored

    keys = [parsed[k] for k in spec.key]
    if len(keys) == 1:
        distinct = pc.count_distinct(keys[0], mode="all").as_py()
    else:
        names = [f"k{i}" for i in range(len(keys))]
        distinct = pa.table(dict(zip(names, keys, strict=True))).group_by(names).aggregate([]).num_rows
    if distinct != n:
        return None

    for rule in spec.fast_rules or ():
        if not rule(parsed):
            return None
    if spec.fast_derive is not None:
        out.update(spec.fast_derive(parsed, context or {}))
    return pa.table(out)


def as_numbers(column: pa.Array) -> np.ndarray:
    """Validated decimal text (or NULL) as float64, NaN for NULL or empty: signs and zeros are
    exact, which is what row rules compare."""
    filled = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    return pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False)


def negated(column: pa.Array, where: np.ndarray) -> pa.Array:
    """Decimal text made negative on the rows ``where`` is true, whatever sign it was sent with."""
    if not where.any():
        return column
    unsigned = pc.utf8_ltrim(column, characters="-")
    minus = pc.binary_join_element_wise(pa.scalar("-"), unsigned, "")
    minus = pc.if_else(pc.equal(unsigned, "0"), unsigned, minus)  # "0" stays "0", as on the exact path
    return pc.if_else(pa.array(where), minus, column)


def dates_in_order(earlier: str, later: str):
    """A fast rule: ``later`` is empty or not before ``earlier`` (ISO dates compare as text)."""

    def proof(values: dict) -> bool:
        first, then = values[earlier], values[later]
        early = pc.and_(pc.and_(pc.not_equal(then, ""), pc.not_equal(first, "")), pc.less(then, first))
        return not pc.any(early).as_py()

    return proof
