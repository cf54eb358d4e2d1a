"""Texts scored per second: Vouch's sentiment with topics against raw VADER on the same texts, same run.

    .venv/bin/python bench/text_throughput.py                 # 3000 testimonials, 7 alternating rounds
    .venv/bin/python bench/text_throughput.py --count 1000 --rounds 5

Two sets of texts, each scored by both in alternating rounds (so load from other work hits both alike),
timed in CPU time of this process:

1. testimonials of 2-5 sentences, built as bench/pipeline_throughput.py builds them;
2. the labelled reviews of tests/data/ (short: one to three sentences).

Raw VADER and Vouch alternate every 50 texts, so that load from other work falls on both alike.

"raw VADER" is `SentimentIntensityAnalyzer().polarity_scores(text)` on the whole text. "Vouch" is what
the pipeline does per text: `sentiment.read` (language, sentences, review rules, VADER per sentence),
`sentiment.judge` with the stars (label, reason, highlight) and `topics.find` with a brand's own
topics. The ratio (Vouch / raw VADER, target at least 0.5) is the median over rounds. Needs no database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline_throughput import make_texts  # noqa: E402
from testimonials.moderation import language, sentiment, topics  # noqa: E402

DATA = ROOT / "tests" / "data"


def labelled_reviews() -> list[str]:
    return [
        json.loads(line)["text"]
        for name in ("dev", "heldout")
        for line in (DATA / f"sentiment_reviews_{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def measure(texts: list[str], rounds: int) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    raw = SentimentIntensityAnalyzer()
    vocabulary = topics.vocabulary([("coffee", "Coffee", ("coffee", "espresso", "latte", "flat white"))])
    sentiment.analyse("warm up", rating=5)  # build the analyzer and rules once, as a worker does

    def run_raw(chunk: list[str]) -> None:
        for text in chunk:
            raw.polarity_scores(text)

    def run_vouch(chunk: list[str]) -> None:
        language.detect_language.cache_clear()  # a worker sees each text once: no cached language
        for text in chunk:
            reading = sentiment.read(text)
            sentiment.judge(reading, 5)
            topics.find(reading, vocabulary)

    # Alternate in chunks of 50 texts, so that load from other work falls on both alike.
    chunks = [texts[i : i + 50] for i in range(0, len(texts), 50)]
    raw_times, vouch_times = [], []
    for _ in range(rounds):
        spent_raw = spent_vouch = 0.0
        for chunk in chunks:
            started = time.process_time()
            run_raw(chunk)
            spent_raw += time.process_time() - started
            started = time.process_time()
            run_vouch(chunk)
            spent_vouch += time.process_time() - started
        raw_times.append(spent_raw)
        vouch_times.append(spent_vouch)
    ratios = [r / v for r, v in zip(raw_times, vouch_times, strict=True)]
    return {
        "texts": len(texts),
        "words_per_text": round(sum(len(t.split()) for t in texts) / len(texts), 1),
        "raw_per_s": len(texts) / statistics.median(raw_times),
        "vouch_per_s": len(texts) / statistics.median(vouch_times),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="testimonials of 2-5 sentences")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    load = os.getloadavg()
    sets = {
        "testimonials, 2-5 sentences": make_texts(args.count, args.seed),
        "labelled reviews, 1-3 sentences": labelled_reviews() * 5,
    }
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start")
    print()
    print("| texts | words/text | raw VADER (texts/s) | Vouch: sentiment with topics (texts/s) | ratio (median) |")
    print("|---|---|---|---|---|")
    for name, texts in sets.items():
        result = measure(texts, args.rounds)
        spread = f"{min(result['ratios']):.2f}-{max(result['ratios']):.2f}"
        print(
            f"| {name} ({result['texts']}) | {result['words_per_text']} | {result['raw_per_s']:,.0f} | "
            f"{result['vouch_per_s']:,.0f} | **{result['ratio']:.2f}x** ({spread}) |"
        )


if __name__ == "__main__":
    main()
