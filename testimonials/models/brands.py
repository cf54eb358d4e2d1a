"""Tenants and the people in them: brands, memberships with roles, tags, and API keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from testimonials.models.base import HEX_COLOUR, TimeStamped, https_only, valid_origins


class Brand(TimeStamped):
    """The tenant. Everything below belongs to exactly one brand."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    logo = models.ImageField(upload_to="brands/logos/", blank=True)
    accent_color = models.CharField(max_length=7, default="#4f46e5", validators=[HEX_COLOUR])
    website = models.URLField(blank=True, validators=[https_only])
    # Origins (https://shop.example.com) allowed to frame forms and widgets of this brand.
    allowed_domains = models.JSONField(default=list, blank=True, validators=[valid_origins])
    # Moderation policy. There is deliberately no rating-based option (FTC 16 CFR 465).
    auto_approve = models.BooleanField(
        default=False, help_text="Publish testimonials automatically when nothing is flagged."
    )
    blocklist = models.JSONField(default=list, blank=True, help_text="Extra words that hold a testimonial for review.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStamped):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"  # everything, members included
        EDITOR = "editor", "Editor"  # moderate, forms, widgets
        VIEWER = "viewer", "Viewer"  # read only

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="membership_unique_user_brand")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.brand} ({self.role})"


class Tag(TimeStamped):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["brand", "slug"], name="tag_unique_slug_per_brand")]

    def __str__(self) -> str:
        return self.name


class ApiKey(TimeStamped):
    """A secret key for the REST API, scoped to one brand. Only its SHA-256 is stored.

    A key acts on behalf of the member who created it, with that member's current role: when they
    leave the brand, their keys stop working.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="What uses this key, e.g. 'Zapier'.")
    prefix = models.CharField(max_length=12, unique=True, help_text="Shown to recognise a key; not secret.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (vk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
