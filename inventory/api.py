"""API resources: product families, products, locations."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from core.api.resources import ResourceViewSet, UpdatedSinceFilterSet
from inventory.models import Location, Product, ProductFamily


class ProductFamilySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductFamily
        fields = ["code", "name", "updated_at"]
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
    filterset_class = ProductFamilyFilter
    lookup_field = "code"
    csv_fields = (("code", "code"), ("name", "name"), ("updated_at", "updated_at"))


class ProductViewSet(ResourceViewSet):
    model = Product
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    lookup_field = "sku"
    csv_fields = (("sku", "sku"), ("name", "name"), ("family_code", "family__code"), ("unit", "unit"),
                  ("unit_price", "unit_price"), ("unit_cost", "unit_cost"), ("status", "status"),
                  ("updated_at", "updated_at"))

    def get_queryset(self):
        return super().get_queryset().select_related("family")


class LocationViewSet(ResourceViewSet):
    model = Location
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    lookup_field = "code"
    csv_fields = (("code", "code"), ("name", "name"), ("kind", "kind"), ("updated_at", "updated_at"))
