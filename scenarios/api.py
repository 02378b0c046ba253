"""API of what-if scenarios (``/api/v1/scenarios/``) and forecast accuracy
(``/api/v1/forecast-accuracy/``). Scopes: ``cycles:read`` for reads, ``cycles:write`` for the
rest; the services then check the caller's role."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.csv_export import CSVRenderer, streaming_csv_response
from core.api.fields import NullableKeyField
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.api.permissions import ScopedAccess
from core.api.resources import ERROR_BODY, ResourceViewSet, UpdatedSinceFilterSet
from core.api.runs import absolute_urls
from core.api.xlsx_export import XLSXRenderer, xlsx_response
from core.errors import ApplicationError
from scenarios import selectors, services
from scenarios.accuracy import METRICS
from scenarios.comparison import comparison_rows
from scenarios.models import Scenario
from sop.models import PlanCycle


class ScenarioSerializer(serializers.ModelSerializer):
    cycle = serializers.DateField(source="cycle.month", allow_null=True, default=None)
    created_by = NullableKeyField("created_by.username")
    promoted_by = NullableKeyField("promoted_by.username")
    changes = serializers.JSONField()
    kpis = serializers.JSONField()
    alerts = serializers.JSONField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["kpis"] = services.ordered_kpis(data["kpis"] or {})
        return data

    class Meta:
        model = Scenario
        fields = [
            "id",
            "name",
            "cycle",
            "changes",
            "status",
            "percent",
            "error",
            "as_of",
            "kpis",
            "alerts",
            "warnings",
            "started_at",
            "finished_at",
            "created_by",
            "promoted_at",
            "promoted_by",
            "promotion",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ScenarioCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    cycle = serializers.DateField(
        allow_null=True,
        required=False,
        default=None,
        help_text="the cycle's month, YYYY-MM-01; null: on the latest plan",
    )
    changes = serializers.JSONField(help_text="a list of changes, see the description")


class ScenarioFilter(UpdatedSinceFilterSet):
    class Meta:
        model = Scenario
        fields = ["status"]


CHANGES_DOC = (
    "Each change has a `type`: `capacity` {work_center_code, period_from, period_to, change_pct | change_hours}, "
    "`demand` {product_sku | family_code | territory_code | region_code, period_from, period_to, factor}, "
    "`routing` {product_sku, work_center_code, hours_per_unit}, `new_product` {product_sku, family_code, "
    "quantities: {YYYY-MM-01: qty}}, `inventory_policy` {product_sku, safety_stock | max_build_ahead_periods}, "
    "`target` {family_code, territory_code, period_from, period_to, factor}. A bad change answers 400 with "
    "`error.details.changes`: [{index, field, message}]."
)


class ScenarioViewSet(ResourceViewSet):
    """``GET /scenarios/``, ``GET /scenarios/{id}/``, ``POST /scenarios/``."""

    model = Scenario
    serializer_class = ScenarioSerializer
    filterset_class = ScenarioFilter
    lookup_field = "pk"
    lookup_value_regex = r"\d+"
    read_scope = "cycles:read"
    write_scope = "cycles:write"
    csv_fields = (
        ("id", "id"),
        ("name", "name"),
        ("cycle", "cycle__month"),
        ("status", "status"),
        ("as_of", "as_of"),
        ("finished_at", "finished_at"),
        ("promoted_at", "promoted_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("cycle", "created_by", "promoted_by")

    @extend_schema(
        request=ScenarioCreateSerializer,
        responses={201: ScenarioSerializer, 400: ERROR_BODY, 403: ERROR_BODY, 404: ERROR_BODY},
        summary="Create a scenario: a named list of changes on a cycle (or on the latest plan)",
        description=CHANGES_DOC,
    )
    def create(self, request):
        params = ScenarioCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        cycle = None
        if data["cycle"] is not None:
            cycle = PlanCycle.objects.for_user(request.user).filter(month=data["cycle"]).first()
            if cycle is None:
                raise ApplicationError(
                    _("No S&OP cycle for %(month)s.") % {"month": data["cycle"].isoformat()},
                    code="validation_error",
                    details={"cycle": data["cycle"].isoformat()},
                )
        scenario = services.scenario_create(name=data["name"], cycle=cycle, changes=data["changes"], user=request.user)
        scenario = self.get_queryset().get(pk=scenario.pk)
        return Response(ScenarioSerializer(scenario).data, status=status.HTTP_201_CREATED)


def scenario_or_404(request, pk: int) -> Scenario:
    scenario = selectors.scenarios_for(user=request.user).filter(pk=pk).first()
    if scenario is None:
        raise ApplicationError(_("No scenario %(id)s.") % {"id": pk}, code="not_found", status=404)
    return scenario


RUN_STARTED = inline_serializer(
    "ScenarioRunStarted",
    {"id": serializers.IntegerField(), "status": serializers.CharField(), "url": serializers.URLField()},
)


class ScenarioRunView(APIView):
    """``POST /scenarios/{id}/run`` → 202 ``{"id", "status", "url"}`` (poll the scenario)."""

    permission_classes = [ScopedAccess]
    write_scope = "cycles:write"

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={202: RUN_STARTED, 403: ERROR_BODY, 404: ERROR_BODY, 409: ERROR_BODY, 503: ERROR_BODY},
        summary="Run a scenario on the workers; poll GET /scenarios/{id}/ for status and kpis",
    )
    def post(self, request, pk: int):
        return idempotent(request, lambda: self._start(request, pk))

    def _start(self, request, pk: int) -> Response:
        scenario = scenario_or_404(request, pk)
        try:
            scenario = services.scenario_run_start(scenario=scenario, user=request.user)
        except ApplicationError as exc:
            raise absolute_urls(exc, request) from None
        url = reverse("scenarios-detail", kwargs={"pk": scenario.pk})
        response = Response(
            {"id": scenario.pk, "status": scenario.status, "url": request.build_absolute_uri(url)},
            status=status.HTTP_202_ACCEPTED,
        )
        response["Location"] = url
        return response


class CompareQuery(serializers.Serializer):
    ids = serializers.CharField(help_text="scenario ids, comma-separated: 3,5")
    family_code = serializers.CharField(required=False, help_text="CSV/XLSX: the family × month rows of one family")

    def validate_ids(self, value: str) -> list[int]:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts or not all(p.isdigit() and len(p) <= 12 for p in parts) or len(parts) > 20:
            raise serializers.ValidationError(_("Scenario ids separated by commas (at most 20), e.g. 3,5."))
        return list(dict.fromkeys(int(p) for p in parts))


KPI_OBJECT = serializers.DictField(child=serializers.JSONField())
COMPARISON = inline_serializer(
    "ScenarioComparison",
    {
        "base": KPI_OBJECT,
        "scenarios": inline_serializer(
            "ScenarioCompared",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "kpis": KPI_OBJECT,
                "delta": KPI_OBJECT,
            },
            many=True,
        ),
    },
)


class ScenarioCompareView(APIView):
    """``GET /scenarios/compare?ids=3,5`` (``?format=csv|xlsx``: one row per KPI, or per family
    × month with ``family_code``)."""

    permission_classes = [ScopedAccess]
    read_scope = "cycles:read"
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        parameters=[CompareQuery, OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"])],
        responses={200: COMPARISON, 400: ERROR_BODY, 404: ERROR_BODY},
        summary="The base and scenarios side by side: KPIs and scenario − base",
    )
    def get(self, request):
        query = CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = services.comparison(user=request.user, ids=query.validated_data["ids"])
        fmt = request.accepted_renderer.format
        if fmt in ("csv", "xlsx"):
            header, rows = comparison_rows(result, family_code=query.validated_data.get("family_code"))
            name = f"scenarios-{'-'.join(str(s['id']) for s in result['scenarios'])}"
            if fmt == "csv":
                return streaming_csv_response(header, rows, f"{name}.csv")
            return xlsx_response(header, rows, f"{name}.xlsx", sheet="comparison")
        return Response(
            {
                "base": result["base"],
                "cycle": result["cycle"],
                "base_alerts": result["base_alerts"],
                "scenarios": [
                    {k: s[k] for k in ("id", "name", "kpis", "delta", "alerts", "finished_at")}
                    for s in result["scenarios"]
                ],
            }
        )


PROMOTED = inline_serializer(
    "ScenarioPromoted",
    {
        "decisions": serializers.ListField(child=serializers.DictField()),
        "consensus_edits": serializers.ListField(child=serializers.DictField()),
        "quota_change_requests": serializers.ListField(child=serializers.DictField()),
    },
)


class PromoteSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="the meeting's note, added to each decision and consensus edit",
    )


class ScenarioPromoteView(APIView):
    """``POST /scenarios/{id}/promote`` → 200 with what it created (once; again → 409)."""

    permission_classes = [ScopedAccess]
    write_scope = "cycles:write"

    @extend_schema(
        request=PromoteSerializer,
        responses={200: PROMOTED, 403: ERROR_BODY, 404: ERROR_BODY, 409: ERROR_BODY},
        summary="Promote a scenario into its cycle: capacity changes → decisions, demand changes → "
        "consensus edits, target changes → a quota change request",
    )
    def post(self, request, pk: int):
        scenario = scenario_or_404(request, pk)
        params = PromoteSerializer(data=request.data or {})
        params.is_valid(raise_exception=True)
        return Response(
            services.scenario_promote(scenario=scenario, user=request.user, comment=params.validated_data["comment"])
        )


class AccuracyQuery(serializers.Serializer):
    lag = serializers.IntegerField(
        min_value=1,
        max_value=24,
        default=1,
        help_text="months before the month the forecast was made (1 = the month before)",
    )
    level = serializers.ChoiceField(choices=["family", "region", "planner", "sales_manager", "total"], default="total")
    months = serializers.IntegerField(min_value=1, max_value=60, default=12, help_text="the last N months measured")


ACCURACY_ROW_FIELDS = {
    "family_code": serializers.CharField(required=False),
    "region_code": serializers.CharField(required=False, allow_null=True),
    "sales_manager": serializers.CharField(required=False, allow_null=True),
    "key": serializers.CharField(required=False),
    "months": serializers.IntegerField(),
    "actual_units": serializers.FloatField(),
    **{
        name: serializers.FloatField(allow_null=True)
        for name in (
            "naive_wape",
            "statistical_wape",
            "sales_override_wape",
            "consensus_wape",
            "naive_bias",
            "statistical_bias",
            "sales_override_bias",
            "consensus_bias",
            "fva_statistical",
            "fva_sales_override",
            "fva_consensus",
        )
    },
}
ACCURACY = inline_serializer(
    "ForecastAccuracy",
    {
        "lag": serializers.IntegerField(),
        "level": serializers.CharField(),
        "months": serializers.IntegerField(),
        "actuals_through": serializers.DateField(allow_null=True),
        "results": inline_serializer("ForecastAccuracyRow", ACCURACY_ROW_FIELDS, many=True),
        "trend": serializers.ListField(child=serializers.DictField()),
    },
)


class ForecastAccuracyView(APIView):
    """``GET /forecast-accuracy/?lag=1&level=family|region|planner|sales_manager|total&months=12``: WAPE and bias of
    each step (naive, statistical, sales override, consensus) and the value each step added."""

    permission_classes = [ScopedAccess]
    read_scope = "cycles:read"
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    @extend_schema(
        parameters=[AccuracyQuery, OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])],
        responses={200: ACCURACY, 400: ERROR_BODY},
        summary="Forecast value added by lag: WAPE, bias and FVA per step of the demand process, by "
        "family, region or in total, from published cycles and the actuals since",
    )
    def get(self, request):
        query = AccuracyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = services.forecast_accuracy(user=request.user, **query.validated_data)
        if request.accepted_renderer.format == "csv":
            field = services.ACCURACY_LEVEL_FIELD[result["level"]]
            header = [field, "months", "actual_units", *METRICS]
            return streaming_csv_response(
                header,
                ([r.get(k) for k in header] for r in result["results"]),
                f"forecast-accuracy-lag{result['lag']}-{result['level']}.csv",
            )
        return Response(result)
