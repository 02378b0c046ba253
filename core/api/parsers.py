"""Request bodies of API operations (start a run, answer a dispute, a what-if, ...).

An operation takes one JSON object of named fields. Anything else is a 400 with the error
body, never a 500 deeper in the view: ``null``, ``[1]`` or ``"x"`` as the body, JSON nested so
deep that decoding it would exhaust the stack, and (413) a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``, refused by its ``Content-Length`` before it is read.
Bulk upserts read their own, larger bodies (``core.api.resources.bulk_body``).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from core.bulk.body import MAX_JSON_DEPTH, JsonRowCounter, too_large
from core.errors import ApplicationError


def _refuse_oversized(parser_context: dict | None) -> None:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise too_large(length, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class JSONObjectParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_oversized(parser_context)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large(len(raw), limit)
        counter = JsonRowCounter(max_rows=limit, max_depth=MAX_JSON_DEPTH)
        counter.feed(raw)  # raises too_deep before json.loads could recurse
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if not isinstance(data, dict):
            raise ApplicationError(
                'The JSON body must be an object of named fields, e.g. {"field": "value"}.',
                code="not_an_object",
                details={"received": _json_kind(data)},
            )
        return data


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {list: "array", str: "string", int: "number", float: "number"}.get(type(value), "value")


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_oversized(parser_context)
        return super().parse(stream, media_type, parser_context)


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_oversized(parser_context)
        return super().parse(stream, media_type, parser_context)
