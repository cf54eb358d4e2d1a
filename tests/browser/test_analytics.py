"""Analytics in a real browser: a wall on a host page of another origin. The visitor scrolls so that
exactly some cards stay on screen for over a second, plays a video to the end, and converts on a second
page; the recorded events and the attribution match, and no cookie or storage entry exists anywhere."""

from __future__ import annotations

import io
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from testimonials.analytics import keys, selectors
from testimonials.analytics.models import Conversion, DailyRollup, Event
from testimonials.models import MediaAsset, Testimonial, Widget
from testimonials.widgets.services import widget_publish
from tests.analytics.conftest import drain
from tests.factories import TestimonialFactory, WidgetFactory
from tests.workers import wait_until

pytestmark = pytest.mark.browser

# A desktop Chrome: the headless one names itself HeadlessChrome, which the endpoint refuses as a bot.
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
VIEWPORT = {"width": 1280, "height": 700}
STORAGE_ENTRIES = """async () => {
  try { return localStorage.length + sessionStorage.length + (await indexedDB.databases()).length; }
  catch (e) { if (e.name === 'SecurityError') return -1; throw e; }
}"""


class HostSite:
    """The brand's shop on another origin (127.0.0.1; Vouch's live server is localhost)."""

    def __init__(self) -> None:
        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _wav(seconds: float = 1.5) -> bytes:
    """A short silent clip: the video card's media (Debian's chromium plays WAV without extra codecs)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(8000)
        clip.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path, brand_a):
    settings.PUBLIC_URL = live_server.url
    settings.ANALYTICS_BUFFER_URL = f"spool://{tmp_path / 'spool'}"
    selectors.widget_facts_forget()
    keys.forget_current_salt()
    host = HostSite()
    brand_a.allowed_domains = [host.origin]
    brand_a.save()
    yield host
    host.server.shutdown()


@pytest.fixture
def wall(site, brand_a):
    video = TestimonialFactory(brand=brand_a, author_name="Video Person", text="Watch my story.", featured=True)
    clip = default_storage.save("renditions/test/video.wav", ContentFile(_wav()))
    MediaAsset.objects.create(
        testimonial=video, kind=MediaAsset.Kind.VIDEO, status=MediaAsset.Status.READY,
        derivatives={"video.wav": {"path": clip, "width": 64, "height": 36}},
    )  # fmt: skip
    for n in range(8):
        TestimonialFactory(brand=brand_a, author_name=f"Customer {n}", text=f"Review {n}: " + "Lovely service. " * 6)
    widget = WidgetFactory(brand=brand_a, layout=Widget.Layout.WALL, order=Widget.Order.FEATURED, max_items=9)
    assert widget_publish(widget_id=widget.id) != "missing"
    return widget


def _pages(site: HostSite, vouch: str, widget: Widget) -> tuple[str, str]:
    snippet = f'<script src="{vouch}/embed.js" data-widget="{widget.public_id}" async></script>'
    site.pages["/"] = f"""<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body style="margin:0"><div style="height:800px">Our shop</div>{snippet}<div style="height:3000px"></div>
</body></html>"""
    # The thank-you page: the call is queued before embed.js loads, and made twice (a reload, a double
    # tag); this page's own widget sits far below the fold and never loads.
    site.pages["/thanks"] = f"""<!doctype html><html><head><meta charset="utf-8"><title>Thanks</title>
<script>window.vouch = window.vouch || function () {{ (vouch.q = vouch.q || []).push(arguments); }};
vouch('convert', {{value: 49, currency: 'EUR', id: 'order-123'}});
vouch('convert', {{value: 49, currency: 'EUR', id: 'order-123'}});</script></head>
<body><p>Thank you for your order.</p><div style="height:5000px"></div>{snippet}</body></html>"""
    return site.origin + "/", site.origin + "/thanks"


def _visible_fractions(page, frame) -> dict[str, float]:
    """Each card's share on screen, from the host page's viewport and the card's box in the frame."""
    top = page.evaluate("() => document.querySelector('iframe').getBoundingClientRect().top")
    boxes = frame.evaluate(
        """() => [...document.querySelectorAll('[data-t]')].map(c => {
             const r = c.getBoundingClientRect(); return [c.getAttribute('data-t'), r.top, r.bottom]; })"""
    )
    height = page.evaluate("() => window.innerHeight")
    shares = {}
    for public_id, card_top, card_bottom in boxes:
        a, b = top + card_top, top + card_bottom
        shares[public_id] = max(0.0, min(b, height) - max(a, 0)) / (b - a)
    return shares


def _scroll_for_a_clear_split(page, frame, video_id: str) -> dict[str, float]:
    """Scroll until every card is clearly in (>= 70%) or clearly out (<= 30%), with some of each and the
    video card in: no card sits near the 50% line, so which cards count as viewed is certain."""
    for y in range(0, 2400, 20):
        page.evaluate(f"() => window.scrollTo(0, {y})")
        shares = _visible_fractions(page, frame)
        clear = all(s >= 0.7 or s <= 0.3 for s in shares.values())
        inside = [t for t, s in shares.items() if s >= 0.7]
        if clear and video_id in inside and 0 < len(inside) < len(shares):
            return shares
    raise AssertionError("no scroll position splits the cards clearly")


def test_it_records_what_the_visitor_saw_played_and_bought(browser, site, wall, live_server):
    context = browser.new_context(viewport=VIEWPORT, user_agent=UA)
    # Playwright sets navigator.webdriver, which the scripts honour by sending nothing: a person here.
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false})")
    page = context.new_page()
    shop, thanks = _pages(site, live_server.url, wall)
    page.goto(shop)
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe'); return f && f.getBoundingClientRect().height > 100; }"
    )
    frame = page.locator("iframe").element_handle().content_frame()
    frame.wait_for_selector("[data-t]")
    video_id = frame.evaluate("() => document.querySelector('.video').closest('[data-t]').getAttribute('data-t')")

    shares = _scroll_for_a_clear_split(page, frame, video_id)
    page.wait_for_timeout(2600)  # over 1 s for a card, 2 s for the video card
    seen = {t for t, s in shares.items() if s >= 0.7}
    unseen = set(shares) - seen
    frame.locator("button.play").click()
    frame.wait_for_function("() => { const v = document.querySelector('video'); return v && v.ended; }", timeout=15000)
    page.evaluate("() => window.scrollTo(0, 0)")  # the widget leaves the screen
    # Queued events go out every few seconds (frame.js, 4 s); pagehide sends the rest when the visitor
    # leaves, but headless chromium does not reliably deliver a cross-origin frame's pagehide request on a
    # top-level navigation, so the test lets the timer send them.
    page.wait_for_timeout(4500)

    # No cookie and no storage, on the host page or in the widget's document.
    assert context.cookies() == []
    assert all(not origin.get("localStorage") for origin in context.storage_state()["origins"])
    for target in (page, frame):
        # -1: the browser does not even let this document use storage (a third-party frame).
        assert target.evaluate(STORAGE_ENTRIES) in (0, -1)

    page.goto(thanks)  # pagehide: the widget document sends what it still holds
    page.wait_for_timeout(500)
    assert context.cookies() == []
    assert page.evaluate(STORAGE_ENTRIES) == 0
    context.close()

    def settled():
        drain()
        return Conversion.objects.exists() and Event.objects.filter(kind="done").exists()

    wait_until(settled, limit=20, every=0.3)
    drain()
    by_id = dict(Testimonial.objects.filter(brand=wall.brand).values_list("public_id", "id"))
    events = list(Event.objects.values_list("kind", "testimonial_id"))
    kinds = sorted(k for k, _ in events)
    assert kinds.count("imp") == 1
    assert {t for k, t in events if k == "view"} == {by_id[p] for p in seen}
    assert kinds.count("view") == len(seen)
    video = by_id[video_id]
    for kind in ("play", "q25", "q50", "q75", "done"):
        assert [t for k, t in events if k == kind] == [video], kind
    assert kinds.count("convert") == 1

    conversion = Conversion.objects.get()
    assert (conversion.order_id, conversion.value, conversion.currency) == ("order-123", 49, "EUR")
    assert conversion.testimonials_seen == len(seen)
    rows = {r.testimonial_id: r for r in DailyRollup.objects.filter(widget=wall)}
    for public_id in seen:
        assert rows[by_id[public_id]].conversions_any == 1
        assert rows[by_id[public_id]].converters == 1
    for public_id in unseen:
        row = rows.get(by_id[public_id])
        assert row is None or (row.views, row.conversions_any) == (0, 0)
    assert sum(r.conversions_last for t, r in rows.items() if t) == 1
    assert rows[None].impressions == 1 and rows[None].converters == 1


def test_it_sends_nothing_from_an_automated_browser(browser, site, wall, live_server):
    context = browser.new_context(viewport=VIEWPORT, user_agent=UA)  # navigator.webdriver stays true
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    shop, thanks = _pages(site, live_server.url, wall)
    page.goto(shop)
    page.evaluate("() => window.scrollTo(0, 700)")
    page.wait_for_timeout(1500)
    page.goto(thanks)
    page.wait_for_timeout(500)
    context.close()
    assert not [url for url in requests if url.endswith(("/events", "/hello"))]
