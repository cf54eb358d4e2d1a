"""Webhook endpoints through the API: owners register them (the secret comes back once here and on request),
rotate the secret, read the delivery log and send a message again; others get 403, other brands 404."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from testimonials.services.api_keys import api_key_create
from testimonials.webhooks.models import WebhookDelivery, WebhookEndpoint
from testimonials.webhooks.signing import secret_new

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(client, alice, brand_a):
    _, key = api_key_create(brand=brand_a, actor=alice, name="ops")

    def call(method, url, data=None):
        body = json.dumps(data) if data is not None else None
        return getattr(client, method)(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")

    return call


def test_it_registers_an_endpoint_and_reveals_and_rotates_its_secret(owner_api, receiver):
    created = owner_api(
        "post", reverse("api-webhook-list"), {"url": receiver.url(), "events": ["testimonial.approved"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["testimonial.approved"] and body["is_active"]
    url = reverse("api-webhook-secret", args=[body["id"]])
    assert owner_api("get", url).json() == {"secrets": [body["secret"]], "previous_expires_at": None}
    rotated = owner_api("post", reverse("api-webhook-rotate-secret", args=[body["id"]])).json()
    assert rotated["secrets"][1] == body["secret"] and rotated["secrets"][0] != body["secret"]
    listed = owner_api("get", reverse("api-webhook-list")).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]


def test_it_refuses_a_private_url_and_an_unknown_event(owner_api, settings):
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = False
    private = owner_api(
        "post", reverse("api-webhook-list"), {"url": "https://10.0.0.2/", "events": ["testimonial.approved"]}
    )
    assert private.status_code == 400 and "url" in private.json()["errors"]
    unknown = owner_api("post", reverse("api-webhook-list"), {"url": "https://10.0.0.2/", "events": ["nope"]})
    assert unknown.status_code == 400 and "events.0" in unknown.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


def test_it_switches_an_endpoint_back_on_and_sends_a_logged_message_again(
    owner_api, brand_a, fake_broker, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.create(
        brand=brand_a, url="https://hooks.example.com/a", events=["testimonial.approved"], secret=secret_new(),
        is_active=False, disabled_reason="Every attempt failed.",
    )  # fmt: skip
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, brand=brand_a, event_type="testimonial.approved", status="failed", attempts=8
    )
    redeliver = reverse("api-webhook-delivery-redeliver", args=[endpoint.public_id, delivery.public_id])
    refused = owner_api("post", redeliver)
    assert refused.status_code == 400 and "Switch the endpoint back on" in refused.json()["detail"]
    on = owner_api("patch", reverse("api-webhook-detail", args=[endpoint.public_id]), {"is_active": True})
    assert on.json()["is_active"] is True and on.json()["disabled_reason"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        sent = owner_api("post", redeliver)
    assert sent.status_code == 202 and sent.json()["webhook_id"] == delivery.message_id
    assert fake_broker.sent["webhook_deliver_task"] == [delivery.id]
    log = owner_api("get", reverse("api-webhook-delivery-list", args=[endpoint.public_id]), None).json()["results"]
    assert [d["id"] for d in log] == [delivery.public_id] and log[0]["status"] == "pending"
    detail = owner_api("get", reverse("api-webhook-delivery-detail", args=[endpoint.public_id, delivery.public_id]))
    assert detail.json()["attempt_log"] == [] and detail.json()["payload"] == {}
    assert owner_api("delete", reverse("api-webhook-detail", args=[endpoint.public_id])).status_code == 204
    assert not WebhookDelivery.objects.exists()


def test_it_keeps_endpoints_to_owners_and_away_from_other_brands(client, bob, charlie, brand_a):
    endpoint = WebhookEndpoint.objects.create(
        brand=brand_a, url="https://hooks.example.com/a", events=["testimonial.approved"], secret=secret_new()
    )
    client.force_login(bob)
    response = client.get(reverse("api-webhook-secret", args=[endpoint.public_id]))
    assert response.status_code == 403 and endpoint.secret not in response.content.decode()
    client.force_login(charlie)
    for url in (
        reverse("api-webhook-detail", args=[endpoint.public_id]),
        reverse("api-webhook-list") + "?brand=brand-a",
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("api-webhook-rotate-secret", args=[endpoint.public_id])).status_code == 404
    assert client.delete(reverse("api-webhook-detail", args=[endpoint.public_id])).status_code == 404
    assert WebhookEndpoint.objects.get(id=endpoint.id).secret == endpoint.secret
