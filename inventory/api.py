"""API resources: product families, products, locations, stock snapshots, lots, policies, positions."""

from django.db.models import F
from django_filters import rest_framework as filters
from rest_framework import serializers

from core.api.resources import ResourceViewSet, UpdatedSinceFilterSet
from inventory.models import (
    InventoryLot,
    InventoryPolicy,
    InventorySnapshot,
    Location,
    Product,
    ProductFamily,
)


class ProductFamilySerializer(serializers.ModelSerializer):
    planner_username = serializers.CharField(source="planner.username", allow_null=True, read_only=True, default=None)

    class Meta:
        model = ProductFamily
        fields = ["code", "name", "planner_username", "updated_at"]
        read_only_fields = ["updated_at"]


class ProductSerializer(serializers.ModelSerializer):
    family_code = serializers.CharField(source="family.code")

    class Meta:
        model = Product
        fields = ["sku", "name", "family_code", "unit", "unit_price", "unit_cost", "status", "updated_at"]
        read_only_fields = ["updated_at"]


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["code", "name", "kind", "updated_at"]
        read_only_fields = ["updated_at"]


class ProductFamilyFilter(UpdatedSinceFilterSet):
    class Meta:
        model = ProductFamily
        fields = ["code"]


class ProductFilter(UpdatedSinceFilterSet):
    family_code = filters.CharFilter(field_name="family__code")
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Product
        fields = ["sku", "status", "family_code", "name"]


class LocationFilter(UpdatedSinceFilterSet):
    class Meta:
        model = Location
        fields = ["code", "kind"]


class ProductFamilyViewSet(ResourceViewSet):
    model = ProductFamily
    serializer_class = ProductFamilySerializer
    read_scope = "master:read"
    filterset_class = ProductFamilyFilter
    lookup_field = "code"
    csv_fields = (
        ("code", "code"),
        ("name", "name"),
        ("planner_username", "planner__username"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("planner")


class ProductViewSet(ResourceViewSet):
    model = Product
    serializer_class = ProductSerializer
    read_scope = "master:read"
    filterset_class = ProductFilter
    lookup_field = "sku"
    csv_fields = (
        ("sku", "sku"),
        ("name", "name"),
        ("family_code", "family__code"),
        ("unit", "unit"),
        ("unit_price", "unit_price"),
        ("unit_cost", "unit_cost"),
        ("status", "status"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("family")


class LocationViewSet(ResourceViewSet):
    model = Location
    serializer_class = LocationSerializer
    read_scope = "master:read"
    filterset_class = LocationFilter
    lookup_field = "code"
    csv_fields = (("code", "code"), ("name", "name"), ("kind", "kind"), ("updated_at", "updated_at"))


class InventorySnapshotSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku")
    location_code = serializers.CharField(source="location.code")

    class Meta:
        model = InventorySnapshot
        fields = ["id", "product_sku", "location_code", "as_of", "on_hand", "on_order", "allocated", "updated_at"]
        read_only_fields = fields


class InventoryLotSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku")
    location_code = serializers.CharField(source="location.code")

    class Meta:
        model = InventoryLot
        fields = ["external_id", "product_sku", "location_code", "received_on", "quantity", "updated_at"]
        read_only_fields = fields


class InventoryPolicySerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku")
    location_code = serializers.CharField(source="location.code")

    class Meta:
        model = InventoryPolicy
        fields = [
            "id",
            "product_sku",
            "location_code",
            "lead_time_days",
            "service_level",
            "safety_stock",
            "max_build_ahead_periods",
            "updated_at",
        ]
        read_only_fields = fields


class InventoryPositionSerializer(InventorySnapshotSerializer):
    available = serializers.DecimalField(
        max_digits=17, decimal_places=3, read_only=True, help_text="on hand − allocated"
    )

    class Meta(InventorySnapshotSerializer.Meta):
        fields = [
            "id",
            "product_sku",
            "location_code",
            "as_of",
            "on_hand",
            "allocated",
            "on_order",
            "available",
            "updated_at",
        ]
        read_only_fields = fields


class StockFilter(UpdatedSinceFilterSet):
    product_sku = filters.CharFilter(field_name="product__sku")
    location_code = filters.CharFilter(field_name="location__code")
    family_code = filters.CharFilter(field_name="product__family__code")


class InventorySnapshotFilter(StockFilter):
    as_of_from = filters.DateFilter(field_name="as_of", lookup_expr="gte")
    as_of_to = filters.DateFilter(field_name="as_of", lookup_expr="lte")

    class Meta:
        model = InventorySnapshot
        fields = ["product_sku", "location_code", "family_code", "as_of", "as_of_from", "as_of_to"]


class InventoryLotFilter(StockFilter):
    received_before = filters.DateFilter(field_name="received_on", lookup_expr="lte")

    class Meta:
        model = InventoryLot
        fields = ["external_id", "product_sku", "location_code", "family_code", "received_before"]


class InventoryPolicyFilter(StockFilter):
    class Meta:
        model = InventoryPolicy
        fields = ["product_sku", "location_code", "family_code"]


STOCK_CSV = (("product_sku", "product__sku"), ("location_code", "location__code"))


class InventorySnapshotViewSet(ResourceViewSet):
    model = InventorySnapshot
    serializer_class = InventorySnapshotSerializer
    read_scope = "inventory:read"
    filterset_class = InventorySnapshotFilter
    lookup_field = "pk"
    csv_fields = (
        *STOCK_CSV,
        ("as_of", "as_of"),
        ("on_hand", "on_hand"),
        ("on_order", "on_order"),
        ("allocated", "allocated"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("product", "location")


class InventoryLotViewSet(ResourceViewSet):
    model = InventoryLot
    serializer_class = InventoryLotSerializer
    read_scope = "inventory:read"
    filterset_class = InventoryLotFilter
    lookup_field = "external_id"
    csv_fields = (
        ("external_id", "external_id"),
        *STOCK_CSV,
        ("received_on", "received_on"),
        ("quantity", "quantity"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("product", "location")


class InventoryPolicyViewSet(ResourceViewSet):
    model = InventoryPolicy
    serializer_class = InventoryPolicySerializer
    read_scope = "inventory:read"
    filterset_class = InventoryPolicyFilter
    lookup_field = "pk"
    csv_fields = (
        *STOCK_CSV,
        ("lead_time_days", "lead_time_days"),
        ("service_level", "service_level"),
        ("safety_stock", "safety_stock"),
        ("max_build_ahead_periods", "max_build_ahead_periods"),
        ("updated_at", "updated_at"),
    )

    def get_queryset(self):
        return super().get_queryset().select_related("product", "location")


class InventoryPositionFilter(StockFilter):
    class Meta:
        model = InventorySnapshot
        fields = ["product_sku", "location_code", "family_code"]


class InventoryPositionViewSet(ResourceViewSet):
    """The latest snapshot of each product × location, with the available quantity."""

    model = InventorySnapshot
    serializer_class = InventoryPositionSerializer
    read_scope = "inventory:read"
    filterset_class = InventoryPositionFilter
    lookup_field = "pk"
    csv_fields = (
        *STOCK_CSV,
        ("as_of", "as_of"),
        ("on_hand", "on_hand"),
        ("allocated", "allocated"),
        ("on_order", "on_order"),
        ("available", "available"),
    )

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .latest()
            .select_related("product", "location")
            .annotate(available=F("on_hand") - F("allocated"))
        )
