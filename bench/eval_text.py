"""Evaluate review sentiment (with the customer's stars) and topics against the labelled review sets.

    .venv/bin/python bench/eval_text.py                     # the report (dev and held-out)
    .venv/bin/python bench/eval_text.py --misses dev        # every miss of the dev set (the one to tune on)
    .venv/bin/python bench/eval_text.py --misses held-out   # every held-out miss (to report, never to tune on)

`bench/eval_moderation.py --write` puts this report into docs/quality.md with the rest. Needs no
database: the moderation modules are pure. Every figure is measured in the same run as its
references: plain VADER on the whole text, and the stars alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testimonials.moderation import sentiment, topics  # noqa: E402

DATA = ROOT / "tests" / "data"
# Written before any tuning, and never looked at while tuning: the honest estimate.
REVIEWS_HELD_OUT = DATA / "sentiment_reviews_heldout.jsonl"
# The only review set looked at while tuning.
REVIEWS_DEV = DATA / "sentiment_reviews_dev.jsonl"
# Each kind of business's own topics, as a brand would type them (written with the held-out set).
TOPIC_BRANDS = DATA / "topics_brands.json"
LABELS = (sentiment.POSITIVE, sentiment.NEUTRAL, sentiment.NEGATIVE)


@dataclass(frozen=True)
class Review:
    kind: str
    rating: int | None
    label: str  # what a person reads, stars included; "unscored" for a language Vouch cannot read
    lang: str
    topics: dict[str, str]  # topic code -> polarity
    text: str


def load_reviews(path: Path) -> list[Review]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Review(r["kind"], r["rating"], r["label"], r["lang"], r["topics"], r["text"]) for r in rows]


def load_topic_brands() -> dict[str, topics.Vocabulary]:
    """A vocabulary per kind of business: the built-in topics plus that kind's own."""
    brands = json.loads(TOPIC_BRANDS.read_text(encoding="utf-8"))
    return {
        kind: topics.vocabulary([(topics.topic_code(name), name, terms) for name, terms in own.items()])
        for kind, own in brands.items()
        if not kind.startswith("_")
    }


def stars_label(rating: int | None) -> str | None:
    if rating is None:
        return None
    return sentiment.POSITIVE if rating >= 4 else sentiment.NEGATIVE if rating <= 2 else sentiment.NEUTRAL


def raw_vader_label(text: str) -> str:
    """The reference: plain VADER on the whole text, without Vouch's review rules, splitting or stars."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    global _RAW
    try:
        analyzer = _RAW
    except NameError:
        analyzer = _RAW = SentimentIntensityAnalyzer()
    return sentiment.label_for(analyzer.polarity_scores(text)["compound"])


# --------------------------------------------------------------------------- sentiment


@dataclass
class ReviewReport:
    total: int = 0
    vouch: int = 0  # text and stars (what Vouch stores)
    text_only: int = 0  # Vouch reading the text alone (testimonials without stars)
    raw: int = 0  # plain VADER
    stars: int = 0  # the stars alone, where there are stars
    with_stars: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))  # vouch, text, n
    confusion: Counter = field(default_factory=Counter)  # (want, got) with stars
    misses: list[tuple[Review, sentiment.SentimentResult]] = field(default_factory=list)
    text_misses: list[tuple[Review, sentiment.SentimentResult]] = field(default_factory=list)
    unscored_right: int = 0
    unscored_total: int = 0
    unscored_misses: list[tuple[Review, str]] = field(default_factory=list)


def evaluate_reviews(path: Path) -> ReviewReport:
    report = ReviewReport()
    for review in load_reviews(path):
        reading = sentiment.read(review.text)
        judged = sentiment.judge(reading, review.rating)
        if review.label == sentiment.UNSCORED:
            report.unscored_total += 1
            if judged.label == sentiment.UNSCORED:
                report.unscored_right += 1
            else:
                report.unscored_misses.append((review, judged.label))
            continue
        text_only = sentiment.judge(reading)
        report.total += 1
        report.vouch += judged.label == review.label
        report.text_only += text_only.label == review.label
        report.raw += raw_vader_label(review.text) == review.label
        if review.rating is not None:
            report.with_stars += 1
            report.stars += stars_label(review.rating) == review.label
        kind = report.by_kind[review.kind]
        kind[0] += judged.label == review.label
        kind[1] += text_only.label == review.label
        kind[2] += 1
        report.confusion[(review.label, judged.label)] += 1
        if judged.label != review.label:
            report.misses.append((review, judged))
        if text_only.label != review.label:
            report.text_misses.append((review, text_only))
    return report


# --------------------------------------------------------------------------- topics


@dataclass
class TopicReport:
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0}))
    polarity_right: int = 0
    misses: list[tuple[Review, str, str]] = field(default_factory=list)  # review, code, what

    def total(self, key: str) -> int:
        return sum(c[key] for c in self.counts.values())

    @property
    def precision(self) -> float:
        tp, fp = self.total("tp"), self.total("fp")
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def recall(self) -> float:
        tp, fn = self.total("tp"), self.total("fn")
        return tp / (tp + fn) if tp + fn else 0.0


def evaluate_topics(path: Path) -> TopicReport:
    vocabularies = load_topic_brands()
    report = TopicReport()
    for review in load_reviews(path):
        if review.label == sentiment.UNSCORED:
            continue
        found = {t.code: t for t in topics.find(sentiment.read(review.text), vocabularies[review.kind])}
        for code in sorted(set(found) | set(review.topics)):  # a stable order: the page does not churn
            counts = report.counts[code]
            if code in found and code in review.topics:
                counts["tp"] += 1
                if found[code].polarity == review.topics[code]:
                    report.polarity_right += 1
                else:
                    report.misses.append((review, code, f"read {found[code].polarity}, not {review.topics[code]}"))
            elif code in found:
                counts["fp"] += 1
                report.misses.append((review, code, f"false alarm ({', '.join(found[code].terms)})"))
            else:
                counts["fn"] += 1
                report.misses.append((review, code, "missed"))
    return report


# --------------------------------------------------------------------------- report


def _ratio(right: int, total: int) -> str:
    return f"{right}/{total} ({right / total:.1%})" if total else "n/a"


def _stars(rating: int | None) -> str:
    return f"{rating}\u2605" if rating else "no stars"


def render(dev: ReviewReport, held: ReviewReport, dev_topics: TopicReport, held_topics: TopicReport) -> str:
    out = [
        "### Review sentiment: the held-out set (written before tuning) and the dev set",
        "",
        f"`{REVIEWS_HELD_OUT.relative_to(ROOT)}`: {held.total} English reviews over "
        f"{len(held.by_kind)} kinds of business, and {held.unscored_total} in other languages. "
        "All in one run:",
        "",
        "| set | **Vouch: text and stars** | Vouch: the text alone | plain VADER, whole text | the stars alone |",
        "|---|---|---|---|---|",
    ]
    for name, report in (("held-out", held), ("dev", dev)):
        out.append(
            f"| {name} | **{_ratio(report.vouch, report.total)}** | {_ratio(report.text_only, report.total)} | "
            f"{_ratio(report.raw, report.total)} | {_ratio(report.stars, report.with_stars)} |"
        )
    out += ["", "Held-out, by kind of business:", "", "| kind | text and stars | the text alone |", "|---|---|---|"]
    for kind, (vouch, text, n) in sorted(held.by_kind.items()):
        out.append(f"| {kind} | {_ratio(vouch, n)} | {_ratio(text, n)} |")
    out += [
        "",
        "Held-out confusion, text and stars (rows: our label, columns: Vouch's):",
        "",
        "| | positive | neutral | negative |",
        "|---|---|---|---|",
    ]
    for want in LABELS:
        out.append(f"| {want} | " + " | ".join(str(held.confusion[(want, got)]) for got in LABELS) + " |")
    out += [
        "",
        f"Languages Vouch cannot read, shown as \u201cnot scored\u201d: held-out "
        f"{_ratio(held.unscored_right, held.unscored_total)}, dev {_ratio(dev.unscored_right, dev.unscored_total)}.",
    ]
    for review, got in held.unscored_misses:
        out.append(f"- held-out miss ({review.lang}, scored {got}): {review.text}")
    out += ["", "Every held-out miss of the stored label (text and stars):", ""]
    for review, judged in held.misses:
        out.append(
            f"- want **{review.label}**, got {judged.label} ({review.kind}, {_stars(review.rating)}): "
            f"\u201c{review.text}\u201d. Reason given: {judged.reason}"
        )
    out += [
        "",
        f"<details><summary>Every held-out miss of the text alone ({len(held.text_misses)})</summary>",
        "",
    ]
    for review, judged in held.text_misses:
        score = "n/a" if judged.score is None else f"{judged.score:+.2f}"
        out.append(f"- want {review.label}, read {judged.label} ({score}): \u201c{review.text}\u201d")
    out += ["", "</details>"]
    out += [
        "",
        "### Topics",
        "",
        "A topic counts as found when the review talks about it (built-in topics, plus each kind of "
        "business's own from `tests/data/topics_brands.json`); polarity is checked on the topics found.",
        "",
        "| set | precision | recall | polarity right |",
        "|---|---|---|---|",
    ]
    for name, report in (("held-out", held_topics), ("dev", dev_topics)):
        tp = report.total("tp")
        out.append(
            f"| {name} | {report.precision:.1%} ({tp}/{tp + report.total('fp')}) | "
            f"{report.recall:.1%} ({tp}/{tp + report.total('fn')}) | {_ratio(report.polarity_right, tp)} |"
        )
    out += ["", "Held-out, per topic:", "", "| topic | labelled | found right | false alarms | missed |"]
    out.append("|---|---|---|---|---|")
    for code, c in sorted(held_topics.counts.items()):
        out.append(f"| {code} | {c['tp'] + c['fn']} | {c['tp']} | {c['fp']} | {c['fn']} |")
    out += ["", f"<details><summary>Every held-out topic miss ({len(held_topics.misses)})</summary>", ""]
    for review, code, what in held_topics.misses:
        out.append(f"- {code}, {what}: \u201c{review.text}\u201d")
    out += ["", "</details>"]
    return "\n".join(out)


def evaluate_all() -> tuple[ReviewReport, ReviewReport, TopicReport, TopicReport]:
    return (
        evaluate_reviews(REVIEWS_DEV),
        evaluate_reviews(REVIEWS_HELD_OUT),
        evaluate_topics(REVIEWS_DEV),
        evaluate_topics(REVIEWS_HELD_OUT),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", choices=["dev", "held-out"], help="list every miss of one set")
    args = parser.parse_args()
    dev, held, dev_topics, held_topics = evaluate_all()
    if args.misses:
        report, topic_report = (dev, dev_topics) if args.misses == "dev" else (held, held_topics)
        for review, judged in report.text_misses:
            print(f"[text] want {review.label}, got {judged.label} ({judged.score}): {review.text}")
        for review, judged in report.misses:
            print(f"[text+stars] want {review.label}, got {judged.label} ({_stars(review.rating)}): {review.text}")
        for review, code, what in topic_report.misses:
            print(f"[topic] {code} {what}: {review.text}")
        return
    print(render(dev, held, dev_topics, held_topics))


if __name__ == "__main__":
    main()
