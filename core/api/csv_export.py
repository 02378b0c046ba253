"""CSV export of any list: ``?format=csv`` or ``Accept: text/csv``.

Lists stream rows straight from a ``values_list`` iterator, so a million rows never sit in
memory; other responses are rendered from their data by :class:`CSVRenderer`.

Every CSV this app exports goes through :func:`csv_lines`, which neutralises text that a
spreadsheet would run as a formula (OWASP "CSV injection"): a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so
``=HYPERLINK(...)`` shows as text. Numbers are data, not formulas: Decimal, int and float
values, and text that is exactly a plain number (``-12.50``, as the JSON renderer turns
decimals into text), are written as they are. The JSON API keeps the stored value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralised(text: str) -> str:
    """``text`` as a spreadsheet shows it but never evaluates it."""
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(_text(v) for v in value)
    return str(value)


def _cell(value) -> str:
    if value is None or isinstance(value, bool | int | float | Decimal | dt.date):
        return _text(value)  # data a spreadsheet cannot run (dt.datetime is a dt.date)
    return neutralised(_text(value))


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        count += 1
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def streaming_csv_response(header: Sequence[str], rows: Iterable[Sequence], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        if isinstance(data, dict):
            data = [data]
        if not data:
            return b""
        header = list(data[0].keys())
        return "".join(csv_lines(header, ([row.get(k) for k in header] for row in data))).encode()
