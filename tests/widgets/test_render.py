"""Every layout renders what a visitor should see, and nothing a visitor should not."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from testimonials.models import MediaAsset, Testimonial, Widget
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets.render import safe_url, widget_render
from tests.factories import TestimonialFactory, WidgetFactory
from tests.widgets.conftest import parse

pytestmark = pytest.mark.django_db


def _three(brand):
    now = timezone.now()
    return [
        TestimonialFactory(
            brand=brand,
            author_name=f"Person {n}",
            text=f"Review number {n}.",
            rating=5 - n,
            created_at=now - timezone.timedelta(days=n),
        )
        for n in range(3)
    ]


@pytest.mark.parametrize("layout", Widget.Layout.values)
def test_it_renders_every_layout_as_a_complete_document(brand_a, layout):
    _three(brand_a)
    widget = WidgetFactory(brand=brand_a, layout=layout)
    html = widget_render(widget).document
    doc = parse(html)
    assert html.startswith("<!doctype html>")
    assert f'data-layout="{layout}"' in html
    assert ("start", "script", ("defer", "src")) in doc.shape  # frame.js: sizing, video, carousel
    assert not any(tag[1] == "script" and "src" not in tag[2] for tag in doc.shape if tag[0] == "start")


def test_it_shows_every_selected_testimonial_on_the_wall(brand_a):
    _three(brand_a)
    html = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.WALL)).document
    assert html.count('<article class="card') == 3
    assert all(f"Review number {n}." in html for n in range(3))


def test_it_gives_the_carousel_buttons_a_pause_control_and_slide_labels(brand_a):
    _three(brand_a)
    html = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.CAROUSEL)).document
    assert 'aria-roledescription="carousel"' in html
    for label in ("Previous testimonial", "Next testimonial", "Stop automatic rotation"):
        assert f'aria-label="{label}"' in html
    assert 'aria-label="1 of 3"' in html and 'aria-label="3 of 3"' in html
    # How many slides fit depends on the width: frame.js marks the rest inert in the browser.
    assert html.count('class="slide on"') == 1 and html.count('class="slide"') == 2


def test_it_shows_one_testimonial_on_a_single_card(brand_a):
    _three(brand_a)
    html = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.CARD)).document
    assert html.count('<article class="card') == 1


def test_it_counts_every_eligible_review_in_the_rating_badge_not_only_approved_ones(brand_a):
    TestimonialFactory(brand=brand_a, rating=5)
    TestimonialFactory(brand=brand_a, rating=5)
    TestimonialFactory(brand=brand_a, rating=1, state=Testimonial.State.PENDING_REVIEW)  # held, still counted
    TestimonialFactory(brand=brand_a, rating=1, state=Testimonial.State.REJECTED)  # spam: not a review
    TestimonialFactory(brand=brand_a, rating=None)  # no rating given
    rendered = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.BADGE))
    assert rendered.data["summary"]["count"] == 3
    assert rendered.data["summary"]["average"] == 3.7
    assert '<span class="avg">3.7</span>' in rendered.document
    assert "3 reviews" in rendered.document


def test_it_says_how_many_customers_trust_the_brand_in_the_avatar_strip(brand_a):
    _three(brand_a)
    TestimonialFactory(brand=brand_a, state=Testimonial.State.PENDING_REVIEW)
    html = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.AVATARS)).document
    assert "Trusted by <strong>3</strong> customers" in html
    assert html.count('class="av"') == 3


def test_it_announces_the_toast_politely_and_lets_visitors_dismiss_it(brand_a):
    _three(brand_a)
    html = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.TOAST)).document
    assert 'role="status" aria-live="polite"' in html
    assert 'class="close" aria-label="Dismiss"' in html


@pytest.mark.parametrize(
    ("settings_", "curated"),
    [
        ({"order": Widget.Order.NEWEST}, False),
        ({"order": Widget.Order.FEATURED}, True),
        ({"order": Widget.Order.NEWEST, "filter_featured": True}, True),
        ({"order": Widget.Order.NEWEST, "selection": Widget.Selection.MANUAL}, True),
    ],
)
def test_it_labels_curated_displays_as_selected(brand_a, settings_, curated):
    _three(brand_a)
    html = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.WALL, **settings_)).document
    assert ("Selected testimonials" in html) is curated


def test_it_shows_verified_imported_and_incentivised_badges(brand_a):
    TestimonialFactory(brand=brand_a, is_verified=True, is_incentivised=True, source=Testimonial.Source.IMPORT)
    html = widget_render(WidgetFactory(brand=brand_a)).document
    for label in ("Verified customer", "Imported review", "Incentivised review"):
        assert f"<li>{label}</li>" in html


def test_it_shows_a_video_poster_and_loads_the_mp4_only_when_played(brand_a):
    item = TestimonialFactory(brand=brand_a)
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.VIDEO,
        status=MediaAsset.Status.READY,
        duration_seconds=12.4,
        derivatives={
            "video.mp4": {"path": "renditions/v1/video.mp4", "width": 1280, "height": 720, "bytes": 9},
            "poster.jpg": {"path": "renditions/v1/poster.jpg", "width": 1280, "height": 720, "bytes": 9},
        },
    )
    doc = parse(widget_render(WidgetFactory(brand=brand_a)).document)
    assert "https://vouch.example.com/media/renditions/v1/poster.jpg" in doc.srcs
    assert not any("video.mp4" in src for src in doc.srcs)  # nothing fetches the MP4 before a click
    assert not any(tag[1] == "video" for tag in doc.shape)
    assert ("start", "button", ("aria-label", "class", "data-poster", "data-src", "type")) in doc.shape


def test_it_shows_a_testimonial_without_media_that_is_not_ready(brand_a):
    item = TestimonialFactory(brand=brand_a, text="Still transcoding my video.")
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.VIDEO,
        status=MediaAsset.Status.PROCESSING,
        derivatives={"poster.jpg": {"path": "renditions/v2/poster.jpg", "width": 10, "height": 10}},
    )
    rendered = widget_render(WidgetFactory(brand=brand_a))
    assert "Still transcoding my video." in rendered.document
    assert "poster.jpg" not in rendered.document and "video" not in rendered.data["items"][0]


def test_it_shows_a_ready_photo_and_avatar(brand_a):
    item = TestimonialFactory(brand=brand_a)
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.PHOTO,
        status=MediaAsset.Status.READY,
        derivatives={
            "card.jpg": {"path": "r/p/card.jpg", "width": 640, "height": 480},
            "card.webp": {"path": "r/p/card.webp", "width": 640, "height": 480},
        },
    )
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.AVATAR,
        status=MediaAsset.Status.READY,
        derivatives={"avatar.webp": {"path": "r/a/avatar.webp", "width": 192, "height": 192}},
    )
    doc = parse(widget_render(WidgetFactory(brand=brand_a)).document)
    assert {"https://vouch.example.com/media/r/p/card.webp", "https://vouch.example.com/media/r/a/avatar.webp"} <= set(
        doc.srcs
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://acme.example.com/about", True),
        ("http://acme.example.com", False),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ('https://x.example.com/" onmouseover="alert(1)', False),
        ("//evil.example.com", False),
    ],
)
def test_it_links_customer_urls_only_when_they_are_https(brand_a, given, kept):
    TestimonialFactory(brand=brand_a, author_url=given)
    doc = parse(widget_render(WidgetFactory(brand=brand_a)).document)
    assert doc.hrefs == ([given] if kept else [])
    assert safe_url(given) == (given if kept else "")


def test_it_applies_theme_accent_and_radius(brand_a):
    TestimonialFactory(brand=brand_a)
    widget = WidgetFactory(brand=brand_a, theme=Widget.Theme.DARK, accent_color="#123abc", corner_radius=20)
    html = widget_render(widget).document
    assert 'class="vouch dark l-wall"' in html
    assert "--accent:#123abc;--r:20px" in html


def test_it_never_puts_an_unvalidated_accent_into_css(brand_a):
    TestimonialFactory(brand=brand_a)
    widget = WidgetFactory(brand=brand_a, accent_color="red;}</style><script>alert(1)</script>")
    html = widget_render(widget).document
    assert "<script>alert(1)" not in html and "--accent:#4f46e5" in html


def test_it_uses_the_redacted_text_and_drops_stray_emails(brand_a, alice):
    TestimonialFactory(brand=brand_a, text="Mail me at jo@example.com", public_text="Mail me at [redacted]")
    early = TestimonialFactory(brand=brand_a, text="Write to sam.doe+x@mail.example.org today", state="received")
    testimonial_approve(testimonial=early, actor=alice)  # approved before processing: redacted on approval
    rendered = widget_render(WidgetFactory(brand=brand_a))
    assert "Mail me at [redacted]" in rendered.document
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w", rendered.document)
    assert "Write to [email removed] today" in rendered.document


def test_it_never_publishes_a_phone_number_even_before_processing_redacted_the_text(brand_a, alice):
    from testimonials.widgets.render import public_text
    from tests.factories import TestimonialFactory

    item = TestimonialFactory(brand=brand_a, text="Call me on +1 415 555 0134 or mail ada@example.com.", state="failed")
    item = testimonial_approve(testimonial=item, actor=alice)
    item.refresh_from_db()
    shown = public_text(item)
    assert "555" not in shown and "ada@example.com" not in shown
