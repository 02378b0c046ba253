"""Human exports of pages (lists and reports): ``?export=csv`` or ``?export=xlsx``.

The CSV follows the dialect of the viewer's language, as a spreadsheet of that locale opens it
by double-click: English ``,`` and ``1234.56``; German and Italian ``;``, a decimal comma
``1234,56`` and day-first dates (``31.12.2026``, ``31/12/2026``). The file starts with a
UTF-8 byte-order mark so Excel reads umlauts and accents right. XLSX holds typed cells
(numbers, dates), which every locale shows its own way. Headers are the page's translated
column names. Text a spreadsheet would run as a formula is neutralised in both (see
:mod:`core.api.csv_export`). The API's machine CSV stays ISO with ``.`` and ``,``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import Promise

from core.api.csv_export import neutralised
from core.api.xlsx_export import xlsx_response

EXPORT_FORMATS = ("csv", "xlsx")


def csv_dialect(language: str | None = None) -> dict:
    """``delimiter``, ``decimal`` and ``date_format`` of a language's spreadsheet CSV."""
    lang = (language or translation.get_language() or "en")[:2]
    if lang == "de":
        return {"delimiter": ";", "decimal": ",", "date_format": "%d.%m.%Y"}
    if lang == "it":
        return {"delimiter": ";", "decimal": ",", "date_format": "%d/%m/%Y"}
    return {"delimiter": ",", "decimal": ".", "date_format": "%Y-%m-%d"}


def _locale_cell(value, dialect: dict) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal | float | int):
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
        if isinstance(value, float) and value != value:  # NaN
            return ""
        return text.replace(".", dialect["decimal"])
    if isinstance(value, dt.datetime):
        return value.strftime(dialect["date_format"] + " %H:%M")
    if isinstance(value, dt.date):
        return value.strftime(dialect["date_format"])
    return neutralised(str(value))


def locale_csv_bytes(header: Sequence[str], rows: Iterable[Sequence], language: str | None = None) -> bytes:
    dialect = csv_dialect(language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect["delimiter"], lineterminator="\r\n")
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow([_locale_cell(v, dialect) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def wants_export(request: HttpRequest) -> str | None:
    fmt = request.GET.get("export")
    return fmt if fmt in EXPORT_FORMATS else None


def _plain(value):
    """A cell as a Python value: lists joined, lazy translations as text, numpy/pandas scalars
    unwrapped, NaN/NaT empty."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, list | tuple):
        return " ".join(str(x) for x in value)
    if hasattr(value, "item") and not isinstance(value, str | bytes | Decimal):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if value.__class__.__name__ in ("NaTType", "NAType"):
        return None
    if value.__class__.__name__ == "Timestamp":
        return value.to_pydatetime()
    return value


def export_response(fmt: str, *, header: Sequence[str], rows: Iterable[Sequence], name: str) -> HttpResponse:
    """The page's rows as a file named ``<name>.csv`` or ``<name>.xlsx``."""
    header = [str(h) for h in header]
    rows = ([_plain(v) for v in row] for row in rows)
    if fmt == "xlsx":
        return xlsx_response(header, rows, f"{name}.xlsx", sheet=name[:31])
    response = HttpResponse(locale_csv_bytes(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
