"""API resources of the territories app: accounts (with the territory owning them on a date),
territories, rep assignments, assignment rules, quota plans and quotas, users, the
realignment operation, attainment, and the dedicated bulk upserts."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import OuterRef, Prefetch, Subquery
from django.urls import path, re_path
from django.utils import timezone
from django.utils.translation import gettext
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import ScopedAccess
from core.api.resources import (
    ERROR_BODY,
    ResourceViewSet,
    UpdatedSinceFilterSet,
    bulk_view,
)
from core.bulk.service import bulk_ingest
from core.errors import ApplicationError
from core.roles import ROLES
from territories import selectors, services
from territories.bulk import dedicated_resources
from territories.models import (
    Account,
    AccountAssignment,
    AssignmentRule,
    Quota,
    QuotaPlan,
    Territory,
    TerritoryAssignment,
    valid_on,
)


def _date_param(request, name: str, default: dt.date | None = None) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ApplicationError(f"{name} '{raw}' is not a date (YYYY-MM-DD).", code="invalid_date") from exc


# --- accounts ------------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    territory_code = serializers.CharField(
        read_only=True, allow_null=True, help_text="territory owning the account today (or on ?as_of=)"
    )

    class Meta:
        model = Account
        fields = [
            "external_id",
            "name",
            "industry",
            "country",
            "region",
            "state",
            "city",
            "postal_code",
            "territory_code",
            "updated_at",
        ]
        read_only_fields = fields


class AccountFilter(UpdatedSinceFilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Account
        fields = ["external_id", "industry", "country", "region", "state", "city", "postal_code", "name"]


AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="territory owner on this date (default today)")


@extend_schema_view(list=extend_schema(parameters=[AS_OF]), retrieve=extend_schema(parameters=[AS_OF]))
class AccountViewSet(ResourceViewSet):
    model = Account
    serializer_class = AccountSerializer
    read_scope = "master:read"
    filterset_class = AccountFilter
    lookup_field = "external_id"
    csv_fields = (
        ("external_id", "external_id"),
        ("name", "name"),
        ("industry", "industry"),
        ("country", "country"),
        ("region", "region"),
        ("state", "state"),
        ("city", "city"),
        ("postal_code", "postal_code"),
        ("territory_code", "territory_code"),
        ("updated_at", "updated_at"),
    )

    def as_of(self) -> dt.date:
        return _date_param(self.request, "as_of", timezone.localdate())

    def get_queryset(self):
        owner = AccountAssignment.objects.filter(valid_on(self.as_of()), account=OuterRef("pk"))
        return (
            super()
            .get_queryset()
            .annotate(territory_code=Subquery(owner.order_by("-valid_from").values("territory__code")[:1]))
        )


# --- territories and assignments -----------------------------------------------------------


class TerritorySerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", allow_null=True, read_only=True)
    manager_username = serializers.CharField(source="manager.username", allow_null=True, read_only=True)

    class Meta:
        model = Territory
        fields = ["code", "name", "parent_code", "manager_username", "level", "path", "updated_at"]
        read_only_fields = fields


class TerritoryFilter(UpdatedSinceFilterSet):
    parent_code = filters.CharFilter(field_name="parent__code")

    class Meta:
        model = Territory
        fields = ["code", "level", "parent_code"]


class TerritoryViewSet(ResourceViewSet):
    model = Territory
    serializer_class = TerritorySerializer
    read_scope = "territories:read"
    filterset_class = TerritoryFilter
    lookup_field = "code"
    csv_fields = (
        ("code", "code"),
        ("name", "name"),
        ("parent_code", "parent__code"),
        ("manager_username", "manager__username"),
        ("level", "level"),
        ("path", "path"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("parent", "manager")


class TerritoryAssignmentSerializer(serializers.ModelSerializer):
    rep_username = serializers.CharField(source="rep.username", read_only=True)
    territory_code = serializers.CharField(source="territory.code", read_only=True)

    class Meta:
        model = TerritoryAssignment
        fields = ["id", "rep_username", "territory_code", "role", "share", "valid_from", "valid_to", "updated_at"]
        read_only_fields = fields


class TerritoryAssignmentFilter(UpdatedSinceFilterSet):
    rep_username = filters.CharFilter(field_name="rep__username")
    territory_code = filters.CharFilter(field_name="territory__code")
    valid_on = filters.DateFilter(method="filter_valid_on", label="assignments in force on this date")

    class Meta:
        model = TerritoryAssignment
        fields = ["rep_username", "territory_code", "role"]

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(valid_on(value))


class TerritoryAssignmentViewSet(ResourceViewSet):
    model = TerritoryAssignment
    serializer_class = TerritoryAssignmentSerializer
    read_scope = "territories:read"
    filterset_class = TerritoryAssignmentFilter
    csv_fields = (
        ("rep_username", "rep__username"),
        ("territory_code", "territory__code"),
        ("role", "role"),
        ("share", "share"),
        ("valid_from", "valid_from"),
        ("valid_to", "valid_to"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("rep", "territory")


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class NamedAccountsField(serializers.Field):
    def to_representation(self, value):
        return [p.strip() for p in (value or "").split(";") if p.strip()]


class AssignmentRuleSerializer(serializers.ModelSerializer):
    territory_code = serializers.CharField(source="territory.code", read_only=True)
    named_accounts = NamedAccountsField(read_only=True)

    class Meta:
        model = AssignmentRule
        fields = [
            "code",
            "territory_code",
            "priority",
            "named_accounts",
            "country",
            "region",
            "state",
            "postal_prefix",
            "industry",
            "valid_from",
            "updated_at",
        ]
        read_only_fields = fields


class AssignmentRuleFilter(UpdatedSinceFilterSet):
    territory_code = filters.CharFilter(field_name="territory__code")

    class Meta:
        model = AssignmentRule
        fields = ["code", "territory_code", "country", "state", "industry"]


class AssignmentRuleViewSet(ResourceViewSet):
    model = AssignmentRule
    serializer_class = AssignmentRuleSerializer
    read_scope = "territories:read"
    filterset_class = AssignmentRuleFilter
    lookup_field = "code"
    csv_fields = (
        ("code", "code"),
        ("territory_code", "territory__code"),
        ("priority", "priority"),
        ("named_accounts", "named_accounts"),
        ("country", "country"),
        ("region", "region"),
        ("state", "state"),
        ("postal_prefix", "postal_prefix"),
        ("industry", "industry"),
        ("valid_from", "valid_from"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("territory")


# --- quota plans and quotas ----------------------------------------------------------------


class QuotaPlanSerializer(serializers.ModelSerializer):
    submitted_by = serializers.CharField(source="submitted_by.username", allow_null=True, read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True, read_only=True)

    class Meta:
        model = QuotaPlan
        fields = [
            "code",
            "name",
            "fiscal_year",
            "status",
            "revenue_target",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "updated_at",
        ]
        read_only_fields = fields


class QuotaPlanFilter(UpdatedSinceFilterSet):
    class Meta:
        model = QuotaPlan
        fields = ["code", "fiscal_year", "status"]


class QuotaPlanViewSet(ResourceViewSet):
    model = QuotaPlan
    serializer_class = QuotaPlanSerializer
    read_scope = "quotas:read"
    filterset_class = QuotaPlanFilter
    lookup_field = "code"
    csv_fields = (
        ("code", "code"),
        ("name", "name"),
        ("fiscal_year", "fiscal_year"),
        ("status", "status"),
        ("revenue_target", "revenue_target"),
        ("approved_at", "approved_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("submitted_by", "approved_by")


class QuotaSerializer(serializers.ModelSerializer):
    plan_code = serializers.CharField(source="plan.code", read_only=True)
    rep_username = serializers.CharField(source="rep.username", allow_null=True, read_only=True)
    territory_code = serializers.CharField(source="territory.code", allow_null=True, read_only=True)
    family_code = serializers.CharField(source="family.code", allow_null=True, read_only=True)

    class Meta:
        model = Quota
        fields = [
            "id",
            "plan_code",
            "rep_username",
            "territory_code",
            "period_start",
            "measure",
            "family_code",
            "amount",
            "full_amount",
            "updated_at",
        ]
        read_only_fields = fields


class QuotaFilter(UpdatedSinceFilterSet):
    plan_code = filters.CharFilter(field_name="plan__code")
    rep_username = filters.CharFilter(field_name="rep__username")
    territory_code = filters.CharFilter(field_name="territory__code")
    family_code = filters.CharFilter(field_name="family__code")

    class Meta:
        model = Quota
        fields = ["plan_code", "rep_username", "territory_code", "family_code", "measure", "period_start"]


class QuotaViewSet(ResourceViewSet):
    model = Quota
    serializer_class = QuotaSerializer
    read_scope = "quotas:read"
    filterset_class = QuotaFilter
    csv_fields = (
        ("plan_code", "plan__code"),
        ("rep_username", "rep__username"),
        ("territory_code", "territory__code"),
        ("period_start", "period_start"),
        ("measure", "measure"),
        ("family_code", "family__code"),
        ("amount", "amount"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("plan", "rep", "territory", "family")


# --- users ---------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="e-mail address; empty when none is known")
    roles = serializers.SerializerMethodField()
    manager_username = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["username", "email", "first_name", "last_name", "roles", "manager_username", "is_active"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(g.name for g in user.groups.all() if g.name in ROLES)

    def get_manager_username(self, user) -> str | None:
        profile = getattr(user, "profile", None)
        return profile.manager.username if profile is not None and profile.manager else None


class UserFilter(UpdatedSinceFilterSet):
    updated_since = None

    class Meta:
        model = get_user_model()
        fields = ["username", "is_active"]


class UserViewSet(ResourceViewSet):
    """People: everyone for administrators and integrations, a manager's own subtree's reps
    (and themself), a rep only themself."""

    serializer_class = UserSerializer
    read_scope = "users:read"
    filterset_class = UserFilter
    lookup_field = "username"
    csv_fields = (
        ("username", "username"),
        ("email", "email"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("is_active", "is_active"),
    )

    def get_queryset(self):
        user = self.request.user
        visible = selectors.visible_reps(user=user).values("pk")
        people = get_user_model().objects.filter(pk__in=visible) | get_user_model().objects.filter(pk=user.pk)
        if selectors.sees_all_people(user):
            people = get_user_model().objects.all()
        return (
            people.select_related("profile__manager")
            .prefetch_related(Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES)))
            .order_by("id")
        )


# --- operations ----------------------------------------------------------------------------


class RealignmentInput(serializers.Serializer):
    effective_from = serializers.DateField()
    dry_run = serializers.BooleanField(default=True)


REALIGNMENT_RESULT = inline_serializer(
    "RealignmentResult",
    {
        "effective_from": serializers.DateField(),
        "dry_run": serializers.BooleanField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "moved": serializers.ListField(child=serializers.DictField()),
        "unassigned": serializers.ListField(child=serializers.DictField()),
        "conflicts": serializers.ListField(child=serializers.DictField()),
        "territories": serializers.ListField(child=serializers.DictField()),
    },
)


class RealignmentView(APIView):
    """Run the assignment rules over every account from a date (a dry run writes nothing)."""

    permission_classes = [ScopedAccess]
    write_scope = "territories:write"

    @extend_schema(
        request=RealignmentInput,
        responses={200: REALIGNMENT_RESULT, 400: ERROR_BODY, 403: ERROR_BODY},
        summary="Run the assignment rules from an effective date",
        tags=["territory-realignments"],
    )
    def post(self, request):
        data = RealignmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.realignment_run(
            effective_from=data.validated_data["effective_from"],
            dry_run=data.validated_data["dry_run"],
            actor=request.user,
        )
        return Response(result.as_dict())


class QuotaPlanActionInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class QuotaPlanActionView(APIView):
    """``submit`` a draft plan, ``approve`` a submitted one (someone other than the submitter) or
    ``return`` it to draft (with a comment)."""

    permission_classes = [ScopedAccess]
    write_scope = "quotas:write"

    @extend_schema(
        request=QuotaPlanActionInput,
        responses={200: QuotaPlanSerializer, 400: ERROR_BODY, 403: ERROR_BODY, 404: ERROR_BODY, 409: ERROR_BODY},
        summary="Move a quota plan through draft → submitted → approved",
        tags=["quota-plans"],
    )
    def post(self, request, code: str, action: str):
        plan = QuotaPlan.objects.for_user(request.user).filter(code=code).first()
        if plan is None:
            raise ApplicationError(f"No quota plan '{code}'.", code="not_found", status=404)
        data = QuotaPlanActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.quota_plan_transition(
            plan=plan, action=action, actor=request.user, comment=data.validated_data["comment"]
        )
        return Response(QuotaPlanSerializer(plan).data)


ATTAINMENT = inline_serializer(
    "Attainment",
    {
        "owner": serializers.CharField(),
        "owner_kind": serializers.ChoiceField(choices=["rep", "territory"]),
        "measure": serializers.ChoiceField(choices=Quota.Measure.choices),
        "period_start": serializers.DateField(),
        "quota": serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True),
        "actual": serializers.DecimalField(max_digits=18, decimal_places=2),
        "attainment_pct": serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True),
        "ytd_quota": serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True),
        "ytd_actual": serializers.DecimalField(max_digits=18, decimal_places=2),
        "ytd_attainment_pct": serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True),
    },
)


class AttainmentView(APIView):
    """Quota, credited actual and attainment % of a rep or a territory (scoped by role)."""

    permission_classes = [ScopedAccess]
    read_scope = "quotas:read"  # people: the attainment page's roles (QUOTA_READERS)

    @extend_schema(
        parameters=[
            OpenApiParameter("period_start", OpenApiTypes.DATE, description="a month (default: the current one)"),
            OpenApiParameter("rep_username", OpenApiTypes.STR),
            OpenApiParameter("territory_code", OpenApiTypes.STR),
            OpenApiParameter("measure", OpenApiTypes.STR, enum=["revenue", "units", "margin"]),
        ],
        responses={200: ATTAINMENT, 400: ERROR_BODY, 404: ERROR_BODY},
        summary="Attainment of a rep or territory for a month, with year to date",
        tags=["attainment"],
    )
    def get(self, request):
        params = request.query_params
        period = (_date_param(request, "period_start") or timezone.localdate()).replace(day=1)
        if not selectors.MIN_FISCAL_YEAR <= selectors.fiscal_year_of(period) <= selectors.MAX_FISCAL_YEAR:
            raise ApplicationError(
                f"period_start must fall in fiscal years {selectors.MIN_FISCAL_YEAR}–{selectors.MAX_FISCAL_YEAR}.",
                code="invalid_date",
            )
        measure = params.get("measure", "revenue")
        if measure not in ("revenue", "units", "margin"):
            raise ApplicationError(gettext("measure is one of revenue, units, margin."), code="invalid_measure")
        rep, territory = params.get("rep_username"), params.get("territory_code")
        if bool(rep) == bool(territory):
            raise ApplicationError(gettext("Give rep_username or territory_code (exactly one)."), code="invalid_owner")
        kind, owner = ("rep", rep) if rep else ("territory", territory)
        table = selectors.attainment_table(
            user=request.user,
            fiscal_year=selectors.fiscal_year_of(period),
            owner_kind=kind,
            measure=measure,
            owner=owner,
        )
        visible = (
            selectors.visible_reps(user=request.user).filter(username=owner).exists()
            if kind == "rep"
            else Territory.objects.for_user(request.user).filter(code=owner).exists()
        )
        if not visible:
            raise ApplicationError(f"No {kind} '{owner}' you may see.", code="not_found", status=404)
        rows = table.loc[table["period_start"] == period]
        result = {
            "owner": owner,
            "owner_kind": kind,
            "measure": measure,
            "period_start": period,
            "quota": None,
            "actual": "0.00",
            "attainment_pct": None,
            "ytd_quota": None,
            "ytd_actual": "0.00",
            "ytd_attainment_pct": None,
        }
        if len(rows):
            row = rows.iloc[0]
            for name in ("quota", "actual", "attainment_pct", "ytd_quota", "ytd_actual", "ytd_attainment_pct"):
                value = row[name]
                result[name] = None if value is None else f"{value:.2f}"
        return Response(result)


def dedicated_bulk_view(name: str) -> type[APIView]:
    """``POST /api/v1/<name>/bulk`` for a resource written by its own service (the one
    ``bulk_view`` with a dedicated writer)."""
    spec, _ = dedicated_resources()[name]

    def ingest(request, **batch):
        _, write = dedicated_resources(request.user)[name]
        return bulk_ingest(spec=spec, write=write, **batch)

    return bulk_view(
        spec,
        ingest=ingest,
        description=(
            f"{spec.description} Up to 100,000 rows as a JSON array or CSV (`text/csv`); all or nothing, every bad "
            f"row listed; `Idempotency-Key` makes retries safe. Scope `{spec.scope}`."
        ),
    )


def register_routes(router) -> None:
    """The territories app's read resources (``accounts`` is registered in config)."""
    router.register("territories", TerritoryViewSet, basename="territories")
    router.register("territory-assignments", TerritoryAssignmentViewSet, basename="territory-assignments")
    router.register("assignment-rules", AssignmentRuleViewSet, basename="assignment-rules")
    router.register("quota-plans", QuotaPlanViewSet, basename="quota-plans")
    router.register("quotas", QuotaViewSet, basename="quotas")
    router.register("users", UserViewSet, basename="users")


def _api_urlpatterns():
    return [
        path(f"{name}/bulk", dedicated_bulk_view(name).as_view(), name=f"{name}-bulk") for name in dedicated_resources()
    ] + [
        path("territory-realignments/", RealignmentView.as_view(), name="territory-realignments"),
        path("attainment/", AttainmentView.as_view(), name="attainment"),
        re_path(
            r"^quota-plans/(?P<code>[^/]+)/(?P<action>submit|approve|return)$",
            QuotaPlanActionView.as_view(),
            name="quota-plans-action",
        ),
    ]


api_urlpatterns = _api_urlpatterns()
