"""API of compensation (scopes ``comp:read`` / ``comp:write``): plans, assignments, credits,
pay periods and their close, statements (JSON, CSV per statement, payroll export), disputes,
the plan-cost what-if and a SPIFF for an aged-stock product.

Rows are narrowed by ``for_user`` (see ``compensation.models``): a rep's token or session sees
their own pay, a manager their subtree's, admin and ERP clients with ``comp:read`` everyone's.
Amounts are decimal strings. Disputes and the what-if are operations any comp user may call
(scope ``comp:read``); the services decide who may do what.
"""

from __future__ import annotations

import datetime as dt

from django.urls import path, reverse
from django.utils.translation import gettext
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from compensation import selectors, services
from compensation.bulk import PLAN_FIELDS, comp_plans_bulk_upsert
from compensation.models import (
    CompAssignment,
    CompPeriod,
    CompPlan,
    Credit,
    Dispute,
    Statement,
    StatementLine,
)
from core.api.csv_export import streaming_csv_response
from core.api.permissions import ScopedAccess
from core.api.resources import (
    BULK_RESULT,
    ERROR_BODY,
    ResourceViewSet,
    UpdatedSinceFilterSet,
    bulk_view,
)
from core.bulk.spec import Field, ResourceSpec
from core.errors import ApplicationError

READ, WRITE = "comp:read", "comp:write"


def _date_param(raw: str | None, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ApplicationError(f"{name} '{raw}' is not a date (YYYY-MM-DD).", code="invalid_date") from exc


# --- plans and assignments --------------------------------------------------------------------


class CompPlanSerializer(serializers.ModelSerializer):
    cap = serializers.DecimalField(source="cap_value", max_digits=16, decimal_places=2, allow_null=True)

    class Meta:
        model = CompPlan
        # The bulk columns plus the version and updated_at, in the order the API answers them.
        fields = [*PLAN_FIELDS[:2], "version", *PLAN_FIELDS[2:], "updated_at"]
        read_only_fields = fields


class CompPlanFilter(UpdatedSinceFilterSet):
    class Meta:
        model = CompPlan
        fields = ["code", "measure", "basis", "mode"]


class CompPlanViewSet(ResourceViewSet):
    model = CompPlan
    serializer_class = CompPlanSerializer
    filterset_class = CompPlanFilter
    lookup_field = "code"
    read_scope = READ
    csv_fields = (
        ("code", "code"),
        ("name", "name"),
        ("version", "version"),
        ("valid_from", "valid_from"),
        ("valid_to", "valid_to"),
        ("measure", "measure"),
        ("basis", "basis"),
        ("tier_on", "tier_on"),
        ("mode", "mode"),
        ("tiers", "tiers"),
        ("threshold", "threshold"),
        ("cap", "cap_value"),
        ("cap_kind", "cap_kind"),
        ("updated_at", "updated_at"),
    )


# ``POST /api/v1/comp-plans/bulk``: upsert plans by ``code`` (a changed plan gets a new
# version), written by ``comp_plans_bulk_upsert``; documented as it always was.
COMP_PLANS_BULK = ResourceSpec(
    name="comp-plans", table="compensation_compplan", key=("code",), fields=(Field("code", max_length=64),), scope=WRITE
)
CompPlanBulkView = bulk_view(
    COMP_PLANS_BULK,
    ingest=lambda request, **batch: comp_plans_bulk_upsert(**batch),
    description=(
        "JSON array (or CSV) of plans: `code, name, valid_from, valid_to, measure` "
        "(revenue/margin/units), `basis` (transaction/period), `tier_on` (amount/attainment), `mode` "
        "(whole/marginal), `tiers` (list of `{from, to, rate}`, `to` empty = no upper bound, rate in %; "
        "in CSV a JSON text or `0-1000:1;1000-:2`), `threshold`, `cap` (max payout per period). "
        "All or nothing, every bad row listed; `Idempotency-Key` as for every bulk resource."
    ),
    request_schema={"application/json": OpenApiTypes.OBJECT, "text/csv": OpenApiTypes.STR},
    responses={200: BULK_RESULT, 400: ERROR_BODY, 403: ERROR_BODY, 409: ERROR_BODY},
)


class CompAssignmentSerializer(serializers.ModelSerializer):
    rep_username = serializers.CharField(source="rep.username")
    plan_code = serializers.CharField(source="plan.code")

    class Meta:
        model = CompAssignment
        fields = ["id", "rep_username", "plan_code", "valid_from", "valid_to", "quota", "updated_at"]
        read_only_fields = fields


class CompAssignmentFilter(UpdatedSinceFilterSet):
    rep_username = filters.CharFilter(field_name="rep__username")
    plan_code = filters.CharFilter(field_name="plan__code")

    class Meta:
        model = CompAssignment
        fields = ["rep_username", "plan_code", "valid_from"]


class CompAssignmentViewSet(ResourceViewSet):
    model = CompAssignment
    serializer_class = CompAssignmentSerializer
    filterset_class = CompAssignmentFilter
    lookup_value_regex = r"\d+"
    read_scope = READ
    csv_fields = (
        ("rep_username", "rep__username"),
        ("plan_code", "plan__code"),
        ("valid_from", "valid_from"),
        ("valid_to", "valid_to"),
        ("quota", "quota"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("rep", "plan")


# --- credits ----------------------------------------------------------------------------------


class CreditSerializer(serializers.ModelSerializer):
    sales_line_external_id = serializers.CharField(source="sales_line.external_id")
    rep_username = serializers.CharField(source="rep.username")
    territory_code = serializers.CharField(source="territory.code", allow_null=True)

    class Meta:
        model = Credit
        fields = [
            "id",
            "sales_line_external_id",
            "rep_username",
            "role",
            "kind",
            "share",
            "distance",
            "territory_code",
            "date",
            "period_start",
            "amount",
            "quantity",
        ]
        read_only_fields = fields


class CreditFilter(filters.FilterSet):
    rep_username = filters.CharFilter(field_name="rep__username")
    sales_line_external_id = filters.CharFilter(field_name="sales_line__external_id")

    class Meta:
        model = Credit
        fields = ["rep_username", "period_start", "role", "kind", "sales_line_external_id"]


class CreditViewSet(ResourceViewSet):
    model = Credit
    serializer_class = CreditSerializer
    filterset_class = CreditFilter
    lookup_value_regex = r"\d+"
    read_scope = READ
    csv_fields = (
        ("sales_line_external_id", "sales_line__external_id"),
        ("rep_username", "rep__username"),
        ("role", "role"),
        ("kind", "kind"),
        ("share", "share"),
        ("territory_code", "territory__code"),
        ("date", "date"),
        ("period_start", "period_start"),
        ("amount", "amount"),
        ("quantity", "quantity"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("sales_line", "rep", "territory")


# --- periods ----------------------------------------------------------------------------------


class CompPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompPeriod
        fields = [
            "period_start",
            "period_end",
            "status",
            "run_status",
            "run_error",
            "statement_count",
            "computed_at",
            "closed_at",
        ]
        read_only_fields = fields


class CompPeriodViewSet(ResourceViewSet):
    model = CompPeriod
    serializer_class = CompPeriodSerializer
    filterset_fields = ["status"]
    lookup_field = "period_start"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"
    read_scope = READ
    csv_fields = (
        ("period_start", "period_start"),
        ("period_end", "period_end"),
        ("status", "status"),
        ("statement_count", "statement_count"),
        ("closed_at", "closed_at"),
    )


RUN_ACCEPTED = inline_serializer(
    "CompPeriodCloseAccepted",
    {"id": serializers.CharField(), "status": serializers.CharField(), "url": serializers.CharField()},
)


class CompPeriodCloseView(APIView):
    """``POST /api/v1/comp-periods/{period_start}/close``: compute and lock every statement."""

    permission_classes = [ScopedAccess]
    write_scope = WRITE

    @extend_schema(
        operation_id="comp_period_close",
        tags=["comp-periods"],
        request=inline_serializer(
            "CompPeriodClose",
            {"note": serializers.CharField(required=False, help_text="ignored; the body may be empty")},
        ),
        summary="Close a pay period: compute and lock every statement",
        description="`202` with the period to poll (`run_status`, `status`) while the close runs; "
        "`200` with the period once it is closed (closing again is a no-op).",
        responses={200: CompPeriodSerializer, 202: RUN_ACCEPTED, 403: ERROR_BODY, 409: ERROR_BODY},
    )
    def post(self, request, period_start: str):
        start = _date_param(period_start, "period_start")
        period = services.comp_period_close_start(period_start=start, actor=request.user)
        period.refresh_from_db()
        if period.is_closed:
            return Response(CompPeriodSerializer(period).data, status=status.HTTP_200_OK)
        url = reverse("comp-periods-detail", kwargs={"period_start": period.period_start.isoformat()})
        return Response(
            {
                "id": period.period_start.isoformat(),
                "status": period.run_status,
                "url": request.build_absolute_uri(url),
            },
            status=status.HTTP_202_ACCEPTED,
        )


# --- statements -------------------------------------------------------------------------------


class StatementLineSerializer(serializers.ModelSerializer):
    source_sales_line_ids = serializers.ListField(source="source_ids", child=serializers.CharField())

    class Meta:
        model = StatementLine
        fields = [
            "id",
            "position",
            "component",
            "description",
            "base",
            "rate",
            "rate_unit",
            "amount",
            "source_sales_line_ids",
            "corrects",
            "corrects_component",
        ]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer):
    rep_username = serializers.CharField(source="rep.username")
    lines = StatementLineSerializer(many=True, read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "rep_username",
            "period_start",
            "period_end",
            "status",
            "plan_code",
            "plan_version",
            "total",
            "credited",
            "quota",
            "attainment",
            "draw_balance_prior",
            "draw_balance_carried",
            "notes",
            "closed_at",
            "lines",
        ]
        read_only_fields = fields


class StatementFilter(UpdatedSinceFilterSet):
    rep_username = filters.CharFilter(field_name="rep__username")

    class Meta:
        model = Statement
        fields = ["rep_username", "period_start", "status", "plan_code"]


class StatementViewSet(ResourceViewSet):
    model = Statement
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    lookup_value_regex = r"\d+"
    read_scope = READ
    csv_fields = (
        ("id", "id"),
        ("rep_username", "rep__username"),
        ("period_start", "period_start"),
        ("period_end", "period_end"),
        ("status", "status"),
        ("plan_code", "plan_code"),
        ("total", "total"),
        ("draw_balance_carried", "draw_balance_carried"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("rep").prefetch_related("lines")


class StatementCsvView(APIView):
    """``GET /api/v1/statements/{id}.csv``: the statement's lines as CSV."""

    permission_classes = [ScopedAccess]
    read_scope = READ

    @extend_schema(operation_id="statement_csv", tags=["statements"], responses={200: OpenApiTypes.STR})
    def get(self, request, pk: int):
        statement = selectors.statement_get(user=request.user, pk=pk)
        header, rows = selectors.statement_csv_rows(statement)
        return streaming_csv_response(header, rows, f"statement-{statement.rep.username}-{statement.period_start}.csv")


class PayrollExportView(APIView):
    """``GET /api/v1/statements/payroll.csv?period_start=…``: one row per closed statement."""

    permission_classes = [ScopedAccess]
    read_scope = READ

    @extend_schema(
        operation_id="statements_payroll_export",
        tags=["statements"],
        parameters=[
            OpenApiParameter("period_start", OpenApiTypes.DATE),
            OpenApiParameter("status", OpenApiTypes.STR, description="closed (default) or draft"),
        ],
        responses={200: OpenApiTypes.STR},
    )
    def get(self, request):
        start = _date_param(request.query_params.get("period_start"), "period_start")
        state = request.query_params.get("status", "closed")
        rows = selectors.payroll_rows(user=request.user, period_start=start, status=state)
        name = f"payroll-{start or 'all'}.csv"
        return streaming_csv_response(selectors.PAYROLL_HEADER, rows.iterator(), name)


# --- disputes ---------------------------------------------------------------------------------


def valid(serializer_class: type[serializers.Serializer], request) -> dict:
    """The operation's input, checked by its serializer (400 naming each bad field)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


ID = {"min_value": 1, "max_value": 2**63 - 1}


class DisputeRaiseInput(serializers.Serializer):
    line_id = serializers.IntegerField(**ID)
    reason = serializers.CharField(allow_blank=True, max_length=4000)


class DisputeAnswerInput(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True, max_length=4000)


class WhatIfInput(serializers.Serializer):
    plan_code = serializers.CharField(max_length=64)
    period_from = serializers.DateField(required=False, allow_null=True)
    period_to = serializers.DateField(required=False, allow_null=True)
    changes = serializers.DictField(
        required=False,
        allow_null=True,
        help_text=("plan fields to change, as in comp-plans (tiers, threshold, cap, cap_kind, mode, ...)"),
    )


class SpiffForProductInput(serializers.Serializer):
    alert_id = serializers.IntegerField(required=False, **ID)
    sku = serializers.CharField(required=False, max_length=64)
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3, required=False, min_value=0)


class DisputeSerializer(serializers.ModelSerializer):
    statement_id = serializers.IntegerField(source="line.statement_id")
    line_id = serializers.IntegerField()
    raised_by = serializers.CharField(source="raised_by.username")
    answered_by = serializers.CharField(source="answered_by.username", allow_null=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "statement_id",
            "line_id",
            "raised_by",
            "reason",
            "status",
            "answer",
            "answered_by",
            "answered_at",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


class DisputeViewSet(ResourceViewSet):
    model = Dispute
    serializer_class = DisputeSerializer
    filterset_fields = ["status"]
    lookup_value_regex = r"\d+"
    read_scope = READ
    csv_fields = (
        ("id", "id"),
        ("statement_id", "line__statement_id"),
        ("line_id", "line_id"),
        ("raised_by", "raised_by__username"),
        ("status", "status"),
        ("created_at", "created_at"),
    )

    write_scope = READ  # any comp user; the service lets only the statement's rep raise one

    def get_queryset(self):
        return super().get_queryset().select_related("line", "raised_by", "answered_by")

    @extend_schema(
        operation_id="dispute_raise",
        request=DisputeRaiseInput,
        responses={201: DisputeSerializer, 400: ERROR_BODY, 403: ERROR_BODY, 404: ERROR_BODY},
    )
    def create(self, request):
        """Raise a dispute on a line of one's own statement."""
        data = valid(DisputeRaiseInput, request)
        dispute = services.dispute_raise(user=request.user, line_id=data["line_id"], reason=data["reason"])
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeAnswerView(APIView):
    permission_classes = [ScopedAccess]
    write_scope = READ  # the service checks the role: the rep's manager or an admin answers

    @extend_schema(
        operation_id="dispute_answer",
        tags=["disputes"],
        request=DisputeAnswerInput,
        responses={200: DisputeSerializer, 400: ERROR_BODY, 403: ERROR_BODY, 404: ERROR_BODY, 409: ERROR_BODY},
    )
    def post(self, request, pk: int):
        answer = valid(DisputeAnswerInput, request)["answer"]
        dispute = services.dispute_answer(user=request.user, dispute_id=pk, answer=answer)
        return Response(DisputeSerializer(dispute).data)


class DisputeCloseView(APIView):
    permission_classes = [ScopedAccess]
    write_scope = READ  # the service checks the role: the rep who raised it, their manager, an admin

    @extend_schema(
        operation_id="dispute_close",
        tags=["disputes"],
        request=inline_serializer("DisputeClose", {"note": serializers.CharField(required=False)}),
        responses={200: DisputeSerializer, 403: ERROR_BODY, 404: ERROR_BODY, 409: ERROR_BODY},
    )
    def post(self, request, pk: int):
        dispute = services.dispute_close(user=request.user, dispute_id=pk)
        return Response(DisputeSerializer(dispute).data)


# --- what-if and SPIFFs -----------------------------------------------------------------------


class WhatIfView(APIView):
    """``POST /api/v1/comp-what-if``: cost of a plan change on last year's credited sales."""

    permission_classes = [ScopedAccess]
    write_scope = READ  # nothing is written; the result covers only the reps the caller may see

    @extend_schema(
        operation_id="comp_what_if",
        tags=["comp-plans"],
        request=WhatIfInput,
        responses={200: OpenApiTypes.OBJECT, 400: ERROR_BODY, 404: ERROR_BODY},
    )
    def post(self, request):
        data = valid(WhatIfInput, request)
        result = services.plan_cost_what_if(
            user=request.user,
            plan_code=data["plan_code"],
            changes=data.get("changes") or {},
            start=data.get("period_from"),
            end=data.get("period_to"),
        )
        return Response(result)


class SpiffForProductView(APIView):
    """``POST /api/v1/spiffs/for-product``: a SPIFF to clear aged stock (from an alert or a SKU)."""

    permission_classes = [ScopedAccess]
    write_scope = WRITE

    @extend_schema(
        operation_id="spiff_for_product",
        tags=["spiffs"],
        request=SpiffForProductInput,
        responses={201: OpenApiTypes.OBJECT, 400: ERROR_BODY, 404: ERROR_BODY},
    )
    def post(self, request):
        data = valid(SpiffForProductInput, request)
        if data.get("alert_id"):
            spiff = services.spiff_create_from_alert(alert_id=data["alert_id"], actor=request.user)
        elif data.get("quantity") is None or not data.get("sku"):
            raise ApplicationError(gettext("Send alert_id, or sku and quantity."), code="invalid_spiff")
        else:
            spiff = services.spiff_create_for_product(sku=data["sku"], quantity=data["quantity"], actor=request.user)
        return Response(
            {
                "code": spiff.code,
                "name": spiff.name,
                "start": spiff.start,
                "end": spiff.end,
                "kind": spiff.kind,
                "amount": str(spiff.amount),
                "skus": spiff.skus,
                "budget": str(spiff.budget),
            },
            status=status.HTTP_201_CREATED,
        )


def register_routes(router) -> None:
    router.register("comp-plans", CompPlanViewSet, basename="comp-plans")
    router.register("comp-assignments", CompAssignmentViewSet, basename="comp-assignments")
    router.register("comp-periods", CompPeriodViewSet, basename="comp-periods")
    router.register("credits", CreditViewSet, basename="credits")
    router.register("statements", StatementViewSet, basename="statements")
    router.register("disputes", DisputeViewSet, basename="disputes")


# Explicit paths, served before the router's (``statements/12.csv`` is not a format suffix).
api_urlpatterns = [
    path("comp-plans/bulk", CompPlanBulkView.as_view(), name="comp-plans-bulk"),
    path("comp-periods/<str:period_start>/close", CompPeriodCloseView.as_view(), name="comp-periods-close"),
    path("statements/payroll.csv", PayrollExportView.as_view(), name="statements-payroll"),
    path("statements/<int:pk>.csv", StatementCsvView.as_view(), name="statements-csv"),
    path("disputes/<int:pk>/answer", DisputeAnswerView.as_view(), name="disputes-answer"),
    path("disputes/<int:pk>/close", DisputeCloseView.as_view(), name="disputes-close"),
    path("comp-what-if", WhatIfView.as_view(), name="comp-what-if"),
    path("spiffs/for-product", SpiffForProductView.as_view(), name="spiffs-for-product"),
]
