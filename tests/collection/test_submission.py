"""testimonial_submit: what is stored, what is refused, and that nothing accepted is lost."""

import io

import pytest
from django.core.files import File

from testimonials.collection.submission import MediaUpload, SubmissionData, testimonial_submit
from testimonials.errors import ApplicationError
from testimonials.models import FieldMode, MediaAsset, Testimonial

pytestmark = pytest.mark.django_db


def _data(**overrides) -> SubmissionData:
    values = {
        "author_name": "Ada Lovelace",
        "rating": 5,
        "text": "Wonderful product, it changed how we work.",
        "consent_given": True,
        "author_email": "ada@example.com",
    }
    return SubmissionData(**{**values, **overrides})


def test_it_stores_a_submission_as_received_and_enqueues_processing_after_commit(
    form_a, django_capture_on_commit_callbacks, fake_broker
):
    sent = fake_broker.sent["testimonial_process_task"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item = testimonial_submit(form=form_a, data=_data())
    assert item.state == Testimonial.State.RECEIVED
    assert sent == []  # nothing is sent before the row is committed
    for callback in callbacks:
        callback()
    assert sent == [item.id]


def test_it_records_the_exact_consent_text_and_time(form_a):
    form_a.consent_text = "You may show my words on example.com."
    form_a.save()
    item = testimonial_submit(form=form_a, data=_data())
    assert item.consent_given and item.consent_text == "You may show my words on example.com."
    assert item.consented_at is not None
    assert item.events.get().action == "received"


def test_it_refuses_a_submission_without_consent(form_a):
    with pytest.raises(ApplicationError) as err:
        testimonial_submit(form=form_a, data=_data(consent_given=False))
    assert err.value.field == "consent_given"
    assert not Testimonial.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("rating", None), ("text", "")])
def test_it_refuses_a_missing_required_field(form_a, field, value):
    with pytest.raises(ApplicationError) as err:
        testimonial_submit(form=form_a, data=_data(**{field: value}))
    assert err.value.field == field


def test_it_refuses_a_field_the_form_does_not_ask_for(form_a):
    form_a.link_mode = FieldMode.OFF
    form_a.save()
    with pytest.raises(ApplicationError, match="does not ask"):
        testimonial_submit(form=form_a, data=_data(author_url="https://example.com"))


def test_it_refuses_text_shorter_or_longer_than_the_form_allows(form_a):
    form_a.text_min_length, form_a.text_max_length = 20, 40
    form_a.save()
    with pytest.raises(ApplicationError, match="at least 20"):
        testimonial_submit(form=form_a, data=_data(text="Too short."))
    with pytest.raises(ApplicationError, match="under 40"):
        testimonial_submit(form=form_a, data=_data(text="x" * 41))


def test_it_refuses_a_non_https_link(form_a):
    form_a.link_mode = FieldMode.OPTIONAL
    form_a.save()
    with pytest.raises(ApplicationError) as err:
        testimonial_submit(form=form_a, data=_data(author_url="javascript:alert(1)"))
    assert err.value.field == "author_url"


def test_it_refuses_an_inactive_form(form_a):
    form_a.is_active = False
    form_a.save()
    with pytest.raises(ApplicationError, match="no longer accepting"):
        testimonial_submit(form=form_a, data=_data())


def test_it_stores_one_row_for_a_double_submit(form_a):
    first = testimonial_submit(form=form_a, data=_data(submission_key="token-123"))
    second = testimonial_submit(form=form_a, data=_data(submission_key="token-123"))
    assert first.id == second.id
    assert Testimonial.objects.count() == 1


def test_it_badges_submissions_of_an_incentivised_form(form_a):
    form_a.incentive = "A 10% discount code for every review, good or bad."
    form_a.save()
    assert testimonial_submit(form=form_a, data=_data()).is_incentivised


def test_it_stores_media_privately_under_a_server_chosen_name(form_a, settings):
    upload = MediaUpload(
        MediaAsset.Kind.PHOTO, File(io.BytesIO(b"\xff\xd8fake"), name="x.jpg.php"), "x.jpg.php", "image/jpeg"
    )
    item = testimonial_submit(form=form_a, data=_data(media=[upload]))
    asset = item.media.get()
    assert asset.original_name == "x.jpg.php"
    assert "x.jpg" not in asset.original.name and asset.original.name.endswith(".jpg")
    assert str(settings.PRIVATE_MEDIA_ROOT) in asset.original.path
    assert asset.status == MediaAsset.Status.PENDING


def test_it_keeps_the_submission_when_the_broker_is_down(form_a, django_capture_on_commit_callbacks, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("testimonials.processing.tasks.testimonial_process_task.apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        item = testimonial_submit(form=form_a, data=_data())
    assert Testimonial.objects.get(id=item.id).state == Testimonial.State.RECEIVED


def test_it_asks_for_a_required_avatar_in_the_words_the_form_uses(form_a):
    form_a.avatar_mode = FieldMode.REQUIRED
    form_a.save()
    with pytest.raises(ApplicationError) as err:
        testimonial_submit(form=form_a, data=_data())
    assert (err.value.field, err.value.message) == ("avatar", "Please add a picture of yourself.")
