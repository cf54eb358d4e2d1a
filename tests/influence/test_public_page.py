"""The public testimonial page (/t/<public id>/): Open Graph and Twitter tags, the brand's look,
the "leave your own" link, the referral code passed on, and 404 for anything not published."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from testimonials.influence.models import ShareImage
from testimonials.influence.services import share_image_sync
from testimonials.models import Testimonial
from testimonials.privacy.services import testimonial_erase
from testimonials.services.decisions import testimonial_unpublish
from tests.factories import TestimonialFactory
from tests.widgets.conftest import parse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = "https://vouch.example.com"


@pytest.fixture
def item(brand_a):
    brand_a.website = "https://shop.example.com/"
    brand_a.accent_color = "#0f766e"
    brand_a.save()
    return TestimonialFactory(
        brand=brand_a,
        author_name="Ada <b>Lovelace</b>",
        author_email="ada@example.com",
        text="It <script>alert(1)</script> works & ships in a week.",
        rating=4,
        referral_code="ADAREF1",
    )


def _meta(html: str) -> dict[str, str]:
    from html.parser import HTMLParser

    found = {}

    class Meta(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "meta" and ("property" in attrs or "name" in attrs):
                found[attrs.get("property") or attrs.get("name")] = attrs.get("content", "")

    Meta().feed(html)
    return found


def test_it_carries_open_graph_and_twitter_tags_with_the_share_image(client, item):
    assert share_image_sync(testimonial_id=item.id, public_id=item.public_id) == "rendered"
    image = ShareImage.objects.get(testimonial=item)
    response = client.get(reverse("testimonial-public", args=[item.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    meta = _meta(html)
    assert meta["og:title"] == "Ada <b>Lovelace</b> on Brand A"
    assert meta["og:description"] == "It <script>alert(1)</script> works & ships in a week."
    assert meta["og:url"] == f"https://vouch.example.com/t/{item.public_id}/"
    assert meta["og:image"].endswith(image.path) and meta["og:image"].startswith("https://vouch.example.com/")
    assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:image"] == meta["og:image"]
    # Text is escaped: markup shows as letters, never as elements.
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert ("start", "script", ()) not in parse(html).shape
    assert "ada@example.com" not in html and "ADAREF1" not in html
    assert "--accent: #0f766e" in html
    # "Leave your own": the form this testimonial came through.
    assert f"https://vouch.example.com/c/{item.brand.slug}/{item.form.slug}/" in html
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert not response.cookies


def test_it_says_summary_when_no_image_was_rendered_yet(client, item):
    meta = _meta(client.get(f"/t/{item.public_id}/").content.decode())
    assert meta["twitter:card"] == "summary" and "og:image" not in meta


def test_it_passes_the_reviewers_code_on_to_the_brands_site_and_form(client, item):
    html = client.get(f"/t/{item.public_id}/?vouch_ref=ADAREF1").content.decode()
    assert "https://shop.example.com/?vouch_ref=ADAREF1" in html
    assert f"/c/{item.brand.slug}/{item.form.slug}/?vouch_ref=ADAREF1" in html
    # A code that is not this testimonial's is dropped, not echoed.
    other = client.get(f"/t/{item.public_id}/?vouch_ref=FORGED%22%3E").content.decode()
    assert "FORGED" not in other and "vouch_ref" not in other


@pytest.mark.parametrize(
    "state",
    [Testimonial.State.PENDING_REVIEW, Testimonial.State.REJECTED, Testimonial.State.RECEIVED],
)
def test_it_is_404_for_anything_not_published(client, brand_a, state):
    item = TestimonialFactory(brand=brand_a, state=state)
    assert client.get(f"/t/{item.public_id}/").status_code == 404
    assert client.get("/t/doesnotexist/").status_code == 404


def test_it_removes_the_page_and_the_image_when_unpublished_or_erased(
    client, item, alice, fake_broker, django_capture_on_commit_callbacks
):
    share_image_sync(testimonial_id=item.id, public_id=item.public_id)
    path = ShareImage.objects.get(testimonial=item).path
    assert default_storage.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_unpublish(testimonial=item, actor=alice)
    assert client.get(f"/t/{item.public_id}/").status_code == 404
    assert not default_storage.exists(path) and not ShareImage.objects.exists()

    second = TestimonialFactory(brand=item.brand)
    share_image_sync(testimonial_id=second.id, public_id=second.public_id)
    path = ShareImage.objects.get(testimonial=second).path
    public_id = second.public_id
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_erase(testimonial=second, actor=alice)
    assert client.get(f"/t/{public_id}/").status_code == 404
    assert not default_storage.exists(path)
    assert not default_storage.exists(f"share/{public_id}")


def test_it_renders_the_image_when_approved_and_again_when_edited(
    item, alice, fake_broker, django_capture_on_commit_callbacks
):
    from testimonials.services.decisions import testimonial_approve, testimonial_edit

    pending = TestimonialFactory(brand=item.brand, state=Testimonial.State.PENDING_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_approve(testimonial=pending, actor=alice)
    first = ShareImage.objects.get(testimonial=pending)
    assert default_storage.exists(first.path)
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_edit(
            testimonial=pending, actor=alice, public_text="Shorter words now.", highlight="", note="Shortened."
        )
    second = ShareImage.objects.get(testimonial=pending)
    assert second.digest != first.digest
    assert default_storage.exists(second.path) and not default_storage.exists(first.path)


def test_it_redraws_a_brands_images_in_chunks_when_its_look_changes(brand_a, alice, fake_broker, monkeypatch):
    from testimonials.influence import services
    from testimonials.influence.tasks import share_image_brand_refresh_task

    monkeypatch.setattr(services, "BRAND_REFRESH_CHUNK", 2)
    items = TestimonialFactory.create_batch(3, brand=brand_a)
    for item in items:
        share_image_sync(testimonial_id=item.id, public_id=item.public_id)
    before = {i.testimonial_id: i.digest for i in ShareImage.objects.all()}
    brand_a.accent_color = "#ff0000"
    brand_a.save()
    last = share_image_brand_refresh_task(brand_a.id)
    assert last == items[1].id and fake_broker.sent["share_image_brand_refresh_task"] == [brand_a.id]
    assert share_image_brand_refresh_task(brand_a.id, last) is None
    after = {i.testimonial_id: i.digest for i in ShareImage.objects.all()}
    assert set(after) == set(before) and all(after[k] != before[k] for k in after)
