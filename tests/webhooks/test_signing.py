"""Signatures follow Standard Webhooks: the spec's reference library (`standardwebhooks`) verifies them."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from testimonials.webhooks import signing


def test_it_signs_what_the_reference_implementation_verifies():
    secret = signing.secret_new()
    body = b'{"type":"testimonial.approved","data":{"id":"abc"}}'
    headers = signing.headers(secrets_=[secret], message_id="msg_1", timestamp=int(time.time()), body=body)
    assert Webhook(secret).verify(body, headers) == {"type": "testimonial.approved", "data": {"id": "abc"}}
    assert signing.verify(
        secret=secret, message_id="msg_1", timestamp=int(headers["webhook-timestamp"]), body=body,
        header=headers["webhook-signature"],
    )  # fmt: skip


def test_it_signs_with_both_secrets_during_a_rotation_and_a_tampered_body_fails():
    old, new = signing.secret_new(), signing.secret_new()
    body = b'{"a":1}'
    headers = signing.headers(secrets_=[new, old], message_id="msg_2", timestamp=int(time.time()), body=body)
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.secret_new()).verify(body, headers)


def test_it_makes_secrets_in_the_spec_format():
    secret = signing.secret_new()
    assert secret.startswith("whsec_") and len(signing._key(secret)) == 32 and secret != signing.secret_new()
