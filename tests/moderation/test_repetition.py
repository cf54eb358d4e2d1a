"""A testimonial that repeats one phrase over most of its length is held for a person, in linear time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from testimonials.models import Testimonial
from testimonials.moderation import rules
from testimonials.moderation.sentiment import SentimentResult
from testimonials.processing import pipeline
from tests.factories import BrandFactory, CollectionFormFactory, TestimonialFactory

PADDED = ("Great coffee. " * 150)[:2000]


@pytest.mark.parametrize(
    "text",
    [
        PADDED,
        "I love it I love it I love it I love it I love it I love it I love it, honestly.",
        "Best shop ever!!! Best shop ever!!! Best shop ever!!! Best shop ever!!! Best shop ever!!!",
    ],
)
def test_it_flags_one_phrase_repeated_over_most_of_the_text(text):
    found = [f for f in rules.check(text=text, rating=5, sentiment=SentimentResult(0.5, "positive", ""))
             if f.code == "repetitive"]  # fmt: skip
    assert len(found) == 1 and found[0].action == rules.HOLD
    assert found[0].evidence[0] in text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "We loved the coffee and the pastries were great. The staff were friendly and the coffee was hot.",
        "Great coffee. Great service. Great prices. Great people. Great place to work from on a Monday.",
        "Good good good.",  # too short to judge (the repeated-word rule looks at these)
    ],
)
def test_it_leaves_honest_repetition_alone(text):
    assert rules.repeated_phrase(text) is None


@given(st.lists(st.sampled_from(["great", "coffee", "the", "staff", "was", "kind", "and", "fast"]), max_size=400))
def test_it_never_fails_on_any_word_sequence(words):
    found = rules.repeated_phrase(" ".join(words))
    assert found is None or 0 < found[1] <= 1


def test_it_handles_a_very_long_adversarial_text():
    # Linear in the number of words (at most eight dictionary passes): 100,000 words stay cheap.
    assert rules.repeated_phrase("buy now " * 50_000) == ("buy now", 1.0)
    assert rules.repeated_phrase(" ".join(f"w{n % 997}x" for n in range(100_000))) is None


@pytest.mark.django_db
def test_the_padded_testimonial_of_the_field_test_waits_for_a_person():
    brand = BrandFactory(slug="auto", auto_approve=True)
    item = TestimonialFactory(
        brand=brand, form=CollectionFormFactory(brand=brand), text=PADDED, state=Testimonial.State.RECEIVED
    )
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == Testimonial.State.PENDING_REVIEW
    assert "repetitive" in {f["code"] for f in item.flags}
