"""API resources owned by core: ingest batches."""

from rest_framework import serializers

from core.api.permissions import ANY_WRITE
from core.api.resources import IsoDateTimeFilter, ResourceViewSet, UpdatedSinceFilterSet
from core.models import IngestBatch


class IngestBatchSerializer(serializers.ModelSerializer):
    client = serializers.CharField(source="client.name", allow_null=True, read_only=True)
    user = serializers.CharField(source="user.username", allow_null=True, read_only=True)

    class Meta:
        model = IngestBatch
        fields = [
            "id",
            "resource",
            "client",
            "user",
            "source",
            "content_type",
            "idempotency_key",
            "status",
            "rows",
            "created",
            "updated",
            "unchanged",
            "error_count",
            "errors",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class IngestBatchFilter(UpdatedSinceFilterSet):
    created_since = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = IngestBatch
        fields = ["resource", "status", "source", "created_since"]


class IngestBatchViewSet(ResourceViewSet):
    model = IngestBatch
    serializer_class = IngestBatchSerializer
    read_scope = ANY_WRITE  # receipts of the caller's own batches (for_user)
    filterset_class = IngestBatchFilter
    csv_fields = (
        ("id", "id"),
        ("resource", "resource"),
        ("client", "client__name"),
        ("user", "user__username"),
        ("source", "source"),
        ("status", "status"),
        ("rows", "rows"),
        ("created", "created"),
        ("updated", "updated"),
        ("unchanged", "unchanged"),
        ("error_count", "error_count"),
        ("duration_ms", "duration_ms"),
        ("created_at", "created_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("client", "user")
