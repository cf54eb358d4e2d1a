"""Sending: what is due goes out once, reminders follow politely and stop, the daily cap and the send rate
hold, temporary SMTP errors are retried and permanent ones fail with the server's reason (a real SMTP
server on loopback), and a send interrupted by a dead worker is never repeated unless a person asks."""

from __future__ import annotations

import email
import email.policy
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from testimonials.invitations import sending
from testimonials.invitations.models import Campaign, Delivery, Recipient, SenderProfile, Suppression
from testimonials.invitations.sending import _take_send_slot, invitations_plan, invitations_send
from testimonials.invitations.services import Customer, recipients_add
from testimonials.invitations.upkeep import delivery_resend, invitations_recover, invitations_tick
from testimonials.models import AuditEvent
from tests.factories import CampaignFactory, RecipientFactory, TestimonialFactory
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db
Status = Recipient.Status
State = Delivery.State


def _add(campaign, *addresses, **extra) -> list[Recipient]:
    with transaction.atomic():
        recipients_add(
            campaign=campaign,
            customers=[Customer(email=a, name=a.split("@")[0].title(), **extra) for a in addresses],
            source="api",
        )
    return list(Recipient.objects.filter(email__in=addresses).order_by("id"))


def _at(when):
    """Run the tick as if it were `when`."""
    return invitations_tick(now=when)


@pytest.fixture
def sink(tmp_path, settings):
    """A real SMTP server in a thread on loopback; Django's SMTP backend points at it."""
    server = SmtpSink.thread(tmp_path / "sink", tempfail={"grey@example.com": 1}, reject=["nobody@example.com"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def test_it_sends_what_is_due_once_and_schedules_the_first_reminder(campaign_a, fake_broker):
    [ada] = _add(campaign_a, "ada@example.com")
    assert invitations_tick()["planned"] == 1
    result = invitations_send()
    assert (result.sent, result.more) == (1, False)
    assert invitations_tick()["planned"] == 0 and invitations_send().sent == 0
    assert len(mail.outbox) == 1
    ada.refresh_from_db()
    delivery = Delivery.objects.get()
    assert ada.status == Status.SENT and ada.messages_sent == 1 and delivery.state == State.SENT
    assert mail.outbox[0].extra_headers["Message-ID"] == delivery.message_id
    assert ada.next_send_at == ada.first_sent_at + timedelta(days=5)
    assert [(e.from_status, e.to_status) for e in ada.history.all()] == [("", "queued"), ("queued", "sent")]
    event = AuditEvent.objects.get(action="invitation.sent")
    assert event.subject == ada.public_id and event.testimonial is None


def test_it_reminds_twice_at_most_after_5_and_12_days_then_stops(campaign_a):
    [ada] = _add(campaign_a, "ada@example.com")
    start = timezone.now()
    _at(start)
    invitations_send()
    assert _at(start + timedelta(days=4, hours=23))["planned"] == 0
    assert _at(start + timedelta(days=5, minutes=1))["planned"] == 1
    invitations_send()
    assert _at(start + timedelta(days=12, minutes=1))["planned"] == 1
    invitations_send()
    assert _at(start + timedelta(days=90))["planned"] == 0
    assert [m.subject for m in mail.outbox] == [
        "Brand A would like to hear about your experience",
        "Reminder: Brand A would like to hear about your experience",
        "Reminder: Brand A would like to hear about your experience",
    ]
    ada.refresh_from_db()
    assert ada.messages_sent == 3 and ada.next_send_at is None
    assert list(Delivery.objects.order_by("step").values_list("step", flat=True)) == [0, 1, 2]


def test_it_sends_no_reminder_to_those_who_answered_unsubscribed_or_bounced(campaign_a, fake_broker):
    ada, bob, cy = _add(campaign_a, "ada@example.com", "bob@example.com", "cy@example.com")
    start = timezone.now()
    _at(start)
    invitations_send()
    TestimonialFactory(brand=campaign_a.brand, source="invite", submission_key=ada.submission_key)
    from testimonials.invitations.services import invitation_bounce, invitation_unsubscribe

    invitation_unsubscribe(recipient=bob)
    invitation_bounce(recipient=cy, reason="5.1.1 User unknown")
    _at(start + timedelta(days=6))
    result = invitations_send()
    assert len(mail.outbox) == 3
    assert result.sent == 0  # ada's reminder was planned before her answer was heard; it is skipped
    ada.refresh_from_db()
    assert ada.status == Status.SUBMITTED
    assert Delivery.objects.filter(state=State.SKIPPED).count() == 1


def test_it_waits_the_chosen_delay_after_the_order_date(brand_a, form_a):
    campaign = CampaignFactory(brand=brand_a, form=form_a, delay_days=7, delay_from=Campaign.DelayFrom.ORDER_DATE)
    today = timezone.localdate()
    [recent] = _add(campaign, "recent@example.com", order_date=today - timedelta(days=2))
    [old] = _add(campaign, "old@example.com", order_date=date(2020, 1, 1))
    [undated] = _add(campaign, "undated@example.com")
    # The order date plus the delay, in the morning (09:00), whatever the hour of the upload.
    assert timezone.localtime(recent.next_send_at).date() == today + timedelta(days=5)
    assert timezone.localtime(recent.next_send_at).hour == 9
    assert old.next_send_at <= timezone.now() + timedelta(seconds=5)  # long past: right away
    assert 6 <= (undated.next_send_at - timezone.now()).total_seconds() / 86400 <= 7  # from the upload


def test_a_paused_campaign_sends_nothing_until_it_resumes(campaign_a):
    _add(campaign_a, "ada@example.com")
    campaign_a.is_active = False
    campaign_a.save()
    assert invitations_tick()["planned"] == 0
    campaign_a.is_active = True
    campaign_a.save()
    assert invitations_tick()["planned"] == 1
    campaign_a.is_active = False
    campaign_a.save()
    assert invitations_send().sent == 0  # planned, then paused: it waits
    assert Delivery.objects.get().state == State.PREPARED


def test_each_brand_has_its_daily_cap_and_the_rest_waits_for_tomorrow(campaign_a, campaign_b, brand_a, settings):
    settings.VOUCH_INVITE_DAILY_CAP = 3
    SenderProfile.objects.create(brand=brand_a, daily_cap=2)
    _add(campaign_a, *[f"a{n}@example.com" for n in range(5)])
    _add(campaign_b, *[f"b{n}@example.com" for n in range(5)])
    now = timezone.now()
    assert _at(now)["planned"] == 5
    by_brand = {b: Delivery.objects.filter(brand_id=b).count() for b in (campaign_a.brand_id, campaign_b.brand_id)}
    assert by_brand == {campaign_a.brand_id: 2, campaign_b.brand_id: 3}
    assert _at(now)["planned"] == 0
    assert _at(now + timedelta(days=1))["planned"] == 4  # brand A: 2 of its 3 waiting; brand B: its last 2


def test_planning_costs_the_same_queries_for_5_or_50_due_invitations(campaign_a, django_assert_num_queries):
    _add(campaign_a, *[f"a{n}@example.com" for n in range(5)])
    # Today's counts, the caps, the due rows, one INSERT, one UPDATE, and the transaction's savepoint pair.
    with django_assert_num_queries(7):
        assert invitations_plan() == 5
    _add(campaign_a, *[f"b{n}@example.com" for n in range(50)])
    with django_assert_num_queries(7):
        assert invitations_plan() == 50


def test_a_temporary_smtp_error_is_retried_with_backoff_and_then_delivered(campaign_a, sink):
    [grey] = _add(campaign_a, "grey@example.com")
    invitations_tick()
    assert invitations_send().deferred == 1
    delivery = Delivery.objects.get()
    assert delivery.state == State.DEFERRED and delivery.smtp_reply.startswith("451 4.7.1")
    assert delivery.retry_at > timezone.now() - timedelta(seconds=1)
    assert invitations_send().sent == 0  # not before its time
    Delivery.objects.update(retry_at=timezone.now())
    assert invitations_send().sent == 1
    delivery.refresh_from_db()
    assert delivery.state == State.SENT and delivery.attempts == 2
    [received] = sink.messages()
    assert received["Message-ID"] == delivery.message_id
    grey.refresh_from_db()
    assert grey.status == Status.SENT


def test_a_permanent_smtp_error_fails_the_recipient_with_the_servers_reason(campaign_a, sink):
    [nobody] = _add(campaign_a, "nobody@example.com")
    invitations_tick()
    assert invitations_send().failed == 1
    nobody.refresh_from_db()
    assert nobody.status == Status.FAILED and nobody.next_send_at is None
    assert nobody.error.startswith("550 5.1.1") and "User unknown" in nobody.error
    assert AuditEvent.objects.filter(action="invitation.failed", subject=nobody.public_id).exists()
    assert sink.messages() == []


def test_it_gives_up_after_the_last_attempt(campaign_a, sink, settings):
    settings.VOUCH_INVITE_MAX_ATTEMPTS = 1
    [grey] = _add(campaign_a, "grey@example.com")
    invitations_tick()
    assert invitations_send().failed == 1
    grey.refresh_from_db()
    assert grey.status == Status.FAILED and "Gave up after 1 attempts" in grey.error


def test_a_server_that_is_down_defers_and_stops_the_batch(campaign_a, settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    _add(campaign_a, "ada@example.com", "bob@example.com")
    invitations_tick()
    result = invitations_send()
    assert (result.deferred, result.more) == (1, True)
    assert sorted(Delivery.objects.values_list("state", flat=True)) == [State.DEFERRED, State.PREPARED]


def test_a_send_interrupted_by_a_dead_worker_is_never_repeated_automatically(campaign_a, settings):
    [ada] = _add(campaign_a, "ada@example.com")
    invitations_tick()
    delivery = Delivery.objects.get()
    # The worker claimed it and died during the SMTP transaction.
    long_ago = timezone.now() - timedelta(seconds=settings.VOUCH_STUCK_AFTER_SECONDS + settings.EMAIL_TIMEOUT + 5)
    Delivery.objects.update(state=State.SENDING, sending_at=long_ago, attempts=1)
    assert invitations_send().sent == 0
    assert invitations_recover() == 1
    assert invitations_recover() == 0
    delivery.refresh_from_db()
    ada.refresh_from_db()
    assert delivery.state == State.INTERRUPTED
    assert ada.status == Status.SENT and ada.next_send_at is not None  # it most likely arrived: reminders follow
    assert "not sent again automatically" in ada.history.last().note
    assert invitations_send().sent == 0 and mail.outbox == []


def test_a_person_may_send_an_interrupted_message_again_and_the_resend_is_detectable(campaign_a, alice):
    _add(campaign_a, "ada@example.com")
    invitations_tick()
    Delivery.objects.update(state=State.INTERRUPTED)
    delivery = Delivery.objects.get()
    delivery_resend(delivery=delivery, actor=alice)
    assert invitations_send().sent == 1
    parsed = email.message_from_bytes(mail.outbox[0].message().as_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == delivery.message_id  # a receiver that has it already can tell
    assert parsed["Resent-Date"] and parsed["Resent-Message-ID"] != delivery.message_id
    delivery.refresh_from_db()
    assert delivery.resent and delivery.state == State.SENT


def test_only_editors_send_again_and_only_interrupted_messages(campaign_a, alice, victor):
    from testimonials.errors import InvalidTransition, PermissionDenied

    _add(campaign_a, "ada@example.com")
    invitations_tick()
    delivery = Delivery.objects.get()
    with pytest.raises(InvalidTransition):
        delivery_resend(delivery=delivery, actor=alice)
    Delivery.objects.update(state=State.INTERRUPTED)
    with pytest.raises(PermissionDenied):
        delivery_resend(delivery=delivery, actor=victor)


def test_a_suppressed_address_is_skipped_even_when_already_planned(campaign_a):
    from testimonials.invitations.services import suppression_add

    _add(campaign_a, "ada@example.com")
    invitations_tick()
    suppression_add(brand_id=campaign_a.brand_id, address="ADA@example.com", reason=Suppression.Reason.MANUAL)
    assert invitations_send().skipped == 1
    assert mail.outbox == []


def test_the_send_rate_is_shared_through_the_cache(monkeypatch):
    from testimonials.collection.abuse import Rate

    slept = []
    monkeypatch.setattr(sending.clock, "time", lambda: 1000.5)
    monkeypatch.setattr(
        sending.clock, "sleep", lambda s: (slept.append(s), monkeypatch.setattr(sending.clock, "time", lambda: 1001.1))
    )
    for _ in range(3):
        _take_send_slot(Rate(3, 1))
    assert slept == []
    _take_send_slot(Rate(3, 1))  # the fourth in the same second waits for the next one
    assert slept == [pytest.approx(0.5)]


def test_one_sender_chain_at_a_time(campaign_a):
    from django.core.cache import cache

    from testimonials.invitations.tasks import SENDER_LOCK, invitations_send_task

    _add(campaign_a, "ada@example.com")
    invitations_tick()
    cache.add(SENDER_LOCK, "another worker", timeout=60)
    assert invitations_send_task() == {"busy": True}
    cache.delete(SENDER_LOCK)
    assert invitations_send_task()["sent"] == 1
    assert cache.get(SENDER_LOCK) is None


def test_the_tick_hands_pending_messages_to_the_sender(campaign_a, fake_broker):
    from testimonials.invitations.tasks import invitations_tick_task

    _add(campaign_a, "ada@example.com")
    assert invitations_tick_task()["planned"] == 1
    assert fake_broker.sent["invitations_send_task"] == [None]


def test_recipients_factory_rows_are_due(campaign_a):
    RecipientFactory(campaign=campaign_a)
    assert invitations_plan() == 1


def test_sending_costs_three_queries_per_message_and_the_rest_per_group(campaign_a, brand_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_send(count: int, prefix: str) -> int:
        _add(campaign_a, *[f"{prefix}{n}@example.com" for n in range(count)])
        invitations_plan()
        with CaptureQueriesContext(connection) as captured:
            assert invitations_send().sent == count
        # Savepoints are the test's transaction showing through (in production: one commit per message).
        return sum(1 for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")))

    # Per message: the claim before its SMTP transaction, "sent" after it, and its recipient's row in the
    # group's bookkeeping transaction; everything else (loads, checks, history, lifecycle) once per group.
    assert queries_to_send(30, "b") - queries_to_send(10, "a") == 3 * 20


def test_a_crash_between_sent_and_its_bookkeeping_is_recorded_once_by_recovery(campaign_a, monkeypatch, settings):
    [ada] = _add(campaign_a, "ada@example.com")
    invitations_plan()

    def dies(ids):
        raise SystemExit("worker killed after the SMTP transaction")

    monkeypatch.setattr(sending, "_record_sent", dies)
    with pytest.raises(SystemExit):
        invitations_send()
    monkeypatch.undo()
    delivery = Delivery.objects.get()
    assert delivery.state == State.SENT and delivery.recorded_at is None and len(mail.outbox) == 1
    ada.refresh_from_db()
    assert ada.status == Status.QUEUED  # not yet recorded
    settings.VOUCH_STUCK_AFTER_SECONDS = -settings.EMAIL_TIMEOUT - 1
    assert invitations_recover() == 1 and invitations_recover() == 0
    ada.refresh_from_db()
    assert ada.status == Status.SENT and ada.next_send_at is not None
    assert AuditEvent.objects.filter(action="invitation.sent").count() == 1
    assert invitations_send().sent == 0 and len(mail.outbox) == 1


def test_resending_an_old_message_leaves_the_reminder_schedule_alone(campaign_a, alice):
    [ada] = _add(campaign_a, "ada@example.com")
    start = timezone.now()
    _at(start)
    invitations_send()
    _at(start + timedelta(days=6))
    invitations_send()
    ada.refresh_from_db()
    scheduled = ada.next_send_at
    first = Delivery.objects.get(step=0)
    Delivery.objects.filter(pk=first.pk).update(state=State.INTERRUPTED)
    delivery_resend(delivery=first, actor=alice)
    assert invitations_send().sent == 1
    ada.refresh_from_db()
    assert ada.next_send_at == scheduled and ada.messages_sent == 2
