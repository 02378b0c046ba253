"""API of the CRM (scopes ``crm:read`` / ``crm:write``).

Read resources ``opportunities``, ``feedback-notes``, ``training-modules``,
``training-completions`` (their bulk upserts are in ``crm/bulk.py``), and two computed reads
for the plan's readers: ``GET /api/v1/availability/`` (can we deliver N of X by D?) and
``GET /api/v1/pipeline-demand/`` (pipeline-weighted demand beside the statistical forecast).
Rows are narrowed by ``for_user``: a rep sees their own opportunities and completions, a
manager their subtree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.urls import path
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import NullableKeyField
from core.api.permissions import CRM_PLAN_READERS, ScopedAccess, token_scopes
from core.api.resources import ERROR_BODY, ResourceViewSet, UpdatedSinceFilterSet
from core.errors import ApplicationError
from core.roles import user_roles
from crm import selectors
from crm.models import FeedbackNote, Opportunity, TrainingCompletion, TrainingModule
from inventory.models import Product
from sop.cycle_selectors import current_cycle

MAX_QUANTITY = Decimal("1000000000")


class PlanReaderAccess(ScopedAccess):
    """The scope, and for people one of the plan's reader roles (reps ask on their deal's page)."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if token_scopes(request) is None and not (user_roles(request.user) & CRM_PLAN_READERS):
            self.message = _("Your role does not allow this operation.")
            return False
        return True


# --- opportunities -------------------------------------------------------------------------


class OpportunitySerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id")
    product_sku = NullableKeyField("product.sku", read_only=True)
    family_code = NullableKeyField("family.code", read_only=True)
    owner_username = serializers.CharField(source="owner.username")
    territory_code = NullableKeyField("territory.code", read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "external_id",
            "account_external_id",
            "product_sku",
            "family_code",
            "quantity",
            "amount",
            "expected_close_date",
            "requested_delivery_date",
            "stage",
            "probability",
            "owner_username",
            "status",
            "territory_code",
            "updated_at",
        ]


class OpportunityFilter(UpdatedSinceFilterSet):
    account_external_id = filters.CharFilter(field_name="account__external_id")
    product_sku = filters.CharFilter(field_name="product__sku")
    family_code = filters.CharFilter(field_name="family__code")
    owner_username = filters.CharFilter(field_name="owner__username")
    territory_code = filters.CharFilter(field_name="territory__code")

    class Meta:
        model = Opportunity
        fields = [
            "status",
            "stage",
            "account_external_id",
            "product_sku",
            "family_code",
            "owner_username",
            "territory_code",
        ]


class OpportunityViewSet(ResourceViewSet):
    model = Opportunity
    serializer_class = OpportunitySerializer
    read_scope = "crm:read"
    filterset_class = OpportunityFilter
    lookup_field = "external_id"
    csv_fields = (
        ("external_id", "external_id"),
        ("account_external_id", "account__external_id"),
        ("product_sku", "product__sku"),
        ("family_code", "family__code"),
        ("quantity", "quantity"),
        ("amount", "amount"),
        ("expected_close_date", "expected_close_date"),
        ("requested_delivery_date", "requested_delivery_date"),
        ("stage", "stage"),
        ("probability", "probability"),
        ("owner_username", "owner__username"),
        ("status", "status"),
        ("territory_code", "territory__code"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("account", "product", "family", "owner", "territory")


# --- feedback ------------------------------------------------------------------------------


class FeedbackNoteSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id")
    product_sku = NullableKeyField("product.sku", read_only=True)
    author_username = serializers.CharField(source="author.username")

    class Meta:
        model = FeedbackNote
        fields = [
            "external_id",
            "account_external_id",
            "product_sku",
            "category",
            "sentiment",
            "text",
            "author_username",
            "noted_on",
            "updated_at",
        ]


class FeedbackNoteFilter(UpdatedSinceFilterSet):
    account_external_id = filters.CharFilter(field_name="account__external_id")
    product_sku = filters.CharFilter(field_name="product__sku")
    family_code = filters.CharFilter(field_name="product__family__code")
    noted_since = filters.DateFilter(field_name="noted_on", lookup_expr="gte")

    class Meta:
        model = FeedbackNote
        fields = ["category", "sentiment", "account_external_id", "product_sku", "family_code", "noted_since"]


class FeedbackNoteViewSet(ResourceViewSet):
    model = FeedbackNote
    serializer_class = FeedbackNoteSerializer
    read_scope = "crm:read"
    filterset_class = FeedbackNoteFilter
    lookup_field = "external_id"
    csv_fields = (
        ("external_id", "external_id"),
        ("account_external_id", "account__external_id"),
        ("product_sku", "product__sku"),
        ("category", "category"),
        ("sentiment", "sentiment"),
        ("text", "text"),
        ("author_username", "author__username"),
        ("noted_on", "noted_on"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("account", "product", "author")


# --- training ------------------------------------------------------------------------------


class TrainingModuleSerializer(serializers.ModelSerializer):
    required_for_roles = serializers.ListField(source="roles", child=serializers.CharField())

    class Meta:
        model = TrainingModule
        fields = ["code", "name", "required_for_roles", "valid_months", "updated_at"]


class TrainingModuleFilter(UpdatedSinceFilterSet):
    class Meta:
        model = TrainingModule
        fields = ["code"]


class TrainingModuleViewSet(ResourceViewSet):
    model = TrainingModule
    serializer_class = TrainingModuleSerializer
    read_scope = "crm:read"
    filterset_class = TrainingModuleFilter
    lookup_field = "code"
    csv_fields = (
        ("code", "code"),
        ("name", "name"),
        ("required_for_roles", "required_for_roles"),
        ("valid_months", "valid_months"),
        ("updated_at", "updated_at"),
    )


class TrainingCompletionSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    module_code = serializers.CharField(source="module.code")

    class Meta:
        model = TrainingCompletion
        fields = ["id", "username", "module_code", "completed_on", "expires_on", "updated_at"]


class TrainingCompletionFilter(UpdatedSinceFilterSet):
    username = filters.CharFilter(field_name="user__username")
    module_code = filters.CharFilter(field_name="module__code")

    class Meta:
        model = TrainingCompletion
        fields = ["username", "module_code"]


class TrainingCompletionViewSet(ResourceViewSet):
    model = TrainingCompletion
    serializer_class = TrainingCompletionSerializer
    read_scope = "crm:read"
    filterset_class = TrainingCompletionFilter
    csv_fields = (
        ("username", "user__username"),
        ("module_code", "module__code"),
        ("completed_on", "completed_on"),
        ("expires_on", "expires_on"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("user", "module")


# --- computed reads ------------------------------------------------------------------------


def _date(request, name: str, *, required: bool) -> dt.date | None:
    raw = request.query_params.get(name, "")
    if not raw:
        if required:
            raise ApplicationError(
                _("%(name)s is required (YYYY-MM-DD).") % {"name": name}, code="invalid", details={"field": name}
            )
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ApplicationError(
            _("%(name)s '%(raw)s' is not a date (YYYY-MM-DD).") % {"name": name, "raw": raw},
            code="invalid_date",
            details={"field": name},
        ) from exc


AVAILABILITY = inline_serializer(
    "Availability",
    {
        "product_sku": serializers.CharField(),
        "quantity": serializers.FloatField(),
        "date": serializers.DateField(),
        "available_by_date": serializers.FloatField(),
        "earliest_full_date": serializers.DateField(allow_null=True),
        "constrained_by": inline_serializer(
            "AvailabilityConstraint",
            {
                "kind": serializers.ChoiceField(choices=["inventory", "work_center"]),
                "code": serializers.CharField(),
            },
            allow_null=True,
        ),
    },
)


class AvailabilityView(APIView):
    """Available- and capable-to-promise, lite, on the latest plan run (see ``crm.availability``)."""

    permission_classes = [PlanReaderAccess]
    read_scope = "crm:read"

    @extend_schema(
        parameters=[
            OpenApiParameter("product_sku", OpenApiTypes.STR, required=True),
            OpenApiParameter("quantity", OpenApiTypes.NUMBER, required=True),
            OpenApiParameter("date", OpenApiTypes.DATE, required=True),
        ],
        responses={200: AVAILABILITY, 400: ERROR_BODY, 404: ERROR_BODY, 409: ERROR_BODY},
        summary="Can we deliver N units of a product by a date?",
        tags=["crm"],
    )
    def get(self, request):
        params = request.query_params
        sku = params.get("product_sku", "")
        try:
            quantity = Decimal(params.get("quantity", ""))
        except InvalidOperation as exc:
            raise ApplicationError(
                _("quantity must be a number."), code="invalid", details={"field": "quantity"}
            ) from exc
        if not quantity.is_finite() or not Decimal(0) < quantity <= MAX_QUANTITY:
            raise ApplicationError(
                _("quantity must be above 0 and at most %(max)s.") % {"max": MAX_QUANTITY},
                code="invalid",
                details={"field": "quantity"},
            )
        date = _date(request, "date", required=True)
        product = Product.objects.for_user(request.user).filter(sku=sku).first() if sku else None
        if product is None:
            raise ApplicationError(
                _("No product '%(sku)s'.") % {"sku": sku},
                code="not_found",
                status=404,
                details={"field": "product_sku"},
            )
        result, _run = selectors.product_availability(product=product, quantity=float(quantity), date=date)
        if result is None:
            raise ApplicationError(_("No plan run has finished yet: run the plan first."), code="no_plan", status=409)
        return Response(
            {
                "product_sku": product.sku,
                "quantity": result.quantity,
                "date": date,
                "available_by_date": result.available_by_date,
                "earliest_full_date": result.earliest_full_date,
                "constrained_by": result.constrained_by,
            }
        )


PIPELINE_ROW_FIELDS = {
    "product_sku": serializers.CharField(required=False),
    "family_code": serializers.CharField(required=False),
    "territory_code": serializers.CharField(allow_null=True),
    "period_start": serializers.DateField(),
    "deals": serializers.IntegerField(),
    "pipeline_units": serializers.FloatField(),
    "weighted_units": serializers.FloatField(),
    "statistical": serializers.FloatField(),
    "sales_override": serializers.FloatField(allow_null=True),
    "share_explained": serializers.FloatField(allow_null=True),
}
PIPELINE = inline_serializer(
    "PipelineDemand",
    {
        "level": serializers.CharField(),
        "cycle_month": serializers.DateField(allow_null=True),
        "rows": inline_serializer("PipelineDemandRow", PIPELINE_ROW_FIELDS, many=True),
    },
)


def _number(value) -> float | None:
    return None if value is None or value != value else round(float(value), 3)


def pipeline_public_rows(frame, level: str) -> list[dict]:
    key = "product_sku" if level == "product" else "family_code"
    return [
        {
            key: r["key"],
            "territory_code": r["territory_code"],
            "period_start": r["period_start"],
            "deals": int(r["deals"]),
            "pipeline_units": _number(r["pipeline_units"]),
            "weighted_units": _number(r["weighted_units"]),
            "statistical": _number(r["statistical"]),
            "sales_override": _number(r.get("sales_override")),
            "share_explained": _number(r["share_explained"]),
        }
        for r in frame.to_dict("records")
    ]


class PipelineDemandView(APIView):
    """Pipeline-weighted demand per product (or family) × territory × month of the current cycle."""

    permission_classes = [PlanReaderAccess]
    read_scope = "crm:read"

    @extend_schema(
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=["product", "family"]),
            OpenApiParameter("period_start", OpenApiTypes.DATE, description="one month (its first day)"),
        ],
        responses={200: PIPELINE, 400: ERROR_BODY},
        summary="Pipeline demand beside the forecast",
        tags=["crm"],
    )
    def get(self, request):
        level = request.query_params.get("level", "product")
        if level not in ("product", "family"):
            raise ApplicationError(_("level is one of product, family."), code="invalid", details={"field": "level"})
        period = _date(request, "period_start", required=False)
        period = period.replace(day=1) if period else None
        cycle = current_cycle(user=request.user)
        frame = selectors.pipeline_rows(user=request.user, level=level, cycle=cycle, period_start=period)
        return Response(
            {"level": level, "cycle_month": cycle.month if cycle else None, "rows": pipeline_public_rows(frame, level)}
        )


def register_routes(router) -> None:
    router.register("opportunities", OpportunityViewSet, basename="opportunities")
    router.register("feedback-notes", FeedbackNoteViewSet, basename="feedback-notes")
    router.register("training-modules", TrainingModuleViewSet, basename="training-modules")
    router.register("training-completions", TrainingCompletionViewSet, basename="training-completions")


api_urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("pipeline-demand/", PipelineDemandView.as_view(), name="pipeline-demand"),
]
