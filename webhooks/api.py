"""API: webhook subscriptions (``POST /api/v1/webhooks/``) and their delivery log."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.resources import ERROR_BODY, ResourceViewSet, UpdatedSinceFilterSet
from webhooks import services
from webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class SubscriptionCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="https endpoint of the ERP")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False)


class SubscriptionCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    secret = serializers.CharField(help_text="the signing secret: shown once, store it now")


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id")
    type = serializers.CharField(source="event.type")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionFilter(UpdatedSinceFilterSet):
    class Meta:
        model = WebhookSubscription
        fields = ["is_active"]


class WebhookSubscriptionViewSet(ResourceViewSet):
    """Subscriptions of the caller (all of them for admins). Scope ``webhooks:write``."""

    model = WebhookSubscription
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    lookup_field = "pk"
    lookup_value_regex = "[0-9]+"
    read_scope = "webhooks:write"
    write_scope = "webhooks:write"
    csv_fields = (("id", "id"), ("url", "url"), ("is_active", "is_active"), ("created_at", "created_at"))

    @extend_schema(
        request=SubscriptionCreateSerializer,
        responses={201: SubscriptionCreatedSerializer, 400: ERROR_BODY, 403: ERROR_BODY},
        summary="Subscribe a URL to events; the answer holds the signing secret, shown once",
    )
    def create(self, request):
        params = SubscriptionCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        subscription, secret = services.subscription_create(
            url=params.validated_data["url"], events=params.validated_data["events"], user=request.user
        )
        return Response(
            {"id": subscription.pk, "url": subscription.url, "events": subscription.events, "secret": secret},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={200: DeliverySerializer(many=True)}, summary="The delivery log of a subscription, newest first"
    )
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request, pk=None):
        subscription = get_object_or_404(self.get_queryset(), pk=pk)
        queryset = WebhookDelivery.objects.filter(subscription=subscription).select_related("event").order_by("id")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
