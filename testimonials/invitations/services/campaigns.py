"""Campaigns: what a brand sends, to which form, when, and how often it reminds; and its sender settings."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.invitations.message import TemplateProblem, template_check
from testimonials.invitations.models import (
    MAX_REMINDERS,
    Campaign,
    SenderProfile,
)
from testimonials.models import Brand
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)


def campaign_validate(campaign: Campaign) -> None:
    """The campaign's own rules, as ValidationError per field (the admin shows them beside the fields)."""
    errors: dict[str, list[str]] = {}
    if campaign.form_id and campaign.brand_id and campaign.form.brand_id != campaign.brand_id:
        errors.setdefault("form", []).append("Choose one of this brand's forms.")
    for name in ("subject", "body"):
        try:
            template_check(getattr(campaign, name) or "")
        except TemplateProblem as problem:
            errors.setdefault(name, []).append(problem.message)
    days = campaign.reminder_days
    if not isinstance(days, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in days):
        errors.setdefault("reminder_days", []).append("Write the reminders as a list of days, like [5, 12].")
    elif len(days) > MAX_REMINDERS:
        errors.setdefault("reminder_days", []).append(f"Remind at most {MAX_REMINDERS} times: more is not polite.")
    elif any(d < 1 or d > 60 for d in days) or days != sorted(set(days)):
        errors.setdefault("reminder_days", []).append("Use increasing days between 1 and 60, like [5, 12].")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_save(*, campaign: Campaign, actor) -> Campaign:
    """Create or change a campaign. Raises PermissionDenied (viewers, outsiders) or ValidationError (bad settings)."""
    if not user_can_edit_brand(actor, campaign.brand):
        raise PermissionDenied("Only the brand's owners and editors can set up invitations.")
    if campaign.created_by_id is None and getattr(actor, "pk", None):
        campaign.created_by = actor
    campaign.full_clean()
    campaign_validate(campaign)
    campaign.save()
    return campaign


def sender_for(brand: Brand) -> SenderProfile:
    """The brand's sender settings, or unsaved defaults (its name, no reply-to, the installation's cap)."""
    return SenderProfile.objects.filter(brand=brand).first() or SenderProfile(brand=brand)
