"""A brand owner's workspace in a real browser, end to end, with screenshots at 1366x900 and 390x844
(var/screenshots/workspace-*.png): build a form and a carousel without code, embed the snippet on
another origin, moderate by keyboard, every page fitting both widths, Arabic right to left.

Publishing is what a worker does after a change; here the test calls the same service in-process
(`widget_publish`) right after saving, as tests/browser/test_widget.py does.
"""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from testimonials.models import CollectionForm, MediaAsset, Membership, Testimonial, Widget
from testimonials.widgets.services import widget_publish
from tests.factories import BrandFactory, CollectionFormFactory, MembershipFactory, TestimonialFactory, UserFactory

pytestmark = pytest.mark.browser
State = Testimonial.State
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


# --------------------------------------------------------------------------- helpers


def shoot(page, name: str) -> None:
    """The page at both widths, whole, into var/screenshots/ (the closing note's before and after)."""
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=str(folder / f"workspace-{name}-{width}.png"), full_page=True)
    page.set_viewport_size(original)


def log_in(page, live_server, username: str = "alice", then: str = "/admin/") -> None:
    page.goto(f"{live_server.url}/admin/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("input[type=submit]")
    page.wait_for_load_state()


def photo(item: Testimonial, colour=(180, 110, 50), size=(1200, 900)) -> None:
    """A ready photo rendition, as the media worker leaves it."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    path = default_storage.save(f"r/test{item.id}/card.jpg", ContentFile(out.getvalue()))
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.PHOTO,
        status=MediaAsset.Status.READY,
        derivatives={"card.jpg": {"path": path, "width": 640, "height": 480}},
    )


class HostSite:
    """A brand's own site on another origin (127.0.0.2, while Vouch is on localhost)."""

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

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.address = f"127.0.0.2:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, snippet: str, *, style: str = "") -> str:
        self.pages[path] = (
            f'<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>Our coffee</title><style>body{{font:16px serif;'
            f"margin:0;padding:16px}}{style}</style></head><body><h1>Our coffee</h1><p>What people say:</p>"
            f"{snippet}<p>Thanks for reading.</p></body></html>"
        )
        return f"http://{self.address}{path}"


@pytest.fixture
def host():
    site = HostSite()
    yield site
    site.server.shutdown()


@pytest.fixture
def shop(transactional_db, live_server, settings):
    settings.PUBLIC_URL = live_server.url
    brand = BrandFactory(name="Tidewater Coffee", slug="tidewater", accent_color="#b45309", allowed_domains=[])
    MembershipFactory(user=UserFactory(username="alice"), brand=brand, role=Membership.Role.OWNER)
    form = CollectionFormFactory(brand=brand, slug="feedback", title="How was your coffee?")
    reviews = [
        ("Amara Okafor", 5, True, True, "The beans arrive two days after roasting and it shows in every cup."),
        ("Lukas Weber", 4, True, True, "Lovely espresso blend. Delivery was quick and the bag reseals well."),
        ("Priya Raman", 5, True, False, "Best decaf I have found. " * 30),
        ("Hannah Kim", 3, True, False, "Good, but the grind was coarser than I asked for."),
        ("Tom Becker", 1, False, False, "Arrived late and nobody told us why."),
    ]
    for name, rating, featured, with_photo, text in reviews:
        item = TestimonialFactory(brand=brand, form=form, author_name=name, rating=rating, featured=featured, text=text)
        if with_photo:
            photo(item, colour=(60 + rating * 30, 90, 40))
    return brand


# --------------------------------------------------------------------------- form builder


def test_a_brand_owner_builds_a_form_with_typed_questions_and_opens_its_public_page(page, live_server, shop):
    log_in(page, live_server, then="/admin/testimonials/collectionform/add/")
    page.goto(f"{live_server.url}/admin/testimonials/collectionform/add/")
    page.fill("#id_title", "After your first order")  # the address follows the title: after-your-first-order
    rows = page.locator(".vouch-questions tr.form-row:not(.empty-form)")
    rows.nth(0).locator("input[name$='-label']").fill("How do you drink it?")
    rows.nth(0).locator("select[name$='-kind']").select_option("choice")
    rows.nth(0).locator("input[name$='-required']").check()
    rows.nth(0).locator("textarea[name$='-choices']").fill("Espresso\nFilter\nCold brew")
    page.locator(".vouch-questions .add-row a").click()
    rows.nth(1).locator("input[name$='-label']").fill("What would you tell a friend?")
    rows.nth(1).locator("select[name$='-kind']").select_option("long_text")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    form = CollectionForm.objects.get(title="After your first order")
    assert [(q.label, q.kind, q.required) for q in form.questions.all()] == [
        ("How do you drink it?", "choice", True),
        ("What would you tell a friend?", "long_text", False),
    ]
    assert page.locator(".vouch-qr svg").count() == 1
    shoot(page, "form-builder")

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open the public page").click()
    public = opened.value
    public.wait_for_load_state()
    assert public.url.endswith(f"/c/tidewater/{form.slug}/")
    question = public.locator(f"#field-answer_{form.questions.first().id}")
    assert "How do you drink it?" in question.inner_text() and question.locator("input[type=radio]").count() == 3
    assert public.get_by_label("What would you tell a friend?").is_visible() or True  # stepped on phones
    public.set_viewport_size({"width": 1366, "height": 900})
    assert public.get_by_label("What would you tell a friend?").is_visible()
    shoot(public, "form-public")


# --------------------------------------------------------------------------- widget builder and embedding


def test_a_brand_owner_builds_a_carousel_previews_it_and_embeds_it_on_their_own_site(browser, live_server, shop, host):
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    log_in(page, live_server, then="/admin/testimonials/widget/add/")
    page.goto(f"{live_server.url}/admin/testimonials/widget/add/")
    page.fill("#id_name", "Home carousel")
    page.get_by_label("Carousel").check()
    page.get_by_label("Featured only").check()
    page.select_option("#id_min_rating", "4")
    page.fill("#id_allowed_domains", host.address)  # typed as a person would: no scheme, no JSON
    # The live preview follows the settings before anything is saved.
    preview = page.frame_locator("iframe[data-preview]")
    preview.locator(".carousel").wait_for()
    preview.get_by_text("Lukas Weber").first.wait_for()
    assert preview.get_by_text("Hannah Kim").count() == 0  # 3 stars: below the rule
    assert "Selected testimonials" in preview.locator(".selected").inner_text()
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    widget = Widget.objects.get(name="Home carousel")
    assert widget.allowed_domains == [f"http://{host.address}"] and shop.allowed_domains == []
    page.get_by_role("button", name="Phone").click()
    shoot(page, "widget-builder")

    with page.expect_response(lambda response: "/copied/" in response.url):
        page.get_by_role("button", name="Copy the snippet").click()
    page.wait_for_selector(".vouch-copy-status:has-text('Copied')")
    snippet = page.evaluate("() => navigator.clipboard.readText()")
    assert f'data-widget="{widget.public_id}"' in snippet
    widget.refresh_from_db()
    assert widget.snippet_copied_at is not None

    assert widget_publish(widget_id=widget.id) not in ("missing", "unchanged")  # what the worker does
    site = context.new_page()
    site.goto(host.add("/", snippet))
    frame_element = site.locator("iframe[title='Customer testimonials']")
    site.wait_for_function("() => document.querySelector('iframe').getBoundingClientRect().height > 100")
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_selector(".carousel .slide")
    names = frame.locator(".name").all_inner_texts()
    assert set(names) == {"Amara Okafor", "Lukas Weber", "Priya Raman"}
    # Only the long review is clamped, behind "Read more".
    assert frame.locator("button.more:visible").count() == 1
    frame.get_by_role("button", name="Read more").click()
    assert frame.get_by_role("button", name="Show less").get_attribute("aria-expanded") == "true"
    frame.wait_for_function(
        "() => [...document.querySelectorAll('img.photo')].filter(i => i.complete && i.naturalWidth > 0).length >= 2"
    )
    shoot(site, "widget-on-host")
    context.close()


# --------------------------------------------------------------------------- moderation by keyboard


def test_a_moderator_decides_five_items_by_keyboard_alone(page, live_server, shop):
    pending = [
        TestimonialFactory(brand=shop, author_name=f"Waiting {n}", state=State.PENDING_REVIEW, text=f"Review {n}.")
        for n in range(5)
    ]
    log_in(page, live_server, then="/admin/testimonials/testimonial/")
    page.goto(f"{live_server.url}/admin/testimonials/testimonial/")
    shoot(page, "queue")
    page.locator("body").focus()
    rows = page.locator("#result_list tbody tr:not(.vouch-leaving)")
    page.keyboard.press("j")
    assert page.locator("tr.vouch-current").count() == 1
    for expected_left in (4, 3):
        page.keyboard.press("a")  # approve, and the next one takes the focus
        page.wait_for_function(f"() => document.querySelectorAll('#result_list tbody tr').length === {expected_left}")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("r")  # reject: the reason box takes the focus
    page.keyboard.type("Spam or advertising")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#result_list tbody tr').length === 2")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('#result_list tbody tr').length === 1")
    page.keyboard.press("r")
    page.keyboard.type("Off-topic: not about this brand")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-caught-up]:not([hidden])")
    assert rows.count() == 0
    states = sorted(Testimonial.objects.filter(id__in=[p.id for p in pending]).values_list("state", flat=True))
    assert states == [State.APPROVED] * 3 + [State.REJECTED] * 2
    reasons = set(Testimonial.objects.filter(state=State.REJECTED, id__in=[p.id for p in pending])
                  .values_list("rejection_reason", flat=True))  # fmt: skip
    assert reasons == {"Spam or advertising", "Off-topic: not about this brand"}
    page.reload()
    assert page.get_by_text("All caught up").is_visible()
    shoot(page, "queue-caught-up")


# --------------------------------------------------------------------------- every screen at both widths


SCREENS = [
    # (path, the primary action that must stay on screen at 390 px)
    ("/", "a.button.primary"),
    ("/admin/", ".vouch-first-run a"),
    ("/admin/testimonials/testimonial/", "button.vouch-approve"),
    ("/admin/testimonials/testimonial/dashboard/", ".vouch-kpi"),
    ("/admin/testimonials/collectionform/{form}/change/", "input[name=_save]"),
    ("/admin/testimonials/widget/{widget}/change/", "input[name=_save]"),
    ("/admin/testimonials/widget/add/", "input[name=_save]"),
    ("/admin/testimonials/testimonial/{item}/change/", ".vouch-decide .vouch-approve"),
    ("/admin/testimonials/brand/{brand}/change/", "input[name=_save]"),
    ("/c/tidewater/feedback/", "[data-submit], [data-step-next]"),
    ("/c/tidewater/feedback/thanks/", ".thanks h1"),
    ("/w/{public_id}/", ".cta"),
]


def test_no_screen_scrolls_sideways_at_1366_and_none_loses_its_primary_action_at_390(page, live_server, shop):
    item = TestimonialFactory(brand=shop, author_name="Needs A Look", state=State.PENDING_REVIEW)
    widget = Widget.objects.create(brand=shop, name="Wall", layout=Widget.Layout.WALL)
    widget_publish(widget_id=widget.id)
    ids = {"form": shop.forms.get(slug="feedback").id, "widget": widget.id, "item": item.id, "brand": shop.id,
           "public_id": widget.public_id}  # fmt: skip
    log_in(page, live_server)
    problems = []
    for path, action in SCREENS:
        url = live_server.url + path.format(**ids)
        for width, height in WIDTHS.values():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(url)
            page.wait_for_load_state("networkidle")
            sideways = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if sideways > 0:
                problems.append(f"{path} at {width}: scrolls sideways by {sideways} px")
            target = page.locator(f"{action} >> visible=true").first
            if not target.count():
                problems.append(f"{path} at {width}: no visible primary action {action!r}")
                continue
            target.scroll_into_view_if_needed(timeout=5000)
            box = target.bounding_box()
            if not target.is_visible() or box is None or box["x"] < 0 or box["x"] + box["width"] > width + 1:
                problems.append(f"{path} at {width}: the primary action {action!r} is off screen ({box})")
        name = path.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "home"
        shoot(page, f"screen-{name}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- Arabic, right to left


def test_arabic_runs_right_to_left_in_the_form_the_widget_and_the_wall(browser, live_server, shop, host):
    shop.allowed_domains = [f"http://{host.address}"]
    shop.save()
    TestimonialFactory(brand=shop, author_name="سارة أحمد", rating=5, featured=True,
                       text="قهوة رائعة وخدمة سريعة. سأطلب مرة أخرى بالتأكيد.")  # fmt: skip
    form = shop.forms.get(slug="feedback")
    form.language = "ar"
    form.save()
    widget = Widget.objects.create(brand=shop, name="عربي", layout=Widget.Layout.CAROUSEL, language="ar")
    widget_publish(widget_id=widget.id)
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()

    page.goto(f"{live_server.url}/c/tidewater/feedback/")
    assert page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert page.get_by_role("button", name="أرسل شهادتي").is_visible()
    text = page.locator("#id_text")
    text.fill("خدمة ممتازة")
    assert text.evaluate("el => getComputedStyle(el).direction") == "rtl"  # dir="auto" on what customers type
    shoot(page, "arabic-form")

    page.goto(
        host.add("/ar", f'<script src="{live_server.url}/embed.js" data-widget="{widget.public_id}" async></script>')
    )
    page.wait_for_function("() => document.querySelector('iframe').getBoundingClientRect().height > 50")
    frame = page.locator("iframe").element_handle().content_frame()
    frame.wait_for_selector(".carousel")
    assert frame.evaluate("() => document.documentElement.dir") == "rtl"
    quote = frame.locator("blockquote", has_text="قهوة رائعة")
    assert quote.evaluate("el => getComputedStyle(el).direction") == "rtl"
    english = frame.locator("blockquote", has_text="The beans arrive")
    assert english.evaluate("el => getComputedStyle(el).direction") == "ltr"  # each text in its own direction
    assert frame.get_by_role("button", name="الشهادة التالية").count() == 1
    shoot(page, "arabic-widget")

    page.goto(f"{live_server.url}/w/{widget.public_id}/")
    assert page.evaluate("() => document.documentElement.dir") == "rtl"
    assert page.get_by_role("link", name="اترك شهادتك").is_visible()
    shoot(page, "arabic-wall")
    page.context.close()


# --------------------------------------------------------------------------- the carousel keeps its height


@pytest.mark.parametrize("width", [390, 1366])
def test_the_carousel_keeps_its_height_within_ten_percent_from_slide_to_slide(browser, live_server, shop, host, width):
    shop.allowed_domains = [f"http://{host.address}"]
    shop.save()
    for n in range(4):
        TestimonialFactory(brand=shop, author_name=f"Short {n}", rating=5, featured=True, text="Great.")
    widget = Widget.objects.create(brand=shop, name="Mixed", layout=Widget.Layout.CAROUSEL, max_items=9)
    widget_publish(widget_id=widget.id)
    page = browser.new_context(viewport={"width": width, "height": 844}, reduced_motion="reduce").new_page()
    page.goto(
        host.add("/mixed", f'<script src="{live_server.url}/embed.js" data-widget="{widget.public_id}" async></script>')
    )
    page.wait_for_function("() => document.querySelector('iframe').getBoundingClientRect().height > 100")
    frame = page.locator("iframe").element_handle().content_frame()
    # Photos load lazily, slide by slide: their box is sized before they arrive (width, height, aspect-ratio),
    # so a photo arriving never changes the height.
    heights = []
    slides = frame.evaluate("() => document.querySelectorAll('.slide').length")
    for _ in range(slides):
        page.wait_for_timeout(250)  # the frame reports its height, the host page applies it
        heights.append(page.evaluate("() => document.querySelector('iframe').getBoundingClientRect().height"))
        frame.get_by_role("button", name="Next testimonial").click()
    assert min(heights) > 100
    assert max(heights) <= min(heights) * 1.10, heights
    photo_box = frame.locator("img.photo").first.bounding_box()
    assert photo_box["height"] < photo_box["width"]  # cropped to a landscape aspect, not 1000 px tall
    if width == 390:
        shoot(page, "carousel-on-host")
    page.context.close()
