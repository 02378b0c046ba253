from django.contrib import admin

from territories.models import Account, AccountAssignment, Territory, TerritoryAssignment


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "manager", "path")
    search_fields = ("code", "name")
    list_filter = ("level",)
    raw_id_fields = ("manager",)


@admin.register(TerritoryAssignment)
class TerritoryAssignmentAdmin(admin.ModelAdmin):
    list_display = ("territory", "rep", "role", "share", "valid_from", "valid_to")
    list_filter = ("role",)
    raw_id_fields = ("rep", "territory")


class AccountAssignmentInline(admin.TabularInline):
    model = AccountAssignment
    extra = 0
    raw_id_fields = ("territory",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "industry", "country", "region", "city", "postal_code")
    list_filter = ("industry", "country", "region")
    search_fields = ("external_id", "name", "city", "postal_code")
    inlines = [AccountAssignmentInline]
