"""The collection page in a real browser: recording, phones, keyboards, errors, a denied camera."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from testimonials.models import MediaAsset, Testimonial
from tests.browsers import CHROMIUM
from tests.factories import BrandFactory, CollectionFormFactory

pytestmark = pytest.mark.browser

RECORDING_SAMPLE = Path(__file__).resolve().parent.parent / "data" / "media" / "browser-recording.webm"


@pytest.fixture
def collect_form(transactional_db, settings):
    settings.SUBMIT_MIN_SECONDS = 0  # a script fills faster than people; the fill-time rule has its own tests
    cache.clear()
    brand = BrandFactory(name="Demo Coffee Co.", slug="demo", accent_color="#b45309", allowed_domains=[])
    return CollectionFormFactory(brand=brand, slug="feedback", title="How was your coffee?", video_max_seconds=10)


def _open(page, live_server, form):
    page.goto(f"{live_server.url}/c/{form.brand.slug}/{form.slug}/")
    expect(page.get_by_role("heading", name="How was your coffee?")).to_be_visible()


def _star(page, n: int):
    """The star people click or tap: the label of the n-th radio (its name is read out as "n stars")."""
    return page.locator(f"label[for='id_rating_{n - 1}']")


def _next_step(page):
    """On a narrow screen the form goes step by step (rating, words, about you): move on."""
    step = page.locator("[data-step-next]")
    if step.is_visible():
        step.click()


def _fill_basics(page, *, text="Lovely beans and the friendliest baristas in town."):
    _star(page, 4).click()
    _next_step(page)
    page.get_by_label("Your testimonial").fill(text)
    _next_step(page)
    page.get_by_label("Your name").fill("Ana Souza")
    page.get_by_label("I agree that my testimonial").check()


def _wait_for_thanks(page):
    page.wait_for_url("**/thanks/**", timeout=20_000)
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()


def test_it_records_a_three_second_video_and_submits_it(page, live_server, collect_form, settings):
    _open(page, live_server, collect_form)
    _fill_basics(page)
    page.get_by_role("button", name="Record a video").click()
    expect(page.locator("[data-timer]")).to_be_visible(timeout=10_000)  # after the 3-2-1 countdown
    page.wait_for_timeout(3_000)
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator("[data-preview]")).to_be_visible()
    expect(page.get_by_role("button", name="Retake")).to_be_visible()
    expect(page.locator("[data-video] [data-status]")).to_have_text("Your video is ready ✓", timeout=20_000)
    page.get_by_role("button", name="Send my testimonial").click()
    _wait_for_thanks(page)

    item = Testimonial.objects.get()
    asset = MediaAsset.objects.get(testimonial=item)
    assert asset.kind == MediaAsset.Kind.VIDEO
    assert asset.content_type == "video/webm"
    path = Path(settings.PRIVATE_MEDIA_ROOT) / asset.original.name
    assert path.stat().st_size > 10_000  # three seconds of the fake camera, not an empty file
    if os.environ.get("VOUCH_SAVE_RECORDING"):
        # The media issue's tests use a real browser recording; refresh it with VOUCH_SAVE_RECORDING=1.
        RECORDING_SAMPLE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, RECORDING_SAMPLE)


def test_it_fills_and_submits_on_a_phone_sized_screen(browser, live_server, collect_form):
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _open(page, live_server, collect_form)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375  # nothing sticks out sideways
        # One step at a time on a phone: rating, then words, then about you.
        expect(page.locator("[data-steps-progress]")).to_have_text("Step 1 of 3: Your rating")
        _star(page, 5).tap()
        page.get_by_role("button", name="Next").tap()
        page.get_by_label("Your testimonial").fill("Ordered from my phone, arrived the next morning.")
        page.get_by_role("button", name="Next").tap()
        expect(page.locator("[data-steps-progress]")).to_have_text("Step 3 of 3: About you")
        page.get_by_label("Your name").fill("Kai")
        page.get_by_label("I agree that my testimonial").tap()
        page.get_by_role("button", name="Send my testimonial").tap()
        _wait_for_thanks(page)
    finally:
        context.close()
    assert Testimonial.objects.get().rating == 5


def test_it_can_be_filled_and_sent_with_the_keyboard_only(page, live_server, collect_form):
    _open(page, live_server, collect_form)
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # first star
    focused = page.evaluate("document.activeElement.name")
    assert focused == "rating"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # the 3rd star (radio groups move with arrows)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "text"
    page.keyboard.type("Good coffee, slow service on Saturdays.")
    # Tab on through the optional fields to the name, then to the consent box.
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "author_name":
            break
    page.keyboard.type("Sam Keys")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "consent_given":
            break
    # The focused control is visibly marked.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Send my testimonial"
    page.keyboard.press("Enter")
    _wait_for_thanks(page)
    item = Testimonial.objects.get()
    assert (item.rating, item.author_name) == (3, "Sam Keys")


def test_it_keeps_what_was_typed_when_it_shows_an_error(page, live_server, collect_form):
    _open(page, live_server, collect_form)
    _star(page, 2).click()
    page.get_by_label("Your testimonial").fill("Too short")
    page.get_by_label("Your name").fill("Lee")
    page.get_by_label("Your company").fill("Acme & Co")
    page.get_by_label("I agree that my testimonial").check()
    page.get_by_role("button", name="Send my testimonial").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    expect(page.locator("#text-error")).to_have_text("Please write at least 10 characters.")
    expect(page.get_by_label("Your testimonial")).to_have_attribute("aria-describedby", "text-error text-hint")
    expect(page.get_by_label("Your testimonial")).to_have_value("Too short")
    expect(page.get_by_label("Your name")).to_have_value("Lee")
    expect(page.get_by_label("Your company")).to_have_value("Acme & Co")
    assert page.locator("input[name=rating][value='2']").is_checked()
    assert page.get_by_label("I agree that my testimonial").is_checked()
    # Fixing the one field is enough.
    page.get_by_label("Your testimonial").fill("Too short a visit, but a lovely flat white.")
    page.get_by_role("button", name="Send my testimonial").click()
    _wait_for_thanks(page)
    assert Testimonial.objects.get().author_company == "Acme & Co"


def test_it_explains_a_denied_camera_and_offers_the_upload(browser, live_server, collect_form):
    # A second chromium without the fake-UI flag, whose context was never granted the camera: a denial.
    denying = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--use-fake-device-for-media-stream"],
    )
    try:
        page = denying.new_context().new_page()
        _open(page, live_server, collect_form)
        page.get_by_role("button", name="Record a video").click()
        status = page.locator("[data-video] [data-status]")
        expect(status).to_contain_text("Camera access was denied", timeout=10_000)
        expect(status).to_have_attribute("role", "status")
        expect(page.get_by_label("Or upload a video file")).to_be_visible()
        expect(page.get_by_role("button", name="Record a video")).to_be_visible()
    finally:
        denying.close()


def test_it_works_without_javascript(browser, live_server, collect_form):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _open(page, live_server, collect_form)
        expect(page.get_by_role("button", name="Record a video")).to_be_hidden()
        _fill_basics(page)
        page.get_by_role("button", name="Send my testimonial").click()
        _wait_for_thanks(page)
    finally:
        context.close()
    assert Testimonial.objects.count() == 1


def test_it_resumes_a_dropped_video_upload_without_starting_over(page, live_server, collect_form, settings):
    from tests.collection.collect_support import WEBM_HEAD

    payload = WEBM_HEAD + bytes(range(256)) * (5 * 1024 * 4)  # ~5 MB: three chunks of 2 MB
    offsets: list[tuple[str, int]] = []
    dropped = []

    def handle(route):
        request = route.request
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            if offset > 0 and not dropped:
                dropped.append(offset)
                offsets.append(("dropped", offset))
                route.abort("connectionreset")
                return
            offsets.append(("sent", offset))
        route.continue_()

    page.route("**/uploads/**", handle)
    _open(page, live_server, collect_form)
    _fill_basics(page)
    page.get_by_label("Or upload a video file").set_input_files(
        {"name": "holiday.webm", "mimeType": "video/webm", "buffer": payload}
    )
    status = page.locator("[data-video] [data-status]")
    expect(status).to_have_text("Your video is ready ✓", timeout=30_000)
    page.get_by_role("button", name="Send my testimonial").click()
    _wait_for_thanks(page)

    # The chunk lost to the dropped connection was sent again from where it stopped, never from 0.
    sent = [offset for kind, offset in offsets if kind == "sent"]
    assert dropped and sent.count(0) == 1
    assert sent == sorted(sent) and dropped[0] in sent
    asset = MediaAsset.objects.get()
    assert (Path(settings.PRIVATE_MEDIA_ROOT) / asset.original.name).read_bytes() == payload
    assert asset.original_name == "holiday.webm"


@pytest.fixture
def host_site():
    """A brand's web site on another origin, whose page frames the collection form."""
    import http.server
    import threading

    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path.split("?")[0], b"not found")
            self.send_response(200 if self.path.split("?")[0] in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.pages = pages
    server.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


def _frame_page(host_site, form_url: str) -> str:
    host_site.pages["/reviews"] = (
        "<!doctype html><title>Shop</title><h1>Our shop</h1>"
        f'<iframe src="{form_url}?embed=1" title="Leave a review" width="600" height="1400" '
        'allow="camera; microphone"></iframe>'
    ).encode()
    return f"{host_site.origin}/reviews"


def test_it_can_be_filled_and_sent_inside_an_iframe_on_the_brands_site(page, live_server, collect_form, host_site):
    collect_form.brand.allowed_domains = [host_site.origin]
    collect_form.brand.save()
    page.goto(_frame_page(host_site, f"{live_server.url}/c/demo/feedback/"))
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="How was your coffee?")).to_be_visible()
    expect(frame.locator(".brand-bar")).to_have_count(0)  # embedded: no page header of its own
    frame.locator("label[for='id_rating_4']").click()
    frame.get_by_role("button", name="Next").click()  # a 600 px frame goes step by step, as a phone does
    frame.get_by_label("Your testimonial").fill("Found you through your shop page; lovely beans.")
    frame.get_by_role("button", name="Next").click()
    frame.get_by_label("Your name").fill("Iris")
    frame.get_by_label("I agree that my testimonial").check()
    frame.get_by_role("button", name="Send my testimonial").click()
    expect(frame.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    assert Testimonial.objects.get().author_name == "Iris"  # no cookie was needed inside the frame


def test_it_refuses_to_be_framed_by_a_site_the_brand_did_not_allow(page, live_server, collect_form, host_site):
    collect_form.brand.allowed_domains = ["https://shop.example.com"]
    collect_form.brand.save()
    page.goto(_frame_page(host_site, f"{live_server.url}/c/demo/feedback/"))
    page.wait_for_load_state("load")
    frame = page.frames[1]
    assert "How was your coffee?" not in (frame.content() or "")


def test_it_solves_the_optional_proof_of_work_in_the_browser(page, live_server, collect_form, settings, monkeypatch):
    from testimonials.collection import abuse

    settings.CAPTCHA_VERIFIER = "testimonials.collection.abuse.ProofOfWork"
    monkeypatch.setattr(abuse.ProofOfWork, "bits", 12)
    _open(page, live_server, collect_form)
    _fill_basics(page)
    page.get_by_role("button", name="Send my testimonial").click()
    _wait_for_thanks(page)
    assert Testimonial.objects.count() == 1


def test_it_keeps_a_draft_through_a_reload_and_forgets_it_once_sent(page, live_server, collect_form):
    _open(page, live_server, collect_form)
    _fill_basics(page, text="Half-written before my laptop died: the oat latte is superb.")
    page.get_by_label("Your email").fill("ana@example.com")
    page.wait_for_timeout(600)  # the draft is saved a moment after typing stops
    page.reload()
    expect(page.get_by_label("Your testimonial")).to_have_value(
        "Half-written before my laptop died: the oat latte is superb."
    )
    expect(page.get_by_label("Your name")).to_have_value("Ana Souza")
    expect(page.get_by_label("Your email")).to_have_value("")  # never kept in the browser
    assert page.evaluate("Object.keys(sessionStorage).length") == 1
    assert page.evaluate("Object.keys(localStorage).length") == 0
    page.get_by_label("I agree that my testimonial").check()  # consent is given again, not restored
    page.get_by_role("button", name="Send my testimonial").click()
    _wait_for_thanks(page)
    assert page.evaluate("Object.keys(sessionStorage).length") == 0
    _open(page, live_server, collect_form)
    expect(page.get_by_label("Your testimonial")).to_have_value("")


def test_it_keeps_the_page_and_sends_again_while_storage_is_down(page, live_server, collect_form, monkeypatch):
    from testimonials.spool import services as spool

    failures = {"left": 1}
    real_submit = spool.submission_spool

    def storage_down(**kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(28, "No space left on device")
        return real_submit(**kwargs)

    def database_down(**kwargs):
        import django.db

        raise django.db.OperationalError("connection refused")

    monkeypatch.setattr("testimonials.collection.views.testimonial_submit", database_down)
    monkeypatch.setattr(spool, "submission_spool", storage_down)
    _open(page, live_server, collect_form)
    _fill_basics(page, text="Sent while the shop's storage was down, and it still arrived.")
    page.get_by_role("button", name="Send my testimonial").click()
    expect(page.get_by_text("We couldn't save your testimonial just yet.")).to_be_visible()
    _wait_for_thanks(page)  # the second try, five seconds later, went to the spool
    assert spool.pending_count() == 1
