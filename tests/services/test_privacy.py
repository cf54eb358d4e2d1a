"""GDPR erasure and export: nothing of the customer is left behind, nothing of others is given."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from testimonials.collection.submission import MediaUpload, SubmissionData, testimonial_submit
from testimonials.errors import PermissionDenied
from testimonials.models import AuditEvent, MediaAsset, Testimonial
from testimonials.privacy.services import customer_erase, customer_export, testimonial_erase
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


def _with_media(form):
    upload = MediaUpload(MediaAsset.Kind.PHOTO, ContentFile(b"original-bytes", name="me.jpg"), "me.jpg", "image/jpeg")
    item = testimonial_submit(
        form=form,
        data=SubmissionData(
            author_name="Eve",
            author_email="eve@example.com",
            rating=4,
            text="Good coffee and friendly staff.",
            consent_given=True,
            media=[upload],
        ),
    )
    asset = item.media.get()
    rendition = default_storage.save("renditions/card-abc.webp", io.BytesIO(b"webp"))
    asset.derivatives = {"card.webp": {"path": rendition, "width": 640, "height": 480, "bytes": 4}}
    asset.save()
    return item, asset.original.name, rendition


def test_it_erases_the_row_the_trail_the_original_and_every_rendition(
    alice, form_a, django_capture_on_commit_callbacks, fake_broker
):
    item, original, rendition = _with_media(form_a)
    private = item.media.get().original.storage
    assert private.exists(original) and default_storage.exists(rendition)
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_erase(testimonial=item, actor=alice)
    assert not Testimonial.objects.filter(id=item.id).exists()
    assert not AuditEvent.objects.filter(testimonial_id=item.id).exists()
    assert not private.exists(original) and not default_storage.exists(rendition)


def test_it_republishes_widgets_so_no_published_copy_keeps_an_erased_testimonial(
    alice, brand_a, django_capture_on_commit_callbacks, fake_broker
):
    widget = WidgetFactory(brand=brand_a)
    sent = fake_broker.sent["widget_publish_task"]
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_erase(testimonial=TestimonialFactory(brand=brand_a), actor=alice)
    assert sent == [widget.id]


def test_it_erases_only_that_customers_testimonials_of_that_brand(alice, brand_a, brand_b):
    TestimonialFactory(brand=brand_a, author_email="eve@example.com")
    TestimonialFactory(brand=brand_a, author_email="EVE@example.com")
    kept = [
        TestimonialFactory(brand=brand_a, author_email="other@example.com"),
        TestimonialFactory(brand=brand_b, author_email="eve@example.com"),
    ]
    assert customer_erase(brand=brand_a, email="eve@example.com", actor=alice) == 2
    assert sorted(Testimonial.objects.values_list("id", flat=True)) == sorted(t.id for t in kept)


def test_it_exports_everything_about_a_customer_including_consent(alice, form_a):
    item, _, _ = _with_media(form_a)
    data = customer_export(brand=form_a.brand, email="eve@example.com", actor=alice)
    (exported,) = data["testimonials"]
    assert exported["id"] == item.public_id and exported["text"] == "Good coffee and friendly staff."
    assert exported["consent"]["given"] and exported["consent"]["text"] == form_a.consent_text
    assert exported["media"] == [{"kind": "photo", "file_name": "me.jpg", "status": "pending"}]
    assert exported["history"][0]["action"] == "received"
    # What Vouch read in the text is the customer's data too.
    assert set(exported["sentiment"]) == {"label", "reason"} and exported["topics"] == []


def test_it_refuses_other_brands_and_viewers(charlie, victor, brand_a):
    item = TestimonialFactory(brand=brand_a, author_email="eve@example.com")
    for outsider in (charlie, victor):
        with pytest.raises(PermissionDenied):
            testimonial_erase(testimonial=item, actor=outsider)
        with pytest.raises(PermissionDenied):
            customer_export(brand=brand_a, email="eve@example.com", actor=outsider)
    assert Testimonial.objects.filter(id=item.id).exists()


def test_it_answers_a_request_from_the_command_line(alice, brand_a, capsys):
    import json

    from django.core.management import call_command

    TestimonialFactory(brand=brand_a, author_email="eve@example.com", text="Lovely.")
    call_command("customer_data", "export", brand="brand-a", email="eve@example.com", as_user="alice")
    assert json.loads(capsys.readouterr().out)["testimonials"][0]["text"] == "Lovely."
    call_command("customer_data", "erase", brand="brand-a", email="eve@example.com", as_user="alice", yes=True)
    assert not Testimonial.objects.filter(brand=brand_a).exists()
