"""The influence read endpoints: the same numbers as the admin's page, brand-scoped keys, strict input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from testimonials.analytics.models import BrandAnalytics
from testimonials.services.api_keys import api_key_create
from tests.analytics.influence_data import DAY, holdout_day, item_day, widget_day
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
RANGE = {"start": (DAY - timedelta(days=6)).isoformat(), "end": DAY.isoformat()}
SUMMARY, LIST = reverse("api-influence-summary"), reverse("api-influence-testimonial-list")


@pytest.fixture
def key_a(alice, brand_a):
    return api_key_create(brand=brand_a, actor=alice, name="BI")[1]


@pytest.fixture
def key_b(charlie, brand_b):
    return api_key_create(brand=brand_b, actor=charlie, name="BI")[1]


@pytest.fixture
def shop(brand_a, form_a):
    BrandAnalytics.objects.create(brand=brand_a, currency="USD")
    widget = WidgetFactory(brand=brand_a, name="Home page")
    ada = TestimonialFactory(brand=brand_a, form=form_a, author_name="Ada")
    ben = TestimonialFactory(brand=brand_a, form=form_a, author_name="Ben")
    widget_day(widget, impressions=5000, visitors=3000, converters=150, conversions_any=160,
               conversions_last=160, value_any=Decimal(4000), value_last=Decimal(4000))  # fmt: skip
    item_day(widget, ada, views=1500, plays=300, completions=120, clicks_share=4, visitors=1000, converters=80,
             conversions_any=85, value_any="2100.50", conversions_last=60, value_last="1500")  # fmt: skip
    item_day(widget, ben, views=120, visitors=100, converters=5, conversions_any=5, conversions_last=2)
    holdout_day(widget, percent=5, shown_visitors=9300, held_visitors=700, shown_converters=500, held_converters=40)
    return widget, ada, ben


def _get(client, url, key, **params):
    return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_it_lists_testimonials_with_their_interval_or_null(client, key_a, shop):
    response = _get(client, LIST, key_a, **RANGE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["brand"] == "brand-a" and body["currency"] == "USD"
    assert body["range"] == {"start": "2026-11-14", "end": "2026-11-20"}
    assert body["attribution"]["window_days"] == 1
    assert "Every testimonial" in body["attribution"]["any_touch"] and "last" in body["attribution"]["last_touch"]
    ada, ben = body["results"]
    assert ada["author_name"] == "Ada" and ada["testimonial"] == shop[1].public_id
    assert (ada["views"], ada["plays"], ada["completions"], ada["clicks"]) == (1500, 300, 120, 4)
    assert ada["completion_rate"] == pytest.approx(0.4)
    assert (ada["conversions_any"], ada["value_any"], ada["conversions_last"]) == (85, "2100.50", 60)
    influence = ada["influence"]
    assert influence["enough_data"] is True
    assert influence["low"] < influence["difference"] < influence["high"]
    assert influence["summary"].endswith("likely better")
    assert (influence["exposed_visitors"], influence["baseline_visitors"]) == (1000, 2000)
    assert ben["influence"]["enough_data"] is False
    assert ben["influence"]["difference"] is None and ben["influence"]["summary"] == "not enough data yet"


def test_it_sorts_the_list(client, key_a, shop):
    names = [r["author_name"] for r in _get(client, LIST, key_a, order="views", **RANGE).json()["results"]]
    assert names == ["Ben", "Ada"]


def test_it_gives_the_funnel_days_and_holdouts(client, key_a, shop):
    body = _get(client, SUMMARY, key_a, **RANGE).json()
    assert body["funnel"] == {
        "impressions": 5000, "views": 1620, "plays": 300, "clicks": 4, "conversions": 160, "value": "4000.00",
    }  # fmt: skip
    assert len(body["days"]) == 7 and body["days"][-1]["day"] == "2026-11-20"
    assert body["days"][-1]["conversions_viewed"] == 62
    (holdout,) = body["holdouts"]
    assert holdout["widget"] == shop[0].public_id and holdout["percent"] == 5
    assert holdout["sample_ratio"]["alarm"] is True
    assert holdout["sample_ratio"]["observed_share"] == pytest.approx(0.07)
    assert holdout["lift"]["enough_data"] is True


def test_it_gives_one_testimonial(client, key_a, shop):
    url = reverse("api-influence-testimonial-detail", args=[shop[1].public_id])
    body = _get(client, url, key_a, **RANGE).json()
    assert body["result"]["views"] == 1500 and body["currency"] == "USD"
    listed = _get(client, LIST, key_a, **RANGE).json()["results"][0]
    assert body["result"]["influence"] == listed["influence"]


def test_it_narrows_to_one_widget(client, key_a, shop, brand_a, form_a):
    other = WidgetFactory(brand=brand_a)
    item_day(other, TestimonialFactory(brand=brand_a, form=form_a, author_name="Cy"), views=3)
    names = {r["author_name"] for r in _get(client, LIST, key_a, widget=other.public_id, **RANGE).json()["results"]}
    assert names == {"Cy"}


def test_charlie_gets_404_for_brand_a_and_sees_none_of_its_numbers(client, key_b, shop):
    widget, ada, _ = shop
    assert _get(client, LIST, key_b, brand="brand-a").status_code == 404
    assert _get(client, SUMMARY, key_b, brand="brand-a").status_code == 404
    assert _get(client, SUMMARY, key_b, widget=widget.public_id).status_code == 404
    detail = reverse("api-influence-testimonial-detail", args=[ada.public_id])
    assert _get(client, detail, key_b).status_code == 404
    own = _get(client, SUMMARY, key_b, **RANGE).json()
    assert own["brand"] == "brand-b" and own["funnel"]["impressions"] == 0 and own["holdouts"] == []
    assert _get(client, LIST, key_b, **RANGE).json()["results"] == []


def test_it_refuses_anonymous_callers(client, shop):
    assert client.get(LIST).status_code in (401, 403)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2026-02-30"}, "start"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"start": "1999-12-31"}, "start"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "non_field_errors"),
        ({"order": "rating"}, "order"),
        ({"widget": "no/such"}, "widget"),
        ({"start": ""}, "start"),
    ],
)
def test_it_says_what_is_wrong_with_the_query(client, key_a, shop, params, field):
    response = _get(client, LIST, key_a, **params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_schema_describes_the_endpoints(client):
    schema = client.get(reverse("api-schema") + "?format=json").json()
    for path in ("", "testimonials/", "testimonials/{public_id}/"):
        assert f"/api/v1/influence/{path}" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/influence/testimonials/"]["get"]["parameters"]}
    assert {"brand", "start", "end", "widget", "order"} <= params
