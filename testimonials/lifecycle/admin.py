"""The outbox in the admin, for the people who run the installation: what is waiting, and why."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from testimonials.admin.scoping import ReadOnlyMixin, roles_for
from testimonials.lifecycle.models import OutboxEntry


class PendingFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for a subscriber"), ("failing", "A subscriber is failing"), ("done", "Delivered")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(dispatched_at__isnull=True)
        if self.value() == "failing":
            return queryset.filter(dispatched_at__isnull=True).exclude(last_error="")
        if self.value() == "done":
            return queryset.filter(dispatched_at__isnull=False)
        return queryset


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Superusers only: every brand's changes on their way to webhooks, widgets and the rest."""

    list_display = ["id", "event", "brand", "public_id", "created_at", "dispatched_at", "attempts", "handled_by"]
    list_filter = [PendingFilter, "event"]
    search_fields = ["=public_id", "last_error"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = [
        "event", "brand", "public_id", "testimonial_id", "widget_id", "actor_kind", "from_state", "to_state", "data",
        "created_at", "dispatched_at", "attempts", "retry_at", "last_error",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand").annotate(receipt_count=Count("receipts"))

    @admin.display(description="Handled by")
    def handled_by(self, obj) -> int:
        return obj.receipt_count

    def has_module_permission(self, request):
        return roles_for(request).superuser

    def has_view_permission(self, request, obj=None):
        return roles_for(request).superuser
