"""API resources: accounts (with the territory owning them on a date)."""

import datetime as dt

from django.db.models import OuterRef, Subquery
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from core.api.resources import ResourceViewSet, UpdatedSinceFilterSet
from core.errors import ApplicationError
from territories.models import Account, AccountAssignment, valid_on


class AccountSerializer(serializers.ModelSerializer):
    territory_code = serializers.CharField(read_only=True, allow_null=True,
                                           help_text="territory owning the account today (or on ?as_of=)")

    class Meta:
        model = Account
        fields = ["external_id", "name", "industry", "country", "region", "state", "city", "postal_code",
                  "territory_code", "updated_at"]
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
    filterset_class = AccountFilter
    lookup_field = "external_id"
    csv_fields = (("external_id", "external_id"), ("name", "name"), ("industry", "industry"),
                  ("country", "country"), ("region", "region"), ("state", "state"), ("city", "city"),
                  ("postal_code", "postal_code"), ("territory_code", "territory_code"), ("updated_at", "updated_at"))

    def as_of(self) -> dt.date:
        raw = self.request.query_params.get("as_of")
        if not raw:
            return dt.date.today()
        try:
            return dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise ApplicationError(f"as_of '{raw}' is not a date (YYYY-MM-DD).", code="invalid_date") from exc

    def get_queryset(self):
        owner = AccountAssignment.objects.filter(valid_on(self.as_of()), account=OuterRef("pk"))
        return super().get_queryset().annotate(
            territory_code=Subquery(owner.order_by("-valid_from").values("territory__code")[:1]))
