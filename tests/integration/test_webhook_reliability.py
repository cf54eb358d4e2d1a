"""Webhooks with real workers, Redis and PostgreSQL, against a receiver on loopback: an approval reaches the
receiver signed; a receiver answering 500 gets the retries; a worker killed mid-delivery means the same
message (the same webhook-id) is delivered again."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from testimonials.models import Testimonial
from testimonials.services.decisions import testimonial_approve
from testimonials.webhooks import services
from testimonials.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.factories import BrandFactory, MembershipFactory, TestimonialFactory, UserFactory
from tests.integration.support import pool_children
from tests.receiver import Receiver
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = Testimonial.State
LOOPBACK = {"VOUCH_OUTBOUND_ALLOW_LOOPBACK": "true"}


@pytest.fixture
def shop(settings):
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = True
    brand = BrandFactory(slug="hooks-shop")
    owner = UserFactory(username="hook-owner")
    MembershipFactory(user=owner, brand=brand)
    return brand, owner


def _endpoint(shop, receiver):
    brand, owner = shop
    return services.webhook_endpoint_create(
        brand=brand, actor=owner, url=receiver.url(), events_=["testimonial.approved"], name="CRM"
    )


def test_an_approval_reaches_the_receiver_signed(shop):
    with Receiver() as receiver, celery_worker(concurrency=1, extra_env=LOOPBACK):
        endpoint = _endpoint(shop, receiver)
        item = TestimonialFactory(brand=shop[0], state=State.PENDING_REVIEW, author_name="Signed Sam")
        testimonial_approve(testimonial=item, actor=shop[1])
        wait_until(lambda: receiver.requests, limit=60)
        wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), limit=30)
    sent = receiver.requests[0]
    payload = Webhook(endpoint.secret).verify(sent.body, sent.headers)
    assert payload["type"] == "testimonial.approved" and payload["data"]["author_name"] == "Signed Sam"


def test_a_receiver_answering_500_gets_the_retries_with_one_webhook_id(shop):
    env = {**LOOPBACK, "VOUCH_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,0.5"}
    with Receiver() as receiver, celery_worker(concurrency=1, extra_env=env):
        receiver.script = [500, 500]
        _endpoint(shop, receiver)
        item = TestimonialFactory(brand=shop[0], state=State.PENDING_REVIEW)
        testimonial_approve(testimonial=item, actor=shop[1])
        wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), limit=60)
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 3 and len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
    assert list(WebhookAttempt.objects.order_by("number").values_list("status_code", flat=True)) == [500, 500, 200]


def test_a_worker_killed_mid_delivery_means_the_same_message_again(shop):
    env = {**LOOPBACK, "VOUCH_WEBHOOK_TIMEOUT_SECONDS": "3"}
    with Receiver() as receiver:
        receiver.delays = [30]  # the first try hangs on the receiver while the worker is killed
        _endpoint(shop, receiver)
        item = TestimonialFactory(brand=shop[0], state=State.PENDING_REVIEW)
        with celery_worker(concurrency=1, extra_env=env) as worker:
            testimonial_approve(testimonial=item, actor=shop[1])
            wait_until(lambda: receiver.requests, limit=60, every=0.02)
            [child] = pool_children(worker)
            os.kill(child, signal.SIGKILL)  # mid-send: the outcome is never written
            wait_until(lambda: pool_children(worker) and child not in pool_children(worker), limit=30)
            delivery = WebhookDelivery.objects.get()
            assert delivery.status == "sending" and not WebhookAttempt.objects.exists()
            # Once the dead worker's lease lapses, the periodic pass (beat's webhook-deliveries-due) sends it again.
            wait_until(lambda: timezone.now() > WebhookDelivery.objects.get().lease_until, limit=30, every=0.5)
            time.sleep(0.5)
            assert services.webhook_deliveries_due() == [delivery.id]
            wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), limit=60)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [delivery.message_id, delivery.message_id]
    assert WebhookDelivery.objects.get().attempts == 2
