"""Invitations to join a brand's team (not customers' invitations: those are in invitations/)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from testimonials.models.base import TimeStamped
from testimonials.models.brands import Brand, Membership


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class MemberInvitation(TimeStamped):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="member_invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.EDITOR)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Part of the signed link: a new invitation (or a revoked one) makes older links worthless.
    nonce = models.CharField(max_length=32, default=new_nonce, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["brand", "email"], name="member_invitation_email_idx")]

    def __str__(self) -> str:
        return f"{self.email} to {self.brand} ({self.role})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
