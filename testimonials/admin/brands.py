"""Brands, members, forms, tags, widgets and the audit trail, each scoped to the user's brands and role."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q

from testimonials.admin.scoping import (
    OWNER_ROLES,
    BrandFilter,
    BrandScopedAdmin,
    ReadOnlyMixin,
    ScopedInlineMixin,
    ScopedModelForm,
    roles_for,
    service_errors_as_403,
)
from testimonials.insights.selectors import topic_choices_for_brand
from testimonials.models import AuditEvent, Brand, CollectionForm, Membership, Tag, Widget, WidgetPick
from testimonials.moderation.language import LANGUAGE_NAMES
from testimonials.services.brands import brand_save, tag_delete, tag_save
from testimonials.services.forms import collection_form_delete, collection_form_save
from testimonials.widgets.services import widget_delete, widget_save


@admin.register(Brand)
class BrandAdmin(BrandScopedAdmin):
    """Members see their brands; owners change them; only superusers create or delete brands."""

    brand_path = "pk"
    edit_roles = OWNER_ROLES
    list_display = ["name", "slug", "auto_approve"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

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
    """Owners add people by username or email: a list of every user would leak other brands' staff."""

    person = forms.CharField(label="Username or email", max_length=150)

    class Meta:
        model = Membership
        fields = ["brand", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["person"].initial = self.instance.user.get_username()
            self.fields["person"].disabled = True

    def clean_person(self):
        if self.instance.pk:
            return self.instance.user
        value = self.cleaned_data["person"].strip()
        users = get_user_model().objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True)
        if len(users) != 1:
            raise forms.ValidationError("No single active user has this username or email.")
        return users[0]

    def clean(self):
        cleaned = super().clean()
        user, brand = cleaned.get("person"), cleaned.get("brand")
        if user and brand and not self.instance.pk and Membership.objects.filter(user=user, brand=brand).exists():
            self.add_error("person", "This person is already a member of this brand.")
        return cleaned

    def save(self, commit=True):
        self.instance.user = self.cleaned_data["person"]
        return super().save(commit)


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


@admin.register(CollectionForm)
class CollectionFormAdmin(BrandScopedAdmin):
    list_display = ["title", "brand", "slug", "is_active"]
    list_filter = [BrandFilter, "is_active"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    def save_model(self, request, obj, form, change):
        with service_errors_as_403():
            collection_form_save(form=obj, actor=request.user, created=not change, changed=form.changed_data)

    def delete_model(self, request, obj):
        with service_errors_as_403():
            collection_form_delete(form=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for form in queryset:
            self.delete_model(request, form)


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


class WidgetPickFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            item = form.cleaned_data.get("testimonial") if hasattr(form, "cleaned_data") else None
            if item is not None and item.brand_id != self.instance.brand_id:
                form.add_error("testimonial", "This testimonial belongs to another brand.")


class WidgetPickInline(ScopedInlineMixin, admin.TabularInline):
    model = WidgetPick
    formset = WidgetPickFormSet
    extra = 0
    autocomplete_fields = ["testimonial"]
    fields = ["testimonial", "position"]

    def has_view_permission(self, request, obj=None):
        return obj is None or roles_for(request).can(obj.brand_id)

    def has_add_permission(self, request, obj=None):
        return obj is None or roles_for(request).can(obj.brand_id, WidgetAdmin.edit_roles)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)


def language_choices(current: str = "") -> list[tuple[str, str]]:
    """Every language the detector names; those Vouch cannot read say so (no sentiment, no topics)."""
    choices = [("", "Any language")]
    for code, name in sorted(LANGUAGE_NAMES.items(), key=lambda pair: pair[1]):
        choices.append((code, name if code == "en" else f"{name} (not scored: no sentiment or topics)"))
    if current and current not in LANGUAGE_NAMES:
        choices.append((current, current))
    return choices


class WidgetForm(ScopedModelForm):
    """Topic and language rules as choices: the topics are the built-in ones and the user's brands' own."""

    filter_topic = forms.ChoiceField(
        required=False,
        label="Topic",
        help_text="Show what people say about one topic (“support”). Testimonials in a language Vouch cannot "
        "read are not scored and have no topics, so a topic rule leaves them out.",
    )
    filter_language = forms.ChoiceField(required=False, label="Language")

    class Meta:
        model = Widget
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        code, brand = cleaned.get("filter_topic"), cleaned.get("brand")
        if code and brand and code not in dict(topic_choices_for_brand(brand_id=brand.pk)):
            self.add_error("filter_topic", "This topic belongs to another brand.")
        return cleaned


@admin.register(Widget)
class WidgetAdmin(BrandScopedAdmin):
    form = WidgetForm
    list_display = ["name", "brand", "layout", "public_id", "published_at"]
    list_filter = [BrandFilter, "layout"]
    search_fields = ["name", "public_id"]
    autocomplete_fields = ["filter_tags", "filter_form"]
    readonly_fields = ["public_id", "published_version", "published_at", "publish_requested_at"]
    inlines = [WidgetPickInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        topics: dict[str, str] = {}
        brand_ids = [obj.brand_id] if obj else (roles_for(request).brand_ids(self.edit_roles) or [])
        if obj is None and roles_for(request).superuser:
            brand_ids = [None]
        for brand_id in brand_ids:
            topics.update(topic_choices_for_brand(brand_id=brand_id))
        current = obj.filter_topic if obj else ""
        if current and current not in topics:
            topics[current] = current.replace("_", " ").capitalize()
        form.base_fields["filter_topic"].choices = [("", "Any topic"), *sorted(topics.items(), key=lambda p: p[1])]
        form.base_fields["filter_language"].choices = language_choices(obj.filter_language if obj else "")
        return form

    def save_model(self, request, obj, form, change):
        # Through the service: it records the change, and the widget is republished after commit,
        # once its picks and tags (saved next, in the same transaction) are in.
        with service_errors_as_403():
            widget_save(widget=obj, actor=request.user, created=not change, changed=form.changed_data)

    def delete_model(self, request, obj):
        # Through the service: its subscriber removes every file the widget published, so old
        # snippets on brands' sites show nothing instead of a stale copy.
        with service_errors_as_403():
            widget_delete(widget=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for widget in queryset:
            widget_delete(widget=widget, actor=request.user)


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
