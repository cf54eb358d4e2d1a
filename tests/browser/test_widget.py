"""Widgets in a real browser: every layout embedded in a host page on another origin that tries to
break it with hostile CSS. Sizes, keyboard, dismissal, JSON-LD, isolation and republishing.

The publish task runs in-process here (the service is called directly after the approval), so the
test sees exactly what a worker would publish without waiting for one.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from testimonials.models import Testimonial, Widget
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.browser

# A host page that does its worst to any iframe and element it can reach.
HOSTILE_CSS = """
* { box-sizing: content-box !important; font-size: 31px !important; line-height: 3 !important; }
iframe { display: none !important; width: 5px !important; height: 5px !important; border: 20px solid red !important;
         opacity: 0 !important; visibility: hidden !important; transform: scale(0.1) !important; }
body > * { position: absolute !important; left: -9999px !important; }
body > a, body > p { position: static !important; }
article, blockquote, button { display: none !important; color: red !important; }
"""


class HostPages:
    """A web server on another origin (127.0.0.1, while the live server is localhost) serving host pages."""

    def __init__(self):
        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, vouch: str, widget: Widget, *, above: str = "") -> str:
        self.pages[path] = f"""<!doctype html><html><head><meta charset="utf-8"><title>Host shop</title>
<style>{HOSTILE_CSS}</style></head><body>
<p>Welcome to the shop.</p>{above}<a id="before" href="#top">Before the widget</a>
<script src="{vouch}/embed.js" data-widget="{widget.public_id}" async></script>
<noscript><a href="{vouch}/w/{widget.public_id}/">Read our testimonials</a></noscript>
<p>After the widget.</p></body></html>"""
        return self.origin + path


@pytest.fixture
def host(transactional_db, live_server, settings):
    settings.PUBLIC_URL = live_server.url
    pages = HostPages()
    yield pages
    pages.server.shutdown()


@pytest.fixture
def shop(host, brand_a):
    brand_a.allowed_domains = [host.origin]
    brand_a.save()
    for n, (name, rating) in enumerate([("Amara Okafor", 5), ("Lukas Weber", 4), ("Priya Raman", 5)]):
        TestimonialFactory(
            brand=brand_a,
            author_name=name,
            author_title="Head of Growth" if n == 0 else "",
            author_company="Brightloop" if n == 0 else "",
            author_url="https://brightloop.example.com" if n == 0 else "",
            rating=rating,
            text=f"Review {n + 1}: setting this up took ten minutes and conversions went up within a week.",
            is_verified=n == 0,
            is_incentivised=n == 2,
        )
    return brand_a


def _embed(page, host, live_server, widget, path="/"):
    version = widget_publish(widget_id=widget.id)
    assert version != "missing"
    page.goto(host.add(path, live_server.url, widget))
    iframe = page.locator("iframe[title='Customer testimonials']")
    iframe.wait_for(state="attached")
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe'); return f && f.getBoundingClientRect().height > 20; }"
    )
    frame = iframe.element_handle().content_frame()
    frame.wait_for_load_state()
    return iframe, frame


def _screenshot(target, layout: str) -> None:
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(folder / f"widget-{layout}.png"))


def _fits(frame) -> bool:
    return frame.evaluate(
        """() => { const r = document.documentElement;
                 return r.scrollHeight <= window.innerHeight + 1 && r.scrollWidth <= window.innerWidth + 1; }"""
    )


@pytest.mark.parametrize("layout", [v for v in Widget.Layout.values if v != Widget.Layout.TOAST])
def test_it_shows_each_layout_on_a_hostile_host_page_sized_without_scrollbars(page, host, live_server, shop, layout):
    widget = WidgetFactory(brand=shop, layout=layout, accent_color="#b45309")
    iframe, frame = _embed(page, host, live_server, widget)
    box = iframe.bounding_box()
    assert box["width"] > 600 and box["height"] > 20  # full width, not the host's 5 px
    assert iframe.evaluate("f => getComputedStyle(f).visibility === 'visible' && getComputedStyle(f).opacity === '1'")
    inner = frame.evaluate("() => Math.ceil(document.getElementById('vouch').getBoundingClientRect().height)")
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('iframe').getBoundingClientRect().height - {inner}) <= 1"
    )
    assert _fits(frame)
    visible_text = frame.locator("#vouch").inner_text()
    if layout == Widget.Layout.BADGE:
        assert "4.7" in visible_text and "3 reviews" in visible_text
    elif layout == Widget.Layout.AVATARS:
        assert "Trusted by 3 customers" in visible_text
    else:
        assert "Review 1:" in visible_text or "Review 3:" in visible_text
    _screenshot(iframe, layout)


def test_it_lets_a_keyboard_user_drive_the_carousel(page, host, live_server, shop):
    page.set_viewport_size({"width": 420, "height": 900})  # one card per view (two from 600 px, three from 900)
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.CAROUSEL, order=Widget.Order.NEWEST)
    _iframe, frame = _embed(page, host, live_server, widget)
    current = "() => document.querySelector('.slide.on').getAttribute('aria-label')"
    assert frame.evaluate(current) == "1 of 3"
    page.focus("#before")
    page.keyboard.press("Tab")  # into the widget: the first control
    assert frame.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Previous testimonial"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert frame.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Next testimonial"
    page.keyboard.press("Enter")
    assert frame.evaluate(current) == "2 of 3"
    assert frame.evaluate("() => document.querySelector('.pause').textContent") == "Play"  # stopped for the reader
    assert frame.evaluate("() => document.querySelector('.track').getAttribute('aria-live')") == "polite"
    page.keyboard.press("ArrowRight")
    assert frame.evaluate(current) == "3 of 3"
    page.keyboard.press("ArrowRight")
    assert frame.evaluate(current) == "1 of 3"
    # Hidden slides cannot take focus: the only focusable link is the visible slide's.
    assert frame.evaluate("() => [...document.querySelectorAll('.slide:not(.on) a')].every(a => a.closest('[inert]'))")


def test_it_shows_the_toast_fixed_in_a_corner_and_dismisses_it(page, host, live_server, shop):
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.TOAST)
    iframe, frame = _embed(page, host, live_server, widget)
    assert iframe.evaluate("f => getComputedStyle(f).position") == "fixed"
    box = iframe.bounding_box()
    assert box["x"] < 40 and box["y"] + box["height"] > 850  # bottom-left of a 1280x900 viewport
    assert frame.get_by_role("status").is_visible()
    assert _fits(frame)
    _screenshot(page, "toast")
    frame.get_by_role("button", name="Dismiss").click()
    page.wait_for_function("() => !document.querySelector('iframe')")


def test_it_adds_json_ld_built_from_data_to_the_host_page(page, host, live_server, shop):
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.BADGE, schema_kind="Product", schema_item_name="Beans")
    _embed(page, host, live_server, widget)
    page.wait_for_function("() => document.querySelector('script[type=\"application/ld+json\"]')")
    jsonld = json.loads(page.evaluate("() => document.querySelector('script[type=\"application/ld+json\"]').text"))
    assert jsonld["@type"] == "Product" and jsonld["name"] == "Beans"
    assert jsonld["aggregateRating"]["reviewCount"] == 3
    assert len(jsonld["review"]) == 3


def test_it_keeps_hostile_testimonial_markup_and_forged_messages_away_from_the_host(page, host, live_server, shop):
    TestimonialFactory(
        brand=shop, author_name="<img src=x onerror=top.pwned=1>", text="<img src=x onerror=top.pwned=1>"
    )
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.WALL, order=Widget.Order.NEWEST)
    iframe, frame = _embed(page, host, live_server, widget)
    assert "<img src=x onerror=top.pwned=1>" in frame.locator("#vouch").inner_text()
    assert frame.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    assert frame.evaluate("() => typeof window.pwned") == "undefined"
    # The host page cannot reach into the widget either (another origin).
    assert (
        page.evaluate(
            "() => { try { return !!document.querySelector('iframe').contentDocument; } catch (e) { return false; } }"
        )
        is False
    )
    # A message that is not from the widget's own frame and origin is ignored.
    height = iframe.bounding_box()["height"]
    page.evaluate("id => window.postMessage({type: 'vouch:size', height: 4000, id: id}, '*')", widget.public_id)
    page.evaluate("id => window.postMessage({type: 'vouch:close', id: id}, '*')", widget.public_id)
    page.wait_for_timeout(200)  # give a (wrongly) accepted message the chance to act
    assert page.locator("iframe").count() == 1
    assert abs(iframe.bounding_box()["height"] - height) <= 1


def test_it_refuses_to_be_framed_by_a_site_the_brand_did_not_allow_and_tells_the_brand(
    page, host, live_server, brand_a
):
    from testimonials.models import WidgetBlockedOrigin

    TestimonialFactory(brand=brand_a, text="Only for allowed sites.")
    brand_a.allowed_domains = ["https://shop-a.example.com"]
    brand_a.save()
    widget = WidgetFactory(brand=brand_a)
    version = widget_publish(widget_id=widget.id)
    # The snippet sees the site is not allowed: it loads nothing, takes no room, and reports it.
    page.goto(host.add("/elsewhere", live_server.url, widget))
    page.wait_for_function("() => document.querySelector('iframe')")
    for _ in range(50):
        if WidgetBlockedOrigin.objects.filter(widget=widget, origin=host.origin).exists():
            break
        page.wait_for_timeout(100)
    assert WidgetBlockedOrigin.objects.filter(widget=widget, origin=host.origin).exists()
    assert page.evaluate("() => document.querySelector('iframe').getAttribute('src')") is None
    assert page.evaluate("() => document.querySelector('iframe').getBoundingClientRect().height") <= 1
    # And the document itself refuses to be framed there, whoever frames it (CSP frame-ancestors).
    host.pages["/direct"] = (
        f'<!doctype html><iframe src="{live_server.url}/widgets/{widget.public_id}/{version}.html"></iframe>'
    )
    page.goto(host.origin + "/direct")
    page.wait_for_timeout(500)
    frame = page.locator("iframe").element_handle().content_frame()
    text = frame.evaluate("() => document.body ? document.body.innerText : ''") if frame else ""
    assert "Only for allowed sites." not in text


def test_it_shows_a_newly_approved_testimonial_after_the_publish_task_runs(
    page, host, live_server, shop, alice, fake_broker
):
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.WALL, order=Widget.Order.NEWEST)
    _iframe, frame = _embed(page, host, live_server, widget, path="/before")
    assert "Fresh from the roaster" not in frame.locator("#vouch").inner_text()

    queued = fake_broker.sent["widget_publish_task"]
    item = TestimonialFactory(
        brand=shop, text="Fresh from the roaster, and it shows.", state=Testimonial.State.PENDING_REVIEW
    )
    testimonial_approve(testimonial=item, actor=alice)
    assert queued == [widget.id]
    widget_publish(widget_id=widget.id)  # what the worker's widget_publish_task does

    fresh = page.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _iframe, frame = _embed(fresh, host, live_server, widget, path="/after")
    assert "Fresh from the roaster, and it shows." in frame.locator("#vouch").inner_text()
    fresh.context.close()


def test_it_loads_a_video_only_when_the_visitor_plays_it(page, host, live_server, shop, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from testimonials.models import MediaAsset

    item = TestimonialFactory(brand=shop, author_name="Video Person", text="Watch my story.")
    poster = default_storage.save("renditions/test/poster.jpg", ContentFile(_tiny_jpeg()))
    video = default_storage.save("renditions/test/video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"))
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.VIDEO,
        status=MediaAsset.Status.READY,
        derivatives={
            "poster.jpg": {"path": poster, "width": 64, "height": 36},
            "video.mp4": {"path": video, "width": 64, "height": 36},
        },
    )
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.CARD, order=Widget.Order.NEWEST)
    _iframe, frame = _embed(page, host, live_server, widget)
    frame.locator("button.play img").wait_for()
    assert any(url.endswith("poster.jpg") for url in requested)
    assert not any(url.endswith("video.mp4") for url in requested)
    frame.get_by_role("button", name="Play the video testimonial from Video Person").click()
    frame.locator("video[controls]").wait_for(state="attached")
    page.wait_for_timeout(300)  # let the element start fetching
    assert any(url.endswith("video.mp4") for url in requested)


def test_it_does_not_rotate_the_carousel_for_visitors_who_prefer_reduced_motion(page, host, live_server, shop):
    page.emulate_media(reduced_motion="reduce")
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.CAROUSEL)
    _iframe, frame = _embed(page, host, live_server, widget)
    assert frame.evaluate("() => matchMedia('(prefers-reduced-motion: reduce)').matches")
    assert frame.evaluate("() => document.querySelector('.pause').textContent") == "Play"


def _tiny_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 36), (120, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def test_it_loads_the_document_only_when_the_widget_comes_near_the_viewport(page, host, live_server, shop):
    widget = WidgetFactory(brand=shop, layout=Widget.Layout.WALL)
    widget_publish(widget_id=widget.id)
    documents = []
    page.on("request", lambda request: documents.append(request.url) if request.url.endswith(".html") else None)
    page.goto(host.add("/long", live_server.url, widget, above='<p style="height:5000px">Long story.</p>'))
    page.wait_for_function("() => document.querySelector('iframe')")
    page.wait_for_timeout(500)  # the pointer has arrived; the document must still wait
    assert page.evaluate("() => document.querySelector('iframe').getAttribute('src')") is None
    assert not documents
    page.mouse.wheel(0, 5000)
    page.wait_for_function("() => document.querySelector('iframe').getBoundingClientRect().height > 20")
    assert len(documents) == 1
