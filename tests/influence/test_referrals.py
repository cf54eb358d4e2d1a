"""Reviewer referral influence: an arrival carrying a reviewer's code (embed.js's beacon on the brand's
site) and that visitor's conversions within the attribution window are credited to the reviewer; the
reviewers table reads them, in the API and the workspace. Charlie (brand B) sees none of it."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from testimonials.analytics import keys, selectors
from testimonials.analytics.models import ReferralDaily
from testimonials.analytics.services import salts_rotate
from testimonials.influence.selectors import reviewer_influence_list
from testimonials.influence.services import share_image_sync
from testimonials.models import Testimonial
from tests.admin.conftest import login
from tests.analytics.conftest import HOST, Beacons, drain
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
EMBED_JS = Path(settings.BASE_DIR) / "static" / "widget" / "embed.js"


@pytest.fixture(autouse=True)
def _analytics_isolated(settings, tmp_path):
    settings.ANALYTICS_BUFFER_URL = f"spool://{tmp_path / 'spool'}"
    settings.PUBLIC_URL = "http://testserver"
    selectors.widget_facts_forget()
    keys.forget_current_salt()
    yield
    selectors.widget_facts_forget()
    keys.forget_current_salt()


@pytest.fixture
def shop(brand_a):
    brand_a.allowed_domains = [HOST]
    brand_a.save()
    return brand_a


@pytest.fixture
def beacons(client, shop):
    return Beacons(client, WidgetFactory(brand=shop))


@pytest.fixture
def ada(shop):
    return TestimonialFactory(brand=shop, author_name="Ada", referral_code="ADAcode1")


@pytest.fixture
def ben(shop):
    return TestimonialFactory(brand=shop, author_name="Ben", referral_code="BENcode1")


def _arrive(beacons, code, ip):
    response = beacons.host([[beacons.eid(), "arrive", code]], ip=ip)
    assert response.status_code == 204, response.content


def _convert(beacons, order, value, ip):
    response = beacons.host([[beacons.eid(), "convert", "", value, "EUR", order]], ip=ip)
    assert response.status_code == 204, response.content


def test_it_credits_arrivals_and_the_conversions_of_those_visitors_to_the_reviewer(beacons, shop, ada, ben):
    _arrive(beacons, "ADAcode1", "203.0.113.1")
    _arrive(beacons, "ADAcode1", "203.0.113.1")  # the same visitor opens the link again
    _arrive(beacons, "ADAcode1", "203.0.113.2")
    _arrive(beacons, "BENcode1", "203.0.113.3")
    drain()
    _convert(beacons, "o-1", 40, "203.0.113.1")
    _convert(beacons, "o-2", 10, "203.0.113.1")  # a second order by Ada's visitor
    _convert(beacons, "o-3", 99, "203.0.113.9")  # someone who never came through a share link
    drain()
    rows = reviewer_influence_list(brand=shop)
    assert [(r["reviewer"], r["shares_clicked"], r["arrivals"], r["conversions"], r["value"]) for r in rows] == [
        ("Ada", 3, 2, 2, Decimal("50.00")),
        ("Ben", 1, 1, 0, Decimal("0")),
    ]
    assert rows[0]["testimonial"] == ada.public_id and rows[0]["referral_code"] == "ADAcode1"


def test_it_credits_nothing_once_the_attribution_window_has_passed(beacons, shop, ada):
    from testimonials.analytics.models import VisitorSalt
    from testimonials.analytics.services import SALT_GRACE

    _arrive(beacons, "ADAcode1", "203.0.113.1")
    drain()
    salt = VisitorSalt.objects.get()
    salts_rotate(now=salt.ends_at + SALT_GRACE + __import__("datetime").timedelta(minutes=1))
    keys.forget_current_salt()
    _convert(beacons, "late-1", 40, "203.0.113.1")  # same person, a new window: an unknown visitor now
    drain()
    (row,) = reviewer_influence_list(brand=shop)
    assert (row["arrivals"], row["conversions"]) == (1, 0)


def test_it_ignores_codes_of_another_brand_and_unknown_codes(beacons, shop, brand_b, ada):
    TestimonialFactory(brand=brand_b, referral_code="OTHERbrand")
    _arrive(beacons, "OTHERbrand", "203.0.113.1")
    _arrive(beacons, "NOSUCHCODE", "203.0.113.1")
    drain()
    assert reviewer_influence_list(brand=shop) == []
    assert reviewer_influence_list(brand=brand_b) == []


def test_it_refuses_a_period_outside_its_bounds(shop):
    with pytest.raises(ValueError, match="days"):
        reviewer_influence_list(brand=shop, days=0)


def test_it_forgets_an_erased_reviewer(beacons, shop, ada, alice):
    from testimonials.privacy.services import testimonial_erase

    _arrive(beacons, "ADAcode1", "203.0.113.1")
    drain()
    assert ReferralDaily.objects.count() == 1
    testimonial_erase(testimonial=ada, actor=alice)
    assert reviewer_influence_list(brand=shop) == []


def test_it_sends_only_the_visible_code_from_embed_js():
    source = EMBED_JS.read_text()
    assert re.search(r"vouch_ref=\(\[\\w-\]\{4,40\}\)", source) and '"arrive"' in source
    assert "document.cookie" not in source and "localStorage" not in source and "sessionStorage" not in source


# --------------------------------------------------------------------------- API and workspace


def _seed(beacons):
    _arrive(beacons, "ADAcode1", "203.0.113.1")
    drain()
    _convert(beacons, "o-1", 25, "203.0.113.1")
    drain()


def test_it_lists_reviewers_in_the_api_for_the_brands_members_only(client, beacons, alice, charlie, ada):
    _seed(beacons)
    client.force_login(alice)
    body = client.get(reverse("api-influence-reviewers") + "?brand=brand-a&days=30").json()
    assert body["brand"] == "brand-a" and body["days"] == 30
    assert body["reviewers"] == [
        {
            "testimonial": ada.public_id,
            "reviewer": "Ada",
            "referral_code": "ADAcode1",
            "shares_clicked": 1,
            "arrivals": 1,
            "conversions": 1,
            "value": "25.00",
        }
    ]
    assert client.get(reverse("api-influence-reviewers") + "?brand=brand-a&days=0").status_code == 400
    client.force_login(charlie)
    assert client.get(reverse("api-influence-reviewers") + "?brand=brand-a").status_code == 404
    assert client.get(reverse("api-influence-reviewers")).json()["reviewers"] == []


def test_it_shows_the_reviewers_table_in_the_workspace(beacons, alice, charlie, ada):
    _seed(beacons)
    page = login(alice).get(reverse("admin:testimonials_testimonial_reviewers"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ada" in html and "25.00" in html and ada.public_id in html
    other = login(charlie).get(reverse("admin:testimonials_testimonial_reviewers")).content.decode()
    assert "Ada" not in other and "No visitor has arrived" in other


def test_it_lets_members_download_the_share_image_and_charlie_gets_404(alice, charlie, shop, ada):
    share_image_sync(testimonial_id=ada.id, public_id=ada.public_id)
    url = reverse("admin:testimonials_testimonial_share_image", args=[ada.pk])
    response = login(alice).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert f'filename="testimonial-{ada.public_id}.png"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert login(charlie).get(url).status_code == 404
    page = login(alice).get(reverse("admin:testimonials_testimonial_change", args=[ada.pk])).content.decode()
    assert url in page and f"/t/{ada.public_id}/" in page
    Testimonial.objects.filter(id=ada.id).update(state=Testimonial.State.PENDING_REVIEW)
    assert login(alice).get(url).status_code == 404


def test_it_puts_the_public_page_in_the_thank_you_share_links_once_published(client, shop, ada):
    shop.website = "https://shop.example.com"
    shop.save()
    page = client.get(reverse("collect-thanks", args=[shop.slug, ada.form.slug]) + "?r=ADAcode1").content.decode()
    assert f"http://testserver/t/{ada.public_id}/?vouch_ref=ADAcode1" in page
    Testimonial.objects.filter(id=ada.id).update(state=Testimonial.State.PENDING_REVIEW)
    page = client.get(reverse("collect-thanks", args=[shop.slug, ada.form.slug]) + "?r=ADAcode1").content.decode()
    assert "https://shop.example.com/?vouch_ref=ADAcode1" in page and "/t/" not in page
