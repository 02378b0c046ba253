from django.contrib import admin

from inventory.models import Location, Product, ProductFamily


@admin.register(ProductFamily)
class ProductFamilyAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "family", "unit", "unit_price", "unit_cost", "status")
    list_filter = ("family", "status")
    search_fields = ("sku", "name")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind")
    list_filter = ("kind",)
