"""API resources: production capacity, plan runs and their results, alerts."""

from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import NullableKeyField
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.api.permissions import ScopedAccess
from core.api.resources import ERROR_BODY, IsoDateTimeFilter, ResourceViewSet, UpdatedSinceFilterSet
from core.api.runs import absolute_urls, stalled_field
from core.errors import ApplicationError
from sop import services
from sop.models import (
    CapacityAlert,
    CapacityCalendar,
    PlanLine,
    PlanRun,
    Plant,
    Routing,
    WorkCenter,
    WorkCenterLoad,
)
from sop.selectors import latest_plan_run

# ---------------------------------------------------------------------------------------
# Production capacity (pushed by the ERP through the bulk resources)
# ---------------------------------------------------------------------------------------


class PlantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plant
        fields = ["code", "name", "updated_at"]
        read_only_fields = fields


class WorkCenterSerializer(serializers.ModelSerializer):
    plant_code = serializers.CharField(source="plant.code")

    class Meta:
        model = WorkCenter
        fields = ["code", "name", "plant_code", "updated_at"]
        read_only_fields = fields


class CapacitySerializer(serializers.ModelSerializer):
    work_center_code = serializers.CharField(source="work_center.code")

    class Meta:
        model = CapacityCalendar
        fields = [
            "id",
            "work_center_code",
            "period_start",
            "available_hours",
            "shifts",
            "hours_per_shift",
            "working_days",
            "efficiency",
            "downtime_hours",
            "updated_at",
        ]
        read_only_fields = fields


class RoutingSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku")
    work_center_code = serializers.CharField(source="work_center.code")

    class Meta:
        model = Routing
        fields = ["id", "product_sku", "work_center_code", "hours_per_unit", "updated_at"]
        read_only_fields = fields


class PlantFilter(UpdatedSinceFilterSet):
    class Meta:
        model = Plant
        fields = ["code"]


class WorkCenterFilter(UpdatedSinceFilterSet):
    plant_code = filters.CharFilter(field_name="plant__code")

    class Meta:
        model = WorkCenter
        fields = ["code", "plant_code"]


class CapacityFilter(UpdatedSinceFilterSet):
    work_center_code = filters.CharFilter(field_name="work_center__code")
    plant_code = filters.CharFilter(field_name="work_center__plant__code")
    period_from = filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = CapacityCalendar
        fields = ["work_center_code", "plant_code", "period_start", "period_from", "period_to"]


class RoutingFilter(UpdatedSinceFilterSet):
    product_sku = filters.CharFilter(field_name="product__sku")
    work_center_code = filters.CharFilter(field_name="work_center__code")

    class Meta:
        model = Routing
        fields = ["product_sku", "work_center_code"]


class PlantViewSet(ResourceViewSet):
    model = Plant
    serializer_class = PlantSerializer
    read_scope = "capacity:read"
    filterset_class = PlantFilter
    lookup_field = "code"
    csv_fields = (("code", "code"), ("name", "name"), ("updated_at", "updated_at"))


class WorkCenterViewSet(ResourceViewSet):
    model = WorkCenter
    serializer_class = WorkCenterSerializer
    read_scope = "capacity:read"
    filterset_class = WorkCenterFilter
    lookup_field = "code"
    csv_fields = (("code", "code"), ("name", "name"), ("plant_code", "plant__code"), ("updated_at", "updated_at"))

    def get_queryset(self):
        return super().get_queryset().select_related("plant")


class CapacityViewSet(ResourceViewSet):
    model = CapacityCalendar
    serializer_class = CapacitySerializer
    read_scope = "capacity:read"
    filterset_class = CapacityFilter
    lookup_field = "pk"
    csv_fields = (
        ("work_center_code", "work_center__code"),
        ("period_start", "period_start"),
        ("available_hours", "available_hours"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("work_center")


class RoutingViewSet(ResourceViewSet):
    model = Routing
    serializer_class = RoutingSerializer
    read_scope = "capacity:read"
    filterset_class = RoutingFilter
    lookup_field = "pk"
    csv_fields = (
        ("product_sku", "product__sku"),
        ("work_center_code", "work_center__code"),
        ("hours_per_unit", "hours_per_unit"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("product", "work_center")


# ---------------------------------------------------------------------------------------
# Plan runs: start (202, then poll) and read
# ---------------------------------------------------------------------------------------


class PlanRunSerializer(serializers.ModelSerializer):
    forecast_run_id = serializers.IntegerField(allow_null=True, read_only=True)
    triggered_by = serializers.CharField(source="triggered_by.username", allow_null=True, read_only=True)

    class Meta:
        model = PlanRun
        fields = [
            "id",
            "status",
            "percent",
            "as_of",
            "horizon_start",
            "horizon_periods",
            "trigger",
            "triggered_by",
            "forecast_run_id",
            "products_count",
            "work_centers_count",
            "plan_lines_count",
            "alerts_raised",
            "alerts_updated",
            "alerts_resolved",
            "warnings",
            "error",
            "stalled",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "updated_at",
        ]
        read_only_fields = fields

    stalled = stalled_field()


class PlanRunStartSerializer(serializers.Serializer):
    forecast = serializers.BooleanField(default=True, help_text="run a forecast first (default), then reconcile")
    as_of = serializers.DateField(required=False, help_text="default today; the horizon starts at its month")


class PlanRunStartedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.CharField()


class PlanRunFilter(UpdatedSinceFilterSet):
    class Meta:
        model = PlanRun
        fields = ["status", "trigger", "as_of"]


class PlanRunViewSet(ResourceViewSet):
    model = PlanRun
    serializer_class = PlanRunSerializer
    filterset_class = PlanRunFilter
    lookup_field = "pk"
    read_scope = "plans:read"
    write_scope = "plans:run"
    csv_fields = (
        ("id", "id"),
        ("status", "status"),
        ("percent", "percent"),
        ("as_of", "as_of"),
        ("trigger", "trigger"),
        ("forecast_run_id", "forecast_run_id"),
        ("plan_lines_count", "plan_lines_count"),
        ("alerts_raised", "alerts_raised"),
        ("alerts_resolved", "alerts_resolved"),
        ("started_at", "started_at"),
        ("finished_at", "finished_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("triggered_by", "forecast_run")

    @extend_schema(
        request=PlanRunStartSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={202: PlanRunStartedSerializer, 400: ERROR_BODY, 409: ERROR_BODY, 503: ERROR_BODY},
        summary="Start a plan run: forecast, then reconciliation (unless forecast is false)",
        description="One plan run at a time (and, with `forecast`, one forecast run): while one is queued or "
        "running, a start answers 409 with its `id` and `url` in `error.details`. 503 "
        "(`service_unavailable`, `Retry-After`) when the task queue is down: nothing was started.",
    )
    def create(self, request):
        return idempotent(request, lambda: self._start(request))

    def _start(self, request) -> Response:
        params = PlanRunStartSerializer(data=request.data or {})
        params.is_valid(raise_exception=True)
        trigger = PlanRun.Trigger.API if getattr(request.user, "api_client", None) else PlanRun.Trigger.USER
        try:
            run = services.plan_run_start(
                as_of=params.validated_data.get("as_of"),
                trigger=trigger,
                user=request.user,
                forecast=params.validated_data["forecast"],
            )
        except ApplicationError as exc:
            raise absolute_urls(exc, request) from None
        url = reverse("plan-runs-detail", kwargs={"pk": run.pk})
        response = Response(
            {"id": run.pk, "status": run.status, "url": request.build_absolute_uri(url)},
            status=status.HTTP_202_ACCEPTED,
        )
        response["Location"] = url
        return response


# ---------------------------------------------------------------------------------------
# Plan results: capacity load and supply plan (latest finished run unless ?run_id=)
# ---------------------------------------------------------------------------------------


class LatestRunMixin:
    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        if "run_id" not in self.request.query_params:
            latest = latest_plan_run()
            qs = qs.filter(run=latest) if latest else qs.none()
        return qs


class CapacityLoadSerializer(serializers.ModelSerializer):
    work_center_code = serializers.CharField(source="work_center.code")
    plant_code = serializers.CharField(source="work_center.plant.code")

    class Meta:
        model = WorkCenterLoad
        fields = ["id", "run_id", "work_center_code", "plant_code", "period_start", *services.LOAD_COLUMNS]
        read_only_fields = fields


class CapacityLoadFilter(filters.FilterSet):
    run_id = filters.NumberFilter(field_name="run_id")
    work_center_code = filters.CharFilter(field_name="work_center__code")
    plant_code = filters.CharFilter(field_name="work_center__plant__code")
    period_from = filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = filters.DateFilter(field_name="period_start", lookup_expr="lte")
    utilisation_min = filters.NumberFilter(field_name="utilisation", lookup_expr="gte")

    class Meta:
        model = WorkCenterLoad
        fields = [
            "run_id",
            "work_center_code",
            "plant_code",
            "period_start",
            "period_from",
            "period_to",
            "utilisation_min",
        ]


class CapacityLoadViewSet(LatestRunMixin, ResourceViewSet):
    model = WorkCenterLoad
    serializer_class = CapacityLoadSerializer
    filterset_class = CapacityLoadFilter
    lookup_field = "pk"
    read_scope = "plans:read"
    csv_fields = (
        ("run_id", "run_id"),
        ("work_center_code", "work_center__code"),
        ("plant_code", "work_center__plant__code"),
        ("period_start", "period_start"),
        ("available_hours", "available_hours"),
        ("load_hours", "load_hours"),
        ("constrained_load_hours", "constrained_load_hours"),
        ("utilisation", "utilisation"),
        ("overload_hours", "overload_hours"),
        ("shortfall_hours", "shortfall_hours"),
        ("free_hours", "free_hours"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("work_center__plant")


class SupplyPlanSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku")
    family_code = serializers.CharField(source="product.family.code")

    class Meta:
        model = PlanLine
        fields = ["id", "run_id", "product_sku", "family_code", "period_start", *services.PLAN_LINE_COLUMNS]
        read_only_fields = fields


class SupplyPlanFilter(filters.FilterSet):
    run_id = filters.NumberFilter(field_name="run_id")
    product_sku = filters.CharFilter(field_name="product__sku")
    family_code = filters.CharFilter(field_name="product__family__code")
    period_from = filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = filters.DateFilter(field_name="period_start", lookup_expr="lte")
    with_shortfall = filters.BooleanFilter(field_name="shortfall_qty", lookup_expr="gt", method="filter_shortfall")

    class Meta:
        model = PlanLine
        fields = ["run_id", "product_sku", "family_code", "period_start", "period_from", "period_to"]

    def filter_shortfall(self, queryset, name, value):
        return queryset.filter(shortfall_qty__gt=0) if value else queryset.filter(shortfall_qty__lte=0)


class SupplyPlanViewSet(LatestRunMixin, ResourceViewSet):
    model = PlanLine
    serializer_class = SupplyPlanSerializer
    filterset_class = SupplyPlanFilter
    lookup_field = "pk"
    read_scope = "plans:read"
    csv_fields = (
        ("run_id", "run_id"),
        ("product_sku", "product__sku"),
        ("family_code", "product__family__code"),
        ("period_start", "period_start"),
        ("demand_qty", "demand_qty"),
        ("production_required", "production_required"),
        ("constrained_production", "constrained_production"),
        ("prebuild_qty", "prebuild_qty"),
        ("shortfall_qty", "shortfall_qty"),
        ("projected_inventory_after", "projected_inventory_after"),
        ("feasible_qty", "feasible_qty"),
        ("unserved_qty", "unserved_qty"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("product__family")


# ---------------------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------------------


class AlertSerializer(serializers.ModelSerializer):
    work_center_code = NullableKeyField("work_center.code")
    product_sku = NullableKeyField("product.sku")
    family_code = NullableKeyField("family.code")
    territory_code = NullableKeyField("territory.code")
    run_id = serializers.IntegerField(allow_null=True)
    assignee = NullableKeyField("assignee.username")

    class Meta:
        model = CapacityAlert
        fields = [
            "id",
            "type",
            "severity",
            "status",
            "work_center_code",
            "product_sku",
            "family_code",
            "territory_code",
            "period_start",
            "amount",
            "unit",
            "value",
            "message",
            "suggestion",
            "assignee",
            "created_at",
            "updated_at",
            "acknowledged_at",
            "resolved_at",
            "resolution",
            "run_id",
        ]
        read_only_fields = fields


class AlertFilter(UpdatedSinceFilterSet):
    id = filters.NumberFilter(field_name="id")
    work_center_code = filters.CharFilter(field_name="work_center__code")
    product_sku = filters.CharFilter(field_name="product__sku")
    family_code = filters.CharFilter(field_name="family__code")
    territory_code = filters.CharFilter(field_name="territory__code")
    plant_code = filters.CharFilter(field_name="work_center__plant__code")
    period_from = filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = filters.DateFilter(field_name="period_start", lookup_expr="lte")
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte")
    message = filters.CharFilter(field_name="message", lookup_expr="icontains")
    created_since = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_before = IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    run_id = filters.NumberFilter(field_name="run_id")

    class Meta:
        model = CapacityAlert
        fields = [
            "id",
            "type",
            "severity",
            "status",
            "work_center_code",
            "product_sku",
            "family_code",
            "territory_code",
            "plant_code",
            "period_start",
            "period_from",
            "period_to",
            "amount",
            "amount_min",
            "amount_max",
            "unit",
            "message",
            "created_since",
            "created_before",
            "updated_before",
            "run_id",
        ]


class AlertViewSet(ResourceViewSet):
    model = CapacityAlert
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    lookup_field = "pk"
    read_scope = "alerts:read"
    csv_fields = (
        ("id", "id"),
        ("type", "type"),
        ("severity", "severity"),
        ("status", "status"),
        ("work_center_code", "work_center__code"),
        ("product_sku", "product__sku"),
        ("family_code", "family__code"),
        ("territory_code", "territory__code"),
        ("period_start", "period_start"),
        ("amount", "amount"),
        ("unit", "unit"),
        ("value", "value"),
        ("message", "message"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("run_id", "run_id"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("work_center", "product", "family", "territory", "assignee")


class AlertResolveInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AlertActionView(APIView):
    """``POST /alerts/{id}/acknowledge`` and ``/resolve`` (scope ``alerts:write``)."""

    permission_classes = [ScopedAccess]
    write_scope = "alerts:write"
    action_name = ""

    @extend_schema(request=AlertResolveInput, responses={200: AlertSerializer})
    def post(self, request, pk: int):
        if self.action_name == "acknowledge":
            alert = services.alert_acknowledge(alert_id=pk, user=request.user)
        else:
            note = AlertResolveInput(data=request.data or {})
            note.is_valid(raise_exception=True)
            alert = services.alert_resolve(alert_id=pk, user=request.user, note=note.validated_data["note"])
        alert = CapacityAlert.objects.select_related("work_center", "product", "family", "territory", "assignee").get(
            pk=alert.pk
        )
        return Response(AlertSerializer(alert).data)


class AlertAcknowledgeView(AlertActionView):
    action_name = "acknowledge"


class AlertResolveView(AlertActionView):
    action_name = "resolve"
