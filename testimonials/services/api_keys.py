"""API keys: created by a brand's owner, shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from testimonials.errors import PermissionDenied
from testimonials.models import ApiKey, Brand, Membership
from testimonials.selectors import brand_role_for_user

KEY_PREFIX = "vk_"


def api_key_hash(raw: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, brand: Brand, actor, name: str) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never shown again."""
    if brand_role_for_user(actor, brand) != Membership.Role.OWNER:
        raise PermissionDenied("Only the brand's owners can create API keys.")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        brand=brand, name=name.strip() or "API key", prefix=prefix, key_hash=api_key_hash(raw), created_by=actor
    )
    return key, raw


def api_key_revoke(*, key: ApiKey, actor) -> ApiKey:
    if brand_role_for_user(actor, key.brand) != Membership.Role.OWNER:
        raise PermissionDenied("Only the brand's owners can revoke API keys.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key for a raw value, if its creator may still work on its brand: an active staff
    user (the workspace's own sign-in rule) who is still a member of the key's brand (or a superuser)."""
    if not raw.startswith(KEY_PREFIX):
        return None
    key = (
        ApiKey.objects.select_related("brand", "created_by")
        .filter(key_hash=api_key_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.created_by.is_staff or brand_role_for_user(key.created_by, key.brand) is None:
        return None
    # At most one write a minute per key: the read path stays a single SELECT.
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(id=key.id).update(last_used_at=now)
    return key
