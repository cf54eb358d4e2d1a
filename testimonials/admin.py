"""The Django admin, scoped per brand: members see and change only their brands' rows."""

from __future__ import annotations

from django.contrib import admin

from testimonials.models import Brand, CollectionForm, Membership, ModerationEvent, Tag, Testimonial, Widget
from testimonials.selectors import EDIT_ROLES, brand_list_for_user


class BrandScopedAdmin(admin.ModelAdmin):
    """Rows reachable through `brand_path` belong to one brand; outsiders never see them."""

    brand_path = "brand"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.brand_path}__in": brand_list_for_user(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "brand" and not request.user.is_superuser:
            kwargs["queryset"] = brand_list_for_user(request.user, roles=EDIT_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and brand_list_for_user(request.user).exists()

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def _can_edit(self, request, obj) -> bool:
        editable = brand_list_for_user(request.user, roles=EDIT_ROLES)
        if obj is None:
            return editable.exists()
        brand = obj
        for part in self.brand_path.split("__"):
            brand = getattr(brand, part)
        return editable.filter(pk=brand.pk).exists()

    def has_change_permission(self, request, obj=None):
        return self._can_edit(request, obj)

    def has_add_permission(self, request):
        return self._can_edit(request, None)

    def has_delete_permission(self, request, obj=None):
        return self._can_edit(request, obj)


@admin.register(Brand)
class BrandAdmin(BrandScopedAdmin):
    brand_path = "pk"
    list_display = ["name", "slug", "auto_approve"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.filter(pk__in=brand_list_for_user(request.user))

    def _can_edit(self, request, obj) -> bool:
        if obj is None:
            return request.user.is_superuser
        return brand_list_for_user(request.user, roles=EDIT_ROLES).filter(pk=obj.pk).exists()


@admin.register(Membership)
class MembershipAdmin(BrandScopedAdmin):
    list_display = ["user", "brand", "role"]


@admin.register(CollectionForm)
class CollectionFormAdmin(BrandScopedAdmin):
    list_display = ["title", "brand", "slug", "is_active"]


@admin.register(Tag)
class TagAdmin(BrandScopedAdmin):
    list_display = ["name", "brand"]


@admin.register(Testimonial)
class TestimonialAdmin(BrandScopedAdmin):
    list_display = ["author_name", "brand", "rating", "state", "sentiment_label", "created_at"]
    list_filter = ["state", "rating"]
    search_fields = ["author_name", "text"]


@admin.register(Widget)
class WidgetAdmin(BrandScopedAdmin):
    list_display = ["name", "brand", "layout", "public_id"]


@admin.register(ModerationEvent)
class ModerationEventAdmin(BrandScopedAdmin):
    brand_path = "testimonial__brand"
    list_display = ["testimonial", "action", "from_state", "to_state", "actor_kind", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False  # the audit trail is append-only

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
