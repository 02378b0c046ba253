"""Spreadsheet CSV as German and Italian Excel saves it, turned into the API's CSV.

Excel in a German or Italian locale writes ``;`` between cells, a decimal comma with ``.``
(or a space) grouping thousands, and day-first dates (``31.12.2026``, ``31/12/2026``); it
saves "CSV UTF-8" with a byte-order mark and plain "CSV" in Windows-1252. The Data page
accepts such a file when the user picks that dialect: this module rewrites it, cell by cell,
into the API contract (``,``, ``.`` decimals, ISO dates), so it then takes exactly the path an
API upload takes and every error names the same line and column. Only the cells of decimal,
integer and date columns are rewritten, and only when they read unambiguously as a number or
date of that dialect; anything else passes through unchanged for the validator to name.
Pure Python (no Django).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping

NUMBER = re.compile(r"^[+-]?(\d{1,3}(?:[.\u00a0\u202f ']\d{3})+|\d+)(?:,(\d+))?$")
DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
NUMERIC_KINDS = frozenset({"decimal", "int"})


def decode(body: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252 (Excel's plain "CSV")."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252")


def number_cell(text: str) -> str:
    value = text.strip()
    m = NUMBER.match(value)
    if not m:
        return text
    sign = "-" if value.startswith("-") else ""
    whole = re.sub(r"[.\u00a0\u202f ']", "", m.group(1))
    return f"{sign}{whole}.{m.group(2)}" if m.group(2) else f"{sign}{whole}"


def date_cell(text: str) -> str:
    m = DAY_FIRST.match(text.strip())
    if not m:
        return text
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return f"{year:04d}-{month:02d}-{day:02d}"


def excel_csv_to_api_csv(body: bytes, kinds: Mapping[str, str], *, delimiter: str = ";") -> bytes:
    """``body`` (a ``;`` spreadsheet CSV) as the API's CSV. ``kinds``: column name → field kind
    (``decimal``, ``int``, ``date``, ...) of the resource uploaded."""
    reader = csv.reader(io.StringIO(decode(body), newline=""), delimiter=delimiter)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = next(reader, None)
    if header is None:
        return b""
    header = [h.strip() for h in header]
    writer.writerow(header)
    convert = []
    for name in header:
        kind = kinds.get(name)
        convert.append(number_cell if kind in NUMERIC_KINDS else date_cell if kind == "date" else None)
    for row in reader:
        writer.writerow([fn(cell) if i < len(convert) and (fn := convert[i]) else cell for i, cell in enumerate(row)])
    return out.getvalue().encode("utf-8")
