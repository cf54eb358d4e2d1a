"""A brand's own questions: typed, ordered and required, declared through collection/fields.py and
checked by the form and, whatever the caller, by the submission service."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from testimonials.collection.fields import Kind, asked, questions
from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.errors import ApplicationError
from testimonials.models import FieldMode, FormQuestion, Testimonial
from tests.collection.collect_support import _fresh_rate_limits, form_url, valid_post  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def drink(form_a):
    return FormQuestion.objects.create(
        form=form_a, position=0, label="How do you drink it?", kind="choice", required=True, choices="Espresso\nFilter"
    )


@pytest.fixture
def before(form_a):
    return FormQuestion.objects.create(form=form_a, position=1, label="What did you try before us?", kind="long_text")


def test_it_asks_the_brands_questions_right_after_the_text_in_the_brands_order(form_a, drink, before):
    names = [spec.name for spec in asked(form_a)]
    assert names.index("text") + 1 == names.index(f"answer_{drink.id}")
    assert names.index(f"answer_{drink.id}") + 1 == names.index(f"answer_{before.id}")
    drink.position = 5
    drink.save()
    specs = questions(form_a)
    assert [s.label for s in specs] == ["What did you try before us?", "How do you drink it?"]
    assert specs[1].kind == Kind.CHOICE and specs[1].choices == ("Espresso", "Filter")


def test_it_shows_a_choice_question_as_radio_buttons_and_requires_it(client, form_a, drink):
    page = client.get(form_url(form_a)).content.decode()
    assert f'type="radio" name="answer_{drink.id}" value="Espresso"' in page
    response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 400
    assert "Please answer this question." in response.content.decode()
    assert not Testimonial.objects.exists()


def test_it_stores_each_answer_with_the_question_as_it_was_worded(client, form_a, drink, before):
    response = client.post(
        form_url(form_a), valid_post(form_a, **{f"answer_{drink.id}": "Filter", f"answer_{before.id}": "Tea."})
    )
    assert response.status_code == 303
    assert Testimonial.objects.get().answers == [
        {"prompt": "How do you drink it?", "answer": "Filter"},
        {"prompt": "What did you try before us?", "answer": "Tea."},
    ]


def test_it_refuses_an_answer_that_is_not_one_of_the_choices(client, form_a, drink):
    response = client.post(form_url(form_a), valid_post(form_a, **{f"answer_{drink.id}": "Bucket"}))
    assert response.status_code == 400 and not Testimonial.objects.exists()


def _data(answers: dict | None = None) -> SubmissionData:
    return SubmissionData(
        author_name="Ada",
        text="The onboarding call saved us a week.",
        rating=5,
        consent_given=True,
        answers=[{"question": q, "prompt": "?", "answer": a} for q, a in (answers or {}).items()],
    )


def test_the_service_itself_enforces_required_questions_choices_and_yes_no(form_a, drink):
    yes_no = FormQuestion.objects.create(form=form_a, label="Would you recommend us?", kind="yes_no")
    with pytest.raises(ApplicationError) as missing:
        testimonial_submit(form=form_a, data=_data())
    assert missing.value.field == f"answer_{drink.id}"
    with pytest.raises(ApplicationError, match="choices"):
        testimonial_submit(form=form_a, data=_data({drink.id: "Bucket"}))
    with pytest.raises(ApplicationError, match="yes or no"):
        testimonial_submit(form=form_a, data=_data({drink.id: "Filter", yes_no.id: "Maybe"}))
    item = testimonial_submit(form=form_a, data=_data({drink.id: "Filter", yes_no.id: "Yes"}))
    assert all("question" not in answer for answer in item.answers)  # internal ids never leave


def test_it_keeps_an_answer_to_a_question_removed_while_the_page_was_open(form_a):
    gone = FormQuestion.objects.create(form=form_a, label="Old question?")
    data = _data({gone.id: "Kept as written."})
    gone.delete()
    item = testimonial_submit(form=form_a, data=data)
    assert item.answers == [{"prompt": "?", "answer": "Kept as written."}]


def test_a_choice_question_needs_two_choices_and_only_a_choice_question_has_any(form_a):
    with pytest.raises(ValidationError, match="at least two choices"):
        FormQuestion(form=form_a, label="Pick", kind="choice", choices="Only one").full_clean()
    with pytest.raises(ValidationError, match="Only a choice question"):
        FormQuestion(form=form_a, label="Why?", kind="long_text", choices="A\nB").full_clean()


def test_an_optional_question_may_be_left_empty(client, form_a, before):
    assert questions(form_a)[0].preset == FieldMode.OPTIONAL
    assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303
    assert Testimonial.objects.get().answers == []


def test_text_over_the_limit_gets_a_message_with_the_count_never_a_silent_cut(client, form_a):
    page = client.get(form_url(form_a)).content.decode()
    assert ' maxlength="2000"' not in page and 'data-maxlength="2000"' in page  # browsers cut at maxlength
    response = client.post(form_url(form_a), valid_post(form_a, text="Great coffee. " * 150))
    assert response.status_code == 400
    assert "Please keep it under 2000 characters: it has 2099, 99 too many." in response.content.decode()
