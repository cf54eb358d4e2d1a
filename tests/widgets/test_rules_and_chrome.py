"""What a widget shows and how it labels it: the minimum-rating rule is a labelled selection that never
touches a rating summary; clamped text; letters-only initials; a light default; blocked-site reports."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache

from testimonials.models import Testimonial, Widget, WidgetBlockedOrigin
from testimonials.selectors import rating_summary_for_brand, widget_list_blocked_origins
from testimonials.widgets.models import BLOCKED_ORIGINS_KEPT
from testimonials.widgets.render import initials, widget_data, widget_render
from tests.factories import TagFactory, TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(brand_a, form_a):
    for rating in (5, 5, 4, 3, 1):
        TestimonialFactory(
            brand=brand_a, form=form_a, rating=rating, author_name=f"Rated {rating}", featured=rating == 5
        )
    TestimonialFactory(brand=brand_a, form=form_a, rating=1, state=Testimonial.State.PENDING_REVIEW)
    return brand_a


def test_a_minimum_rating_selects_what_is_shown_and_labels_it_with_the_rule(mixed):
    widget = WidgetFactory(brand=mixed, min_rating=4, order=Widget.Order.NEWEST)
    data = widget_data(widget)
    assert sorted(item["rating"] for item in data["items"]) == [4, 5, 5]
    assert data["widget"]["curated"] is True
    document = widget_render(widget).document
    assert "Selected testimonials · rated 4 stars and up." in document
    assert "The average of 3.2 counts every review: 6 in all." in document


@pytest.mark.parametrize(
    "choice",
    [
        dict(zip(("min_rating", "filter_featured", "layout", "order"), combo, strict=True))
        for combo in itertools.product(
            (None, 2, 4, 5),
            (False, True),
            (Widget.Layout.BADGE, Widget.Layout.AVATARS, Widget.Layout.WALL),
            Widget.Order.values,
        )
    ],
    ids=str,
)
def test_no_setting_suppresses_a_low_rating_from_a_rating_summary(mixed, choice):
    """FTC 16 CFR 465: whatever a widget displays, its average and count are every eligible review's."""
    widget = WidgetFactory(brand=mixed, **choice)
    widget.filter_tags.add(TagFactory(brand=mixed))
    expected = rating_summary_for_brand(brand_id=mixed.id)
    assert expected == {"average": 3.2, "count": 6}  # the pending 1-star counts as well
    summary = widget_data(widget)["summary"]
    assert {"average": summary["average"], "count": summary["count"]} == expected


def test_the_badge_counts_reviews_and_the_builder_explains_why_the_avatar_strip_differs(mixed):
    data = widget_data(WidgetFactory(brand=mixed, layout=Widget.Layout.AVATARS))
    assert data["summary"]["count"] == 6 and data["summary"]["customers"] == 5  # rated vs published


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", "AL"),
        ("🌟 Star Fan ☕", "SF"),
        ("123 Go", "G"),
        ("سارة أحمد", "سأ"),
        ("🎉", "?"),
        ("élodie", "É"),
    ],
)
def test_initials_come_from_letters_only(name, expected):
    assert initials(name) == expected


def test_long_text_is_clamped_behind_read_more_and_the_default_theme_is_light(brand_a):
    TestimonialFactory(brand=brand_a, text="Great coffee, long story. " * 80)
    widget = Widget.objects.create(brand=brand_a, name="Defaults")
    assert widget.theme == Widget.Theme.LIGHT
    document = widget_render(widget).document
    assert 'class="more" aria-expanded="false"' in document and ">Read more<" in document
    assert 'class="vouch light l-wall"' in document
    assert "prefers-color-scheme" not in document  # a dark OS no longer darkens a widget on a light site


def test_the_snippet_learns_which_sites_are_allowed_and_whether_to_match_the_host(brand_a, client):
    from testimonials.widgets.files import read_pointer
    from testimonials.widgets.services import widget_publish

    TestimonialFactory(brand=brand_a)
    widget = WidgetFactory(brand=brand_a, theme=Widget.Theme.AUTO, allowed_domains=["http://127.0.0.2:8080"])
    widget_publish(widget_id=widget.id)
    assert read_pointer(widget.public_id)["allow"] == ["http://127.0.0.2:8080"]
    assert read_pointer(widget.public_id)["theme"] == "auto"


def _report(client, widget, origin):
    return client.post(f"/widgets/{widget.public_id}/blocked", data="", content_type="text/plain", HTTP_ORIGIN=origin)


def test_a_report_from_a_site_not_allowed_tells_the_brand_blocked_on_that_site(client, brand_a):
    cache.clear()
    widget = WidgetFactory(brand=brand_a)  # brand A allows https://shop-a.example.com
    response = _report(client, widget, "https://other-shop.example.net")
    assert response.status_code == 204 and response.headers["Access-Control-Allow-Origin"] == "*"
    assert not response.cookies
    assert [row.origin for row in widget_list_blocked_origins(widget=widget)] == ["https://other-shop.example.net"]
    _report(client, widget, "https://other-shop.example.net")  # within the interval: no second write
    assert WidgetBlockedOrigin.objects.get().reports == 1
    _report(client, widget, "https://shop-a.example.com")  # allowed: nothing to tell
    _report(client, widget, "null")
    _report(client, widget, "not an origin")
    assert WidgetBlockedOrigin.objects.count() == 1
    brand_a.allowed_domains = ["https://shop-a.example.com", "https://other-shop.example.net"]
    brand_a.save()
    assert widget_list_blocked_origins(widget=widget) == []  # allowed since: the notice goes


def test_it_keeps_only_the_most_recent_blocked_sites_of_a_widget(client, brand_a):
    cache.clear()
    widget = WidgetFactory(brand=brand_a)
    for n in range(BLOCKED_ORIGINS_KEPT + 5):
        _report(client, widget, f"https://site-{n}.example.net")
    assert WidgetBlockedOrigin.objects.filter(widget=widget).count() == BLOCKED_ORIGINS_KEPT
    assert _report(client, widget, "https://x.example.net").status_code == 204
    assert client.post("/widgets/NoSuchWidget/blocked", HTTP_ORIGIN="https://a.example.com").status_code == 204
    assert client.get(f"/widgets/{widget.public_id}/blocked").status_code == 405


def test_read_more_stays_hidden_until_the_script_finds_text_cut_off(brand_a):
    TestimonialFactory(brand=brand_a, text="Short and sweet.")
    document = widget_render(WidgetFactory(brand=brand_a)).document
    assert ".more[hidden]{display:none}" in document  # `.more{display:block}` would otherwise show it always
    assert 'class="more" aria-expanded="false"' in document and "hidden>" in document.split('class="more"')[1][:300]
