"""Webhooks follow the lifecycle: every decision reaches the brand's endpoints once, signed, retried on the
schedule while the receiver fails, then the endpoint is switched off and its owners told. Against a real
receiver on loopback."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from testimonials import queue
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.lifecycle.dispatch import lifecycle_dispatch
from testimonials.models import EventType, MediaAsset, OutboxEntry, Testimonial
from testimonials.privacy.services import testimonial_erase
from testimonials.processing import pipeline
from testimonials.services.decisions import testimonial_approve, testimonial_reject
from testimonials.webhooks import events, services
from testimonials.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from testimonials.webhooks.services import webhook_deliver
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
Status = WebhookDelivery.Status


@pytest.fixture
def endpoint(alice, brand_a, receiver):
    return services.webhook_endpoint_create(
        brand=brand_a, actor=alice, url=receiver.url(), events_=[e.name for e in events.EVENT_TYPES], name="CRM"
    )


def _due_now(delivery: WebhookDelivery) -> None:
    """Stand in for the passage of time: the scheduled retry is due now."""
    WebhookDelivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def _approve(alice, brand_a, committed, **fields) -> Testimonial:
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW, **fields)
    with committed():
        testimonial_approve(testimonial=item, actor=alice)
    return item


def test_it_sends_an_approval_signed_as_the_spec_says(alice, brand_a, endpoint, receiver, fake_broker, committed):
    item = _approve(alice, brand_a, committed, author_name="Ada Lovelace", text="Wonderful engines, great staff.")
    deliveries = list(WebhookDelivery.objects.order_by("event_type"))
    assert [d.event_type for d in deliveries] == ["testimonial.approved", "testimonial.published"]
    assert sorted(fake_broker.sent["webhook_deliver_task"]) == sorted(d.id for d in deliveries)
    for delivery in deliveries:
        assert webhook_deliver(delivery_id=delivery.id) == "succeeded"
    first = receiver.requests[0]
    payload = Webhook(endpoint.secret).verify(first.body, first.headers)
    assert payload["type"] in ("testimonial.approved", "testimonial.published")
    assert payload["data"]["id"] == item.public_id and payload["data"]["author_name"] == "Ada Lovelace"
    assert payload["data"]["state"] == "approved" and payload["data"]["brand"] == "brand-a"
    assert (
        first.headers["webhook-id"] == deliveries[0].message_id
        or first.headers["webhook-id"] == deliveries[1].message_id
    )
    attempt = WebhookAttempt.objects.first()
    assert attempt.status_code == 200 and attempt.latency_ms is not None and attempt.response_excerpt == "ok"
    assert WebhookEndpoint.objects.get(id=endpoint.id).last_success_at is not None


def test_it_sends_only_the_event_types_an_endpoint_subscribed_to(alice, brand_a, receiver, fake_broker, committed):
    services.webhook_endpoint_create(brand=brand_a, actor=alice, url=receiver.url(), events_=["testimonial.rejected"])
    _approve(alice, brand_a, committed)
    assert not WebhookDelivery.objects.exists()
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    with committed():
        testimonial_reject(testimonial=item, actor=alice, reason="Spam")
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["testimonial.rejected"]


def test_it_creates_each_delivery_once_however_often_an_entry_is_handed_off(
    alice, brand_a, endpoint, fake_broker, committed
):
    _approve(alice, brand_a, committed)
    ids = list(OutboxEntry.objects.values_list("id", flat=True))
    OutboxEntry.objects.update(dispatched_at=None)  # as if the dispatch's worker died after committing
    lifecycle_dispatch(entry_ids=ids)
    lifecycle_dispatch(entry_ids=ids)
    assert WebhookDelivery.objects.count() == 2


def test_it_keeps_other_brands_events_away(alice, brand_a, endpoint, charlie, brand_b, fake_broker, committed):
    item = TestimonialFactory(brand=brand_b, state=State.PENDING_REVIEW)
    with committed():
        testimonial_approve(testimonial=item, actor=charlie)
    assert not WebhookDelivery.objects.exists()


def test_it_retries_on_the_schedule_while_the_receiver_answers_500_then_disables_the_endpoint(
    alice, brand_a, endpoint, receiver, fake_broker, settings, django_capture_on_commit_callbacks, committed
):
    settings.VOUCH_WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200]
    receiver.status = 500
    _approve(alice, brand_a, committed)
    delivery = WebhookDelivery.objects.get(event_type="testimonial.approved")
    WebhookDelivery.objects.exclude(id=delivery.id).delete()
    waits = []
    for _ in range(4):
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliver(delivery_id=delivery.id) == "retrying"
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - before).total_seconds())
        _due_now(delivery)
    for wait, planned in zip(waits, [5, 300, 1800, 7200], strict=True):
        assert planned * 0.9 - 1 <= wait <= planned * 1.1 + 1  # the schedule, with its 10% jitter
    # Short waits go out as a countdown; long ones wait for the periodic pass.
    assert [c for c in fake_broker.countdowns["webhook_deliver_task"] if c] and all(
        c <= services.COUNTDOWN_LIMIT for c in fake_broker.countdowns["webhook_deliver_task"] if c
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliver(delivery_id=delivery.id) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 5
    assert len(receiver.requests) == 5
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, five tries
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "failed" in endpoint.disabled_reason
    assert endpoint.consecutive_failures == 5
    assert fake_broker.sent["webhook_notify_disabled_task"] == [endpoint.id]
    assert services.webhook_endpoint_notify_disabled(endpoint_id=endpoint.id) == 1
    assert mail.outbox[0].to == ["alice@example.com"] and "switched off" in mail.outbox[0].subject


def test_it_keeps_the_webhook_id_when_a_person_sends_a_message_again(
    alice, brand_a, endpoint, receiver, fake_broker, committed
):
    _approve(alice, brand_a, committed)
    delivery = WebhookDelivery.objects.get(event_type="testimonial.approved")
    webhook_deliver(delivery_id=delivery.id)
    with committed():
        services.webhook_delivery_redeliver(delivery=delivery, actor=alice)
    assert webhook_deliver(delivery_id=delivery.id) == "succeeded"
    ids = [r.headers["webhook-id"] for r in receiver.requests if json.loads(r.body)["type"] == "testimonial.approved"]
    assert ids == [delivery.message_id, delivery.message_id]
    assert list(delivery.attempt_log.order_by("started_at", "id").values_list("number", "manual")) == [
        (1, False),
        (2, True),
    ]


def test_it_sends_again_a_message_whose_worker_died_mid_send(
    alice, brand_a, endpoint, receiver, fake_broker, committed
):
    _approve(alice, brand_a, committed)
    delivery = WebhookDelivery.objects.get(event_type="testimonial.approved")
    # A worker claimed it and died before writing the outcome: "sending", with a lease.
    WebhookDelivery.objects.filter(id=delivery.id).update(
        status=Status.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=60)
    )
    assert webhook_deliver(delivery_id=delivery.id) == "skipped"  # the lease still holds
    assert delivery.id not in services.webhook_deliveries_due()
    WebhookDelivery.objects.filter(id=delivery.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert delivery.id in services.webhook_deliveries_due()
    assert webhook_deliver(delivery_id=delivery.id) == "succeeded"
    assert receiver.requests[-1].headers["webhook-id"] == delivery.message_id


def test_it_refuses_an_endpoint_on_a_private_address(alice, brand_a, settings):
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = False
    for url in ("https://10.0.0.1/hook", "https://169.254.169.254/latest", "https://localhost/x", "http://x.example/"):
        with pytest.raises(ApplicationError) as refused:
            services.webhook_endpoint_create(brand=brand_a, actor=alice, url=url, events_=["testimonial.approved"])
        assert refused.value.field == "url"
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_to_send_when_the_name_now_points_at_a_private_address(
    alice, brand_a, endpoint, receiver, fake_broker, settings, committed
):
    _approve(alice, brand_a, committed)
    delivery = WebhookDelivery.objects.get(event_type="testimonial.approved")
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = False  # the same 127.0.0.1 is now a forbidden address
    assert webhook_deliver(delivery_id=delivery.id) == "retrying"
    assert not receiver.requests
    assert WebhookAttempt.objects.get().error.startswith("Refused:")


def test_it_lets_only_owners_manage_endpoints(bob, victor, brand_a, receiver):
    for person in (bob, victor):
        with pytest.raises(PermissionDenied):
            services.webhook_endpoint_create(
                brand=brand_a, actor=person, url=receiver.url(), events_=["testimonial.approved"]
            )


def test_it_rotates_the_secret_and_signs_with_both_for_a_day(
    alice, brand_a, endpoint, receiver, fake_broker, committed
):
    old = endpoint.secret
    endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=alice)
    assert endpoint.secret != old and endpoint.signing_secrets() == [endpoint.secret, old]
    _approve(alice, brand_a, committed)
    webhook_deliver(delivery_id=WebhookDelivery.objects.get(event_type="testimonial.approved").id)
    sent = receiver.requests[0]
    Webhook(old).verify(sent.body, sent.headers)
    Webhook(endpoint.secret).verify(sent.body, sent.headers)
    later = timezone.now() + services.ROTATION_OVERLAP + timedelta(seconds=1)
    assert endpoint.signing_secrets(now=later) == [endpoint.secret]


def test_it_announces_received_rejected_and_erased_and_scrubs_what_was_kept(
    alice, brand_a, endpoint, receiver, fake_broker, committed
):
    from testimonials.collection.submission import SubmissionData, testimonial_submit
    from tests.factories import CollectionFormFactory

    form = CollectionFormFactory(brand=brand_a)
    data = SubmissionData(
        author_name="Grace",
        author_email="grace@example.com",
        rating=2,
        text="Slow delivery, sadly.",
        consent_given=True,
    )
    with committed():
        item = testimonial_submit(form=form, data=data)
    with committed():
        testimonial_reject(testimonial=item, actor=alice, reason="Off-topic")
    assert set(WebhookDelivery.objects.values_list("event_type", flat=True)) == {
        "testimonial.received",
        "testimonial.rejected",
    }
    received = WebhookDelivery.objects.get(event_type="testimonial.received")
    webhook_deliver(delivery_id=received.id)
    assert received.payload["author_email"] == "grace@example.com"
    with committed():
        testimonial_erase(testimonial=item, actor=alice)
    erased = WebhookDelivery.objects.get(event_type="testimonial.erased")
    assert erased.payload == {"id": item.public_id, "brand": "brand-a"}
    received.refresh_from_db()
    assert received.payload == {"id": item.public_id, "brand": "brand-a", "erased": True}
    for delivery in WebhookDelivery.objects.all():
        assert "grace" not in json.dumps(delivery.payload).lower()
    assert not WebhookAttempt.objects.exclude(response_excerpt="").exists()


def test_it_publishes_once_the_approved_testimonials_video_is_ready(alice, brand_a, endpoint, fake_broker, committed):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    asset = MediaAsset.objects.create(testimonial=item, kind=MediaAsset.Kind.VIDEO, status=MediaAsset.Status.PROCESSING)
    with committed():
        testimonial_approve(testimonial=item, actor=alice)
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["testimonial.approved"]
    from django.db import transaction

    from testimonials.lifecycle.events import record

    MediaAsset.objects.filter(id=asset.id).update(status=MediaAsset.Status.READY)
    with committed(), transaction.atomic():
        record(event=EventType.MEDIA_READY, testimonial=item, from_state=item.state, to_state=item.state)
    assert WebhookDelivery.objects.filter(event_type="testimonial.published").count() == 1


def test_it_announces_automatic_decisions_too(alice, brand_a, endpoint, fake_broker, committed):
    brand_a.auto_approve = True
    brand_a.save()
    item = TestimonialFactory(brand=brand_a, state=State.RECEIVED, text="A lovely shop with very kind people.")
    with committed():
        pipeline.testimonial_process(testimonial_id=item.id)
    assert Testimonial.objects.get(id=item.id).state == State.APPROVED
    assert {"testimonial.approved", "testimonial.published"} <= set(
        WebhookDelivery.objects.values_list("event_type", flat=True)
    )


def test_it_posts_new_testimonials_to_slack_as_a_message(alice, brand_a, receiver, fake_broker, committed):
    slack = services.webhook_endpoint_create(
        brand=brand_a,
        actor=alice,
        url=receiver.url(),
        events_=["testimonial.approved"],
        kind=WebhookEndpoint.Kind.SLACK,
    )
    _approve(
        alice,
        brand_a,
        committed,
        author_name="Ada <script>",
        author_company="Engines & Co",
        rating=4,
        text="Great <b>stuff</b>.",
    )
    assert webhook_deliver(delivery_id=WebhookDelivery.objects.get(endpoint=slack).id) == "succeeded"
    message = json.loads(receiver.requests[0].body)
    assert set(message) == {"text", "unfurl_links", "unfurl_media"}
    assert "Ada &lt;script&gt; (Engines &amp; Co) ★★★★" in message["text"]
    assert "Great &lt;b&gt;stuff&lt;/b&gt;." in message["text"] and "|Review it in Vouch>" in message["text"]
    assert "webhook-signature" not in receiver.requests[0].headers


def test_it_refuses_a_slack_endpoint_that_is_not_a_slack_url(alice, brand_a, settings):
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(ApplicationError, match=r"hooks\.slack\.com"):
        services.webhook_endpoint_create(
            brand=brand_a, actor=alice, url="https://93.184.215.14/x", events_=["testimonial.received"], kind="slack"
        )


def test_it_switches_an_endpoint_back_on_and_stops_nothing_else(alice, brand_a, endpoint, fake_broker, committed):
    with committed():
        services.webhook_endpoint_update(endpoint=endpoint, actor=alice, is_active=False)
    _approve(alice, brand_a, committed)
    assert not WebhookDelivery.objects.exists()  # nothing is queued for a switched-off endpoint
    services.webhook_endpoint_update(endpoint=endpoint, actor=alice, is_active=True)
    assert WebhookEndpoint.objects.get(id=endpoint.id).is_active


def test_it_purges_the_log_past_its_retention_but_never_what_waits(
    alice, brand_a, endpoint, receiver, fake_broker, committed
):
    _approve(alice, brand_a, committed)
    done, waiting = WebhookDelivery.objects.order_by("id")
    webhook_deliver(delivery_id=done.id)
    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(days=400))
    services.webhook_log_purge()
    assert list(WebhookDelivery.objects.values_list("id", flat=True)) == [waiting.id]


def test_it_states_the_retry_policy_in_one_place(settings):
    settings.VOUCH_WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 28800, 28800]
    policy = queue.webhook_retry()
    assert 23 * 3600 < policy.total < 25 * 3600  # "about 24 hours"
    assert policy.delay(7) is None
