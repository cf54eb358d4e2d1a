"""Invitations in the admin, scoped to the user's brands: campaigns with their funnel and a message preview,
CSV uploads (column mapping, progress bar, per-row report), recipients with their history, messages with
"send again" for interrupted ones, the suppression list, the brand's sender settings, the outbox page of
the embedded default, and the funnel on the dashboard. Importing this package registers them all."""

from testimonials.invitations.admin import imports, recipients  # noqa: F401
from testimonials.invitations.admin.campaigns import STATUS_COLOURS, CampaignForm, funnel_chart

__all__ = ["STATUS_COLOURS", "CampaignForm", "funnel_chart"]
