"""Brands, members, tags and the audit trail, each scoped to the user's brands and role. Forms and
widgets have their builders in collection_forms.py and widgets.py."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from testimonials.admin.inputs import CleanLogoMixin, LinesField, OriginsField
from testimonials.admin.scoping import (
    OWNER_ROLES,
    BrandFilter,
    BrandScopedAdmin,
    ReadOnlyMixin,
    ScopedModelForm,
    roles_for,
    service_errors_as_403,
)
from testimonials.models import AuditEvent, Brand, Membership, Tag
from testimonials.services.brands import brand_save, tag_delete, tag_save

SITES_HELP = (
    "One site per line, as you would type it: shop.example.com, https://www.example.com or "
    "127.0.0.2:8080 for a test page. Each line is stored as the site's origin (the page path is "
    "dropped); a line that is not a site address is refused with the reason. *.example.com allows "
    "every subdomain."
)


class BrandForm(CleanLogoMixin, ScopedModelForm):
    website = forms.URLField(required=False, assume_scheme="https", help_text="Where reviewers' share links lead.")
    allowed_domains = OriginsField(required=False, label="Your sites", help_text=SITES_HELP)
    blocklist = LinesField(
        required=False,
        label="Blocked words",
        help_text="One word or phrase per line: a testimonial using one waits for a person. Never a rating.",
    )

    class Meta:
        model = Brand
        fields = ["name", "slug", "logo", "accent_color", "website", "allowed_domains", "auto_approve", "blocklist"]
        widgets = {"accent_color": forms.TextInput(attrs={"type": "color"})}


@admin.register(Brand)
class BrandAdmin(BrandScopedAdmin):
    """Members see their brands; owners change them; only superusers create or delete brands."""

    brand_path = "pk"
    edit_roles = OWNER_ROLES
    form = BrandForm
    list_display = ["name", "slug", "auto_approve"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        ("Brand look", {"fields": ["name", "slug", "logo", "accent_color", "website"]}),
        ("Where your widgets and forms may appear", {"fields": ["allowed_domains"]}),
        ("Moderation", {"fields": ["auto_approve", "blocklist"]}),
    ]

    def has_add_permission(self, request):
        return roles_for(request).superuser

    def has_delete_permission(self, request, obj=None):
        return roles_for(request).superuser

    def save_model(self, request, obj, form, change):
        # Through the service: it records the change, and the brand's widgets follow (name, colour,
        # logo and allowed domains all show in, or frame, them).
        with service_errors_as_403():
            brand_save(brand=obj, actor=request.user, created=not change, changed=form.changed_data)


class MembershipForm(ScopedModelForm):
    """An existing member's role. People join by invitation only (testimonials/members/): adding any
    user by e-mail told owners which accounts existed and attached people without their consent."""

    person = forms.CharField(label="Username", max_length=150, disabled=True, required=False)

    class Meta:
        model = Membership
        fields = ["brand", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["person"].initial = self.instance.user.get_username()
            self.fields["person"].disabled = True

    def clean_person(self):
        return self.instance.user


@admin.register(Membership)
class MembershipAdmin(BrandScopedAdmin):
    """Only owners see and manage a brand's members."""

    view_roles = OWNER_ROLES
    edit_roles = OWNER_ROLES
    form = MembershipForm
    list_display = ["user", "brand", "role"]
    list_filter = [BrandFilter, "role"]
    fields = ["person", "brand", "role"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "brand")

    def has_add_permission(self, request):
        return False  # invite instead (Team invitations): a person joins by accepting

    def get_readonly_fields(self, request, obj=None):
        return ["brand"]


@admin.register(Tag)
class TagAdmin(BrandScopedAdmin):
    list_display = ["name", "brand", "slug"]
    list_filter = [BrandFilter]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    def save_model(self, request, obj, form, change):
        with service_errors_as_403():
            tag_save(tag=obj, actor=request.user, created=not change, changed=form.changed_data)

    def delete_model(self, request, obj):
        with service_errors_as_403():
            tag_delete(tag=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for tag in queryset:
            self.delete_model(request, tag)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, BrandScopedAdmin):
    """The audit trail of testimonials, forms, tags, widgets and the brand, read-only."""

    list_display = ["created_at", "testimonial", "subject", "action", "from_state", "to_state", "actor_kind", "actor"]
    ordering = ["-id"]  # newest first, on the primary key: the trail grows with every decision
    show_full_result_count = False
    list_filter = [BrandFilter, "action", "actor_kind"]
    search_fields = ["testimonial__author_name", "=subject"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("testimonial", "actor")
