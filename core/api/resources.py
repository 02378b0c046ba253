"""Building blocks every API resource uses: scoped read viewsets with natural-key lookup,
filters (with ``updated_since``), cursor pagination, streamed CSV export, and the bulk view."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.csv_export import streaming_csv_response
from core.api.permissions import ScopedAccess
from core.bulk.body import read_body
from core.bulk.service import CSV_TYPES, JSON_TYPES, bulk_ingest, media_type
from core.bulk.spec import ResourceSpec

MAX_UTC_OFFSET = dt.timedelta(hours=14)  # the widest offset in use (UTC+14, Line Islands)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, as UTC: an offset beyond ±14:00 or a time whose UTC value leaves the
    calendar (``9999-12-31T23:00-05:00``) is a 400 naming the parameter, not a database error."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError("The UTC offset must be between -14:00 and +14:00.", code="invalid")
        try:
            return value.astimezone(dt.UTC)
        except OverflowError as exc:
            raise forms.ValidationError("The time is out of range (years 1 to 9999 in UTC).", code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class UpdatedSinceFilterSet(django_filters.FilterSet):
    """Every API list's filters derive from this: ``updated_since``, and any time filter a
    subclass declares from a model's date-time field, take :class:`UtcDateTimeField`."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
    }

    updated_since = IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Only rows created or changed at or after this ISO 8601 time (incremental sync).",
    )


class ResourceViewSet(viewsets.ReadOnlyModelViewSet):
    """List + detail of a resource, scoped by ``for_user``; ``?format=csv`` streams all rows.

    ``csv_fields`` pairs each exported column with its ORM lookup, so CSV rows come from
    ``values_list`` without building model instances.
    """

    permission_classes = [ScopedAccess]
    lookup_value_regex = "[^/]+"
    read_scope: str | None = None  # each resource names its scope; none = nobody reads it
    csv_fields: tuple[tuple[str, str], ...] = ()
    model = None

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user).order_by("id")

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            queryset = self.filter_queryset(self.get_queryset())
            header = [name for name, _ in self.csv_fields]
            rows = queryset.values_list(*[lookup for _, lookup in self.csv_fields]).iterator(chunk_size=5000)
            return streaming_csv_response(header, rows, f"{self.basename}.csv")
        return super().list(request, *args, **kwargs)


BULK_RESULT = inline_serializer(
    "BulkResult",
    {
        "batch_id": serializers.IntegerField(),
        "resource": serializers.CharField(),
        "status": serializers.CharField(),
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)
ERROR_BODY = inline_serializer(
    "ErrorBody",
    {
        "error": inline_serializer(
            "ErrorDetail",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.JSONField(),
            },
        )
    },
)


class CSVBodyParser(BaseParser):
    """Declares ``text/csv`` bodies; the bulk service reads the raw body itself."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


def bulk_body(request) -> bytes:
    """The request's bulk body, read from its stream: refused by ``Content-Length`` before a
    byte is read (413) and by a row count while it streams in (400), see ``core.bulk.body``.
    Bulk views read their body here, never through ``request.body``."""
    kind = media_type(request.content_type)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = None
    return read_body(
        request,
        content_length=length,
        kind="csv" if kind in CSV_TYPES else "json" if kind in JSON_TYPES else "",
        max_bytes=settings.API_MAX_BULK_BODY_BYTES,
        max_rows=settings.API_MAX_BULK_ROWS,
    )


def row_serializer_for(spec: ResourceSpec) -> type[serializers.Serializer]:
    """An OpenAPI description of one bulk row, derived from the spec the validator uses."""
    fields = {}
    for f in spec.fields:
        common = {"required": f.required and f.default is None}
        if f.kind == "decimal":
            fields[f.name] = serializers.DecimalField(
                max_digits=f.max_digits or 20, decimal_places=f.decimal_places or 6, **common
            )
        elif f.kind == "int":
            fields[f.name] = serializers.IntegerField(**common)
        elif f.kind == "date":
            fields[f.name] = serializers.DateField(**common, allow_null=not f.required)
        elif f.kind == "choice":
            fields[f.name] = serializers.ChoiceField(choices=f.choices, **common)
        elif f.kind == "bool":
            fields[f.name] = serializers.BooleanField(**common)
        elif f.kind == "list":
            fields[f.name] = serializers.ListField(child=serializers.CharField(), **common)
        else:
            fields[f.name] = serializers.CharField(max_length=f.max_length, allow_blank=not f.required, **common)
    name = spec.name.title().replace("-", "") + "Row"
    return type(name, (serializers.Serializer,), fields)


def bulk_view(
    spec: ResourceSpec,
    *,
    ingest=None,
    description: str | None = None,
    request_schema=None,
    responses: dict | None = None,
) -> type[APIView]:
    """The ``POST /api/v1/<resource>/bulk`` operation for one resource spec — the one bulk view.

    ``ingest(request, **batch)`` writes a batch where the spec's generic writer does not
    (a dedicated writer: territories, quotas, comp plans); it gets ``body, content_type,
    user, client, idempotency_key, path`` and returns an ``IngestOutcome``. ``description``,
    ``request_schema`` and ``responses`` override the generated documentation."""
    row_serializer = row_serializer_for(spec)
    if ingest is None:

        def ingest(request, **batch):
            return bulk_ingest(spec=spec, **batch)

    if description is None:
        description = (
            f"Upsert up to 100,000 {spec.name} rows by natural key ({', '.join(spec.key)}). Body: a JSON "
            "array of objects or a CSV document (`Content-Type: text/csv`, header row, same field names). "
            "All or nothing: any invalid row → 400 listing every bad row and nothing is written. "
            f"Requires scope `{spec.scope}`. Send an `Idempotency-Key` header to make retries safe: the "
            "same key and body replay the first response (`Idempotent-Replayed: true`); the same key "
            "with another body → 409."
        )

    class BulkUpsertView(APIView):
        permission_classes = [ScopedAccess]
        write_scope = spec.scope
        parser_classes = [JSONParser, CSVBodyParser]  # declared; the service reads the raw body

        @extend_schema(
            operation_id=f"{spec.name.replace('-', '_')}_bulk_upsert",
            summary=f"Bulk upsert {spec.name} by {'+'.join(spec.key)}",
            description=description,
            request=request_schema or {"application/json": row_serializer(many=True), "text/csv": OpenApiTypes.STR},
            parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
            responses=responses
            or {
                200: BULK_RESULT,
                400: OpenApiResponse(ERROR_BODY, description="invalid rows or body"),
                401: ERROR_BODY,
                403: ERROR_BODY,
                409: ERROR_BODY,
                429: ERROR_BODY,
            },
            tags=[spec.name],
        )
        def post(self, request):
            outcome = ingest(
                request,
                body=bulk_body(request),
                content_type=request.content_type,
                user=request.user,
                client=getattr(request.user, "api_client", None),
                idempotency_key=request.headers.get("Idempotency-Key"),
                path=request.path,
            )
            response = Response(outcome.body, status=outcome.status)
            if outcome.replayed:
                response["Idempotent-Replayed"] = "true"
            return response

    BulkUpsertView.__name__ = f"{spec.name.title().replace('-', '')}BulkUpsertView"
    return BulkUpsertView
