"""A rejected or unpublished testimonial leaves the public web as an erased one does: no widget version
(immutable, cached for a year) keeps it on the server, and its photos' and videos' public addresses die."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage

from testimonials.models import MediaAsset, Testimonial
from testimonials.services.decisions import testimonial_reject, testimonial_unpublish
from testimonials.widgets import files
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
TAKE_DOWN = {
    "reject": lambda item, actor: testimonial_reject(testimonial=item, actor=actor, reason="Off-topic"),
    "unpublish": lambda item, actor: testimonial_unpublish(testimonial=item, actor=actor),
}


def _everything_published(widget) -> bytes:
    folder = files.folder(widget.public_id)
    return b"".join(files.read(f"{folder}/{name}") or b"" for name in default_storage.listdir(folder)[1])


@pytest.mark.parametrize("verb", sorted(TAKE_DOWN))
@pytest.mark.parametrize("on_hosted_page_only", [False, True])
def test_it_keeps_no_published_widget_version_that_shows_a_withdrawn_testimonial(
    verb, on_hosted_page_only, brand_a, alice, django_capture_on_commit_callbacks, fake_broker
):
    item = TestimonialFactory(brand=brand_a, author_name="Withdraw Me")
    if on_hosted_page_only:  # newer ones fill the widget; it is only on the hosted wall page
        TestimonialFactory.create_batch(3, brand=brand_a)
    widget = WidgetFactory(brand=brand_a, max_items=2 if on_hosted_page_only else 12)
    widget_publish(widget_id=widget.id)
    assert b"Withdraw Me" in _everything_published(widget)
    with django_capture_on_commit_callbacks(execute=True):
        TAKE_DOWN[verb](item, alice)
    assert fake_broker.sent["widget_publish_task"] == [widget.id]  # the lifecycle republishes it
    widget_publish(widget_id=widget.id)
    assert b"Withdraw Me" not in _everything_published(widget)


@pytest.mark.parametrize("verb", sorted(TAKE_DOWN))
def test_it_takes_a_withdrawn_testimonials_renditions_off_their_public_addresses(
    verb, brand_a, alice, django_capture_on_commit_callbacks, fake_broker
):
    item = TestimonialFactory(brand=brand_a)
    path = default_storage.save("r/unguessable-folder/card.webp", io.BytesIO(b"webp"))
    asset = MediaAsset.objects.create(
        testimonial=item, kind=MediaAsset.Kind.PHOTO, status=MediaAsset.Status.READY,
        derivatives={"card.webp": {"path": path, "width": 640, "height": 480, "bytes": 4}},
    )  # fmt: skip
    untouched = TestimonialFactory(brand=brand_a, state=Testimonial.State.PENDING_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        TAKE_DOWN[verb](item, alice)
        testimonial_reject(testimonial=untouched, actor=alice, reason="Spam")  # never published: nothing to do
    assert not default_storage.exists(path)  # the address a wall showed answers 404 from now on
    asset.refresh_from_db()
    # Made again from the private original under a new unguessable folder, for a later approval.
    assert (asset.status, asset.derivatives) == (MediaAsset.Status.PENDING, {})
    assert fake_broker.sent["media_process_task"] == [asset.id]
