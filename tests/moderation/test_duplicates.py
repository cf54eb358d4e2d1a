"""Near-duplicates: similarity, LSH band fingerprints, and the flag they lead to."""

from __future__ import annotations

from testimonials.moderation import duplicates, rules

ORIGINAL = (
    "Fantastic customer service team, they replaced my broken kettle within two days and kept me updated "
    "the whole time."
)
RETYPED = (
    "fantastic customer service team!! They replaced my broken kettle within THREE days and kept me updated "
    "the whole time"
)
DIFFERENT = "The yoga retreat was exactly what I needed: calm, well organised, and the food was delicious every day."


def test_it_scores_identical_text_1_and_unrelated_text_near_0():
    assert rules.similarity(ORIGINAL, ORIGINAL) == 1.0
    assert rules.similarity(ORIGINAL, DIFFERENT) < 0.2


def test_it_sees_through_case_punctuation_and_a_changed_word():
    assert rules.similarity(ORIGINAL, RETYPED) >= rules.DUPLICATE_AT


def test_it_gives_signed_64_bit_bands_that_are_stable():
    bands = rules.fingerprint(ORIGINAL)
    assert len(bands) == duplicates.BANDS
    assert all(-(2**63) <= band < 2**63 for band in bands)
    assert rules.fingerprint(ORIGINAL) == bands


def test_it_makes_near_duplicates_share_a_band_and_different_texts_not():
    assert set(rules.fingerprint(ORIGINAL)) & set(rules.fingerprint(RETYPED))
    assert not set(rules.fingerprint(ORIGINAL)) & set(rules.fingerprint(DIFFERENT))


def test_it_does_not_fingerprint_short_generic_praise():
    # Many honest customers write exactly this; it is no sign of a fake.
    assert rules.fingerprint("Great product, fast shipping.") == []


def test_it_flags_a_near_duplicate_in_the_same_brand_for_review():
    flag = rules.duplicate_flag(similarity=0.93, same_brand=True)
    assert flag.code == "duplicate"
    assert flag.action == "hold"
    assert "this brand" in flag.reason and "93%" in flag.reason


def test_it_flags_a_copy_sent_to_another_brand_without_saying_where_it_matched():
    flag = rules.duplicate_flag(similarity=0.8, same_brand=False)
    assert flag.action == "hold"
    assert flag.reason == "Appears copied from elsewhere: suspected fake review."
    assert flag.evidence == ()
    assert "brand" not in flag.reason and "80%" not in flag.reason and "identical" not in flag.reason


def test_it_does_not_flag_texts_below_the_threshold():
    assert rules.duplicate_flag(similarity=rules.DUPLICATE_AT - 0.01, same_brand=True) is None
