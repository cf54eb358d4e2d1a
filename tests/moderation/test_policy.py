"""The decision: content reasons reject, flags hold, a clean text publishes only if the brand allows it.

FTC 16 CFR 465: a low rating can never hold or reject a testimonial, and no brand can set that up.
"""

from __future__ import annotations

import inspect

from hypothesis import given
from hypothesis import strategies as st

from testimonials.models import Brand
from testimonials.moderation import rules
from testimonials.moderation.rules import Flag, decide
from testimonials.moderation.sentiment import SentimentResult, analyse

PROFANITY = Flag("profanity", 'Contains the profane word "s**t".', "hold", ("shit",))
SPAM = Flag("spam_phrase", "Advertises and gives a link: looks like spam.", "reject", ("promo code",))
MISMATCH = Flag("rating_mismatch", "Rated 5 stars but the text reads clearly negative.", "hold")


def test_it_approves_a_clean_testimonial_when_the_brand_publishes_automatically():
    decision = decide([], auto_approve=True)
    assert decision.state == "approved"
    assert decision.reasons == ["Nothing was flagged and the brand publishes automatically."]


def test_it_holds_a_clean_testimonial_when_the_brand_approves_by_hand():
    decision = decide([], auto_approve=False)
    assert decision.state == "pending_review"
    assert decision.reasons


def test_it_holds_anything_flagged_even_with_auto_approve():
    decision = decide([PROFANITY], auto_approve=True)
    assert decision.state == "pending_review"
    assert decision.reasons == [PROFANITY.reason]


def test_it_rejects_for_a_content_reason_and_lists_every_reason():
    decision = decide([PROFANITY, SPAM], auto_approve=True)
    assert decision.state == "rejected"
    assert decision.reasons == [SPAM.reason, PROFANITY.reason]


def test_it_never_rejects_for_a_rating_flag_even_if_one_asked_to():
    forged = Flag("rating_mismatch", "Rated 5 stars but reads negative.", "reject")
    assert decide([forged], auto_approve=True).state == "pending_review"


def test_it_takes_no_rating_when_deciding():
    assert "rating" not in inspect.signature(decide).parameters


def test_it_gives_brands_no_setting_that_reads_the_rating():
    # "Auto-publish 4-5 stars, hold the rest" cost a retailer 4.2 M USD: it must not be configurable.
    names = [field.name for field in Brand._meta.get_fields()]
    assert not [name for name in names if "rating" in name or "star" in name]


def test_it_decides_the_same_for_one_star_as_for_no_rating():
    for text in ["Terrible, it broke on day one and support was rude.", "Meh.", "Lovely staff, great stay."]:
        mood = analyse(text)
        for auto_approve in (True, False):
            unrated = decide(rules.check(text=text, rating=None, sentiment=mood), auto_approve=auto_approve)
            one_star = decide(rules.check(text=text, rating=1, sentiment=mood), auto_approve=auto_approve)
            assert one_star == unrated


@given(
    st.text(max_size=200),
    st.floats(min_value=-1, max_value=1),
    st.integers(min_value=1, max_value=3),
    st.booleans(),
)
def test_it_never_treats_a_low_rating_more_strictly_than_no_rating(text, score, rating, auto_approve):
    mood = SentimentResult(score, "neutral", "")
    rated = rules.check(text=text, rating=rating, sentiment=mood)
    unrated = rules.check(text=text, rating=None, sentiment=mood)
    assert rated == unrated
    assert decide(rated, auto_approve=auto_approve) == decide(unrated, auto_approve=auto_approve)
