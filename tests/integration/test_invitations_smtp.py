"""Invitations through real Celery workers into a real SMTP server (aiosmtpd in its own process on loopback),
with PostgreSQL and Redis: the headers a customer's provider sees, a DKIM signature that verifies, the
one-click unsubscribe POST, 4xx retried and 5xx failed, and a worker killed mid-batch sending nothing twice."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path

import dkim
import pytest
from django.db import transaction
from django.utils import timezone

from testimonials import queue
from testimonials.invitations.models import Delivery, Recipient, SenderProfile
from testimonials.invitations.sending import invitations_plan, invitations_send
from testimonials.invitations.services import Customer, recipients_add
from testimonials.invitations.tasks import invitations_tick_task
from tests.factories import BrandFactory, CampaignFactory, CollectionFormFactory
from tests.integration.support import pool_children
from tests.smtp_sink import SmtpSink, raw_received
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
KEY = Path(__file__).resolve().parent.parent / "data" / "dkim-test-key.pem"
State = Delivery.State


@pytest.fixture
def campaign():
    brand = BrandFactory(name="Demo Coffee Co.", slug="invite-shop", accent_color="#b45309")
    SenderProfile.objects.create(brand=brand, from_name="Demo Coffee", reply_to="hello@coffee.example.com")
    form = CollectionFormFactory(brand=brand, slug="feedback", title="How was your coffee?")
    return CampaignFactory(brand=brand, form=form, name="Spring", reminder_days=[5, 12])


def _invite(campaign, addresses) -> None:
    with transaction.atomic():
        recipients_add(
            campaign=campaign,
            customers=[Customer(email=a, name=a.split("@")[0].title(), product="Espresso beans") for a in addresses],
            source="api",
        )


def _worker_env(sink: SmtpSink, **extra) -> dict:
    return {
        "EMAIL_URL": sink.url,
        "EMAIL_TIMEOUT": "3",
        "VOUCH_INVITE_SEND_RATE": "off",
        "VOUCH_INVITE_EVERY_SECONDS": "0.5",
        "VOUCH_INVITE_FROM": "invitations@vouch.example.com",
        **extra,
    }


def _public_key_record() -> bytes:
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(KEY), "-pubout", "-outform", "DER"], capture_output=True, check=True
    ).stdout
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def test_messages_arrive_with_the_right_headers_and_the_one_click_post_works(campaign, tmp_path, live_server):
    sink = SmtpSink.process(tmp_path / "sink")
    _invite(campaign, ["ada@example.com", "grace@example.com"])
    env = _worker_env(
        sink,
        VOUCH_PUBLIC_URL=live_server.url,
        VOUCH_INVITE_BOUNCE_ADDRESS="bounces@vouch.example.com",
        VOUCH_DKIM_SELECTOR="vouch1",
        VOUCH_DKIM_DOMAIN="vouch.example.com",
        VOUCH_DKIM_PRIVATE_KEY_FILE=str(KEY),
    )
    try:
        with celery_worker(concurrency=1, beat=True, extra_env=env):
            wait_until(lambda: len(sink.messages()) == 2, limit=60)
            wait_until(lambda: Delivery.objects.filter(state=State.SENT).count() == 2, limit=30)
    finally:
        sink.stop()
    record = _public_key_record()
    by_address = {}
    for raw, message in zip(raw_received(sink.folder), sink.messages(), strict=True):
        assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)
        by_address[message["X-Sink-Rcpt-To"]] = message
    ada = Recipient.objects.get(email="ada@example.com")
    delivery = Delivery.objects.get(recipient=ada)
    message = by_address["ada@example.com"]
    assert message["X-Sink-Mail-From"] == f"bounces+{delivery.public_id}@vouch.example.com"  # VERP
    assert message["From"] == "Demo Coffee <invitations@vouch.example.com>"
    assert message["Reply-To"] == "hello@coffee.example.com"
    assert message["To"] == "Ada <ada@example.com>"
    assert message["Subject"] == "Demo Coffee Co. would like to hear about your experience"
    assert message["Message-ID"] == delivery.message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert "Espresso beans" in message.get_body(("plain",)).get_content()
    assert "#b45309" in message.get_body(("html",)).get_content()
    ada.refresh_from_db()
    assert ada.status == "sent" and ada.messages_sent == 1

    # The customer's provider POSTs to the List-Unsubscribe URL (RFC 8058), without cookies.
    url = message["List-Unsubscribe"].strip().strip("<>")
    assert url.startswith(live_server.url + "/u/")
    request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    ada.refresh_from_db()
    assert ada.status == "unsubscribed" and ada.next_send_at is None
    assert Recipient.objects.get(email="grace@example.com").status == "sent"


def test_a_4xx_is_retried_and_a_5xx_fails_with_the_servers_reason(campaign, tmp_path, settings):
    sink = SmtpSink.process(tmp_path / "sink", tempfail={"grey@example.com": 2}, reject=["nobody@example.com"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 3
    settings.VOUCH_INVITE_SEND_RATE = "off"
    _invite(campaign, ["grey@example.com", "nobody@example.com", "ok@example.com"])
    try:
        invitations_plan()
        first = invitations_send()
        assert (first.sent, first.deferred, first.failed) == (1, 1, 1)
        for _ in range(2):  # the retry time comes (backoff is on the row); greylisting lets it through the third time
            Delivery.objects.filter(state=State.DEFERRED).update(retry_at=timezone.now())
            invitations_send()
    finally:
        sink.stop()
    grey = Delivery.objects.get(recipient__email="grey@example.com")
    assert grey.state == State.SENT and grey.attempts == 3
    nobody = Recipient.objects.get(email="nobody@example.com")
    assert nobody.status == "failed" and nobody.error.startswith("550 5.1.1") and "User unknown" in nobody.error
    assert sorted(m["X-Sink-Rcpt-To"] for m in sink.messages()) == ["grey@example.com", "ok@example.com"]


def test_killing_the_worker_mid_batch_sends_nothing_twice(campaign, tmp_path):
    count = 40
    # Each DATA takes a moment, so the kill lands inside a batch (and maybe inside an SMTP transaction).
    sink = SmtpSink.process(tmp_path / "sink", delay=0.1)
    _invite(campaign, [f"c{n:02d}@example.com" for n in range(count)])
    env = _worker_env(sink, VOUCH_STUCK_AFTER_SECONDS="1")
    try:
        with celery_worker(concurrency=1, extra_env=env) as worker:
            queue.send(invitations_tick_task)  # what beat does: plan the 40, hand them to the sender
            wait_until(lambda: len(list(sink.folder.glob("*.eml"))) >= 8, limit=60)
            [child] = pool_children(worker)
            os.kill(child, signal.SIGKILL)  # mid-batch: the sender dies between (or inside) SMTP transactions
            wait_until(lambda: pool_children(worker) and child not in pool_children(worker), limit=30)
        received_at_kill = len(list(sink.folder.glob("*.eml")))
        assert received_at_kill < count
        assert Delivery.objects.filter(state=State.PREPARED).exists()
        # A new worker with beat: its ticks recover the interrupted send and send the rest.
        with celery_worker(concurrency=1, beat=True, extra_env=env):
            settled = (State.SENT, State.INTERRUPTED)
            wait_until(lambda: Delivery.objects.filter(state__in=settled).count() == count, limit=120, every=0.5)
            time.sleep(2)  # more ticks: nothing goes out again
    finally:
        sink.stop()
    received = Counter(m["Message-ID"] for m in sink.messages())
    assert received and max(received.values()) == 1, "a message arrived twice"
    deliveries = {d.message_id: d for d in Delivery.objects.all()}
    assert len(deliveries) == count and Delivery.objects.filter(step=0).count() == count
    assert set(received) <= set(deliveries)
    sent = {mid for mid, d in deliveries.items() if d.state == State.SENT}
    interrupted = {mid for mid, d in deliveries.items() if d.state == State.INTERRUPTED}
    assert sent <= set(received)  # everything marked sent arrived
    assert len(interrupted) <= 1  # at most the one in flight when the worker died, and it was not sent again
    assert set(received) - sent <= interrupted
    assert Recipient.objects.filter(status="sent").count() == count
