"""Inviting people to a brand's team, accepting and revoking: owners only invite and revoke."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from testimonials import queue
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.members.models import MemberInvitation
from testimonials.models import Brand, Membership
from testimonials.selectors import brand_role_for_user

SALT = "vouch.members.invitation"
NOT_AN_OWNER = "Only the brand's owners can invite people or revoke invitations."
INVALID_LINK = "This invitation link is not valid any more: it expired, was revoked or was already used."


def _days() -> int:
    return settings.VOUCH_MEMBER_INVITE_DAYS


def member_invitation_token(invitation: MemberInvitation) -> str:
    return signing.dumps({"i": invitation.id, "n": invitation.nonce}, salt=SALT, compress=True)


def member_invitation_url(invitation: MemberInvitation) -> str:
    return f"{settings.PUBLIC_URL}/members/join/{member_invitation_token(invitation)}/"


@transaction.atomic
def member_invite(*, brand: Brand, email: str, role: str, actor) -> MemberInvitation:
    """Invite an address to the brand's team and send it the link (after commit).

    The same answer whether or not an account exists for the address: no account oracle. A new
    invitation to the same address replaces a pending one (its old link stops working).
    """
    if brand_role_for_user(actor, brand) != Membership.Role.OWNER:
        raise PermissionDenied(NOT_AN_OWNER)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError("Enter the e-mail address to invite, like name@example.com.", field="email") from exc
    if role not in Membership.Role.values:
        raise ApplicationError("Choose a role: owner, editor or viewer.", field="role")
    now = timezone.now()
    MemberInvitation.objects.filter(brand=brand, email=email, accepted_at=None, revoked_at=None).update(revoked_at=now)
    invitation = MemberInvitation(
        brand=brand, email=email, role=role, invited_by=actor, expires_at=now + timedelta(days=_days())
    )
    invitation.full_clean()
    invitation.save()
    from testimonials.members.tasks import member_invitation_send_task  # tasks import this module

    queue.send_on_commit(member_invitation_send_task, invitation.id)
    return invitation


def member_invitation_revoke(*, invitation: MemberInvitation, actor) -> MemberInvitation:
    if brand_role_for_user(actor, invitation.brand) != Membership.Role.OWNER:
        raise PermissionDenied(NOT_AN_OWNER)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def member_invitation_read(token: str) -> MemberInvitation:
    """The pending invitation a link names; ApplicationError when forged, expired, revoked or used."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=timedelta(days=_days()))
        invitation = MemberInvitation.objects.select_related("brand").get(id=int(payload["i"]))
    except (signing.BadSignature, MemberInvitation.DoesNotExist, KeyError, TypeError, ValueError) as exc:
        raise ApplicationError(INVALID_LINK) from exc
    if invitation.nonce != payload.get("n") or invitation.status != "pending":
        raise ApplicationError(INVALID_LINK)
    return invitation


@transaction.atomic
def member_invitation_accept(*, token: str, user) -> Membership:
    """The signed-in `user` joins the brand with the invited role; the link is used up."""
    invitation = member_invitation_read(token)
    invitation = MemberInvitation.objects.select_for_update().get(id=invitation.id)
    if invitation.status != "pending":
        raise ApplicationError(INVALID_LINK)
    membership, created = Membership.objects.get_or_create(
        user=user, brand=invitation.brand, defaults={"role": invitation.role}
    )
    if not created and membership.role != invitation.role:
        membership.role = invitation.role
        membership.save(update_fields=["role", "updated_at"])
    if not user.is_staff:  # the workspace signs in staff only; the owner asked them in
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


@transaction.atomic
def member_account_create(*, token: str, password: str):
    """A new account for the invited address (its user name), then the invitation accepted."""
    invitation = member_invitation_read(token)
    users = get_user_model()
    if (
        users.objects.filter(username__iexact=invitation.email).exists()
        or users.objects.filter(email__iexact=invitation.email).exists()
    ):
        # Only the holder of the link (sent to this address) learns this, never the owner.
        raise ApplicationError("An account with this e-mail address exists already: sign in to accept instead.")
    user = users(username=invitation.email, email=invitation.email, is_staff=True)
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save()
    member_invitation_accept(token=token, user=user)
    return user
