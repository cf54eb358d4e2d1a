"""Building an invitation for a customer: the brand's sender settings, the signed links, the campaign's
template rendered for them, the envelope for bounces; and the admin's preview."""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse

from testimonials.invitations import message, tokens
from testimonials.invitations.models import (
    Campaign,
    Delivery,
    RecipientStatus,
    SenderProfile,
)
from testimonials.invitations.services import (
    sender_for,
)
from testimonials.models import Brand

log = logging.getLogger(__name__)
State = Delivery.State
Status = RecipientStatus
PREVIEW_CUSTOMER = message.Customer(name="Ada Lovelace", email="ada@example.com", product="", order_id="1042")


def _absolute(path: str) -> str:
    return settings.PUBLIC_URL + path


def sender_info(brand: Brand, profile: SenderProfile | None = None) -> message.Sender:
    profile = profile or SenderProfile(brand=brand)
    logo = brand.logo.url if brand.logo else ""
    return message.Sender(
        brand_name=brand.name,
        from_name=profile.from_name or brand.name,
        from_email=settings.VOUCH_INVITE_FROM,
        reply_to=profile.reply_to,
        accent=brand.accent_color,
        logo_url=_absolute(logo) if logo.startswith("/") else logo,
    )


def _subject_for(campaign: Campaign, step: int) -> str:
    return campaign.subject if step == 0 else f"Reminder: {campaign.subject}"


def envelope_for(delivery: Delivery) -> str:
    """The envelope sender: bounces+<delivery>@domain, so a bounce names its message (VERP)."""
    bounce = settings.VOUCH_INVITE_BOUNCE_ADDRESS
    if not bounce:
        return ""
    local, _, domain = bounce.partition("@")
    return f"{local}+{delivery.public_id}@{domain}"


def compose(delivery: Delivery, sender: message.Sender | None = None) -> message.InvitationEmail:
    """The message for a delivery (recipient, campaign, form and brand loaded)."""
    recipient = delivery.recipient
    campaign, brand = recipient.campaign, recipient.brand
    sender = sender or sender_info(brand, sender_for(brand))
    link = _absolute(reverse("invitation-open", args=[tokens.link_token(recipient.public_id)]))
    unsubscribe = _absolute(reverse("invitation-unsubscribe", args=[tokens.unsubscribe_token(recipient.public_id)]))
    customer = message.Customer(
        name=recipient.name,
        email=recipient.email,
        product=recipient.product,
        order_id=recipient.order_id,
        locale=recipient.locale,
    )
    rendered = message.render(
        subject=_subject_for(campaign, delivery.step),
        body=campaign.body,
        customer=customer,
        sender=sender,
        link=link,
        unsubscribe_url=unsubscribe,
        incentive=campaign.form.incentive,
    )
    return message.build(
        rendered,
        customer=customer,
        sender=sender,
        message_id=delivery.message_id,
        unsubscribe_url=unsubscribe,
        envelope_from=envelope_for(delivery),
        feedback_id=f"{campaign.public_id}:{brand.slug}:invitation:vouch",
        resent=delivery.resent,
    )


def campaign_preview(*, campaign: Campaign, step: int = 0) -> tuple[message.Rendered, message.InvitationEmail]:
    """What a customer would receive, for a sample customer; its links lead nowhere."""
    sender = sender_info(campaign.brand, sender_for(campaign.brand))
    link = _absolute(reverse("invitation-open", args=["preview"]))
    unsubscribe = _absolute(reverse("invitation-unsubscribe", args=["preview"]))
    customer = PREVIEW_CUSTOMER
    rendered = message.render(
        subject=_subject_for(campaign, step),
        body=campaign.body,
        customer=customer,
        sender=sender,
        link=link,
        unsubscribe_url=unsubscribe,
        incentive=campaign.form.incentive,
    )
    email = message.build(
        rendered, customer=customer, sender=sender, message_id=message.new_message_id(), unsubscribe_url=unsubscribe
    )
    email.dkim_key = None  # a preview is never signed: it is never sent
    return rendered, email
