"""API of the S&OP cycle (``/api/v1/plan-cycles/``): cycles and stages, the demand plan at
any level with optimistic concurrency (etags), decisions and the published plan.

Scopes: ``cycles:read`` for reads, ``cycles:write`` for writes; the services then check the
caller's role (stage owner, measure) and the rows in their scope.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.csv_export import CSVRenderer, streaming_csv_response
from core.api.fields import NullableKeyField
from core.api.permissions import ScopedAccess
from core.api.resources import ERROR_BODY, ResourceViewSet, UpdatedSinceFilterSet
from core.api.xlsx_export import XLSXRenderer, xlsx_response
from core.errors import ApplicationError
from sop import cycle_selectors, cycle_services
from sop.models import CycleStage, Decision, PlanCycle

MONTH_REGEX = r"\d{4}-\d{2}-\d{2}"


def parse_month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Http404 from exc


def cycle_or_404(request, month: str) -> PlanCycle:
    cycle = cycle_selectors.cycle_for(user=request.user, month=parse_month(month))
    if cycle is None:
        raise ApplicationError(_("No S&OP cycle for %(month)s.") % {"month": month}, code="not_found", status=404)
    return cycle


# ---------------------------------------------------------------------------------------
# Cycles
# ---------------------------------------------------------------------------------------


class StageSerializer(serializers.ModelSerializer):
    owner_username = NullableKeyField("owner.username")
    completed_by = NullableKeyField("completed_by.username")

    class Meta:
        model = CycleStage
        fields = [
            "code",
            "owner_role",
            "owner_username",
            "due_date",
            "status",
            "started_at",
            "completed_at",
            "completed_by",
            "comment",
        ]
        read_only_fields = fields


class CycleSerializer(serializers.ModelSerializer):
    published_by = NullableKeyField("published_by.username")
    previous_month = serializers.DateField(source="previous_cycle.month", allow_null=True, default=None)
    forecast_run_id = serializers.IntegerField(allow_null=True)
    plan_run_id = serializers.IntegerField(allow_null=True)
    stages = StageSerializer(many=True)

    class Meta:
        model = PlanCycle
        fields = [
            "month",
            "stage",
            "status",
            "published_at",
            "published_by",
            "horizon_periods",
            "forecast_run_id",
            "plan_run_id",
            "previous_month",
            "lines_count",
            "warnings",
            "stages",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CycleCreateSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="first day of the first month the cycle plans, YYYY-MM-01")


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CycleFilter(UpdatedSinceFilterSet):
    class Meta:
        model = PlanCycle
        fields = ["status", "stage", "month"]


def _cycle_queryset(qs):
    return qs.select_related("published_by", "previous_cycle").prefetch_related("stages__owner", "stages__completed_by")


class PlanCycleViewSet(ResourceViewSet):
    """``GET /plan-cycles/``, ``GET /plan-cycles/{month}/``, ``POST /plan-cycles/``."""

    model = PlanCycle
    serializer_class = CycleSerializer
    filterset_class = CycleFilter
    lookup_field = "month"
    lookup_value_regex = MONTH_REGEX
    read_scope = "cycles:read"
    write_scope = "cycles:write"
    csv_fields = (
        ("month", "month"),
        ("stage", "stage"),
        ("status", "status"),
        ("published_at", "published_at"),
        ("lines_count", "lines_count"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return _cycle_queryset(super().get_queryset())

    def get_object(self):
        parse_month(self.kwargs["month"])
        return super().get_object()

    @extend_schema(
        request=CycleCreateSerializer,
        responses={201: CycleSerializer, 400: ERROR_BODY, 403: ERROR_BODY, 409: ERROR_BODY},
        summary="Open the cycle of a month (its demand plan starts from the latest forecast run)",
    )
    def create(self, request):
        params = CycleCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        cycle = cycle_services.cycle_create(month=params.validated_data["month"], user=request.user)
        cycle = _cycle_queryset(PlanCycle.objects.all()).get(pk=cycle.pk)
        return Response(CycleSerializer(cycle).data, status=status.HTTP_201_CREATED)


class CycleActionView(APIView):
    """``POST /plan-cycles/{month}/advance`` and ``/send-back`` (scope ``cycles:write``)."""

    permission_classes = [ScopedAccess]
    write_scope = "cycles:write"
    action_name = "advance"

    @extend_schema(request=CommentSerializer, responses={200: CycleSerializer, 403: ERROR_BODY, 409: ERROR_BODY})
    def post(self, request, month: str):
        cycle = cycle_or_404(request, month)
        params = CommentSerializer(data=request.data or {})
        params.is_valid(raise_exception=True)
        comment = params.validated_data["comment"]
        if self.action_name == "advance":
            cycle_services.cycle_advance(cycle=cycle, user=request.user, comment=comment)
        elif self.action_name == "send-back":
            cycle_services.cycle_send_back(cycle=cycle, user=request.user, comment=comment)
        else:
            cycle_services.cycle_plan_run_start(cycle=cycle, user=request.user)
        return Response(CycleSerializer(_cycle_queryset(PlanCycle.objects.all()).get(pk=cycle.pk)).data)


class CycleAdvanceView(CycleActionView):
    action_name = "advance"


class CycleSendBackView(CycleActionView):
    action_name = "send-back"


class CyclePlanRunView(CycleActionView):
    action_name = "plan-run"


# ---------------------------------------------------------------------------------------
# The demand plan
# ---------------------------------------------------------------------------------------

ROW_FIELDS = {
    "product": ["product_sku", "family_code"],
    "family": ["family_code"],
    "territory": ["territory_code", "region_code"],
    "region": ["region_code"],
    "total": [],
}
MEASURE_FIELDS = ["statistical", "naive", "target", "sales_override", "consensus", "feasible"]

DEMAND_ROW = inline_serializer(
    "DemandPlanRow",
    {
        "product_sku": serializers.CharField(required=False),
        "family_code": serializers.CharField(required=False),
        "territory_code": serializers.CharField(
            required=False, allow_null=True, help_text="null: the rows of no territory"
        ),
        "region_code": serializers.CharField(
            required=False, allow_null=True, help_text="null: the rows of no territory"
        ),
        "period_start": serializers.DateField(),
        "statistical": serializers.FloatField(),
        "naive": serializers.FloatField(),
        "target": serializers.FloatField(allow_null=True),
        "sales_override": serializers.IntegerField(allow_null=True),
        "consensus": serializers.IntegerField(),
        "feasible": serializers.FloatField(allow_null=True),
        "etag": serializers.CharField(),
    },
)
DEMAND_PAGE = inline_serializer(
    "DemandPlanPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": DEMAND_ROW,
    },
)


class DemandPlanQuery(serializers.Serializer):
    level = serializers.ChoiceField(choices=cycle_selectors.LEVELS, default="family")
    family_code = serializers.CharField(required=False)
    product_sku = serializers.CharField(required=False)
    territory_code = serializers.CharField(required=False)
    region_code = serializers.CharField(required=False)
    period_start = serializers.DateField(required=False)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=5000, default=500)


class DemandPlanView(APIView):
    """``GET /plan-cycles/{month}/demand-plan/?level=…`` (scope ``cycles:read``)."""

    permission_classes = [ScopedAccess]
    read_scope = "cycles:read"
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        parameters=[DemandPlanQuery, OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"])],
        responses={200: DEMAND_PAGE, 404: ERROR_BODY},
        summary="The demand plan at one level (product, family, territory, region, total), one row per key × "
        "month, each with its etag",
    )
    def get(self, request, month: str):
        cycle = cycle_or_404(request, month)
        query = DemandPlanQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        level = params["level"]
        rows = cycle_selectors.demand_plan_rows(cycle=cycle, user=request.user, level=level, filters=params)
        header = [*ROW_FIELDS[level], "period_start", *MEASURE_FIELDS, "etag"]
        fmt = request.accepted_renderer.format
        name = f"demand-plan-{cycle.month:%Y-%m}-{level}"
        if fmt == "csv":
            return streaming_csv_response(header, ([r[k] for k in header] for r in rows), f"{name}.csv")
        if fmt == "xlsx":
            return xlsx_response(header, ([r[k] for k in header] for r in rows), f"{name}.xlsx", sheet=level)
        size, page = params["page_size"], params["page"]
        chunk = rows[(page - 1) * size : page * size]

        def link(n: int) -> str:
            query_params = request.query_params.copy()
            query_params["page"] = str(n)
            return request.build_absolute_uri(f"{request.path}?{query_params.urlencode()}")

        return Response(
            {
                "count": len(rows),
                "next": link(page + 1) if page * size < len(rows) else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": chunk,
            }
        )


class DemandPlanEditSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=cycle_selectors.LEVELS)
    family_code = serializers.CharField(required=False, allow_blank=True)
    product_sku = serializers.CharField(required=False, allow_blank=True)
    territory_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="null: the rows of no territory"
    )
    region_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="null: the rows of no territory"
    )
    period_start = serializers.DateField()
    measure = serializers.ChoiceField(choices=cycle_selectors.EDITABLE_MEASURES)
    value = serializers.IntegerField(min_value=0, help_text="whole units")
    reason = serializers.CharField(max_length=1000)
    etag = serializers.CharField(required=False, help_text="the row's etag as read (or send If-Match)")


class DemandPlanEditView(APIView):
    """``POST /plan-cycles/{month}/demand-plan/edits`` (scope ``cycles:write``)."""

    permission_classes = [ScopedAccess]
    write_scope = "cycles:write"

    @extend_schema(
        request=DemandPlanEditSerializer,
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={
            200: DEMAND_ROW,
            400: ERROR_BODY,
            403: ERROR_BODY,
            404: ERROR_BODY,
            409: ERROR_BODY,
            412: ERROR_BODY,
            428: ERROR_BODY,
        },
        summary="Set sales_override or consensus of one row at any level; spread to product × territory in "
        "whole units. 412 when the etag is stale",
    )
    def post(self, request, month: str):
        cycle = cycle_or_404(request, month)
        params = DemandPlanEditSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        row = cycle_services.demand_plan_edit(
            cycle=cycle,
            user=request.user,
            level=data["level"],
            keys={k: data[k] for k in cycle_selectors.KEY_FIELDS if k in data},
            period_start=data["period_start"],
            measure=data["measure"],
            value=data["value"],
            reason=data["reason"],
            etag=data.get("etag") or request.headers.get("If-Match"),
        )
        response = Response(row)
        response["ETag"] = f'"{row["etag"]}"'
        return response


# ---------------------------------------------------------------------------------------
# Decisions and the published plan
# ---------------------------------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    owner_username = NullableKeyField("owner.username")
    family_code = NullableKeyField("family.code")
    product_sku = NullableKeyField("product.sku")
    work_center_code = NullableKeyField("work_center.code")
    alert_id = serializers.IntegerField(allow_null=True)
    created_by = NullableKeyField("created_by.username")

    class Meta:
        model = Decision
        fields = [
            "id",
            "topic",
            "decision",
            "owner_username",
            "due_date",
            "status",
            "family_code",
            "product_sku",
            "work_center_code",
            "alert_id",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DecisionCreateSerializer(serializers.Serializer):
    topic = serializers.CharField(max_length=200)
    decision = serializers.CharField(required=False, allow_blank=True, default="")
    owner_username = serializers.CharField(required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    family_code = serializers.CharField(required=False, allow_blank=True, default="")
    product_sku = serializers.CharField(required=False, allow_blank=True, default="")
    work_center_code = serializers.CharField(required=False, allow_blank=True, default="")
    alert_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class DecisionListView(APIView):
    """``GET|POST /plan-cycles/{month}/decisions/``."""

    permission_classes = [ScopedAccess]
    read_scope = "cycles:read"
    write_scope = "cycles:write"

    @extend_schema(responses={200: DecisionSerializer(many=True)})
    def get(self, request, month: str):
        cycle = cycle_or_404(request, month)
        return Response(
            DecisionSerializer(cycle_selectors.decisions_for(cycle=cycle, user=request.user), many=True).data
        )

    @extend_schema(request=DecisionCreateSerializer, responses={201: DecisionSerializer, 400: ERROR_BODY})
    def post(self, request, month: str):
        cycle = cycle_or_404(request, month)
        params = DecisionCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        owner = data.pop("owner_username")
        owner_id = None
        if owner:
            owner_id = get_user_model().objects.filter(username=owner).values_list("id", flat=True).first()
            if owner_id is None:
                raise ApplicationError(
                    _("No user '%(name)s'.") % {"name": owner},
                    code="validation_error",
                    details={"owner_username": owner},
                )
        item = cycle_services.decision_create(cycle=cycle, user=request.user, owner_id=owner_id, **data)
        return Response(DecisionSerializer(item).data, status=status.HTTP_201_CREATED)


PLAN_ROW = inline_serializer(
    "PublishedPlanRow",
    {
        "product_sku": serializers.CharField(),
        "family_code": serializers.CharField(),
        "period_start": serializers.DateField(),
        "consensus": serializers.IntegerField(),
        "feasible": serializers.FloatField(allow_null=True),
        "production": serializers.FloatField(allow_null=True),
    },
)


class PublishedPlanView(APIView):
    """``GET /plan-cycles/{month}/plan/`` — the published plan, product × month."""

    permission_classes = [ScopedAccess]
    read_scope = "cycles:read"
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"])],
        responses={200: PLAN_ROW, 404: ERROR_BODY, 409: ERROR_BODY},
        summary="The published plan (consensus, feasible, production per product × month)",
    )
    def get(self, request, month: str):
        cycle = cycle_or_404(request, month)
        if not cycle.is_published:
            raise ApplicationError(
                _("The %(month)s plan is not published yet (stage: %(stage)s).")
                % {"month": cycle.month.strftime("%Y-%m"), "stage": cycle.stage},
                code="not_published",
                status=409,
            )
        rows = cycle_selectors.published_plan_rows(cycle=cycle)
        header = cycle_selectors.PLAN_COLUMNS
        fmt = request.accepted_renderer.format
        name = f"plan-{cycle.month:%Y-%m}"
        if fmt == "csv":
            return streaming_csv_response(header, ([r[k] for k in header] for r in rows), f"{name}.csv")
        if fmt == "xlsx":
            return xlsx_response(header, ([r[k] for k in header] for r in rows), f"{name}.xlsx", sheet="plan")
        return Response(rows)
