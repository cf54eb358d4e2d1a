"""Reads that carry a rule: tenancy (who sees which brand) and the lists later screens show."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from testimonials.models import Brand, CollectionForm, Membership, Testimonial, Widget

EDIT_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.EDITOR})
ALL_ROLES = frozenset(Membership.Role.values)


def brand_list_for_user(user: AbstractBaseUser | AnonymousUser, *, roles=ALL_ROLES) -> QuerySet[Brand]:
    """The brands a user may see (or act on, with `roles`). Superusers see every brand."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Brand.objects.none()
    if user.is_superuser:
        return Brand.objects.all()
    return Brand.objects.filter(memberships__user=user, memberships__role__in=list(roles)).distinct()


def brand_role_for_user(user, brand: Brand) -> str | None:
    """The user's role in a brand ("owner", "editor", "viewer"), "owner" for superusers, else None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Membership.Role.OWNER
    return Membership.objects.filter(user=user, brand=brand).values_list("role", flat=True).first()


def user_can_edit_brand(user, brand: Brand) -> bool:
    return brand_role_for_user(user, brand) in EDIT_ROLES


def brand_get_for_member(user, *, slug: str, roles=ALL_ROLES) -> Brand:
    """A brand by slug for one of its members; 404 for everyone else, so outsiders learn nothing."""
    return get_object_or_404(brand_list_for_user(user, roles=roles), slug=slug)


def testimonial_get_for_member(user, *, public_id: str, roles=ALL_ROLES) -> Testimonial:
    return get_object_or_404(
        Testimonial.objects.filter(brand__in=brand_list_for_user(user, roles=roles)), public_id=public_id
    )


def widget_get_for_member(user, *, public_id: str, roles=ALL_ROLES) -> Widget:
    return get_object_or_404(
        Widget.objects.filter(brand__in=brand_list_for_user(user, roles=roles)), public_id=public_id
    )


def collection_form_get_public(*, brand_slug: str, form_slug: str) -> CollectionForm:
    """The form a customer opens at /c/<brand>/<form>/: 404 when unknown or switched off."""
    return get_object_or_404(
        CollectionForm.objects.select_related("brand"), brand__slug=brand_slug, slug=form_slug, is_active=True
    )


def testimonial_list_published(*, brand: Brand) -> QuerySet[Testimonial]:
    return Testimonial.objects.filter(brand=brand).published().order_by("-featured", "-created_at")
