"""The Influence page, its CSV export and the testimonial page's numbers, per persona."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from testimonials.models import Testimonial
from tests.admin.conftest import login
from tests.analytics.influence_data import DAY, holdout_day, item_day, widget_day
from tests.factories import TestimonialFactory, WidgetFactory

URL = "/admin/testimonials/testimonial/influence/"
EXPORT = "/admin/testimonials/testimonial/influence/export.csv"


@pytest.fixture
def victor_client(victor):
    return login(victor)


RANGE = {"start": (DAY - timedelta(days=6)).isoformat(), "end": DAY.isoformat()}


@pytest.fixture
def shop(brand_a, form_a):
    widget = WidgetFactory(brand=brand_a, name="Home page")
    ada = TestimonialFactory(
        brand=brand_a, form=form_a, author_name="Ada Lovelace", text="=HYPERLINK() saved us a week",
        state=Testimonial.State.APPROVED,
    )  # fmt: skip
    ben = TestimonialFactory(brand=brand_a, form=form_a, author_name="Ben", text="Fine.")
    widget_day(widget, impressions=5000, visitors=3000, converters=150, conversions_any=160,
               conversions_last=160, value_any=Decimal(4000), value_last=Decimal(4000))  # fmt: skip
    item_day(widget, ada, views=1500, plays=300, completions=120, clicks_more=10, visitors=1000, converters=80,
             conversions_any=85, value_any="2100.50", conversions_last=60, value_last="1500")  # fmt: skip
    item_day(widget, ben, views=120, visitors=100, converters=5, conversions_any=5, conversions_last=2)
    holdout_day(widget, percent=5, shown_visitors=9300, held_visitors=700, shown_converters=500, held_converters=40)
    return widget, ada, ben


def test_it_shows_a_brand_its_funnel_charts_table_and_rules(alice_client, shop):
    _widget, _ada, _ben = shop
    response = alice_client.get(URL, RANGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="vouch-chart') == 4  # the funnel and three time series
    assert "Impressions 5,000" in page and "Views 1,620" in page
    assert "Attribution window: 1 day." in page
    assert "any-touch</strong> credits every testimonial" in page and "last-touch</strong> credits only" in page
    assert "Ada Lovelace" in page and "2,100.50 EUR" in page
    assert "95% interval" in page and "likely better" in page
    assert "not enough data yet" in page  # Ben: 100 viewers
    assert "Sample ratio mismatch: 7.0% held out instead of 5%" in page
    assert 'href="/admin/testimonials/testimonial/influence/export.csv?' in page


def test_it_lets_a_viewer_read_it(victor_client, shop):
    response = victor_client.get(URL, RANGE)
    assert response.status_code == 200
    assert "Ada Lovelace" in response.content.decode()


def test_it_shows_charlie_nothing_of_brand_a(charlie_client, shop, brand_a):
    widget, _, _ = shop
    page = charlie_client.get(URL, RANGE)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Ada Lovelace" not in body and "Home page" not in body and "5,000" not in body
    assert charlie_client.get(URL, {"brand": brand_a.id}).status_code == 404
    assert charlie_client.get(URL, {"widget": widget.id}).status_code == 404
    assert charlie_client.get(EXPORT, {"brand": brand_a.id}).status_code == 404
    export = charlie_client.get(EXPORT, RANGE)
    assert export.status_code == 200 and "Ada" not in export.content.decode()


def test_it_sends_anonymous_visitors_to_log_in(client, shop):
    assert client.get(URL).status_code == 302
    assert client.get(EXPORT).status_code == 302


def test_it_sorts_the_table_from_the_column_headings(alice_client, shop):
    page = alice_client.get(URL, {**RANGE, "o": "views"}).content.decode()
    assert page.index(">Ben</a>") < page.index(">Ada Lovelace</a>")
    assert 'aria-sort="ascending"' in page
    page = alice_client.get(URL, {**RANGE, "o": "-views"}).content.decode()
    assert page.index(">Ada Lovelace</a>") < page.index(">Ben</a>")


def test_it_shows_the_last_page_for_a_page_past_it(alice_client, shop):
    page = alice_client.get(URL, {**RANGE, "page": "99"}).content.decode()
    assert ">Ada Lovelace</a>" in page and "95% interval" in page


def test_it_says_what_is_wrong_with_a_bad_range_or_order(alice_client, shop):
    page = alice_client.get(URL, {"start": "2026-02-30", "o": "rating"}).content.decode()
    assert "Give dates as YYYY-MM-DD" in page and "Sort by one of" in page
    refused = alice_client.get(EXPORT, {"start": "nope"})
    assert refused.status_code == 400 and b"YYYY-MM-DD" in refused.content


def test_it_exports_the_table_as_csv(alice_client, shop):
    _widget, ada, _ben = shop
    response = alice_client.get(EXPORT, {**RANGE, "o": "-views"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="influence-20261114-20261120.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["author"] for r in rows] == ["Ada Lovelace", "Ben"]
    first = rows[0]
    assert first["testimonial"] == ada.public_id
    assert first["excerpt"].startswith("'=HYPERLINK()")  # a formula is never run by a spreadsheet
    assert (first["views"], first["conversions_any_touch"], first["value_any_touch"]) == ("1500", "85", "2100.50")
    assert float(first["influence_low_95"]) < float(first["influence_difference"]) < float(first["influence_high_95"])
    assert first["influence"].endswith("likely better")
    assert rows[1]["influence_difference"] == "" and rows[1]["influence"] == "not enough data yet"


def test_the_testimonial_page_shows_its_numbers(alice_client, victor_client, brand_a, form_a):
    widget = WidgetFactory(brand=brand_a)
    ada = TestimonialFactory(brand=brand_a, form=form_a, author_name="Ada")
    today = timezone.localdate()
    widget_day(widget, today, visitors=3000, converters=150)
    item_day(widget, ada, today, views=1500, visitors=1000, converters=80)
    item_day(widget, ada, today - timedelta(days=30), views=999)  # outside the last 30 days
    url = reverse("admin:testimonials_testimonial_change", args=[ada.pk])
    for client in (alice_client, victor_client):
        page = client.get(url).content.decode()
        assert "Influence, last 30 days" in page
        assert "<dt>Views</dt><dd>1,500</dd>" in page
        assert "1,000 visitors viewed it, 80 of them converted; 2,000 saw the same widgets" in page
        assert "95% interval" in page


def test_the_nav_and_the_dashboard_link_to_it(alice_client, shop):
    home = alice_client.get("/admin/").content.decode()
    assert 'href="/admin/testimonials/testimonial/influence/">Influence</a>' in home
    dashboard = alice_client.get(reverse("admin:testimonials_testimonial_dashboard")).content.decode()
    assert "Open the Influence page" in dashboard


def test_it_draws_an_empty_page_for_a_brand_without_traffic(alice_client):
    page = alice_client.get(URL).content.decode()
    assert "No testimonial was seen in this range." in page
    assert "No widget has a holdout in this range." in page


def test_a_superuser_sees_every_brand_and_may_pick_one(shop, brand_b, db):
    from tests.factories import UserFactory

    root = login(UserFactory(username="root", is_superuser=True))
    other = WidgetFactory(brand=brand_b)
    widget_day(other, impressions=777)
    page = root.get(URL, RANGE).content.decode()
    assert "Impressions 5,777" in page
    assert "Impressions 777" in root.get(URL, {**RANGE, "brand": brand_b.id}).content.decode()
