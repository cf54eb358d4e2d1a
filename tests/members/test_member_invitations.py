"""Team invitations: an owner invites an address; the person signs in or sets a password and accepts;
the owner sees pending invitations and can revoke them; nothing reveals whether an account exists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from testimonials.members.models import MemberInvitation
from testimonials.members.services import member_invitation_url, member_invite
from testimonials.members.tasks import member_invitation_send_task
from testimonials.models import Membership
from tests.admin.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/testimonials/memberinvitation/add/"
LIST = "/admin/testimonials/memberinvitation/"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _invite(client, brand, email, role="editor", *, fake_broker, capture):
    with capture(execute=True):
        response = client.post(ADD, {"brand": brand.pk, "email": email, "role": role}, follow=True)
    queued = fake_broker.sent.get("member_invitation_send_task", [])
    while queued:  # the worker's part: send what was queued
        member_invitation_send_task(queued.pop(0))
    return response


def _link(message) -> str:
    return re.search(r"https?://\S+/members/join/\S+/", message.body).group(0).split("://", 1)[1].split("/", 1)[1]


def test_an_invited_person_with_an_account_signs_in_and_accepts(
    alice, brand_a, brand_b, fake_broker, django_capture_on_commit_callbacks
):
    dana = UserFactory(username="dana", email="dana@example.com")
    response = _invite(
        login(alice), brand_a, "Dana@Example.com", fake_broker=fake_broker, capture=django_capture_on_commit_callbacks
    )
    assert "Invitation sent to dana@example.com" in response.content.decode()
    assert not Membership.objects.filter(user=dana).exists()  # not a member until she accepts
    [message] = mail.outbox
    assert message.to == ["dana@example.com"] and "Brand A" in message.subject
    url = "/" + _link(message)
    anonymous = Client().get(url).content.decode()
    assert "Sign in" in anonymous and "Create my account" in anonymous
    dana_client = login(dana)
    assert "Accept and join" in dana_client.get(url).content.decode()
    assert dana_client.post(url, {"action": "accept"}).status_code == 302
    assert Membership.objects.get(user=dana, brand=brand_a).role == "editor"
    assert MemberInvitation.objects.get().status == "accepted"
    assert dana_client.get(url).status_code == 410  # used once


def test_an_invited_person_without_an_account_sets_a_password_and_joins(
    alice, brand_a, fake_broker, django_capture_on_commit_callbacks
):
    _invite(login(alice), brand_a, "new@example.com", "viewer", fake_broker=fake_broker,
            capture=django_capture_on_commit_callbacks)  # fmt: skip
    url = "/" + _link(mail.outbox[0])
    client = Client()
    mismatch = client.post(url, {"action": "create", "password": "long-pass-word-9", "again": "other-pass-9"})
    assert mismatch.status_code == 400 and "differ" in mismatch.content.decode()
    joined = client.post(url, {"action": "create", "password": "long-pass-word-9", "again": "long-pass-word-9"})
    assert joined.status_code == 302
    member = Membership.objects.get(brand=brand_a, user__email="new@example.com")
    assert member.role == "viewer" and member.user.is_staff and member.user.check_password("long-pass-word-9")
    assert client.get("/admin/").status_code == 200  # signed in


def test_the_owner_learns_nothing_about_which_accounts_exist(
    alice, brand_a, fake_broker, django_capture_on_commit_callbacks
):
    UserFactory(username="exists", email="exists@example.com")
    client = login(alice)
    pages = [
        _invite(client, brand_a, email, fake_broker=fake_broker, capture=django_capture_on_commit_callbacks)
        for email in ("exists@example.com", "nobody@example.com")
    ]
    first, second = (page.content.decode().replace(email, "X") for page, email in
                     zip(pages, ("exists@example.com", "nobody@example.com"), strict=True))  # fmt: skip
    assert [p.status_code for p in pages] == [200, 200]
    assert _messages(first) == _messages(second)
    assert len(mail.outbox) == 2  # both addresses get the same kind of e-mail


def _messages(page: str) -> list[str]:
    return [re.sub(r"/\d+/", "/N/", m) for m in re.findall(r'<li class="[^"]*">(.*?)</li>', page)]


def test_the_owner_sees_pending_invitations_and_revokes_one(
    alice, brand_a, fake_broker, django_capture_on_commit_callbacks
):
    client = login(alice)
    _invite(client, brand_a, "eve@example.com", fake_broker=fake_broker, capture=django_capture_on_commit_callbacks)
    invitation = MemberInvitation.objects.get()
    listing = client.get(LIST).content.decode()
    assert "eve@example.com" in listing and "pending" in listing
    client.post(LIST, {"action": "revoke_selected", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    eve = UserFactory(username="eve", email="eve@example.com")
    url = "/" + _link(mail.outbox[0])
    refused = login(eve).post(url, {"action": "accept"})
    assert refused.status_code == 410 and "not valid any more" in refused.content.decode()
    assert not Membership.objects.filter(user=eve).exists()


def test_a_link_expires_and_a_forged_one_is_refused(alice, brand_a, fake_broker, settings):
    invitation = member_invite(brand=brand_a, email="late@example.com", role="editor", actor=alice)
    url = member_invitation_url(invitation).split("://", 1)[1].split("/", 1)[1]
    late = UserFactory(username="late", email="late@example.com")
    MemberInvitation.objects.filter(id=invitation.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert login(late).post("/" + url, {"action": "accept"}).status_code == 410
    assert login(late).post("/members/join/forged-token/", {"action": "accept"}).status_code == 410
    assert not Membership.objects.filter(user=late).exists()


def test_only_owners_invite_and_charlie_gets_nothing_of_brand_a(
    bob, charlie, alice, brand_a, fake_broker, django_capture_on_commit_callbacks
):
    assert login(bob).get(ADD).status_code == 403  # an editor
    member_invite(brand=brand_a, email="x@example.com", role="owner", actor=alice)
    response = login(charlie).post(ADD, {"brand": brand_a.pk, "email": "mole@example.com", "role": "owner"})
    assert response.status_code == 200  # the form refuses brand A: not one of hers
    assert not MemberInvitation.objects.filter(email="mole@example.com").exists()
    assert "x@example.com" not in login(charlie).get(LIST).content.decode()
    invitation = MemberInvitation.objects.get(email="x@example.com")
    assert login(charlie).get(f"{LIST}{invitation.pk}/change/").status_code in (302, 404)
