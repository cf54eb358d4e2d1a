"""Webhook endpoints and the delivery log in the admin: owners only, the secret shown to them, a private
address refused next to the field, a message sent again from the log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testimonials.webhooks.models import WebhookDelivery, WebhookEndpoint
from testimonials.webhooks.signing import secret_new
from tests.admin.conftest import login

pytestmark = pytest.mark.django_db


def test_it_registers_an_endpoint_and_shows_its_secret_to_owners(alice, brand_a, receiver):
    client = login(alice)
    form = {"brand": brand_a.id, "name": "CRM", "kind": "standard", "url": receiver.url()}
    form.update({"events": ["testimonial.approved"], "is_active": "on"})
    response = client.post(reverse("admin:testimonials_webhookendpoint_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["testimonial.approved"] and endpoint.secret.startswith("whsec_")
    page = client.get(reverse("admin:testimonials_webhookendpoint_change", args=[endpoint.id])).content.decode()
    assert endpoint.secret in page


def test_it_refuses_a_private_address_next_to_the_field(alice, brand_a, settings):
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = False
    response = login(alice).post(
        reverse("admin:testimonials_webhookendpoint_add"),
        {
            "brand": brand_a.id,
            "kind": "standard",
            "url": "https://192.168.0.10/hook",
            "events": ["testimonial.approved"],
        },
    )
    assert response.status_code == 200 and "private, local or reserved address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_it_keeps_endpoints_and_their_log_to_the_brands_owners(alice, bob, charlie, brand_a):
    endpoint = WebhookEndpoint.objects.create(
        brand=brand_a, url="https://hooks.example.com/a", events=["testimonial.approved"], secret=secret_new()
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, brand=brand_a, event_type="testimonial.approved")
    assert login(bob).get(reverse("admin:testimonials_webhookendpoint_changelist")).status_code == 403
    charlie_client = login(charlie)
    for url in (
        reverse("admin:testimonials_webhookendpoint_change", args=[endpoint.id]),
        reverse("admin:testimonials_webhookdelivery_change", args=[delivery.id]),
    ):
        assert charlie_client.get(url).status_code in (302, 404)
    assert (
        endpoint.secret
        not in charlie_client.get(reverse("admin:testimonials_webhookendpoint_changelist")).content.decode()
    )


def test_it_sends_a_message_again_from_the_log(alice, brand_a, fake_broker, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpoint.objects.create(
        brand=brand_a, url="https://hooks.example.com/a", events=["testimonial.approved"], secret=secret_new()
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, brand=brand_a, event_type="testimonial.approved", status="failed", attempts=8
    )
    with django_capture_on_commit_callbacks(execute=True):
        login(alice).post(
            reverse("admin:testimonials_webhookdelivery_changelist"),
            {"action": "redeliver", "_selected_action": [delivery.id]},
        )
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.schedule_start == 8 and delivery.manual_pending
    assert fake_broker.sent["webhook_deliver_task"] == [delivery.id]
