"""The "Best performing (auto)" order in a real browser: a widget on a host page of another origin
orders its cards by the posteriors published in its document, with no request a fixed order
would not make (the draw happens in the widget document; nothing asks Vouch per view)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from testimonials.analytics.models import DailyRollup
from testimonials.models import Widget
from tests.browser.test_widget import _embed, host  # noqa: F401  (host is a fixture)
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.browser


STATIC_READS = {
    "/embed.js",
    "/static/widget/frame.js",
    "/widgets/<id>/index.json",
    "/widgets/<id>/<version>.html",
    "/widgets/<id>/<version>.json",
    # Analytics' beacon (and a holdout's hello): sent by every widget, whatever its order.
    "/widgets/<id>/events",
    "/widgets/<id>/hello",
}
CACHEABLE = {"/embed.js", "/static/widget/frame.js"}
BEACONS = {"/widgets/<id>/events", "/widgets/<id>/hello"}  # sent on timers and page hide, not per order


def _kind(url: str, base: str) -> str:
    path = url[len(base) :].split("?")[0]
    path = re.sub(r"/widgets/[\w-]+/", "/widgets/<id>/", path)
    return re.sub(r"[0-9a-f]{16}", "<version>", path)


def test_it_orders_the_cards_by_the_published_posteriors_without_asking_vouch(page, host, live_server, brand_a):  # noqa: F811
    brand_a.allowed_domains = [host.origin]
    brand_a.save()
    widget = WidgetFactory(brand=brand_a, layout=Widget.Layout.WALL, order=Widget.Order.AUTO, max_items=3)
    # Created best-last, so newest first would show them the other way round.
    rates = [10, 1000, 2000, 3000, 4000]
    items = []
    for n, wins in enumerate(rates):
        item = TestimonialFactory(brand=brand_a, author_name=f"Person {n}", text=f"Card {n} says good things.")
        DailyRollup.objects.create(
            brand=brand_a, widget=widget, testimonial=item, day=timezone.localdate(), views=10000, conversions_last=wins
        )
        items.append(item)
    ranked = [item.author_name for item in sorted(items, key=lambda t: -rates[items.index(t)])]

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.url.startswith(live_server.url) else None)
    _iframe, frame = _embed(page, host, live_server, widget)
    frame.wait_for_function("() => document.querySelectorAll('.wall .card').length === 3")
    shown = frame.evaluate("() => [...document.querySelectorAll('.wall .card .name')].map(n => n.textContent.trim())")
    # The posteriors are sharp (10,000 views each): the draw follows them, except that an exploration
    # share of views puts one random card first. Behind it, the best of the rest in their order.
    assert shown[1:] == [name for name in ranked if name != shown[0]][:2], shown
    assert len(set(shown)) == 3
    auto_requests = {_kind(url, live_server.url) for url in requests}
    # Static reads only (the snippet, the widget script, the pointer, the document and its data), and
    # the analytics beacon any widget sends: nothing asks Vouch for an order.
    assert auto_requests <= STATIC_READS, auto_requests

    # The same widget in a fixed order makes exactly the same kinds of request.
    fixed = WidgetFactory(brand=brand_a, layout=Widget.Layout.WALL, order=Widget.Order.FEATURED, max_items=3)
    requests.clear()
    _iframe, frame = _embed(page, host, live_server, fixed, path="/fixed")
    frame.wait_for_function("() => document.querySelectorAll('.wall .card').length === 3")
    # What is not served from the browser's cache the second time is what a fixed order reads too.
    fixed_requests = {_kind(url, live_server.url) for url in requests}
    assert fixed_requests - CACHEABLE - BEACONS == auto_requests - CACHEABLE - BEACONS
    assert frame.evaluate("() => document.querySelectorAll('[data-a]').length") == 0


@pytest.mark.parametrize("layout", [Widget.Layout.CARD, Widget.Layout.CAROUSEL, Widget.Layout.TOAST])
def test_it_draws_the_auto_order_in_every_layout_that_shows_cards(page, host, live_server, brand_a, layout):  # noqa: F811
    brand_a.allowed_domains = [host.origin]
    brand_a.save()
    widget = WidgetFactory(brand=brand_a, layout=layout, order=Widget.Order.AUTO, max_items=2)
    for n in range(5):
        TestimonialFactory(brand=brand_a, author_name=f"Person {n}", text=f"Card {n} says good things.")
    _iframe, frame = _embed(page, host, live_server, widget)
    if layout == Widget.Layout.CARD:
        # One card shows, the one the draw put first; the rest of the pool stays hidden.
        frame.wait_for_function(
            "() => [...document.querySelectorAll('.one > .card')].filter(c => c.offsetParent).length === 1"
        )
    elif layout == Widget.Layout.CAROUSEL:
        frame.wait_for_function("() => document.querySelectorAll('.track > .slide').length === 2")
        assert frame.evaluate("() => document.querySelector('.slide.on') !== null")
    else:
        assert (
            frame.evaluate("() => [...document.querySelectorAll('.toast > .item')].filter(i => !i.hidden).length") == 1
        )
        assert frame.get_by_role("button", name="Dismiss").is_visible()
