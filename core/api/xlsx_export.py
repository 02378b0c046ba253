"""XLSX export of a list (``?format=xlsx``): one sheet, a header row, typed cells.

Written with openpyxl's write-only workbook (rows stream into the file, not into memory
cells). Text cells that a spreadsheet would read as a formula are written as text.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from rest_framework.renderers import BaseRenderer

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(sheet, value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"  # never a formula
    return cell


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], *, sheet: str = "data") -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    ws.append(list(header))
    for row in rows:
        ws.append([_cell(ws, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    header: Sequence[str], rows: Iterable[Sequence], filename: str, *, sheet: str = "data"
) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(header, rows, sheet=sheet), content_type=MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class XLSXRenderer(BaseRenderer):
    """Declares ``?format=xlsx`` to content negotiation; views that offer it build the file."""

    media_type = MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        if isinstance(data, dict):
            data = [data]
        if not data:
            return xlsx_bytes([], [])
        header = list(data[0].keys())
        return xlsx_bytes(header, ([row.get(k) for k in header] for row in data))
