"""An invitation in a real browser: the link opens the brand's form with the name prefilled and the email
locked, the testimonial sent through it shows "Verified customer" in the brand's widget, and a second use
of the link is refused politely."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from testimonials.invitations import tokens
from testimonials.invitations.models import Recipient
from testimonials.models import Testimonial
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets.services import widget_publish
from tests.factories import (
    BrandFactory,
    CampaignFactory,
    CollectionFormFactory,
    MembershipFactory,
    RecipientFactory,
    UserFactory,
    WidgetFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def invited(transactional_db, settings, live_server):
    settings.SUBMIT_MIN_SECONDS = 0  # a script fills faster than people; the fill-time rule has its own tests
    settings.PUBLIC_URL = live_server.url
    cache.clear()
    brand = BrandFactory(name="Demo Coffee Co.", slug="demo", accent_color="#b45309", allowed_domains=[])
    form = CollectionFormFactory(brand=brand, slug="feedback", title="How was your coffee?")
    campaign = CampaignFactory(brand=brand, form=form, name="Spring")
    return RecipientFactory(campaign=campaign, name="Ana Souza", email="ana@example.com", status="sent")


def test_the_link_opens_a_prefilled_form_the_widget_shows_verified_and_reuse_is_refused(page, live_server, invited):
    link = f"{live_server.url}/i/{tokens.link_token(invited.public_id)}/"
    page.goto(link)
    expect(page.get_by_role("heading", name="How was your coffee?")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Ana Souza")
    email = page.get_by_label("Your email")
    expect(email).to_have_value("ana@example.com")
    expect(email).to_be_disabled()  # locked: the address the invitation went to

    page.locator("label[for='id_rating_2']").click()
    page.get_by_label("Your testimonial").fill("Good beans; the parcel took a week longer than promised.")
    page.get_by_label("I agree that my testimonial").check()
    page.get_by_role("button", name="Send my testimonial").click()
    page.wait_for_url("**/thanks/**", timeout=20_000)
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()

    item = Testimonial.objects.get()
    assert item.is_verified and item.source == "invite" and item.author_email == "ana@example.com"
    owner = UserFactory(username="owner")
    MembershipFactory(user=owner, brand=item.brand)
    testimonial_approve(testimonial=item, actor=owner)
    widget = WidgetFactory(brand=item.brand)
    widget_publish(widget_id=widget.id)
    page.goto(f"{live_server.url}/w/{widget.public_id}/")
    card = page.locator("article", has_text="Good beans")
    expect(card).to_be_visible()
    expect(card.get_by_text("Verified customer")).to_be_visible()

    page.goto(link)
    expect(page.get_by_role("heading", name="You have already sent your testimonial")).to_be_visible()
    assert Testimonial.objects.count() == 1
    assert Recipient.objects.get().clicked_at is not None
