"""Webhook endpoints and their delivery log in the admin: owners register endpoints, see the signing
secret, rotate it, switch endpoints on and off, and send a message again from the log."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from testimonials.admin.scoping import OWNER_ROLES, BrandScopedAdmin, ReadOnlyMixin, ScopedModelForm
from testimonials.errors import ApplicationError
from testimonials.webhooks import events, services
from testimonials.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointForm(ScopedModelForm):
    events = forms.MultipleChoiceField(
        choices=events.CHOICES, widget=forms.CheckboxSelectMultiple, help_text="What this endpoint hears about."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["brand", "name", "kind", "url", "events", "is_active"]
        help_texts = {
            "url": "https:// only; a private or local address is refused. For Slack: an incoming-webhook URL.",
            "is_active": "Switched off by Vouch after about 24 hours of failed deliveries; switch it back on here.",
        }

    def clean(self):
        cleaned = super().clean()
        url, kind = cleaned.get("url"), cleaned.get("kind") or WebhookEndpoint.Kind.STANDARD
        if url and ("url" in self.changed_data or "kind" in self.changed_data):
            try:
                cleaned["url"] = services.webhook_url_check(url, kind=kind)
            except ApplicationError as exc:
                self.add_error("url", exc.message)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(BrandScopedAdmin):
    view_roles = OWNER_ROLES
    edit_roles = OWNER_ROLES
    form = EndpointForm
    list_display = ["__str__", "brand", "kind", "url", "is_active", "consecutive_failures", "last_success_at"]
    list_filter = ["is_active", "kind"]
    actions = ["rotate_secret"]
    readonly_fields = ["signing_secret", "disabled_at", "disabled_reason", "last_success_at", "last_failure_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    def get_fields(self, request, obj=None):
        fields = ["brand", "name", "kind", "url", "events", "is_active"]
        return fields + self.readonly_fields if obj else fields

    @admin.display(description="Signing secret")
    def signing_secret(self, endpoint: WebhookEndpoint) -> str:
        """Shown to owners (receivers need it to verify `webhook-signature`), unlike API keys."""
        valid = endpoint.signing_secrets()
        note = " (the second one stops signing after the rotation's overlap)" if len(valid) > 1 else ""
        return format_html("{}{}", format_html_join(" ", "<code>{}</code>", ((s,) for s in valid)), note)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                services.webhook_endpoint_update(
                    endpoint=obj, actor=request.user, url=data["url"], events_=data["events"], name=data["name"],
                    is_active=data["is_active"],
                )  # fmt: skip
            else:
                created = services.webhook_endpoint_create(
                    brand=data["brand"], actor=request.user, url=data["url"], events_=data["events"],
                    name=data["name"], kind=data["kind"],
                )  # fmt: skip
                obj.pk, obj.public_id, obj.secret = created.pk, created.public_id, created.secret
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_model(self, request, obj):
        services.webhook_endpoint_delete(endpoint=obj, actor=request.user)

    @admin.action(description="Rotate the signing secret (the old one keeps signing for 24 hours)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        self.message_user(request, "New secrets made: update your receivers within 24 hours.", messages.SUCCESS)


class AttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "manual", "started_at", "status_code", "latency_ms", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, BrandScopedAdmin):
    """The delivery log: every message, its tries and what the receiver answered."""

    view_roles = OWNER_ROLES
    edit_roles = OWNER_ROLES
    list_display = [
        "event_type", "endpoint", "status", "attempts", "last_status_code", "last_latency_ms", "created_at",
        "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["status", "event_type"]
    search_fields = ["=message_id", "=public_id"]
    show_full_result_count = False
    actions = ["redeliver"]
    inlines = [AttemptInline]
    fields = [
        "endpoint", "event_type", "message_id", "status", "attempts", "next_attempt_at", "last_status_code",
        "last_latency_ms", "last_error", "occurred_at", "created_at", "delivered_at", "payload",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("endpoint", "brand")

    @admin.action(description="Send again (same webhook-id)")
    def redeliver(self, request, queryset):
        sent, refused = 0, []
        for delivery in queryset.select_related("endpoint"):
            try:
                services.webhook_delivery_redeliver(delivery=delivery, actor=request.user)
                sent += 1
            except ApplicationError as exc:
                refused.append(exc.message)
        if sent:
            self.message_user(request, f"{sent} message(s) will be sent again.", messages.SUCCESS)
        for message in sorted(set(refused)):
            self.message_user(request, message, messages.WARNING)
