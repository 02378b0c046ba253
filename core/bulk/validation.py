"""Vectorised validation of a bulk-upsert batch (pure pandas, no Django).

Input: a DataFrame of *text* cells (as read from CSV, or JSON with numbers kept as text),
a :class:`ResourceSpec`, and reference maps ``{ref table: {natural key: id}}``.
Output: a :class:`Validated` holding either the typed frame ready for the writer
(db column → values as normalised text or ids), or every row error as a frame
``row, field, code, message`` (``row`` is the 0-based index in the batch; for CSV bodies
the header is not counted).

Each column first takes a fast path: one regular expression over the whole column joined
into a single string (plus hash look-ups for choices and references) proves that every cell
is already clean, and the cells are kept as they are. Only a column that fails that proof
goes through the exact cell-by-cell checks, which name every bad row; both paths give the
same result for a clean column.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from core.bulk import keys as natural_keys
from core.bulk.spec import Field, ResourceSpec

ERROR_COLUMNS = ["row", "field", "code", "message"]
DECIMAL_RE = r"[+-]?(\d+(\.\d*)?|\.\d+)"
DATE_RE = r"\d{4}-\d{2}-\d{2}"
TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f", ""}
SEP = "\x1f"  # joins a column's cells for the one-pass checks (a cell holding it takes the exact path)
FAST_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
FAST_DATE_RANGE = ("1900-01-01", "2199-12-31")  # inside every backend's and pandas' range


class BatchShapeError(ValueError):
    """The batch as a whole is unusable (unknown or missing columns, too many rows)."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.message = message
        self.details = details


class RefMap(dict):
    """A natural key → id map that keeps its keys prepared for vectorised look-ups (a hash
    index and the ids in the same order), built once; treat it as read-only. Plain dicts work
    too and are prepared on every call."""

    @functools.cached_property
    def _arrays(self) -> tuple[pd.Index, np.ndarray]:
        return RefMap._prepare(self)

    @staticmethod
    def _prepare(mapping: dict) -> tuple[pd.Index, np.ndarray]:
        return (pd.Index(list(mapping), dtype=object), np.fromiter(mapping.values(), dtype="int64", count=len(mapping)))

    @staticmethod
    def lookup_arrays(mapping: dict) -> tuple[pd.Index, np.ndarray]:
        return mapping._arrays if isinstance(mapping, RefMap) else RefMap._prepare(mapping)

    @functools.cached_property
    def _arrow(self):
        return RefMap._prepare_arrow(self)

    @staticmethod
    def _prepare_arrow(mapping: dict):
        return (pa.array(list(mapping), pa.string()), np.fromiter(mapping.values(), dtype="int64", count=len(mapping)))

    @staticmethod
    def arrow_arrays(mapping: dict):
        """(keys as an Arrow string array, ids in the same order) for ``pyarrow.compute.index_in``."""
        return mapping._arrow if isinstance(mapping, RefMap) else RefMap._prepare_arrow(mapping)


@dataclass
class Validated:
    frame: pd.DataFrame | None  # db columns, when valid
    errors: pd.DataFrame  # empty when valid
    rows: int

    @property
    def ok(self) -> bool:
        return self.errors.empty


def row_errors(rows, field: str, code: str, messages) -> pd.DataFrame:
    """Row errors of ``rows`` (batch indexes) on ``field``: one message, or one per row (the one
    builder of error frames: rules use ``core.bulk.rules.errors_where``)."""
    rows = np.asarray(rows if isinstance(rows, np.ndarray | pd.Index) else list(rows))
    if isinstance(messages, str):
        messages = [messages] * len(rows)
    return pd.DataFrame({"row": rows, "field": field, "code": code, "message": list(messages)})


def check_shape(frame: pd.DataFrame, spec: ResourceSpec, max_rows: int) -> None:
    if len(frame) == 0 and len(frame.columns) == 0:
        return  # an empty batch is valid and writes nothing
    check_columns(list(frame.columns), len(frame), spec, max_rows)


def check_columns(columns: list[str], rows: int, spec: ResourceSpec, max_rows: int) -> None:
    """Raise :class:`BatchShapeError` for too many rows, unknown or missing columns."""
    known = {f.name for f in spec.fields}
    unknown = [c for c in columns if c not in known]
    missing = [f.name for f in spec.fields if f.required and f.default is None and f.name not in columns]
    if rows > max_rows:
        raise BatchShapeError(
            f"A batch holds at most {max_rows:,} rows; this one has {rows:,}.", {"max_rows": max_rows, "rows": rows}
        )
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown field(s): {', '.join(unknown)}")
        if missing:
            parts.append(f"missing required field(s): {', '.join(missing)}")
        hint = ""
        separator = next((sep for sep in (";", "\t", "|") if len(unknown) == 1 and sep in unknown[0]), None)
        if separator is not None and any(name in known for name in unknown[0].split(separator)):
            shown = {"\t": "tabs"}.get(separator, f"'{separator}'")
            hint = (
                f" The header looks separated by {shown}: CSV bodies are comma-separated"
                " (with '.' as the decimal point)."
            )
        raise BatchShapeError(
            f"The batch's columns do not match the '{spec.name}' resource: {'; '.join(parts)}.{hint}",
            {"unknown_fields": unknown, "missing_fields": missing, "expected_fields": [f.name for f in spec.fields]},
        )


def _decimal(col: pd.Series, f: Field, present: pd.Series) -> tuple[pd.Series, list[pd.DataFrame]]:
    errors = []
    text = col.str.replace(",", "", regex=False) if col.str.contains(",", regex=False).any() else col
    well_formed = text.str.fullmatch(DECIMAL_RE)
    bad = present & ~well_formed
    if bad.any():
        errors.append(
            row_errors(col.index[bad], f.name, "invalid_number", [f"'{v}' is not a number" for v in col[bad]])
        )
    good = present & well_formed
    if f.decimal_places is not None or f.max_digits is not None:
        unsigned = text.str.lstrip("+-")
        pieces = unsigned.str.split(".", n=1)
        int_part = pieces.str.get(0).astype("string").fillna("").str.lstrip("0")
        frac_part = pieces.str.get(1).astype("string").fillna("").str.rstrip("0")
        if f.decimal_places is not None:
            too_fine = good & (frac_part.str.len() > f.decimal_places)
            if too_fine.any():
                errors.append(
                    row_errors(
                        col.index[too_fine], f.name, "too_many_decimals", f"at most {f.decimal_places} decimal places"
                    )
                )
                good &= ~too_fine
        if f.max_digits is not None:
            limit = f.max_digits - (f.decimal_places or 0)
            too_big = good & (int_part.str.len() > limit)
            if too_big.any():
                errors.append(
                    row_errors(
                        col.index[too_big], f.name, "too_large", f"at most {limit} digits before the decimal point"
                    )
                )
                good &= ~too_big
    if f.min_value is not None:
        values = pd.to_numeric(text.where(good), errors="coerce")
        below = good & (values < f.min_value)
        if below.any():
            errors.append(row_errors(col.index[below], f.name, "below_minimum", f"must be at least {f.min_value:g}"))
    normalised = text.str.lstrip("+")
    return normalised, errors


def is_key_field(spec: ResourceSpec, f: Field) -> bool:
    """A text field naming a row: the resource's natural key or a reference to another's."""
    return f.kind == "str" and (f.name in spec.key or f.ref is not None)


def _key(col: pd.Series, f: Field) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Key cells in Unicode NFC; cells holding an invisible character are errors
    (``core.bulk.keys``)."""
    if not col.map(str.isascii, na_action="ignore").all():
        col = col.str.normalize("NFC")
    bad = col.str.contains(natural_keys.FORBIDDEN_RE.pattern, regex=True)
    if not bad.any():
        return col, []
    return col, [row_errors(col.index[bad], f.name, "invalid_character", [natural_keys.problem(v) for v in col[bad]])]


def _date(col: pd.Series, f: Field, present: pd.Series) -> tuple[pd.Series, list[pd.DataFrame]]:
    text = col.str.slice(0, 10).where(col.str.len() <= 10, col)  # tolerate "YYYY-MM-DD" only
    parsed = pd.to_datetime(text.where(present), format="%Y-%m-%d", errors="coerce")
    bad = present & (parsed.isna() | ~col.str.fullmatch(DATE_RE))
    errors = []
    if bad.any():
        errors.append(
            row_errors(col.index[bad], f.name, "invalid_date", [f"'{v}' is not a date (YYYY-MM-DD)" for v in col[bad]])
        )
    return parsed.dt.strftime("%Y-%m-%d").where(present & ~bad, ""), errors


@functools.lru_cache(maxsize=256)
def _column_pattern(cell: str, required: bool) -> re.Pattern:
    """Matches a whole joined column whose every cell matches ``cell`` (or is empty)."""
    one = f"(?:{cell})" if required else f"(?:{cell})?"
    return re.compile(rf"{one}(?:\x1f{one})*")


def _fast_decimal_cell(f: Field) -> str:
    """A plain decimal within the field's digit limits: no sign other than '-', no comma."""
    places = f.decimal_places
    frac = "[0-9]*" if places is None else f"[0-9]{{0,{places}}}0*"
    if f.max_digits is None:
        whole = "[0-9]+"
    elif f.max_digits - (places or 0) <= 0:
        whole = "0+"
    else:
        whole = f"0*[0-9]{{1,{f.max_digits - (places or 0)}}}"
    fraction_only = r"\.0+" if places == 0 else r"\.[0-9]+" if places is None else rf"\.[0-9]{{1,{places}}}0*"
    return rf"-?(?:{whole}(?:\.{frac})?|{fraction_only})"


_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e"  # what str.strip removes in ASCII, besides SEP itself
_EDGES = tuple(bytes([c]) + b"\x1f" for c in _ASCII_SPACE) + tuple(b"\x1f" + bytes([c]) for c in _ASCII_SPACE)


def _needs_strip(joined: str) -> bool:
    """True when a cell of the joined column may start or end with whitespace (a few fast
    byte scans instead of stripping every cell; non-ASCII text is always stripped)."""
    if not joined.isascii():
        return True
    raw = joined.encode("ascii")
    if len(raw.translate(None, _ASCII_SPACE)) == len(raw):
        return False  # no whitespace anywhere
    if raw[:1] in _ASCII_SPACE or raw[-1:] in _ASCII_SPACE:
        return True
    return any(edge in raw for edge in _EDGES)


def _clean_cells(frame: pd.DataFrame, f: Field, n: int) -> tuple[np.ndarray, str] | None:
    """The column's trimmed cells (defaults applied) and their joined text, when all are text."""
    if f.name not in frame.columns:
        values = np.full(n, f.default if f.default is not None else "", dtype=object)
        return values, SEP.join(values)
    values = frame[f.name].to_numpy(dtype=object)
    try:
        joined = SEP.join(values)
    except TypeError:  # a non-text cell (missing JSON key, object): the exact path handles it
        return None
    if joined and _needs_strip(joined):  # only then strip cell by cell
        values = np.array(list(map(str.strip, values)), dtype=object)
        joined = None
    if f.default is not None and (values == "").any():
        values = values.copy()
        values[values == ""] = f.default
        joined = None
    if joined is None:
        joined = SEP.join(values)
    if joined.count(SEP) != n - 1:
        return None
    return values, joined


_ASCII_CONTROLS = bytes([*range(0x1F), 0x7F])  # all but SEP (0x1F), which joins the cells


def _plain_key_column(joined: str) -> bool:
    """True when no key cell of the joined column needs the exact path: ASCII without control
    characters (a byte scan), or other text already in NFC and free of invisible characters."""
    if joined.isascii():
        raw = joined.encode("ascii")
        return len(raw.translate(None, _ASCII_CONTROLS)) == len(raw)
    return natural_keys.FORBIDDEN_IN_JOINED_RE.search(joined) is None and unicodedata.is_normalized("NFC", joined)


def _fast_field(frame: pd.DataFrame, f: Field, n: int, refs: dict, *, is_key: bool = False) -> pd.Series | None:
    """The field's parsed values when every cell is provably valid, else None."""
    if f.kind not in ("str", "decimal", "date", "choice"):
        return None
    clean = _clean_cells(frame, f, n)
    if clean is None:
        return None
    values, joined = clean
    if "\x00" in joined:
        return None  # a NUL character: the exact path names the cell
    if is_key and not _plain_key_column(joined):
        return None  # an invisible character or a key to normalise: the exact path does it
    present = values != ""
    if f.required and not present.all():
        return None
    if f.max_length is not None and max(map(len, values)) > f.max_length:
        return None
    if f.kind == "decimal":
        if not _column_pattern(_fast_decimal_cell(f), f.required).fullmatch(joined):
            return None
        if f.min_value is not None and present.any():
            numbers = pd.to_numeric(pd.Series(values[present], dtype=object), errors="coerce")
            if numbers.isna().any() or (numbers < f.min_value).any():
                return None
    elif f.kind == "date":
        if not _column_pattern(FAST_DATE, f.required).fullmatch(joined):
            return None
        days = values[present]
        if len(days):
            if days.min() < FAST_DATE_RANGE[0] or days.max() > FAST_DATE_RANGE[1]:
                return None
            try:
                days.astype("datetime64[D]")  # rejects 2026-02-30
            except ValueError:
                return None
    elif f.kind == "choice":
        allowed = list(f.choices) if f.required else [*f.choices, ""]
        if not pd.Series(values, dtype=object).isin(allowed).all():
            return None
    if f.ref is not None:
        keys, all_ids = RefMap.lookup_arrays(refs.get(f.ref.table, {}))
        position = keys.get_indexer(values)
        unknown = position < 0
        if (unknown & present).any():
            return None
        ids = all_ids[position]
        if unknown.any():  # blanks of an optional reference
            return pd.Series(pd.arrays.IntegerArray(ids, unknown))
        return pd.Series(ids)
    return pd.Series(values, dtype=object)


def validate_batch(
    frame: pd.DataFrame,
    spec: ResourceSpec,
    refs: dict[str, dict[str, int]],
    *,
    max_rows: int = 100_000,
    context: dict | None = None,
) -> Validated:
    """Check every cell of every row; never stops at the first error."""
    check_shape(frame, spec, max_rows)
    if len(frame) == 0:
        return Validated(frame=pd.DataFrame(), errors=pd.DataFrame(columns=ERROR_COLUMNS), rows=0)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    out: dict[str, pd.Series] = {}
    parsed: dict[str, pd.Series] = {}
    errors: list[pd.DataFrame] = []
    for f in spec.fields:
        is_key = is_key_field(spec, f)
        fast = _fast_field(frame, f, n, refs, is_key=is_key)
        if fast is not None:
            parsed[f.name] = fast
            if f.db_column:
                out[f.db_column] = fast
            continue
        if f.name in frame.columns:
            col = frame[f.name].astype("string").fillna("").str.strip().astype(object)
        else:
            col = pd.Series([""] * n, dtype=object)
        if f.default is not None:
            col = col.mask(col == "", f.default)
        col = pd.Series(col, dtype="string").fillna("")
        if is_key:
            col, errs = _key(col, f)
            errors += errs
        present = col != ""
        if f.required and not present.all():
            errors.append(row_errors(col.index[~present], f.name, "required", "this field is required"))
        if f.max_length is not None:
            long = col.str.len() > f.max_length
            if long.any():
                errors.append(row_errors(col.index[long], f.name, "too_long", f"at most {f.max_length} characters"))
        if f.kind in ("str", "list") and not is_key:  # keys: refused with every invisible character
            nul = col.str.contains("\x00", regex=False)
            if nul.any():  # the database cannot store it (PostgreSQL refuses NUL in text)
                errors.append(
                    row_errors(
                        col.index[nul],
                        f.name,
                        "invalid_character",
                        "contains a NUL character (\\0), which text cannot hold",
                    )
                )
        value = col
        if f.kind == "decimal" or f.kind == "int":
            value, errs = _decimal(col, f, present)
            if f.kind == "int":
                not_int = present & value.str.contains(".", regex=False) & ~value.str.fullmatch(r"[+-]?\d+\.0*")
                if not_int.any():
                    errs.append(row_errors(col.index[not_int], f.name, "invalid_integer", "must be a whole number"))
                value = value.str.split(".", n=1).str[0]
            errors += errs
        elif f.kind == "date":
            value, errs = _date(col, f, present)
            errors += errs
        elif f.kind == "choice":
            lowered = col.str.lower()
            bad = present & ~lowered.isin(f.choices)
            if bad.any():
                errors.append(
                    row_errors(
                        col.index[bad],
                        f.name,
                        "invalid_choice",
                        [f"'{v}' is not one of: {', '.join(f.choices)}" for v in col[bad]],
                    )
                )
            value = lowered
        elif f.kind == "bool":
            lowered = col.str.lower()
            bad = ~lowered.isin(TRUE | FALSE)
            if bad.any():
                errors.append(row_errors(col.index[bad], f.name, "invalid_boolean", "must be true or false"))
            value = lowered.isin(TRUE).map({True: "1", False: "0"})
        if f.ref is not None:
            mapping = refs.get(f.ref.table, {})
            ids = value.map(mapping)
            unknown = present & ids.isna()
            if is_key and unknown.any():  # a key refused for its characters is not also unknown
                unknown &= ~col.str.contains(natural_keys.FORBIDDEN_RE.pattern, regex=True)
            if unknown.any():
                errors.append(
                    row_errors(
                        col.index[unknown],
                        f.name,
                        "unknown_reference",
                        [f"no {f.ref.table} with {f.name} '{v}'" for v in col[unknown]],
                    )
                )
            value = ids.astype("Int64")
        parsed[f.name] = value
        if f.db_column:
            out[f.db_column] = value
    typed = pd.DataFrame(parsed)

    # Duplicate natural keys inside the batch: every copy is an error, naming the others.
    key_frame = typed[list(spec.key)]
    dup = key_frame.duplicated(keep=False)
    if dup.any():
        first_row = key_frame[dup].groupby(list(spec.key), sort=False).ngroup()
        first_index = pd.Series(key_frame.index[dup]).groupby(first_row.values).transform("min").values
        key_names = "+".join(spec.key)
        errors.append(
            row_errors(
                key_frame.index[dup],
                spec.key[0],
                "duplicate_key",
                [f"duplicate {key_names} in this batch (first at row {i})" for i in first_index],
            )
        )

    for rule in spec.rules:
        rule_errors = rule(typed)
        if rule_errors is not None and len(rule_errors):
            errors.append(rule_errors[ERROR_COLUMNS])

    if errors:
        all_errors = pd.concat(errors, ignore_index=True)
        all_errors["row"] = all_errors["row"].astype(int)
        all_errors = all_errors.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
        return Validated(frame=None, errors=all_errors, rows=n)

    result = pd.DataFrame(out)
    if spec.derive is not None:
        for column, values in spec.derive(typed, context or {}).items():
            result[column] = values
    return Validated(frame=result, errors=pd.DataFrame(columns=ERROR_COLUMNS), rows=n)
