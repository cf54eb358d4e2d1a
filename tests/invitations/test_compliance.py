"""FTC 16 CFR 465 and review gating: everyone on a list is invited the same way, nothing can route or filter
customers by their rating or sentiment, the default wording is neutral, and incentives are disclosed and badged."""

from __future__ import annotations

import inspect
import re

import pytest
from django.core.exceptions import ValidationError

from testimonials.invitations import api, composing, importing, models, sending, upkeep
from testimonials.invitations.admin import CampaignForm
from testimonials.invitations.models import DEFAULT_BODY, DEFAULT_SUBJECT, Campaign, Recipient
from testimonials.invitations.services import campaign_save, campaigns, customers, recipients, statuses
from testimonials.models import Testimonial

pytestmark = pytest.mark.django_db
# Any name made of one of these words (min_rating, stars, route_unhappy, sentiment_threshold, ...).
GATING = re.compile(
    r"(^|_)(ratings?|stars?|sentiment|scores?|happy|unhappy|satisf\w*|nps|positive|negative|rout\w*|gat\w*|"
    r"filters?|thresholds?)(_|$)",
    re.I,
)


def test_no_campaign_or_recipient_setting_can_depend_on_a_rating_or_sentiment():
    for model in (Campaign, Recipient, models.SenderProfile, models.ImportJob):
        names = [f.name for f in model._meta.get_fields()]
        assert not [n for n in names if GATING.search(n)], model.__name__
    assert not [f for f in CampaignForm.base_fields if GATING.search(f)]
    assert not [f for f in api.CustomerInput().fields if GATING.search(f)]
    assert not [f for f in api.InvitationsInput().fields if GATING.search(f)]


def test_no_service_takes_a_rating_or_sentiment():
    checked = 0
    modules = (campaigns, recipients, statuses, customers, sending, composing, upkeep, importing)
    for module in modules:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__:
                params = inspect.signature(function).parameters
                assert not [p for p in params if GATING.search(p)], f"{module.__name__}.{name}"
                checked += 1
    assert checked > 40  # the scan sees the services


@pytest.mark.parametrize(
    "wording",
    [
        "If you were happy with your order, leave us a review!",
        "If you're not satisfied, contact support instead: {link}",
        "if you loved it, tell the world",
        "If you are unhappy, reply to this email rather than reviewing.",
    ],
)
def test_gating_wording_cannot_be_saved(campaign_a, alice, wording):
    campaign_a.body = wording
    with pytest.raises(ValidationError) as raised:
        campaign_save(campaign=campaign_a, actor=alice)
    assert "review gating" in str(raised.value)
    campaign_a.body = DEFAULT_BODY
    campaign_a.subject = "If you were satisfied, rate us 5 stars"
    with pytest.raises(ValidationError):
        campaign_save(campaign=campaign_a, actor=alice)


def test_the_default_wording_is_neutral():
    text = (DEFAULT_SUBJECT + DEFAULT_BODY).lower()
    assert "tell us about your experience" in text or "hear about your experience" in text
    assert "whatever it says" in text
    assert not re.search(r"happy|love|5 stars|five stars|great review|positive", text)


def test_an_incentive_is_disclosed_and_badges_the_testimonial_whatever_its_rating(
    client, campaign_a, form_a, fake_broker
):
    from testimonials.invitations import tokens
    from tests.collection.collect_support import aged_token
    from tests.factories import RecipientFactory

    form_a.incentive = "a 10% voucher"
    form_a.save()
    ada = RecipientFactory(campaign=campaign_a, status="sent")
    page = client.get(f"/i/{tokens.link_token(ada.public_id)}/").content.decode()
    assert "a 10% voucher (whatever you write)" in page
    client.post(
        f"/i/{tokens.link_token(ada.public_id)}/",
        {"token": aged_token(form_a), "rating": "1", "text": "Did not work for me at all.", "author_name": "Ada",
         "author_email": ada.email, "consent_given": "on"},
    )  # fmt: skip
    item = Testimonial.objects.get()
    assert item.is_incentivised and item.is_verified and item.rating == 1
