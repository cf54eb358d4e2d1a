"""Brand scoping for the admin: every list, choice, filter, search and action stays inside the user's brands.

Roles come from Membership, never from Django model permissions: owners do everything (members
included), editors moderate and manage forms, tags and widgets, viewers only look. Superusers see
every brand as owners.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.db.models import Model, QuerySet

from testimonials import errors
from testimonials.models import Brand, Membership
from testimonials.selectors import ALL_ROLES, EDIT_ROLES

OWNER_ROLES = frozenset({Membership.Role.OWNER})


@dataclass
class Roles:
    """The request user's role per brand id, looked up once per request."""

    superuser: bool = False
    by_brand: dict[int, str] = field(default_factory=dict)

    def brand_ids(self, roles: Iterable[str] = ALL_ROLES) -> list[int] | None:
        """Brand ids where the user holds one of `roles`; None means every brand (superuser)."""
        if self.superuser:
            return None
        wanted = set(roles)
        return sorted(brand_id for brand_id, role in self.by_brand.items() if role in wanted)

    def can(self, brand_id: int | None, roles: Iterable[str] = ALL_ROLES) -> bool:
        if self.superuser:
            return True
        return brand_id is not None and self.by_brand.get(brand_id) in set(roles)

    def any(self, roles: Iterable[str] = ALL_ROLES) -> bool:
        return self.superuser or any(role in set(roles) for role in self.by_brand.values())

    @property
    def many_brands(self) -> bool:
        return self.superuser or len(self.by_brand) > 1


def roles_for(request) -> Roles:
    """The request user's roles, cached on the request (the admin asks many times per page)."""
    cached = getattr(request, "_vouch_roles", None)
    if cached is not None:
        return cached
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        roles = Roles()
    elif user.is_superuser:
        roles = Roles(superuser=True)
    else:
        roles = Roles(by_brand=dict(Membership.objects.filter(user=user).values_list("brand_id", "role")))
    request._vouch_roles = roles
    return roles


def scope(queryset: QuerySet, request, *, path: str = "brand", roles: Iterable[str] = ALL_ROLES) -> QuerySet:
    """Limit `queryset` to rows whose brand (reached through `path`) the user holds one of `roles` in."""
    ids = roles_for(request).brand_ids(roles)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{path}__in": ids})


def brand_of(obj: Model, path: str) -> int | None:
    """The brand id of a row, following `path` ("brand", "testimonial__brand", "pk" for a Brand)."""
    if path == "pk":
        return obj.pk
    parts = path.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return getattr(obj, f"{parts[-1]}_id", None)


def _owned_by_brand(model) -> bool:
    return model is not Brand and any(f.name == "brand" and f.is_relation for f in model._meta.get_fields())


class ScopedModelForm(forms.ModelForm):
    """Refuses references to another brand's rows (a form of brand A pointing at a tag of brand B)."""

    def clean(self):
        cleaned = super().clean()
        brand = cleaned.get("brand") or getattr(self.instance, "brand", None)
        if brand is None:
            return cleaned
        for name, value in cleaned.items():
            values = list(value) if isinstance(value, QuerySet | list | tuple) else [value]
            for item in values:
                if isinstance(item, Model) and _owned_by_brand(type(item)) and item.brand_id != brand.pk:
                    self.add_error(name, f"{item} belongs to another brand.")
                    break
        return cleaned


@contextmanager
def service_errors_as_403():
    """A service refusing what the admin's own permissions allowed is a 403, never a 500."""
    try:
        yield
    except errors.PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc


class ReadOnlyMixin:
    """Nothing here is added, changed or deleted through a form: testimonials change through the
    moderation services, media through the pipeline, and the audit trail is append-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BrandScopedAdmin(admin.ModelAdmin):
    """Rows reachable through `brand_path` belong to one brand; outsiders never see them.

    `view_roles` may look, `edit_roles` may add, change and delete.
    """

    brand_path = "brand"
    # Links must be https (models.https_only); a bare "shop.example.com" becomes https:// too.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    view_roles: frozenset[str] = ALL_ROLES
    edit_roles: frozenset[str] = EDIT_ROLES
    form = ScopedModelForm

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request, path=self.brand_path, roles=self.view_roles)

    def _brand_choices(self, request, model) -> QuerySet:
        qs = model._default_manager.all()
        if model is Brand:
            return scope(qs, request, path="pk", roles=self.edit_roles)
        return scope(qs, request, path="brand", roles=self.edit_roles)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.remote_field.model
        if model is Brand or _owned_by_brand(model):
            kwargs["queryset"] = self._brand_choices(request, model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        model = db_field.remote_field.model
        if model is Brand or _owned_by_brand(model):
            kwargs["queryset"] = self._brand_choices(request, model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        # One brand to choose from: it is chosen (a new form or widget belongs to it).
        initial = super().get_changeform_initial_data(request)
        if "brand" not in initial and any(f.name == "brand" for f in self.model._meta.fields):
            ids = roles_for(request).brand_ids(self.edit_roles)
            if ids is None:  # a superuser: every brand, often just the one (make run's demo)
                ids = list(Brand.objects.values_list("id", flat=True)[:2])
            if len(ids) == 1:
                initial["brand"] = ids[0]
        return initial

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete widgets reach here with another admin's request: scope again, whatever the caller.
        queryset = scope(queryset, request, path=self.brand_path, roles=self.view_roles)
        return super().get_search_results(request, queryset, search_term)

    # Permissions: from Membership roles, not Django's model permissions.
    def has_module_permission(self, request):
        return roles_for(request).any(self.view_roles)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return roles_for(request).any(self.view_roles)
        return roles_for(request).can(brand_of(obj, self.brand_path), self.view_roles)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return roles_for(request).any(self.edit_roles)
        return roles_for(request).can(brand_of(obj, self.brand_path), self.edit_roles)

    def has_add_permission(self, request):
        return roles_for(request).any(self.edit_roles)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class ScopedInlineMixin:
    """Inlines follow their parent's brand scope for foreign-key choices."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.remote_field.model
        if model is Brand or _owned_by_brand(model):
            qs = model._default_manager.all()
            kwargs["queryset"] = scope(qs, request, path="pk" if model is Brand else "brand", roles=EDIT_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BrandFilter(admin.SimpleListFilter):
    """Only the user's brands, and only when there is more than one to choose from."""

    title = "brand"
    parameter_name = "brand"
    brand_path = "brand"

    def lookups(self, request, model_admin):
        if not roles_for(request).many_brands:
            return []
        return list(scope(Brand.objects.order_by("name"), request, path="pk").values_list("id", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.brand_path}_id": int(value)})
        return queryset


class ScopedRelatedFilter(admin.SimpleListFilter):
    """A related-model filter whose choices are the user's brands' rows only (tags, forms)."""

    model: type[Model]
    field_path: str
    label_field = "name"

    def lookups(self, request, model_admin):
        qs = scope(self.model._default_manager.select_related("brand"), request)
        many = roles_for(request).many_brands
        labels = ((row, str(getattr(row, self.label_field))) for row in qs)
        return [(str(row.pk), f"{label} ({row.brand})" if many else label) for row, label in labels]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{self.field_path: int(value)})
        return queryset
