"""API resource: sales order lines (read; writes come through ``POST /api/v1/sales-lines/bulk``)."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from core.api.resources import ResourceViewSet, UpdatedSinceFilterSet
from sales.models import SalesOrderLine


class SalesLineSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id")
    product_sku = serializers.CharField(source="product.sku")
    territory_code = serializers.CharField(
        source="territory.code",
        allow_null=True,
        read_only=True,
        help_text="territory credited: the account's owner on the order date",
    )

    class Meta:
        model = SalesOrderLine
        fields = [
            "external_id",
            "order_date",
            "ship_date",
            "account_external_id",
            "product_sku",
            "quantity",
            "net_amount",
            "status",
            "territory_code",
            "opportunity_external_id",
            "updated_at",
        ]
        read_only_fields = fields


class SalesLineFilter(UpdatedSinceFilterSet):
    order_date_from = filters.DateFilter(field_name="order_date", lookup_expr="gte")
    order_date_to = filters.DateFilter(field_name="order_date", lookup_expr="lte")
    account_external_id = filters.CharFilter(field_name="account__external_id")
    product_sku = filters.CharFilter(field_name="product__sku")
    territory_code = filters.CharFilter(field_name="territory__code")

    class Meta:
        model = SalesOrderLine
        fields = [
            "external_id",
            "status",
            "order_date_from",
            "order_date_to",
            "account_external_id",
            "product_sku",
            "territory_code",
        ]


class SalesLineViewSet(ResourceViewSet):
    model = SalesOrderLine
    serializer_class = SalesLineSerializer
    read_scope = "sales:read"
    filterset_class = SalesLineFilter
    lookup_field = "external_id"
    csv_fields = (
        ("external_id", "external_id"),
        ("order_date", "order_date"),
        ("ship_date", "ship_date"),
        ("account_external_id", "account__external_id"),
        ("product_sku", "product__sku"),
        ("quantity", "quantity"),
        ("net_amount", "net_amount"),
        ("status", "status"),
        ("territory_code", "territory__code"),
        ("opportunity_external_id", "opportunity_external_id"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("account", "product", "territory")
