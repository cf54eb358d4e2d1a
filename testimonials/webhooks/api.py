"""Webhook endpoints and their delivery log through the API (owners only: endpoints hold signing secrets)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from testimonials.api.auth import api_brands
from testimonials.api.pagination import NewestFirst
from testimonials.api.serializers import BrandFilter, StrictInput
from testimonials.api.views import brand_for, id_param
from testimonials.models import Membership
from testimonials.selectors import brand_role_for_user
from testimonials.webhooks import events, services
from testimonials.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENT_CHOICES = [name for name, _ in events.CHOICES]


def _owner_check(request, brand) -> None:
    if brand_role_for_user(request.user, brand) != Membership.Role.OWNER:
        raise PermissionDenied(services.OWNERS_ONLY)


def _endpoint_for(request, public_id: str) -> WebhookEndpoint:
    endpoint = get_object_or_404(
        WebhookEndpoint.objects.select_related("brand"), brand__in=api_brands(request), public_id=public_id
    )
    _owner_check(request, endpoint.brand)
    return endpoint


def _delivery_for(request, endpoint: WebhookEndpoint, public_id: str) -> WebhookDelivery:
    return get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "brand").prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-started_at", "-id"))
        ),
        endpoint=endpoint,
        public_id=public_id,
    )


class EndpointOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    brand = serializers.CharField(source="brand.slug")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "brand", "name", "url", "kind", "events", "is_active", "disabled_at", "disabled_reason",
            "consecutive_failures", "last_success_at", "last_failure_at", "created_at", "updated_at",
        ]  # fmt: skip


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(help_text="Verify signatures with this (whsec_...).")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class SecretOutput(serializers.Serializer):
    secrets = serializers.ListField(
        child=serializers.CharField(),
        help_text="The current secret first; during a rotation the previous one too, until it expires.",
    )
    previous_expires_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Approved testimonials to a CRM",
            value={"url": "https://crm.example.com/hooks/vouch", "events": ["testimonial.approved"], "name": "CRM"},
            request_only=True,
        ),
        OpenApiExample(
            "New testimonials into Slack",
            value={
                "url": "https://hooks.slack.com/services/T000/B000/XXXX",
                "kind": "slack",
                "events": ["testimonial.received"],
                "name": "#reviews",
            },
            request_only=True,
        ),
    ]
)
class EndpointInput(StrictInput):
    brand = serializers.SlugField(required=False, help_text="Needed only when the caller has several brands.")
    url = serializers.CharField(max_length=1000, help_text="https only; a private or local address is refused.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1)
    name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=WebhookEndpoint.Kind.choices, default=WebhookEndpoint.Kind.STANDARD)


class EndpointUpdateInput(StrictInput):
    url = serializers.CharField(max_length=1000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, required=False)
    name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, help_text="true switches a disabled endpoint back on.")


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "manual", "started_at", "status_code", "latency_ms", "response_excerpt", "error"]


class DeliveryOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    webhook_id = serializers.CharField(source="message_id", help_text="The webhook-id header: the same on every try.")
    endpoint = serializers.CharField(source="endpoint.public_id")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "webhook_id", "endpoint", "event_type", "status", "attempts", "next_attempt_at", "last_status_code",
            "last_latency_ms", "last_error", "occurred_at", "created_at", "delivered_at",
        ]  # fmt: skip


class DeliveryDetailOutput(DeliveryOutput):
    payload = serializers.DictField(help_text="The event's data as sent (ids only once the testimonial is erased).")
    attempt_log = AttemptOutput(many=True, read_only=True)

    class Meta(DeliveryOutput.Meta):
        fields = [*DeliveryOutput.Meta.fields, "payload", "attempt_log"]


class DeliveryFilter(StrictInput):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)


ENDPOINT_ID = id_param("public_id", "The endpoint's id.")


class EndpointListApi(generics.ListAPIView):
    serializer_class = EndpointOutput
    pagination_class = NewestFirst

    def get_queryset(self):
        wanted = BrandFilter(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        brand = brand_for(self.request, wanted.validated_data.get("brand"))
        _owner_check(self.request, brand)
        return WebhookEndpoint.objects.filter(brand=brand).select_related("brand")

    @extend_schema(operation_id="webhooks_list", parameters=[BrandFilter], tags=["webhooks"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="webhooks_create",
        request=EndpointInput,
        responses={201: EndpointWithSecretOutput},
        tags=["webhooks"],
        description="Register an endpoint (owners). The answer holds its signing secret; deliveries carry the "
        "Standard Webhooks headers `webhook-id`, `webhook-timestamp` and `webhook-signature`.",
    )
    def post(self, request, *args, **kwargs):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data
        brand = brand_for(request, wanted.get("brand"))
        endpoint = services.webhook_endpoint_create(
            brand=brand,
            actor=request.user,
            url=wanted["url"],
            events_=wanted["events"],
            name=wanted["name"],
            kind=wanted["kind"],
        )
        return Response(EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(APIView):
    @extend_schema(
        operation_id="webhooks_retrieve", parameters=[ENDPOINT_ID], responses=EndpointOutput, tags=["webhooks"]
    )
    def get(self, request, public_id: str):
        return Response(EndpointOutput(_endpoint_for(request, public_id)).data)

    @extend_schema(
        operation_id="webhooks_partial_update",
        parameters=[ENDPOINT_ID],
        request=EndpointUpdateInput,
        responses=EndpointOutput,
        tags=["webhooks"],
    )
    def patch(self, request, public_id: str):
        endpoint = _endpoint_for(request, public_id)
        data = EndpointUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint,
            actor=request.user,
            url=wanted.get("url"),
            events_=wanted.get("events"),
            name=wanted.get("name"),
            is_active=wanted.get("is_active"),
        )
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(operation_id="webhooks_destroy", parameters=[ENDPOINT_ID], responses={204: None}, tags=["webhooks"])
    def delete(self, request, public_id: str):
        services.webhook_endpoint_delete(endpoint=_endpoint_for(request, public_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointSecretApi(APIView):
    @extend_schema(
        operation_id="webhooks_secret_retrieve",
        parameters=[ENDPOINT_ID],
        responses=SecretOutput,
        tags=["webhooks"],
        description="Reveal the signing secret(s) to an owner.",
    )
    def get(self, request, public_id: str):
        endpoint = _endpoint_for(request, public_id)
        valid = services.webhook_endpoint_reveal_secret(endpoint=endpoint, actor=request.user)
        expires = endpoint.previous_secret_expires_at if len(valid) > 1 else None
        return Response(SecretOutput({"secrets": valid, "previous_expires_at": expires}).data)


class EndpointRotateSecretApi(APIView):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        request=None,
        parameters=[ENDPOINT_ID],
        responses=SecretOutput,
        tags=["webhooks"],
        description="A new signing secret. For 24 hours messages carry two signatures (new and previous), so the "
        "receiver can switch without losing any.",
    )
    def post(self, request, public_id: str):
        endpoint = services.webhook_endpoint_rotate_secret(
            endpoint=_endpoint_for(request, public_id), actor=request.user
        )
        valid = endpoint.signing_secrets()
        return Response(
            SecretOutput({"secrets": valid, "previous_expires_at": endpoint.previous_secret_expires_at}).data
        )


class DeliveryListApi(generics.ListAPIView):
    serializer_class = DeliveryOutput
    pagination_class = NewestFirst

    def get_queryset(self):
        endpoint = _endpoint_for(self.request, self.kwargs["public_id"])
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("endpoint")
        wanted = DeliveryFilter(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        if wanted.validated_data.get("status"):
            deliveries = deliveries.filter(status=wanted.validated_data["status"])
        return deliveries

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=[ENDPOINT_ID, DeliveryFilter],
        tags=["webhooks"],
        description="The delivery log, newest first: status, attempts, latency and the receiver's answer.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


DELIVERY_ID = id_param("delivery_id", "The delivery's id.")


class DeliveryDetailApi(APIView):
    @extend_schema(
        operation_id="webhooks_deliveries_retrieve",
        parameters=[ENDPOINT_ID, DELIVERY_ID],
        responses=DeliveryDetailOutput,
        tags=["webhooks"],
    )
    def get(self, request, public_id: str, delivery_id: str):
        delivery = _delivery_for(request, _endpoint_for(request, public_id), delivery_id)
        return Response(DeliveryDetailOutput(delivery).data)


class DeliveryRedeliverApi(APIView):
    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        request=None,
        parameters=[ENDPOINT_ID, DELIVERY_ID],
        responses={202: DeliveryOutput},
        tags=["webhooks"],
        description="Send it again now, with the same webhook-id (receivers drop what they already have) and a "
        "fresh retry schedule.",
    )
    def post(self, request, public_id: str, delivery_id: str):
        delivery = _delivery_for(request, _endpoint_for(request, public_id), delivery_id)
        delivery = services.webhook_delivery_redeliver(delivery=delivery, actor=request.user)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
