"""A brand owner reads the Influence page in a real browser: the funnel and daily charts render, the
table sorts from its headings, the holdout's alarm shows, and it fits a phone. Screenshots go to
var/screenshots/influence-*.png."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from testimonials.analytics.models import BrandAnalytics
from testimonials.models import Membership, Testimonial
from tests.analytics.influence_data import holdout_day, item_day, widget_day
from tests.factories import (
    BrandFactory,
    CollectionFormFactory,
    MembershipFactory,
    TestimonialFactory,
    UserFactory,
    WidgetFactory,
)

pytestmark = pytest.mark.browser
PEOPLE = [
    ("Priya Shah", "Support answered in ten minutes and our conversion went up 30% in the first month.", 0.09, 1.0),
    ("Tom Becker", "Setup took an afternoon. The video wall looks great on our pricing page.", 0.06, 0.8),
    ("Amina Diallo", "We replaced three tools with Vouch; the team actually enjoys moderating now.", 0.05, 0.9),
    ("Lucas Moreau", "Good product, a bit pricey for a small shop, but the widgets pay for themselves.", 0.04, 0.6),
    ("Lucía Fernández", "Nos ayudaron a configurarlo todo en una tarde. Muy recomendable.", 0.045, 0.5),
    ("Jonas Berg", "Does what it says.", 0.04, 0.25),
    ("Carmen Ruiz", "The carousel on our checkout page made people trust us.", 0.05, 0.08),
]


@pytest.fixture
def influence(transactional_db):
    brand = BrandFactory(name="Brand A", slug="brand-a", allowed_domains=["https://shop-a.example.com"])
    BrandAnalytics.objects.create(brand=brand, currency="EUR")
    MembershipFactory(user=UserFactory(username="alice"), brand=brand, role=Membership.Role.OWNER)
    form = CollectionFormFactory(brand=brand, title="Feedback")
    home, pricing = WidgetFactory(brand=brand, name="Home page wall"), WidgetFactory(brand=brand, name="Pricing")
    rng = random.Random(11)
    today = timezone.localdate()
    items = [
        (TestimonialFactory(brand=brand, form=form, author_name=name, text=text, public_text=text,
                            state=Testimonial.State.APPROVED), rate, share)
        for name, text, rate, share in PEOPLE
    ]  # fmt: skip
    for back in range(30):
        day = today - timedelta(days=back)
        weekday = 0.6 if day.weekday() >= 5 else 1.0
        for widget, scale in ((home, 1.0), (pricing, 0.35)):
            visitors = int(rng.gauss(900, 60) * weekday * scale)
            converters = int(visitors * 0.045)
            widget_day(widget, day, impressions=int(visitors * 1.3), clicks_wall=rng.randint(0, 6), visitors=visitors,
                       converters=converters, conversions_any=converters, conversions_last=converters,
                       value_any=Decimal(converters * 49), value_last=Decimal(converters * 49))  # fmt: skip
            for item, rate, share in items:
                viewers = int(visitors * share * rng.uniform(0.3, 0.5))
                bought = sum(rng.random() < rate for _ in range(viewers))
                plays = int(viewers * 0.3) if item.author_name in ("Priya Shah", "Tom Becker") else 0
                item_day(widget, item, day, views=int(viewers * 1.2), plays=plays, q25=int(plays * 0.8),
                         q50=int(plays * 0.6), q75=int(plays * 0.5), completions=int(plays * 0.4),
                         clicks_more=rng.randint(0, 5), clicks_author=rng.randint(0, 2), visitors=viewers,
                         converters=bought, conversions_any=bought, value_any=bought * 49,
                         conversions_last=bought // 2, value_last=bought // 2 * 49)  # fmt: skip
        holdout_day(home, day, percent=5, shown_visitors=950, held_visitors=50, shown_converters=45,
                    held_converters=1)  # fmt: skip
        holdout_day(pricing, day, percent=10, shown_visitors=280, held_visitors=45, shown_converters=14,
                    held_converters=2)  # fmt: skip
    return brand


def _log_in(page, live_server, then: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={then}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pass-word-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{then}")


def test_a_brand_reads_its_influence_page(page, live_server, influence):
    url = "/admin/testimonials/testimonial/influence/"
    _log_in(page, live_server, url)
    charts = page.locator("svg.vouch-chart")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 80
    assert "Impressions" in page.locator("svg.vouch-funnel").get_attribute("aria-label")
    assert page.locator("svg.vouch-lines polyline").count() == 6
    assert "Attribution window: 1 day." in page.inner_text(".vouch-influence-rules")
    table = page.locator(".vouch-influence-table table")
    assert "likely better" in table.inner_text() and "95% interval" in table.inner_text()
    assert "Sample ratio mismatch" in page.inner_text(".vouch-influence-holdouts")
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(folder / "influence-1366.png"), full_page=True)

    page.get_by_role("link", name="Influence").last.click()  # the column heading: largest influence first
    page.wait_for_url("**o=-influence**")
    first = page.locator(".vouch-influence-table tbody tr").first.inner_text()
    assert "Priya Shah" in first

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(150)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # the table scrolls, not the page
    page.screenshot(path=str(folder / "influence-390.png"), full_page=True)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator(".vouch-influence-table tbody tr").first.get_by_role("link", name="Priya Shah").click()
    panel = page.locator(".vouch-influence-panel")
    assert "Influence, last 30 days" in panel.inner_text() and "likely better" in panel.inner_text()
    panel.screenshot(path=str(folder / "influence-testimonial-page.png"))
