"""API authentication: `Authorization: Bearer vk_...` keys, or a logged-in member's session."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import authentication, exceptions

from testimonials.models import ApiKey, Brand
from testimonials.selectors import ALL_ROLES, brand_list_for_user
from testimonials.services.api_keys import api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Bearer vk_...")
        key = api_key_authenticate(header[1])
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is unknown or was revoked.")
        # The key acts as the member who created it, with their current role.
        return key.created_by, key

    def authenticate_header(self, request):
        return self.keyword


def api_brands(request, *, roles=ALL_ROLES) -> QuerySet[Brand]:
    """The brands this request may reach: the key's one brand, or the session user's brands."""
    brands = brand_list_for_user(request.user, roles=roles)
    if isinstance(request.auth, ApiKey):
        brands = brands.filter(id=request.auth.brand_id)
    return brands
