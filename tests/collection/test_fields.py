"""The one description of each customer field drives the form, the submit service and what is exported."""

from __future__ import annotations

import pytest

from testimonials.admin.exports import COLUMNS
from testimonials.api.serializers import TestimonialOutput
from testimonials.collection.fields import FIELDS, TESTIMONIAL_FIELDS, Kind
from testimonials.collection.forms import TestimonialForm
from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.errors import ApplicationError
from testimonials.models import FieldMode

pytestmark = pytest.mark.django_db
MODED = [spec for spec in FIELDS if spec.mode]
VALUES = {Kind.RATING: 5, Kind.URL: "https://example.com", Kind.LONG_TEXT: "A good long testimonial."}


def _only(form, spec, mode):
    """Every field optional but `spec`, which is `mode`."""
    for other in MODED:
        setattr(form, other.mode, FieldMode.OPTIONAL)
    setattr(form, spec.mode, mode)
    form.save()


@pytest.mark.parametrize("spec", MODED, ids=lambda spec: spec.name)
def test_the_form_and_the_service_ask_for_a_required_field_in_the_same_words(form_a, spec):
    _only(form_a, spec, FieldMode.REQUIRED)
    bound = TestimonialForm({"author_name": "Ada", "consent_given": "on"}, collection_form=form_a)
    assert not bound.is_valid()
    assert bound.errors[spec.name] == [spec.required]
    with pytest.raises(ApplicationError) as refused:
        testimonial_submit(form=form_a, data=SubmissionData(author_name="Ada", consent_given=True))
    assert (refused.value.field, refused.value.message) == (spec.name, spec.required)


@pytest.mark.parametrize("spec", [s for s in MODED if s.kind != Kind.MEDIA], ids=lambda spec: spec.name)
def test_a_field_turned_off_is_absent_from_the_form_and_refused_by_the_service(form_a, spec):
    # (A file for a media field the form does not take is refused by the upload handler: test_uploads.py.)
    _only(form_a, spec, FieldMode.OFF)
    assert spec.name not in TestimonialForm(collection_form=form_a).fields
    value = VALUES.get(spec.kind, "name@example.com" if spec.kind == Kind.EMAIL else "Something")
    with pytest.raises(ApplicationError) as refused:
        testimonial_submit(
            form=form_a, data=SubmissionData(author_name="Ada", consent_given=True, **{spec.name: value})
        )
    assert refused.value.field == spec.name
    assert refused.value.message == f"This form does not ask for {spec.noun}."


def test_exports_and_the_api_carry_every_field_a_customer_gives():
    names = [spec.name for spec in TESTIMONIAL_FIELDS]
    assert [c for c in COLUMNS if c in names] == names
    assert set(names) <= set(TestimonialOutput.Meta.fields)
