"""The invitation link: signed, single-use, expiring, unforgeable. It opens the campaign's form with the name
and email prefilled and the email locked, marks the testimonial as an invitation's (verified), records the
first click, refuses reuse politely; and the unsubscribe link: a GET only asks, a POST unsubscribes at once."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.urls import reverse

from testimonials.invitations import tokens
from testimonials.invitations.addresses import address_hash
from testimonials.invitations.models import Recipient, RecipientEvent, Suppression
from testimonials.models import AuditEvent, Testimonial
from tests.collection.collect_support import _fresh_rate_limits, aged_token  # noqa: F401
from tests.factories import RecipientFactory

pytestmark = pytest.mark.django_db
Status = Recipient.Status


@pytest.fixture
def invited(campaign_a):
    return RecipientFactory(
        campaign=campaign_a,
        name="Ada Lovelace",
        email="Ada@Example.com",
        email_key="ada@example.com",
        status=Status.SENT,
    )


def _link(recipient) -> str:
    return reverse("invitation-open", args=[tokens.link_token(recipient.public_id)])


def _post(client, recipient, form, **overrides):
    data = {
        "token": aged_token(form),
        "rating": "2",
        "text": "Slow delivery, but the beans were good in the end.",
        "author_name": "Ada L.",
        "author_email": "ada@example.com",
        "consent_given": "on",
        **overrides,
    }
    return client.post(_link(recipient), data)


def test_it_opens_the_form_with_name_and_email_prefilled_and_the_email_locked(client, invited, form_a):
    response = client.get(_link(invited))
    html = response.content.decode()
    assert response.status_code == 200
    assert form_a.title in html
    assert 'value="Ada Lovelace"' in html
    assert 'value="Ada@Example.com"' in html
    assert 'name="author_email"' in html and "disabled" in html.split('name="author_email"')[1].split(">")[0]
    assert response.cookies == {}
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_it_records_the_first_click_once(client, invited):
    client.get(_link(invited))
    client.get(_link(invited))
    invited.refresh_from_db()
    assert invited.status == Status.CLICKED and invited.clicked_at is not None
    assert AuditEvent.objects.filter(action="invitation.clicked", subject=invited.public_id).count() == 1
    assert RecipientEvent.objects.filter(recipient=invited, to_status=Status.CLICKED).count() == 1


def test_a_submission_is_marked_as_an_invitations_and_verified_with_the_invited_email(
    client, invited, form_a, fake_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, invited, form_a, author_email="someone-else@example.com")
    assert response.status_code == 303
    item = Testimonial.objects.get()
    assert item.source == Testimonial.Source.INVITE and item.is_verified
    assert item.author_email == "Ada@Example.com"  # the locked value, whatever was posted
    assert item.author_name == "Ada L."  # a prefilled name may be changed
    assert item.rating == 2  # a low rating goes through the same pipeline as any other
    assert item.submission_key == invited.submission_key
    invited.refresh_from_db()
    assert invited.status == Status.SUBMITTED and invited.testimonial == item  # the subscriber, after commit
    assert invited.next_send_at is None  # no reminder
    event = AuditEvent.objects.get(action="invitation.submitted")
    assert event.testimonial == item and event.subject == invited.public_id


def test_a_form_that_does_not_ask_for_email_still_shows_and_keeps_the_locked_address(
    client, invited, form_a, fake_broker
):
    form_a.email_mode = "off"
    form_a.save()
    assert 'name="author_email"' in client.get(_link(invited)).content.decode()
    assert _post(client, invited, form_a).status_code == 303
    assert Testimonial.objects.get().author_email == "Ada@Example.com"


def test_a_second_use_of_the_link_is_refused_politely(client, invited, form_a, fake_broker):
    _post(client, invited, form_a)
    response = client.get(_link(invited))
    assert response.status_code == 410
    assert "already sent your testimonial" in response.content.decode()
    assert Testimonial.objects.count() == 1


def test_a_double_submit_stores_one_testimonial(client, invited, form_a, fake_broker):
    first = _post(client, invited, form_a)
    _post(client, invited, form_a, text="A second, different text sent a moment later.")
    assert first.status_code == 303
    assert Testimonial.objects.count() == 1


def test_it_refuses_a_forged_link(client, invited):
    forged = signing.dumps({"r": invited.public_id}, salt="another-salt", compress=False)
    for token in (forged, "nonsense", tokens.link_token(invited.public_id)[:-2] + "xx"):
        response = client.get(reverse("invitation-open", args=[token]))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    invited.refresh_from_db()
    assert invited.clicked_at is None


def test_it_refuses_an_unsubscribe_token_as_an_invitation_link(client, invited):
    response = client.get(reverse("invitation-open", args=[tokens.unsubscribe_token(invited.public_id)]))
    assert response.status_code == 400


def test_it_refuses_an_expired_link_naming_the_brand(client, invited, settings, monkeypatch):
    token = tokens.link_token(invited.public_id)
    later = time.time() + (settings.VOUCH_INVITE_LINK_DAYS + 1) * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(reverse("invitation-open", args=[token]))
    assert response.status_code == 410
    assert "expired" in response.content.decode() and "Brand A" in response.content.decode()


def test_a_post_with_an_expired_link_stores_nothing(client, invited, form_a, settings, monkeypatch, fake_broker):
    token = tokens.link_token(invited.public_id)
    data = {"token": aged_token(form_a), "rating": "5", "text": "Lovely beans, quick delivery.", "author_name": "Ada",
            "consent_given": "on"}  # fmt: skip
    later = time.time() + (settings.VOUCH_INVITE_LINK_DAYS + 1) * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.post(reverse("invitation-open", args=[token]), data).status_code == 410
    assert not Testimonial.objects.exists()


def test_an_erased_recipients_link_is_no_longer_valid(client, invited):
    token = tokens.link_token(invited.public_id)
    invited.delete()
    assert client.get(reverse("invitation-open", args=[token])).status_code == 410


def test_a_plain_form_submission_is_never_verified(client, form_a, fake_broker):
    from tests.collection.collect_support import form_url, valid_post

    assert client.post(form_url(form_a), valid_post(form_a, source="invite", is_verified="on")).status_code == 303
    item = Testimonial.objects.get()
    assert item.source == Testimonial.Source.FORM and not item.is_verified


def test_charlie_cannot_reach_brand_as_invitations_through_his_own_forms_page(client, invited, form_b, fake_broker):
    # The token names brand A's recipient; brand B's form page knows nothing of it.
    from tests.collection.collect_support import form_url, valid_post

    client.post(form_url(form_b), valid_post(form_b, token=aged_token(form_b)))
    assert not Testimonial.objects.filter(is_verified=True).exists()
    invited.refresh_from_db()
    assert invited.status == Status.SENT


# --------------------------------------------------------------------------- unsubscribe


def _unsubscribe_url(recipient) -> str:
    return reverse("invitation-unsubscribe", args=[tokens.unsubscribe_token(recipient.public_id)])


def test_a_get_only_asks_because_link_scanners_follow_gets(client, invited):
    response = client.get(_unsubscribe_url(invited))
    assert response.status_code == 200
    assert "Stop invitations from Brand A?" in response.content.decode()
    invited.refresh_from_db()
    assert invited.status == Status.SENT and not Suppression.objects.exists()


def test_a_one_click_post_unsubscribes_at_once_and_suppresses_only_a_hash(client, invited):
    response = client.post(_unsubscribe_url(invited), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert response.cookies == {}
    invited.refresh_from_db()
    assert invited.status == Status.UNSUBSCRIBED and invited.next_send_at is None
    [entry] = Suppression.objects.all()
    assert entry.email_hash == address_hash("ada@example.com") and "ada" not in entry.email_hash
    assert AuditEvent.objects.filter(action="invitation.unsubscribed").count() == 1
    client.post(_unsubscribe_url(invited), {"List-Unsubscribe": "One-Click"})  # idempotent
    assert Suppression.objects.count() == 1
    assert AuditEvent.objects.filter(action="invitation.unsubscribed").count() == 1


def test_the_confirmation_pages_button_unsubscribes_too(client, invited):
    assert client.post(_unsubscribe_url(invited)).status_code == 200
    invited.refresh_from_db()
    assert invited.status == Status.UNSUBSCRIBED
    assert "confirmation page" in invited.history.last().note


def test_unsubscribing_stops_every_campaign_of_the_brand_to_that_address_but_not_other_brands(
    client, invited, campaign_b
):
    from tests.factories import CampaignFactory

    other = RecipientFactory(campaign=CampaignFactory(brand=invited.brand), email="ada@example.com")
    elsewhere = RecipientFactory(campaign=campaign_b, email="ada@example.com")
    client.post(_unsubscribe_url(invited), {"List-Unsubscribe": "One-Click"})
    other.refresh_from_db()
    elsewhere.refresh_from_db()
    assert other.status == Status.UNSUBSCRIBED
    assert elsewhere.status == Status.QUEUED


def test_it_refuses_a_forged_unsubscribe_link(client, invited):
    assert client.post(reverse("invitation-unsubscribe", args=["forged:token"])).status_code == 400
    invited.refresh_from_db()
    assert invited.status == Status.SENT


def test_an_erased_customers_unsubscribe_link_still_answers(client, invited):
    url = _unsubscribe_url(invited)
    invited.delete()
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "unsubscribed" in response.content.decode()
