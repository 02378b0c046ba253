"""CSV export of any list: ``?format=csv`` or ``Accept: text/csv``.

Lists stream rows straight from a ``values_list`` iterator, so a million rows never sit in
memory; other responses are rendered from their data by :class:`CSVRenderer`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return ";".join(_cell(v) for v in value)
    return str(value)


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
