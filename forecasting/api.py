"""API: forecast runs (start with 202, poll) and forecasts (filters, CSV)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.api.resources import ERROR_BODY, ResourceViewSet, UpdatedSinceFilterSet
from core.api.runs import absolute_urls, stalled_field
from core.errors import ApplicationError
from forecasting.models import Forecast, ForecastRun
from forecasting.selectors import latest_finished_run
from forecasting.services import forecast_run_start


class ForecastRunSerializer(serializers.ModelSerializer):
    triggered_by = serializers.CharField(source="triggered_by.username", allow_null=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ForecastRun
        fields = [
            "id",
            "url",
            "status",
            "stalled",
            "percent",
            "as_of",
            "horizon",
            "season_length",
            "parameters",
            "trigger",
            "triggered_by",
            "series_total",
            "series_done",
            "series_failed",
            "chunks_total",
            "chunks_done",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    stalled = stalled_field()

    def get_url(self, run) -> str:
        return reverse("forecast-runs-detail", args=[run.pk], request=self.context.get("request"))


class ForecastRunStartSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="default today: history up to the previous month")
    horizon = serializers.IntegerField(
        required=False, min_value=1, max_value=60, help_text="months; default the organisation's planning horizon"
    )
    chunk_size = serializers.IntegerField(required=False, min_value=10, max_value=5000, default=500)


class ForecastRunFilter(UpdatedSinceFilterSet):
    class Meta:
        model = ForecastRun
        fields = ["status", "trigger"]


class ForecastRunViewSet(mixins.CreateModelMixin, ResourceViewSet):
    model = ForecastRun
    serializer_class = ForecastRunSerializer
    filterset_class = ForecastRunFilter
    read_scope = "plans:read"
    write_scope = "forecasts:run"
    csv_fields = (
        ("id", "id"),
        ("status", "status"),
        ("percent", "percent"),
        ("as_of", "as_of"),
        ("trigger", "trigger"),
        ("series_total", "series_total"),
        ("series_done", "series_done"),
        ("series_failed", "series_failed"),
        ("started_at", "started_at"),
        ("finished_at", "finished_at"),
    )

    @extend_schema(
        request=ForecastRunStartSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            202: inline_serializer(
                "RunAccepted",
                {"id": serializers.IntegerField(), "status": serializers.CharField(), "url": serializers.URLField()},
            ),
            400: ERROR_BODY,
            409: ERROR_BODY,
            503: ERROR_BODY,
        },
        summary="Start a forecast run now (runs on the workers; poll its url)",
        description="One forecast run at a time: while one is queued or running, a start answers 409 with its "
        "`id` and `url` in `error.details`. 503 (`service_unavailable`, `Retry-After`) when the "
        "task queue is down: nothing was started.",
    )
    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._start(request))

    def _start(self, request) -> Response:
        params = ForecastRunStartSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            run = forecast_run_start(
                as_of=params.validated_data.get("as_of"),
                trigger=ForecastRun.Trigger.API,
                user=request.user,
                horizon=params.validated_data.get("horizon"),
                parameters={"chunk_size": params.validated_data["chunk_size"]},
            )
        except ApplicationError as exc:
            raise absolute_urls(exc, request) from None
        url = reverse("forecast-runs-detail", args=[run.pk], request=request)
        return Response(
            {"id": run.pk, "status": run.status, "url": url}, status=status.HTTP_202_ACCEPTED, headers={"Location": url}
        )


class ForecastSerializer(serializers.ModelSerializer):
    run_id = serializers.IntegerField(read_only=True)
    product_sku = serializers.CharField(source="product.sku", allow_null=True, read_only=True)
    family_code = serializers.CharField(source="family.code", allow_null=True, read_only=True)
    territory_code = serializers.CharField(source="territory.code", allow_null=True, read_only=True)

    class Meta:
        model = Forecast
        fields = [
            "run_id",
            "level",
            "series_key",
            "product_sku",
            "family_code",
            "territory_code",
            "period_start",
            "point",
            "lo80",
            "hi80",
            "lo95",
            "hi95",
            "model",
        ]
        read_only_fields = fields


class ForecastFilter(django_filters.FilterSet):
    run = django_filters.NumberFilter(field_name="run_id", label="run id (default: the latest finished run)")
    level = django_filters.ChoiceFilter(choices=Forecast._meta.get_field("level").choices)
    product_sku = django_filters.CharFilter(field_name="product__sku")
    family_code = django_filters.CharFilter(field_name="family__code")
    territory_code = django_filters.CharFilter(field_name="territory__code")
    period_from = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = Forecast
        fields = ["run", "level", "product_sku", "family_code", "territory_code", "period_from", "period_to"]


class ForecastViewSet(ResourceViewSet):
    model = Forecast
    serializer_class = ForecastSerializer
    filterset_class = ForecastFilter
    read_scope = "plans:read"
    csv_fields = (
        ("run_id", "run_id"),
        ("level", "level"),
        ("series_key", "series_key"),
        ("product_sku", "product__sku"),
        ("family_code", "family__code"),
        ("territory_code", "territory__code"),
        ("period_start", "period_start"),
        ("point", "point"),
        ("lo80", "lo80"),
        ("hi80", "hi80"),
        ("lo95", "lo95"),
        ("hi95", "hi95"),
        ("model", "model"),
    )

    def get_queryset(self):
        queryset = super().get_queryset().select_related("product", "family", "territory")
        if "run" not in self.request.query_params:
            latest = latest_finished_run(user=self.request.user)
            queryset = queryset.filter(run=latest) if latest else queryset.none()
        return queryset
