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

    # Lines come from the ERP (bulk API or upload, each an ``IngestBatch``) and are
    # corrected there; cached sales figures rely on no other path writing them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
