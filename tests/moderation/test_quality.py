"""The labelled sets in tests/data/ stay as good as docs/quality.md says (a regression guard, not a tuning aid)."""

from __future__ import annotations

from bench import eval_moderation


def test_it_has_labelled_sets_of_the_promised_size():
    assert len(eval_moderation.load_sentiment()) >= 200
    rows, _ = eval_moderation.load_moderation()
    assert len(rows) >= 150
    kinds = {row.kind for row in eval_moderation.load_sentiment()}
    assert {"negation", "contrast", "emoji", "slang", "mixed"} <= kinds


def test_it_keeps_sentiment_agreement_above_the_documented_floor():
    report = eval_moderation.evaluate_sentiment()
    assert report.agreement >= 0.70
    # Vouch must beat plain whole-text VADER on the half it was not tuned on.
    held_out, raw = report.by_half["held-out"], report.raw_by_half["held-out"]
    assert held_out[0] >= raw[0]


def test_it_keeps_every_flags_precision_and_recall_above_the_documented_floor():
    report = eval_moderation.evaluate_moderation()
    for code in report.counts:
        assert (report.precision(code) or 0) >= 0.8, code
        assert (report.recall(code) or 0) >= 0.8, code
