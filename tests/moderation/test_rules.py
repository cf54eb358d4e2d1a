"""One test group per moderation rule: what it catches, what it leaves alone, and the reason it gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from testimonials.moderation import rules
from testimonials.moderation.sentiment import SentimentResult, analyse

NEUTRAL = SentimentResult(0.0, "neutral", "")


def codes(text: str, **kwargs) -> set[str]:
    kwargs.setdefault("rating", 5)
    kwargs.setdefault("sentiment", analyse(text))
    return {f.code for f in rules.check(text=text, **kwargs)}


def flag(text: str, code: str, **kwargs) -> rules.Flag:
    kwargs.setdefault("rating", 5)
    kwargs.setdefault("sentiment", analyse(text))
    return next(f for f in rules.check(text=text, **kwargs) if f.code == code)


def test_it_flags_nothing_on_an_ordinary_testimonial():
    text = "The standing desk arrived in two days and assembly took twenty minutes. Rock solid and quiet motor."
    assert rules.check(text=text, rating=5, sentiment=analyse(text), min_length=10, max_length=2000) == []


# --------------------------------------------------------------------------- profanity and blocklist


def test_it_holds_profanity_and_names_the_word_masked():
    found = flag("Absolute sh1t, broke on day one.", "profanity")
    assert found.action == "hold"
    assert found.reason == 'Contains the profane word "s**t".'
    assert found.evidence == ("sh1t",)


def test_it_holds_words_on_the_brands_blocklist():
    found = flag("Much better than GadgetHub ever was.", "blocklist", blocklist=["gadgethub"])
    assert found.action == "hold"
    assert "gadgethub" in found.reason and "blocklist" in found.reason


def test_it_ignores_another_brands_blocklist_words_when_not_given():
    assert "blocklist" not in codes("Much better than GadgetHub ever was.")


# --------------------------------------------------------------------------- spam signals


def test_it_flags_links_and_bare_domains_but_not_file_names_or_versions():
    assert "link" in codes("More photos at https://photos.example.org/retreat")
    assert "link" in codes("Saw the video on youtube.com, works great.")
    assert "link" in codes("Visit www.easycash.biz now")
    assert "link" not in codes("Works with Node.js and version 2.0, e.g. the sync fix.")
    assert "link" not in codes("Write to jane.doe@example.com for details.")


def test_it_holds_a_spam_phrase_alone_and_rejects_it_with_a_link():
    held = flag("Use my promo code SAVE50 for a discount!", "spam_phrase")
    assert held.action == "hold"
    rejected = flag("Best casino bonus, 200 free spins at luckyspins.xyz", "spam_phrase")
    assert rejected.action == "reject"
    assert "spam" in rejected.reason


def test_it_does_not_call_ordinary_shopping_words_spam():
    assert "spam_phrase" not in codes("Since buying this laptop I can finally work from home. Buy it!")
    assert "spam_phrase" not in codes("Great pricing on the 10-class pass if you buy before the 1st.")


def test_it_flags_runs_of_repeated_characters_and_words():
    assert "repeated_chars" in codes("Amaaaaaaazing!!!!!!!!")
    assert "repeated_chars" in codes("good good good good product")
    assert "repeated_chars" not in codes("Soooo good!!! Wow wow wow, really really nice.")
    assert "repeated_chars" not in codes("Paid 1000000 won for it.")


def test_it_flags_shouting_but_not_a_few_capitals():
    assert "shouting" in codes("DO NOT BUY FROM THIS SELLER. THEY NEVER SHIPPED MY ORDER.")
    assert "shouting" not in codes("OMG I LOVE IT. The teachers are wonderful and so patient with beginners.")
    assert "shouting" not in codes("GREAT!")  # too short to tell


def test_it_flags_keyboard_mashing_but_not_acronyms():
    assert "gibberish" in codes("asdfghjkl qwertyuiop zxcvbnm")
    assert "gibberish" in codes("great product xkcdqz vbnmrt qwrtzp hjklfd")
    assert "gibberish" not in codes("The USB-C hub works with HDMI and NASA-grade cables at 4K.")


# --------------------------------------------------------------------------- personal data


def test_it_flags_emails_including_obfuscated_ones():
    assert flag("Mail me at jane.doe@example.com.", "email").evidence == ("jane.doe@example.com",)
    assert "email" in codes("Write to yogafan (at) example.com to join.")


def test_it_flags_phone_numbers_in_common_formats():
    for text in [
        "Call me on 555-867-5309.",
        "Reach me at +1 (415) 555-0132 please",
        "His number is 07700 900461.",
        "Ring 020 7946 0958 for details",
        "Erreichbar unter +49 30 12345678.",
        "Direct line 415.555.0199.",
    ]:
        assert "phone" in codes(text), text


def test_it_does_not_mistake_dates_prices_and_order_numbers_for_phones():
    text = "Ordered 2024-05-14, order 4471, paid 1,299.00 on 12/03/2024, serial 8841-22, I am 64."
    assert "phone" not in codes(text)


def test_it_redacts_emails_and_phones_from_the_public_text():
    text = "Great! Email jane@example.com or call +44 7700 900123, ask for Mike."
    assert rules.redact(text) == "Great! Email [email removed] or call [phone removed], ask for Mike."


def test_it_leaves_text_without_personal_data_unchanged_when_redacting():
    text = "Paid 129.99 on 2024-05-14 and it works."
    assert rules.redact(text) == text


# --------------------------------------------------------------------------- rating mismatch


def test_it_holds_five_stars_with_clearly_negative_text():
    text = "Terrible quality, it broke after one day and support was useless. Very disappointed."
    found = flag(text, "rating_mismatch", rating=5)
    assert found.action == "hold"
    assert "5 stars" in found.reason


def test_it_never_flags_a_low_rating_whatever_the_text():
    for text in ["Terrible, broke on day one.", "Great, just great. Another broken blender.", "I love it!"]:
        for rating in (1, 2, 3):
            assert "rating_mismatch" not in codes(text, rating=rating)


def test_it_does_not_flag_a_high_rating_with_positive_text():
    assert "rating_mismatch" not in codes("My old kettle was awful. This one is a huge improvement!", rating=5)


# --------------------------------------------------------------------------- length


def test_it_holds_text_outside_the_forms_length_limits():
    assert flag("ok", "too_short", min_length=10).reason == "The text has 2 characters; this form asks for at least 10."
    assert "too_long" in codes("word " * 100, max_length=200)
    assert not codes("Lovely shop, kind staff.", min_length=10, max_length=200) & {"too_short", "too_long"}


def test_it_skips_length_checks_when_no_limits_are_given():
    assert not codes("ok") & {"too_short", "too_long"}


# --------------------------------------------------------------------------- shape and purity


def test_it_serialises_a_flag_for_the_testimonials_json_field():
    found = flag("Absolute sh1t.", "profanity")
    assert found.as_dict() == {
        "code": "profanity",
        "reason": 'Contains the profane word "s**t".',
        "action": "hold",
        "evidence": ["sh1t"],
    }


@given(st.text(max_size=300), st.sampled_from([None, 1, 2, 3, 4, 5]))
def test_it_only_ever_asks_to_hold_or_reject_with_a_reason(text, rating):
    for found in rules.check(text=text, rating=rating, sentiment=NEUTRAL, min_length=5, max_length=200):
        assert found.action in ("hold", "reject")
        assert found.reason.strip()
        assert found.code


def test_it_documents_every_code_it_can_produce():
    text = "Sh1t!!!!!! CALL 555-867-5309 asdfgh qwerty, mail a@example.com, promo code at spam.example.com " * 3
    produced = {f.code for f in rules.check(text=text, rating=5, sentiment=NEUTRAL, blocklist=["call"], max_length=10)}
    assert produced <= rules.CODES
    assert rules.duplicate_flag(similarity=1.0, same_brand=True).code in rules.CODES
