from django.contrib import admin

from inventory.models import (
    InventoryLot,
    InventoryPolicy,
    InventorySnapshot,
    Location,
    Product,
    ProductFamily,
)


@admin.register(ProductFamily)
class ProductFamilyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "planner")
    search_fields = ("code", "name")
    raw_id_fields = ("planner",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "family", "unit", "unit_price", "unit_cost", "status")
    list_filter = ("family", "status")
    search_fields = ("sku", "name")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind")
    list_filter = ("kind",)


@admin.register(InventorySnapshot)
class InventorySnapshotAdmin(admin.ModelAdmin):
    list_display = ("product", "location", "as_of", "on_hand", "allocated", "on_order")
    list_filter = ("location",)
    search_fields = ("product__sku",)
    raw_id_fields = ("product",)
    list_select_related = ("product", "location")


@admin.register(InventoryLot)
class InventoryLotAdmin(admin.ModelAdmin):
    list_display = ("external_id", "product", "location", "received_on", "quantity")
    search_fields = ("external_id", "product__sku")
    raw_id_fields = ("product",)
    list_select_related = ("product", "location")


@admin.register(InventoryPolicy)
class InventoryPolicyAdmin(admin.ModelAdmin):
    list_display = ("product", "location", "lead_time_days", "service_level", "safety_stock", "max_build_ahead_periods")
    search_fields = ("product__sku",)
    raw_id_fields = ("product",)
    list_select_related = ("product", "location")
