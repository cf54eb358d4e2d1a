"""A moderator reads what a testimonial talks about and acts on it in one click, in a real browser."""

from __future__ import annotations

import pytest

from testimonials.models import Membership, Testimonial
from testimonials.moderation import sentiment, topics
from tests.factories import BrandFactory, CollectionFormFactory, MembershipFactory, TestimonialFactory, UserFactory

pytestmark = pytest.mark.browser
State = Testimonial.State
TEXT = "Amazing product, highly recommend! Support was quick and our conversion went up 30% in the first month."


@pytest.fixture
def read(transactional_db):
    brand = BrandFactory(name="Brand A", slug="brand-a")
    form = CollectionFormFactory(brand=brand, title="Feedback")
    MembershipFactory(user=UserFactory(username="alice"), brand=brand, role=Membership.Role.OWNER)
    reading = sentiment.read(TEXT)
    judged = sentiment.judge(reading, 5)
    item = TestimonialFactory(
        brand=brand, form=form, author_name="Priya Praise", state=State.APPROVED, text=TEXT, public_text=TEXT,
        sentiment_label=judged.label, sentiment_score=judged.score, sentiment_reason=judged.reason,
        highlight=judged.highlight, topics=topics.as_stored(topics.find(reading)),
    )  # fmt: skip
    unread = TestimonialFactory(
        brand=brand, form=form, author_name="Yuki", state=State.APPROVED, text="とても丁寧でした。",
        sentiment_label="unscored", sentiment_score=None, sentiment_reason="Not scored: written in Japanese.",
    )  # fmt: skip
    return item, unread


def _log_in(page, live_server, next_url: str):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pass-word-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_it_accepts_a_suggested_tag_in_one_click_and_shows_not_scored(page, live_server, read):
    item, unread = read
    url = f"/admin/testimonials/testimonial/{item.pk}/change/"
    _log_in(page, live_server, url)
    assert "Support" in page.inner_text(".vouch-suggestions")
    page.get_by_role("button", name="+ Support (new tag)").click()
    page.wait_for_selector(".messagelist .success")
    assert "Tagged Support." in page.inner_text(".messagelist")
    assert list(item.tags.values_list("name", flat=True)) == ["Support"]
    assert "+ Support" not in page.inner_text("body")
    page.goto(f"{live_server.url}/admin/testimonials/testimonial/{unread.pk}/change/")
    badge = page.locator(".vouch-badge.sentiment-unscored").first
    assert badge.inner_text() == "Not scored" and "Japanese" in badge.get_attribute("title")


def test_the_dashboard_shows_what_customers_praise_with_a_quote(page, live_server, read):
    _log_in(page, live_server, "/admin/testimonials/testimonial/dashboard/")
    praise = page.locator(".vouch-topics section", has_text="What customers praise most")
    assert praise.get_by_role("link", name="Support").count() == 1
    assert "Priya Praise" in praise.inner_text()
    assert praise.locator("svg.vouch-spark").count() >= 1
