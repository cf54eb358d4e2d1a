"""Topics: what a testimonial talks about, with inflection, several-word terms, a brand's own terms and polarity."""

from __future__ import annotations

import pytest

from testimonials.moderation import sentiment, topics
from testimonials.moderation.topics import detect


def codes(text: str, vocab=None) -> dict[str, str]:
    return {t.code: t.polarity for t in detect(text, vocab)}


def test_it_finds_the_built_in_topics_with_their_polarity():
    assert codes("The support team answered within an hour.") == {"support": "positive"}
    assert codes("Delivery was slow and the parcel arrived damaged.") == {"delivery": "negative", "speed": "negative"}
    assert codes("Great value for money.") == {"price": "positive"}
    assert codes("So intuitive and easy to use.") == {"ease_of_use": "positive"}


def test_it_matches_inflected_forms():
    assert "support" in codes("They answered every question and replied to my emails the same day.")
    assert "delivery" in codes("Both deliveries were on time.")


def test_it_matches_terms_of_several_words_in_a_row_only():
    assert "support" in codes("Customer service sorted it out.")
    assert "support" not in codes("The customer is always right; my service was fine.")


def test_a_term_after_our_or_my_is_the_customers_own_side():
    assert "staff" not in codes("Our team loves it.")
    assert "staff" in codes("Their team was lovely.")


def test_it_reads_each_topic_in_its_own_clause():
    found = codes(
        "Great coffee and lovely cakes, but the staff were rude.", topics.vocabulary([("coffee", "Coffee", ["coffee"])])
    )
    assert found["coffee"] == "positive" and found["staff"] == "negative"


def test_a_plain_fact_about_a_topic_takes_the_feeling_of_the_whole_text():
    found = codes("The barista talked me through four single origins. No rush, no snobbery, a joy.")
    assert found["staff"] == "positive"


def test_outcomes_are_results_and_price_moves_are_price():
    assert codes("Our checkout conversion went up noticeably.")["results"] == "positive"
    assert codes("They doubled the price with two weeks' notice.") == {"price": "negative"}
    assert codes("It never arrived.")["delivery"] == "negative"


def test_a_brand_adds_its_own_topics_and_terms_for_built_in_ones():
    vocab = topics.vocabulary(
        [("latte_art", "Latte art", ["latte art", "rosetta"]), ("support", "Support", ["concierge"])]
    )
    found = codes("The rosetta on my flat white was perfect and the concierge was a delight.", vocab)
    assert found == {"latte_art": "positive", "support": "positive"}
    assert vocab.label("latte_art") == "Latte art" and vocab.label("support") == "Support"
    assert "latte_art" not in codes("The rosetta was perfect.")  # only for that brand


def test_no_term_spans_two_sentences():
    assert "support" not in codes("I am a loyal customer. Service? Nothing to say.")


def test_text_it_cannot_read_has_no_topics():
    assert detect("スタッフの対応がとても丁寧で、コーヒーも美味しかったです。") == []


def test_each_topic_comes_with_a_quote_and_the_words_that_named_it():
    [topic] = detect("Setup took five minutes. The onboarding call was excellent.")
    assert topic.code == "onboarding" and topic.terms == ("Setup", "onboarding")
    assert topic.quote == "The onboarding call was excellent."


def test_stored_topics_keep_no_personal_data_in_their_quotes():
    [stored] = topics.as_stored(detect("Support was wonderful, they wrote to ada@example.com."))
    assert stored["code"] == "support" and "ada@example.com" not in stored["quote"]
    assert "[email removed]" in stored["quote"]


def test_a_brands_terms_are_cleaned_and_bounded():
    assert topics.clean_terms(["  latte   art ", "Latte art", "rosettas", "rosetta", ""]) == ["latte art", "rosettas"]
    with pytest.raises(ValueError, match="too long"):
        topics.clean_terms(["one two three four five six"])
    with pytest.raises(ValueError, match="no letters"):
        topics.clean_terms(["!!!"])
    with pytest.raises(ValueError, match="At most"):
        topics.clean_terms([f"term{i}" for i in range(topics.MAX_TERMS_PER_TOPIC + 1)])


def test_a_topic_code_comes_from_its_name():
    assert topics.topic_code("Latte art") == "latte_art"
    assert topics.topic_code("  Café & Crème! ") == "cafe_creme"
    assert topics.topic_code("Ease of use") == "ease_of_use"


def test_a_vocabulary_is_built_once_per_distinct_set_of_terms():
    own = [("coffee", "Coffee", ["coffee"])]
    assert topics.vocabulary(own) is topics.vocabulary(list(own))
    assert topics.vocabulary() is topics.vocabulary([])


def test_find_reads_the_same_text_once_for_sentiment_and_topics():
    reading = sentiment.read("Support was quick. Prices went up again.")
    found = {t.code: t.polarity for t in topics.find(reading)}
    assert found == {"support": "positive", "speed": "positive", "price": "negative"}
