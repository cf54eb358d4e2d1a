"""Sending a team invitation by e-mail, through the configured mail backend (EMAIL_URL)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage

from testimonials.members.models import MemberInvitation
from testimonials.members.services import member_invitation_url


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def member_invitation_send_task(invitation_id: int) -> str:
    """Send the link of a pending invitation; a used, revoked or expired one is not sent."""
    invitation = MemberInvitation.objects.select_related("brand", "invited_by").filter(id=invitation_id).first()
    if invitation is None or invitation.status != "pending":
        return "skipped"
    who = invitation.invited_by.get_username() if invitation.invited_by else "An owner"
    days = settings.VOUCH_MEMBER_INVITE_DAYS
    body = (
        f"{who} invites you to work on {invitation.brand.name} in Vouch, "
        f"as {invitation.get_role_display().lower()}.\n\n"
        f"Accept here (the link works for {days} days, once):\n{member_invitation_url(invitation)}\n\n"
        "If you did not expect this, ignore this message: nothing happens unless you accept."
    )
    EmailMessage(
        subject=f"Join {invitation.brand.name} on Vouch",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    ).send(fail_silently=False)
    return "sent"
