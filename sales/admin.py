from django.contrib import admin

from sales.models import SalesOrderLine


@admin.register(SalesOrderLine)
class SalesOrderLineAdmin(admin.ModelAdmin):
    list_display = ("external_id", "order_date", "account", "product", "quantity", "net_amount", "status", "territory")
    list_filter = ("status",)
    search_fields = ("external_id",)
    date_hierarchy = "order_date"
    raw_id_fields = ("account", "product", "territory")
    list_select_related = ("account", "product", "territory")
