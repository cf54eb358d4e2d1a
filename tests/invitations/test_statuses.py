"""Each status transition of a recipient, the ones the vocabulary forbids, the subscriber that hears an
invited customer's testimonial arrive, and hard bounces from a DSN."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from testimonials.errors import InvalidTransition
from testimonials.invitations.addresses import address_hash
from testimonials.invitations.models import RECIPIENT_TRANSITIONS, Delivery, Recipient, RecipientStatus, Suppression
from testimonials.invitations.sending import invitations_plan, invitations_send
from testimonials.invitations.services import (
    bounce_ingest,
    invitation_bounce,
    invitation_mark_clicked,
    invitation_unsubscribe,
    invitations_mark_submitted,
    recipient_move,
)
from testimonials.lifecycle.dispatch import lifecycle_dispatch
from testimonials.models import AuditEvent, OutboxEntry
from tests.factories import RecipientFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
Status = RecipientStatus
FINAL = {Status.SUBMITTED, Status.UNSUBSCRIBED, Status.BOUNCED, Status.FAILED}


def _recipient(campaign, status=Status.QUEUED, **extra) -> Recipient:
    return RecipientFactory(
        campaign=campaign, status=status, email="ada@example.com", email_key="ada@example.com", **extra
    )


def test_queued_to_sent_when_the_invitation_leaves(campaign_a):
    ada = _recipient(campaign_a)
    invitations_plan()
    invitations_send()
    ada.refresh_from_db()
    assert ada.status == Status.SENT


def test_sent_to_clicked_on_the_first_opening_only(campaign_a):
    ada = _recipient(campaign_a, Status.SENT)
    assert invitation_mark_clicked(recipient=ada) is True
    assert invitation_mark_clicked(recipient=ada) is False
    ada.refresh_from_db()
    assert ada.status == Status.CLICKED


def _submit_through_link(recipient):
    return TestimonialFactory(
        brand=recipient.brand, source="invite", is_verified=True, submission_key=recipient.submission_key, rating=1
    )


@pytest.mark.parametrize("start", [Status.QUEUED, Status.SENT, Status.CLICKED])
def test_open_invitations_move_to_submitted_and_stop(campaign_a, start):
    ada = _recipient(campaign_a, start)
    item = _submit_through_link(ada)
    assert invitations_mark_submitted(testimonial_ids=[item.id]) == 1
    ada.refresh_from_db()
    assert (ada.status, ada.testimonial, ada.next_send_at) == (Status.SUBMITTED, item, None)
    assert invitations_mark_submitted(testimonial_ids=[item.id]) == 0  # idempotent


def test_an_answer_after_unsubscribing_counts_and_the_status_stays(campaign_a):
    ada = _recipient(campaign_a, Status.UNSUBSCRIBED)
    item = _submit_through_link(ada)
    invitations_mark_submitted(testimonial_ids=[item.id])
    ada.refresh_from_db()
    assert ada.status == Status.UNSUBSCRIBED and ada.submitted_at is not None and ada.testimonial == item


@pytest.mark.parametrize("start", [Status.QUEUED, Status.SENT, Status.CLICKED])
def test_open_invitations_move_to_unsubscribed(campaign_a, start):
    ada = _recipient(campaign_a, start)
    assert invitation_unsubscribe(recipient=ada)
    ada.refresh_from_db()
    assert ada.status == Status.UNSUBSCRIBED and ada.next_send_at is None


@pytest.mark.parametrize("start", [Status.QUEUED, Status.SENT, Status.CLICKED])
def test_open_invitations_move_to_bounced_and_the_address_is_suppressed(campaign_a, start):
    ada = _recipient(campaign_a, start)
    assert invitation_bounce(recipient=ada, reason="5.1.1 user unknown")
    ada.refresh_from_db()
    assert ada.status == Status.BOUNCED and ada.error == "5.1.1 user unknown"
    assert Suppression.objects.get().email_hash == address_hash("ada@example.com")


def test_final_statuses_go_nowhere(campaign_a):
    for status in FINAL:
        ada = _recipient(campaign_a, status)
        for target in Status.values:
            if target != status:
                with pytest.raises(InvalidTransition), transaction.atomic():
                    recipient_move(ada, target, note="")
        ada.delete()


def test_a_bounce_after_the_answer_changes_nothing_but_suppresses(campaign_a):
    ada = _recipient(campaign_a, Status.SUBMITTED)
    assert invitation_bounce(recipient=ada, reason="5.1.1") is False
    ada.refresh_from_db()
    assert ada.status == Status.SUBMITTED and Suppression.objects.exists()


def test_a_move_from_a_stale_read_changes_nothing(campaign_a):
    ada = _recipient(campaign_a, Status.SENT)
    stale = Recipient.objects.get(pk=ada.pk)
    with transaction.atomic():
        assert recipient_move(ada, Status.CLICKED, note="first")
        assert recipient_move(stale, Status.UNSUBSCRIBED, note="second") is False
    ada.refresh_from_db()
    assert ada.status == Status.CLICKED and ada.history.count() == 1


def test_every_status_has_its_transitions_declared():
    assert set(RECIPIENT_TRANSITIONS) == set(Status.values)
    assert all(targets <= set(Status.values) for targets in RECIPIENT_TRANSITIONS.values())


# --------------------------------------------------------------------------- the lifecycle subscriber


def test_the_subscriber_stops_reminders_when_an_invited_customers_testimonial_arrives(campaign_a, fake_broker):
    ada = _recipient(campaign_a, Status.SENT)
    Recipient.objects.filter(pk=ada.pk).update(next_send_at="2099-01-01T00:00:00Z")
    Delivery.objects.create(recipient=ada, brand=ada.brand, step=1, message_id="<r1@x>")
    from testimonials.collection.fields import KnownCustomer
    from testimonials.collection.submission import SubmissionData, testimonial_submit

    known = KnownCustomer(key=ada.submission_key, values={"author_email": ada.email, "author_name": ada.name})
    data = SubmissionData(author_name="Ada", text="It arrived late but works.", rating=3, author_email=ada.email,
                          consent_given=True, known=known)  # fmt: skip
    with transaction.atomic():
        item = testimonial_submit(form=campaign_a.form, data=data)
    entry = OutboxEntry.objects.get(event="received")
    lifecycle_dispatch(entry_ids=[entry.id])
    ada.refresh_from_db()
    assert ada.status == Status.SUBMITTED and ada.next_send_at is None and ada.testimonial == item
    assert Delivery.objects.get().state == Delivery.State.SKIPPED
    assert entry.receipts.filter(subscriber="invitations").exists()
    submitted = AuditEvent.objects.get(action="invitation.submitted")
    assert submitted.testimonial == item
    assert OutboxEntry.objects.get(event="invitation.submitted").data["testimonial_id"] == item.public_id


def test_the_service_refuses_a_changed_locked_email(campaign_a):
    from testimonials.collection.fields import KnownCustomer
    from testimonials.collection.submission import SubmissionData, testimonial_submit
    from testimonials.errors import ApplicationError

    known = KnownCustomer(key="invite:x", values={"author_email": "ada@example.com"})
    data = SubmissionData(author_name="Ada", text="Works well enough for me.", rating=4,
                          author_email="eve@example.com", consent_given=True, known=known)  # fmt: skip
    with pytest.raises(ApplicationError, match="comes from your invitation"):
        testimonial_submit(form=campaign_a.form, data=data)


# --------------------------------------------------------------------------- bounces

DSN = """From: MAILER-DAEMON@mx.example.net
To: bounces+{verp}@vouch.example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.net. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; ada@example.com
Original-Recipient: rfc822;ada@example.com
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 <ada@example.com>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

From: Brand A <invitations@vouch.example.com>
To: ada@example.com
Message-ID: {message_id}
Subject: Brand A would like to hear about your experience

--B--
"""


def _dsn(delivery, *, verp=True, action="failed", status="5.1.1") -> bytes:
    return DSN.format(
        verp=delivery.public_id if verp else "nothing", message_id=delivery.message_id, action=action, status=status
    ).encode()


@pytest.fixture
def sent_to_ada(campaign_a):
    ada = _recipient(campaign_a, Status.SENT)
    return Delivery.objects.create(
        recipient=ada, brand=ada.brand, step=0, message_id="<m1.vouch@vouch.example.com>", state="sent"
    )


@pytest.mark.parametrize("verp", [True, False], ids=["by VERP address", "by Message-ID"])
def test_a_hard_bounce_bounces_its_invitation_and_suppresses_the_address(sent_to_ada, verp):
    [outcome] = bounce_ingest(raw=_dsn(sent_to_ada, verp=verp))
    assert "bounced" in outcome
    ada = Recipient.objects.get()
    assert ada.status == Status.BOUNCED and "5.1.1" in ada.error
    assert Suppression.objects.get().reason == Suppression.Reason.BOUNCED
    assert AuditEvent.objects.filter(action="invitation.bounced").count() == 1


def test_a_delay_or_soft_failure_changes_nothing(sent_to_ada):
    assert bounce_ingest(raw=_dsn(sent_to_ada, action="delayed", status="4.4.1")) == []
    [outcome] = bounce_ingest(raw=_dsn(sent_to_ada, status="4.2.2"))
    assert "temporary" in outcome
    assert Recipient.objects.get().status == Status.SENT and not Suppression.objects.exists()


def test_a_bounce_for_someone_else_changes_nothing(sent_to_ada):
    raw = _dsn(sent_to_ada, verp=False).replace(sent_to_ada.message_id.encode(), b"<other@elsewhere>")
    [outcome] = bounce_ingest(raw=raw)
    assert "no invitation of ours" in outcome
    assert Recipient.objects.get().status == Status.SENT


def test_the_ingest_command_reads_bounce_files(sent_to_ada, tmp_path, capsys):
    path = Path(tmp_path / "bounce.eml")
    path.write_bytes(_dsn(sent_to_ada))
    call_command("invitations_bounces", str(path))
    assert "bounced; address suppressed" in capsys.readouterr().out
    assert Recipient.objects.get().status == Status.BOUNCED
