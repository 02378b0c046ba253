from django.contrib import admin

from webhooks.models import WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "events", "is_active", "created_by", "created_at")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "subscription", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status",)
    list_select_related = ("event", "subscription")
    raw_id_fields = ("event", "subscription")
