"""Recipients with their history and messages ("send again" for interrupted ones), and the suppression list."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from testimonials.admin.scoping import (
    BrandFilter,
    BrandScopedAdmin,
    ReadOnlyMixin,
    ScopedModelForm,
    roles_for,
    scope,
    service_errors_as_403,
)
from testimonials.invitations.addresses import address_hash
from testimonials.invitations.admin.campaigns import CSS, CampaignFilter, status_badge
from testimonials.invitations.models import (
    Delivery,
    Recipient,
    RecipientEvent,
    Suppression,
)
from testimonials.invitations.services import invitation_unsubscribe, suppression_add
from testimonials.invitations.upkeep import delivery_resend
from testimonials.models import Brand
from testimonials.privacy.services import customer_erase
from testimonials.selectors import EDIT_ROLES


class RecipientEventInline(ReadOnlyMixin, admin.TabularInline):
    model = RecipientEvent
    fields = ["at", "from_status", "to_status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "History"

    def has_view_permission(self, request, obj=None):
        return True


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = Delivery
    fields = ["step", "state", "message_id", "planned_at", "sent_at", "attempts", "smtp_reply", "resent"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Messages"

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyMixin, BrandScopedAdmin):
    list_display = [
        "name",
        "email",
        "campaign",
        "status_col",
        "messages_sent",
        "first_sent_at",
        "clicked_at",
        "submitted_at",
    ]
    list_filter = [CampaignFilter, BrandFilter, "status", "source"]
    search_fields = ["name", "email", "order_id", "=public_id"]
    show_full_result_count = False
    fields = [
        "campaign", "name", "email", "order_id", "order_date", "product", "locale", "status_col", "next_send_at",
        "messages_sent", "first_sent_at", "clicked_at", "submitted_at", "testimonial_col", "error", "source",
        "row_number", "public_id", "created_at",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [RecipientEventInline, DeliveryInline]
    actions = ["unsubscribe_selected", "erase_selected"]

    class Media:
        css = CSS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign", "testimonial")

    @admin.display(description="Status", ordering="status")
    def status_col(self, obj):
        return status_badge(obj.status)

    @admin.display(description="Testimonial")
    def testimonial_col(self, obj):
        if obj.testimonial_id is None:
            return "-"
        url = reverse("admin:testimonials_testimonial_change", args=[obj.testimonial_id])
        return format_html('<a href="{}">{}</a>', url, obj.testimonial.public_id)

    def _editable(self, request, queryset):
        allowed = [r for r in queryset if roles_for(request).can(r.brand_id, EDIT_ROLES)]
        if len(allowed) != len(queryset):
            raise PermissionDenied
        return allowed

    @admin.action(description="Unsubscribe selected customers (no more invitations from this brand)")
    def unsubscribe_selected(self, request, queryset):
        for recipient in self._editable(request, queryset):
            invitation_unsubscribe(recipient=recipient, how=f"by {request.user}")
        self.message_user(request, "Unsubscribed: their addresses are on the suppression list.", messages.SUCCESS)

    @admin.action(description="Erase selected customers everywhere (GDPR: invitations and testimonials)")
    def erase_selected(self, request, queryset):
        people = {(r.brand_id, r.email_key) for r in self._editable(request, queryset)}
        brands = Brand.objects.in_bulk({brand_id for brand_id, _ in people})
        for brand_id, email in sorted(people):
            with service_errors_as_403():
                customer_erase(brand=brands[brand_id], email=email, actor=request.user)
        self.message_user(
            request,
            f"Erased {len(people)} customer(s) everywhere; only a hash stays on the suppression list.",
            messages.SUCCESS,
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, BrandScopedAdmin):
    list_display = ["message_id", "recipient", "step", "state", "attempts", "planned_at", "sent_at", "smtp_reply"]
    list_filter = [BrandFilter, "state", "step"]
    search_fields = ["=message_id", "recipient__email"]
    show_full_result_count = False
    actions = ["resend_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient")

    @admin.action(description="Send interrupted messages again (same Message-ID, marked as resent)")
    def resend_selected(self, request, queryset):
        sent = 0
        for delivery in queryset.filter(state=Delivery.State.INTERRUPTED):
            with service_errors_as_403():
                delivery_resend(delivery=delivery, actor=request.user)
            sent += 1
        self.message_user(request, f"{sent} message(s) will be sent again.", messages.SUCCESS)


# --------------------------------------------------------------------------- suppression list


class SuppressionForm(ScopedModelForm):
    email = forms.EmailField(help_text="Only a hash of the address is stored.")

    class Meta:
        model = Suppression
        fields = ["brand"]


@admin.register(Suppression)
class SuppressionAdmin(BrandScopedAdmin):
    """The addresses a brand never writes to again. Hashes only; searching hashes the address typed."""

    form = SuppressionForm
    list_display = ["hash_col", "brand", "reason", "created_at"]
    list_filter = [BrandFilter, "reason"]
    search_fields = ["email_hash"]
    search_help_text = "Type a full email address to see whether it is suppressed."

    @admin.display(description="Address (hashed)")
    def hash_col(self, obj):
        return f"{obj.email_hash[:16]}…"

    def get_search_results(self, request, queryset, search_term):
        queryset = scope(queryset, request)
        if not search_term:
            return queryset, False
        return queryset.filter(email_hash=address_hash(search_term)), False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Only what a person added by hand may be removed: an unsubscribe, a bounce or an erasure stands.
        if obj is not None and obj.reason != Suppression.Reason.MANUAL:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if not roles_for(request).can(form.cleaned_data["brand"].pk, EDIT_ROLES):
            raise PermissionDenied
        suppression_add(brand_id=form.cleaned_data["brand"].pk, address=form.cleaned_data["email"], reason="manual")
        found = Suppression.objects.get(
            brand=form.cleaned_data["brand"], email_hash=address_hash(form.cleaned_data["email"])
        )
        obj.pk, obj.email_hash, obj.reason, obj.created_at = found.pk, found.email_hash, found.reason, found.created_at
