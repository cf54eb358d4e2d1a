"""Invitations' reads: the funnel per campaign and per brand, campaigns for API callers, the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from testimonials.errors import NotFound
from testimonials.invitations.models import Campaign, Delivery, Recipient, RecipientStatus

Status = RecipientStatus
# The funnel's stages in order. "Sent", "clicked" and "submitted" count everyone who ever got there;
# the others count where recipients are now.
STAGES = ("queued", "sent", "clicked", "submitted", "unsubscribed", "bounced", "failed")


@dataclass
class Funnel:
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))

    def rate(self, stage: str) -> float | None:
        """Share of the stage before: sent of all, clicked and submitted of sent, the rest of sent too."""
        base = self.total if stage in ("queued", "sent") else self.counts["sent"]
        return self.counts[stage] / base if base else None


def _aggregates() -> dict:
    return {
        "total": Count("id"),
        "queued": Count("id", filter=Q(status=Status.QUEUED)),
        "sent": Count("id", filter=Q(first_sent_at__isnull=False)),
        "clicked": Count("id", filter=Q(clicked_at__isnull=False)),
        "submitted": Count("id", filter=Q(submitted_at__isnull=False)),
        "unsubscribed": Count("id", filter=Q(status=Status.UNSUBSCRIBED)),
        "bounced": Count("id", filter=Q(status=Status.BOUNCED)),
        "failed": Count("id", filter=Q(status=Status.FAILED)),
    }


def _funnel(row: dict) -> Funnel:
    return Funnel(total=row.get("total") or 0, counts={stage: row.get(stage) or 0 for stage in STAGES})


def funnel_for_brands(*, brand_ids: list[int] | None) -> Funnel:
    """One funnel over every campaign of these brands (None: every brand), in one query."""
    recipients = Recipient.objects.all() if brand_ids is None else Recipient.objects.filter(brand_id__in=brand_ids)
    return _funnel(recipients.aggregate(**_aggregates()))


def funnel_for_campaign(*, campaign: Campaign) -> Funnel:
    return _funnel(Recipient.objects.filter(campaign=campaign).aggregate(**_aggregates()))


def funnels_by_campaign(*, campaign_ids: list[int]) -> dict[int, Funnel]:
    """Each campaign's funnel, in one grouped query."""
    rows = Recipient.objects.filter(campaign_id__in=campaign_ids).values("campaign_id").annotate(**_aggregates())
    return {row["campaign_id"]: _funnel(row) for row in rows}


def campaign_list_for_brands(*, brand_ids: list[int] | None) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("brand", "form").order_by("-created_at")
    return campaigns if brand_ids is None else campaigns.filter(brand_id__in=brand_ids)


def campaign_get_in_brands(*, brands, public_id: str) -> Campaign:
    """A campaign among these brands (an API caller's), or NotFound: another brand's is as unknown as none."""
    campaign = Campaign.objects.select_related("brand", "form").filter(brand__in=brands, public_id=public_id).first()
    if campaign is None:
        raise NotFound("No campaign with this id.")
    return campaign


def deliveries_by_message_id(*, message_ids: list[str]) -> dict[str, Delivery]:
    """Which delivery (and so which brand) each outbox file belongs to."""
    found = Delivery.objects.select_related("recipient", "brand").filter(message_id__in=message_ids)
    return {d.message_id: d for d in found}
