"""Evaluate sentiment labels, topics and moderation flags against the hand-labelled sets in tests/data/.

    .venv/bin/python bench/eval_moderation.py            # print the report
    .venv/bin/python bench/eval_moderation.py --write    # also refresh the figures in docs/quality.md

Review sentiment (with the customer's stars) and topics are measured by bench/eval_text.py, whose
report this one includes.

Needs no database: the moderation modules are pure. Duplicates are found the way the processing
service finds them (LSH bands, then the exact similarity), with an in-memory index standing in for
the ContentFingerprint table, submissions taken in file order.
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

from bench import eval_text  # noqa: E402
from testimonials.moderation import rules, sentiment  # noqa: E402

DATA = ROOT / "tests" / "data"
SENTIMENT_SET = DATA / "sentiment_labelled.tsv"
MODERATION_SET = DATA / "moderation_labelled.jsonl"
# Written after the rules were frozen and never used to tune them: the honest estimate.
MODERATION_HELD_OUT = DATA / "moderation_heldout.jsonl"
BRANDS = DATA / "moderation_brands.json"
QUALITY_DOC = ROOT / "docs" / "quality.md"
START, END = "<!-- eval:start -->", "<!-- eval:end -->"


# --------------------------------------------------------------------------- sentiment


@dataclass
class SentimentRow:
    label: str
    kind: str
    text: str
    half: str  # "dev" (used while tuning) or "held-out"


def load_sentiment() -> list[SentimentRow]:
    rows = []
    for line in SENTIMENT_SET.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, kind, text = line.split("\t")
        rows.append(SentimentRow(label, kind, text, "dev" if len(rows) % 2 == 0 else "held-out"))
    return rows


def raw_vader_label(text: str) -> str:
    """The reference: plain VADER on the whole text, without Vouch's lexicon, idioms or splitting."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    global _RAW
    try:
        analyzer = _RAW
    except NameError:
        analyzer = _RAW = SentimentIntensityAnalyzer()
    return sentiment.label_for(analyzer.polarity_scores(text)["compound"])


@dataclass
class SentimentReport:
    total: int
    agree: int
    by_half: dict[str, tuple[int, int]]
    by_kind: dict[str, tuple[int, int]]
    raw_by_half: dict[str, tuple[int, int]]
    confusion: Counter
    misses: list[tuple[SentimentRow, str, float]]

    @property
    def agreement(self) -> float:
        return self.agree / self.total


def evaluate_sentiment() -> SentimentReport:
    rows = load_sentiment()
    by_half: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    raw_by_half: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: Counter = Counter()
    misses = []
    for row in rows:
        result = sentiment.analyse(row.text)
        ok = result.label == row.label
        raw_ok = raw_vader_label(row.text) == row.label
        for bucket, hit in ((by_half[row.half], ok), (by_kind[row.kind], ok), (raw_by_half[row.half], raw_ok)):
            bucket[0] += hit
            bucket[1] += 1
        confusion[(row.label, result.label)] += 1
        if not ok:
            misses.append((row, result.label, result.score))
    return SentimentReport(
        total=len(rows),
        agree=len(rows) - len(misses),
        by_half={k: tuple(v) for k, v in by_half.items()},
        by_kind={k: tuple(v) for k, v in by_kind.items()},
        raw_by_half={k: tuple(v) for k, v in raw_by_half.items()},
        confusion=confusion,
        misses=misses,
    )


# --------------------------------------------------------------------------- moderation


@dataclass
class ModerationReport:
    total: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # code -> tp/fp/fn
    misses: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, code, "missed"/"false", text
    language_right: int = 0
    language_total: int = 0
    language_misses: list[tuple[str, str, str]] = field(default_factory=list)
    decisions: Counter = field(default_factory=Counter)

    def precision(self, code: str) -> float | None:
        c = self.counts[code]
        return c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None

    def recall(self, code: str) -> float | None:
        c = self.counts[code]
        return c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None


class MemoryFingerprints:
    """ContentFingerprint stand-in: band -> earlier submissions holding it."""

    def __init__(self) -> None:
        self.bands: dict[int, list[tuple[str, str]]] = defaultdict(list)

    def closest(self, text: str, brand: str) -> tuple[float, bool] | None:
        best: tuple[float, bool] | None = None
        seen = set()
        for band in rules.fingerprint(text):
            for other_brand, other_text in self.bands.get(band, []):
                if (other_brand, other_text) in seen:
                    continue
                seen.add((other_brand, other_text))
                candidate = (rules.similarity(text, other_text), other_brand == brand)
                if best is None or candidate > best:
                    best = candidate
        return best

    def add(self, text: str, brand: str) -> None:
        for band in rules.fingerprint(text):
            self.bands[band].append((brand, text))


def load_moderation(path: Path = MODERATION_SET) -> tuple[list[dict], dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows, json.loads(BRANDS.read_text(encoding="utf-8"))


def flags_for(row: dict, brand: dict, index: MemoryFingerprints) -> list[rules.Flag]:
    mood = sentiment.analyse(row["text"])
    flags = rules.check(
        text=row["text"],
        rating=row["rating"],
        sentiment=mood,
        blocklist=brand["blocklist"],
        min_length=brand["min_length"],
        max_length=brand["max_length"],
    )
    closest = index.closest(row["text"], row["brand"])
    if closest:
        duplicate = rules.duplicate_flag(similarity=closest[0], same_brand=closest[1])
        if duplicate:
            flags.append(duplicate)
    index.add(row["text"], row["brand"])
    return flags


def evaluate_moderation(path: Path = MODERATION_SET) -> ModerationReport:
    rows, brands = load_moderation(path)
    codes = sorted({c for row in rows for c in row["flags"]})
    report = ModerationReport(total=len(rows), counts={c: {"tp": 0, "fp": 0, "fn": 0} for c in codes})
    index = MemoryFingerprints()
    for number, row in enumerate(rows, start=1):
        flags = flags_for(row, brands[row["brand"]], index)
        got = {f.code for f in flags}
        want = set(row["flags"])
        report.decisions[rules.decide(flags, auto_approve=True).state] += 1
        for code in got | want:
            counts = report.counts.setdefault(code, {"tp": 0, "fp": 0, "fn": 0})
            if code in got and code in want:
                counts["tp"] += 1
            elif code in got:
                counts["fp"] += 1
                report.misses.append((number, code, "false alarm", row["text"]))
            else:
                counts["fn"] += 1
                report.misses.append((number, code, "missed", row["text"]))
        if "lang" in row:
            report.language_total += 1
            detected = rules.detect_language(row["text"])
            if detected == row["lang"]:
                report.language_right += 1
            else:
                report.language_misses.append((row["lang"], detected, row["text"]))
    return report


# --------------------------------------------------------------------------- report


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _ratio(pair: tuple[int, int]) -> str:
    return f"{pair[0]}/{pair[1]} ({pair[0] / pair[1]:.0%})"


def render(sent: SentimentReport, mod: ModerationReport, held: ModerationReport, text: str = "") -> str:
    out = [text, ""] if text else []
    out += ["### Sentence sentiment (no stars): the original labelled sentences", ""]
    out.append(f"{sent.total} sentences; Vouch's label agrees with ours on {_ratio((sent.agree, sent.total))}.")
    out += ["", "| half | Vouch (`sentiment.analyse`) | plain VADER, whole text (reference) |", "|---|---|---|"]
    for half in ("dev", "held-out"):
        out.append(f"| {half} | {_ratio(sent.by_half[half])} | {_ratio(sent.raw_by_half[half])} |")
    out += ["", "| kind | agreement |", "|---|---|"]
    for kind, pair in sorted(sent.by_kind.items()):
        out.append(f"| {kind} | {_ratio(pair)} |")
    out += [
        "",
        "Confusion (rows: our label, columns: Vouch's):",
        "",
        "| | positive | neutral | negative |",
        "|---|---|---|---|",
    ]
    for want in ("positive", "neutral", "negative"):
        cells = " | ".join(str(sent.confusion[(want, got)]) for got in ("positive", "neutral", "negative"))
        out.append(f"| {want} | {cells} |")

    out += _render_flags("Moderation flags: the development set", mod, MODERATION_SET)
    out += _render_flags(
        "Moderation flags: the held-out set (written after the rules were frozen)", held, MODERATION_HELD_OUT
    )
    return "\n".join(out)


def _render_flags(title: str, mod: ModerationReport, path: Path) -> list[str]:
    out = [
        "",
        f"### {title}",
        "",
        f"`{path.relative_to(ROOT)}`: {mod.total} submissions in file order (duplicates are judged against "
        "the earlier ones).",
        "",
        "| flag | labelled | true pos. | false pos. | missed | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for code in sorted(mod.counts):
        c = mod.counts[code]
        out.append(
            f"| {code} | {c['tp'] + c['fn']} | {c['tp']} | {c['fp']} | {c['fn']} | "
            f"{_pct(mod.precision(code))} | {_pct(mod.recall(code))} |"
        )
    out += ["", f"Language: {_ratio((mod.language_right, mod.language_total))} detected as labelled."]
    decisions = ", ".join(f"{state} {n}" for state, n in sorted(mod.decisions.items()))
    out += ["", f"Decisions with auto-approve on: {decisions}."]
    return out


def render_misses(sent: SentimentReport, *reports: ModerationReport) -> str:
    out = ["Sentiment misses:"]
    for row, got, score in sent.misses:
        shown = "n/a" if score is None else f"{score:+.2f}"
        out.append(f"  [{row.half}] {row.kind}: want {row.label}, got {got} ({shown}): {row.text}")
    for name, mod in zip(("development", "held-out"), reports, strict=False):
        out.append(f"Flag misses ({name} set):")
        for number, code, what, text in mod.misses:
            out.append(f"  #{number} {code} {what}: {text[:100]}")
        out.append(f"Language misses ({name} set):")
        for want, got, text in mod.language_misses:
            out.append(f"  want {want!r}, got {got!r}: {text[:80]}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="refresh the figures in docs/quality.md")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    sent, mod, held = evaluate_sentiment(), evaluate_moderation(), evaluate_moderation(MODERATION_HELD_OUT)
    report = render(sent, mod, held, eval_text.render(*eval_text.evaluate_all()))
    print(report)
    if args.misses:
        print()
        print(render_misses(sent, mod, held))
    if args.write:
        doc = QUALITY_DOC.read_text(encoding="utf-8")
        before, rest = doc.split(START, 1)
        _, after = rest.split(END, 1)
        QUALITY_DOC.write_text(f"{before}{START}\n{report}\n{END}{after}", encoding="utf-8")
        print(f"\nwrote {QUALITY_DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
