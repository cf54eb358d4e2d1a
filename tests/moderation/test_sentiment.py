"""Sentiment: sentence-by-sentence VADER, labels at +-0.05, a quotable highlight, bounded cost."""

from __future__ import annotations

from testimonials.moderation import sentiment
from testimonials.moderation.sentiment import HIGHLIGHT_MAX_CHARS, analyse


def test_it_labels_clear_praise_positive_and_a_complaint_negative():
    assert analyse("Absolutely love this blender, it crushes ice in seconds.").label == "positive"
    assert analyse("Terrible customer service, nobody ever replied to my emails.").label == "negative"


def test_it_labels_a_plain_fact_neutral_with_a_zero_score():
    result = analyse("I ordered the medium size in blue.")
    assert result.label == "neutral"
    assert result.score == 0.0
    assert result.highlight == ""


def test_it_uses_the_documented_thresholds():
    assert sentiment.label_for(0.05) == "positive"
    assert sentiment.label_for(0.0499) == "neutral"
    assert sentiment.label_for(-0.0499) == "neutral"
    assert sentiment.label_for(-0.05) == "negative"


def test_it_reads_review_idioms_the_way_customers_mean_them():
    assert analyse("Don't waste your time with this course.").label == "negative"
    assert analyse("No complaints whatsoever, everything arrived on time.").label == "positive"
    assert analyse("Absolute game changer for my morning routine.").label == "positive"


def test_it_reads_angry_emoji_as_negative():
    assert analyse("Still waiting for my refund 😡").label == "negative"


def test_it_is_not_diluted_by_neutral_sentences():
    alone = analyse("The support team was wonderful.")
    padded = analyse("I ordered on Monday. It came on Thursday. The support team was wonderful.")
    assert padded.score == alone.score


def test_it_picks_the_most_positive_sentence_as_highlight():
    result = analyse("The box was a bit dented. The coffee itself is the best I have ever tasted! I paid by card.")
    assert result.highlight == "The coffee itself is the best I have ever tasted!"


def test_it_cuts_a_long_sentence_to_its_best_clause():
    text = (
        "I have tried many grinders over the years in three different kitchens and with all sorts of beans, "
        "and after a lot of comparing I can honestly say this one is wonderful and a joy to use every morning, "
        "which my partner agrees with."
    )
    result = analyse(text)
    assert 0 < len(result.highlight) <= HIGHLIGHT_MAX_CHARS
    assert "wonderful" in result.highlight
    assert result.highlight[0].isupper()


def test_it_never_quotes_praise_that_a_contrast_takes_back():
    text = (
        "The design looks absolutely great and the colours are lovely and bright in every room of the house, "
        "but it broke after a week and the company ignored every single one of my emails about a replacement."
    )
    assert "great" not in analyse(text).highlight


def test_it_gives_no_highlight_for_a_negative_testimonial():
    result = analyse("The staff were friendly. But the room was dirty, noisy and awful, and we left early.")
    assert result.label == "negative"
    assert result.highlight == ""


def test_it_does_not_quote_a_question():
    assert analyse("Isn't this the best shop ever?").highlight == ""


def test_it_gives_no_score_to_text_in_another_language():
    # VADER reads "die" as death: German text would come out negative for no reason.
    result = analyse("Der Kurs war wunderbar und die Lehrerin hat sich viel Zeit für uns genommen.")
    assert (result.score, result.label, result.highlight) == (0.0, "neutral", "")


def test_it_handles_empty_and_whitespace_text():
    assert analyse("") == sentiment.SentimentResult(0.0, "neutral", "")
    assert analyse("   \n ") == sentiment.SentimentResult(0.0, "neutral", "")


def test_it_caps_and_chunks_huge_text_so_vader_sees_only_bounded_pieces():
    # One 86 K-character "sentence" took VADER 30 s: it must reach VADER capped and cut up.
    text = "good " * 20_000
    pieces = sentiment.sentences(text)
    assert sum(len(p) for p in pieces) <= sentiment.MAX_TEXT_CHARS
    assert max(len(p.split()) for p in pieces) <= sentiment.MAX_CHUNK_WORDS
    assert analyse(text).label == "positive"


def test_it_builds_one_analyzer_per_process():
    assert sentiment._analyzer() is sentiment._analyzer()
