"""The invitation as a customer receives it: template rendering, hostile names, header injection, the
headers bulk senders must carry, the brand's look, incentive disclosure and a DKIM signature that verifies."""

from __future__ import annotations

import base64
import email
import email.policy
import subprocess
from pathlib import Path

import dkim
import pytest
from django.core import mail
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from testimonials.invitations import message
from testimonials.invitations.composing import campaign_preview, compose
from testimonials.invitations.message import TemplateProblem, template_check
from testimonials.invitations.models import DEFAULT_BODY, DEFAULT_SUBJECT, Delivery
from testimonials.invitations.sending import invitations_plan, invitations_send
from testimonials.invitations.services import Customer, recipients_add

pytestmark = pytest.mark.django_db
KEY = Path(__file__).resolve().parent.parent / "data" / "dkim-test-key.pem"
SENDER = message.Sender(
    brand_name="Demo Coffee Co.",
    from_name="Demo Coffee",
    from_email="hi@vouch.example.com",
    reply_to="",
    accent="#b45309",
)


def _render(name: str = "Ada", **kwargs) -> message.Rendered:
    return message.render(
        subject=kwargs.pop("subject", DEFAULT_SUBJECT),
        body=kwargs.pop("body", DEFAULT_BODY),
        customer=message.Customer(name=name, email="ada@example.com", product=kwargs.pop("product", "Espresso beans")),
        sender=SENDER,
        link="https://vouch.example.com/i/TOKEN/",
        unsubscribe_url="https://vouch.example.com/u/TOKEN/",
        **kwargs,
    )


def _invite(campaign, name="Ada Lovelace", email_address="ada@example.com", **extra):
    with transaction.atomic():
        recipients_add(campaign=campaign, customers=[Customer(email=email_address, name=name, **extra)], source="api")
    invitations_plan()
    return Delivery.objects.select_related(
        "recipient", "recipient__campaign", "recipient__campaign__form", "recipient__brand"
    ).get(recipient__email=email_address)


def test_it_fills_every_placeholder_and_keeps_the_default_wording_neutral():
    rendered = _render(subject="{customer_name}, how was {product}? ({brand}, order {order_id})")
    assert rendered.subject == "Ada, how was Espresso beans? (Demo Coffee Co., order )"
    assert "Would you tell us about your experience with Espresso beans?" in rendered.text
    assert "whatever it says" in rendered.text
    assert "https://vouch.example.com/i/TOKEN/" in rendered.text
    assert "https://vouch.example.com/u/TOKEN/" in rendered.text
    for wording in ("happy", "5 stars", "five stars", "love"):
        assert wording not in (DEFAULT_SUBJECT + DEFAULT_BODY).lower()


def test_it_greets_a_customer_without_a_name_and_names_the_brand_without_a_product():
    rendered = _render(name="", product="")
    assert rendered.text.startswith("Hello there,")
    assert "your experience with Demo Coffee Co.?" in rendered.text


def test_it_keeps_hostile_names_out_of_the_subject_lines_and_the_html():
    hostile = 'Eve\r\nBcc: victim@example.com\r\n\r\n<script>alert("x")</script>'
    rendered = _render(name=hostile, subject="A question for {customer_name}")
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject.startswith("A question for Eve Bcc: victim@example.com")
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=200), product=st.text(max_size=200))
def test_it_never_lets_a_name_or_product_add_a_header(name, product):
    rendered = _render(name=name, product=product, subject="{customer_name} and {product}")
    email_message = message.build(
        rendered,
        customer=message.Customer(name=name, email="ada@example.com", product=product),
        sender=SENDER,
        message_id="<x@vouch.example.com>",
        unsubscribe_url="https://vouch.example.com/u/TOKEN/",
    )
    parsed = email.message_from_bytes(email_message.message().as_bytes(), policy=email.policy.default)
    names = [key.lower() for key in parsed.keys()]
    assert names.count("bcc") == 0 and names.count("subject") == 1 and names.count("to") == 1
    assert [address.addr_spec for address in parsed["To"].addresses] == ["ada@example.com"]


def test_it_refuses_a_template_with_an_unknown_placeholder_or_code():
    for bad in ("Hi {customer_name.__class__}", "{rating}", "{0}", "Hello {{ customer_name }}"):
        with pytest.raises(TemplateProblem):
            template_check(bad)
    template_check("Hi {customer_name}, about {product} from {brand} (order {order_id}): {link}")


def test_it_writes_the_link_as_an_anchor_and_a_button_in_html():
    rendered = _render(body="Hello {customer_name}!\n\nPlease write here: {link}\n\nThanks")
    assert rendered.html.count('href="https://vouch.example.com/i/TOKEN/"') == 2
    assert "Hello Ada!" in rendered.html


def test_it_builds_multipart_text_and_html_with_the_bulk_sender_headers(campaign_a, brand_a):
    from testimonials.invitations.models import SenderProfile

    SenderProfile.objects.create(brand=brand_a, from_name="Brand A team", reply_to="care@brand-a.example.com")
    delivery = _invite(campaign_a, order_id="1042", product="Pour-over kit", locale="de")
    raw = compose(delivery).message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["From"] == "Brand A team <invitations@vouch.example.com>"
    assert parsed["Reply-To"] == "care@brand-a.example.com"
    assert parsed["To"] == "Ada Lovelace <ada@example.com>"
    assert parsed["Message-ID"] == delivery.message_id
    assert parsed["List-Unsubscribe"].strip().startswith("<https://vouch.example.com/u/")  # folded: still one header
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Content-Language"] == "de"
    assert "Pour-over kit" in parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert 'lang="de"' in html and brand_a.accent_color in html


def test_it_discloses_the_forms_incentive_whatever_the_review_says(campaign_a, form_a):
    form_a.incentive = "a 10% voucher"
    form_a.save()
    delivery = _invite(campaign_a)
    parsed = email.message_from_bytes(compose(delivery).message().as_bytes(), policy=email.policy.default)
    for part in ("plain", "html"):
        assert (
            "As a thank-you for any review, positive or negative: a 10% voucher."
            in parsed.get_body((part,)).get_content()
        )


def test_it_marks_reminders_in_the_subject(campaign_a):
    delivery = _invite(campaign_a)
    delivery.step = 1
    assert compose(delivery).subject == "Reminder: Brand A would like to hear about your experience"


def test_it_sends_bounces_to_a_verp_address_naming_the_message(campaign_a, settings):
    settings.VOUCH_INVITE_BOUNCE_ADDRESS = "bounces@vouch.example.com"
    delivery = _invite(campaign_a)
    built = compose(delivery)
    assert built.from_email == f"bounces+{delivery.public_id}@vouch.example.com"
    assert built.message()["From"] == "Brand A <invitations@vouch.example.com>"


def _public_key_record() -> bytes:
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(KEY), "-pubout", "-outform", "DER"], capture_output=True, check=True
    ).stdout
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def test_it_signs_with_dkim_covering_the_unsubscribe_headers_and_the_signature_verifies(campaign_a, settings):
    settings.VOUCH_DKIM_SELECTOR = "vouch1"
    settings.VOUCH_DKIM_DOMAIN = "vouch.example.com"
    settings.VOUCH_DKIM_PRIVATE_KEY_FILE = str(KEY)
    delivery = _invite(campaign_a)
    invitations_send()
    [sent] = mail.outbox
    raw = sent.message().as_bytes(linesep="\r\n")
    assert raw.startswith(b"DKIM-Signature: ")
    signature = email.message_from_bytes(raw)["DKIM-Signature"]
    assert "d=vouch.example.com" in signature and "s=vouch1" in signature
    assert "list-unsubscribe-post" in signature.lower()
    record = _public_key_record()
    assert dkim.verify(
        raw, dnsfunc=lambda name, timeout=5: record if name == b"vouch1._domainkey.vouch.example.com." else None
    )
    tampered = raw.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: nothing")
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: record)
    assert delivery.message_id.encode() in raw


def test_the_preview_shows_a_sample_customer_and_is_never_signed(campaign_a, settings):
    settings.VOUCH_DKIM_SELECTOR = "vouch1"
    settings.VOUCH_DKIM_PRIVATE_KEY_FILE = str(KEY)
    rendered, built = campaign_preview(campaign=campaign_a, step=0)
    assert "Ada Lovelace" in rendered.text
    assert "/i/preview/" in rendered.text
    assert not built.message().as_bytes().startswith(b"DKIM-Signature")
