"""What the pipeline concludes about a testimonial's text: sentiment, topics, flags, fingerprints, near-duplicates.

Reads only; writes nothing. A batch computes every row's bands and looks up stored candidates for
all of them in one query; earlier rows of the same batch are compared as peers, and it loads the
topic vocabularies of all its brands in one query too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import connection

from testimonials.insights.selectors import topic_vocabularies_for_brands
from testimonials.models import ContentFingerprint, Testimonial
from testimonials.moderation import flags as flag_codes
from testimonials.moderation import rules, sentiment, topics

# Near-duplicate candidates compared exactly, most shared LSH bands first.
DUPLICATE_CANDIDATES = 8


@dataclass(frozen=True)
class Analysis:
    mood: sentiment.SentimentResult
    topics: list[topics.Topic]
    flags: list[rules.Flag]
    bands: list[int]
    language: str
    public_text: str


# A duplicate candidate's id -> (LSH bands shared, its brand, its text).
Candidates = dict[int, tuple[int, int, str]]


@dataclass(frozen=True)
class Peer:
    """An earlier row of the same batch: its fingerprints are not in the table yet."""

    testimonial_id: int
    brand_id: int
    text: str
    bands: list[int]


def testimonial_analyse(
    *,
    item: Testimonial,
    peers: list[Peer] | tuple = (),
    bands: list[int] | None = None,
    stored: Candidates | None = None,
    vocabulary: topics.Vocabulary | None = None,
) -> Analysis:
    """Everything the pipeline concludes about a testimonial's text. Reads only; writes nothing.

    A batch passes the bands it computed, the stored candidates and the brand's topic vocabulary it
    looked up for all its rows at once; alone, the row looks its own up.
    """
    reading = sentiment.read(item.text)
    # The stars are evidence for the label; the highlight and the topics read the text alone.
    mood = sentiment.judge(reading, item.rating)
    if vocabulary is None:
        vocabulary = topic_vocabularies_for_brands([item.brand_id])[item.brand_id]
    form = item.form
    flags = rules.check(
        text=item.text,
        rating=item.rating,
        sentiment=mood,
        blocklist=[str(word) for word in (item.brand.blocklist or [])],
        min_length=form.text_min_length if form and item.text else 0,
        max_length=form.text_max_length if form else 0,
    )
    # Flags set before the pipeline (at submit time: "captcha_unavailable") are kept and count.
    earlier = [
        rules.Flag.from_dict(f)
        for f in (item.flags or [])
        if isinstance(f, dict) and f.get("code") not in flag_codes.PIPELINE_CODES
    ]
    flags = earlier + flags
    bands = rules.fingerprint(item.text) if bands is None else bands
    duplicate = testimonial_duplicate_flag(item=item, bands=bands, peers=peers, stored=stored)
    if duplicate:
        flags.append(duplicate)
    return Analysis(
        mood=mood,
        topics=topics.find(reading, vocabulary),
        flags=flags,
        bands=bands,
        language=reading.language,
        public_text=rules.redact(item.text),
    )


def duplicate_candidates(bands_of: dict[int, list[int]]) -> dict[int, Candidates]:
    """For each testimonial id: the stored testimonials sharing most LSH bands with its bands, in any
    brand (at most DUPLICATE_CANDIDATES, most shared bands first), in one query for a whole batch."""
    wanted = sorted({(item_id, band) for item_id, bands in bands_of.items() for band in bands})
    found: dict[int, Candidates] = {item_id: {} for item_id in bands_of}
    if not wanted:
        return found
    # Raw SQL: this runs for every testimonial, and the ORM's query building cost more than the query.
    fingerprint_table, testimonial_table = ContentFingerprint._meta.db_table, Testimonial._meta.db_table
    if connection.vendor == "postgresql":
        # Arrays, not a placeholder per value: psycopg parses a long query's placeholders in Python.
        source = "SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
        params = [list(column) for column in zip(*wanted, strict=True)]
    else:
        source = f"VALUES {', '.join(['(%s, %s)'] * len(wanted))}"
        params = [value for pair in wanted for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH wanted (item_id, band) AS ({source}), "  # noqa: S608
            "shared AS (SELECT w.item_id, f.testimonial_id, f.brand_id, COUNT(*) AS shared "
            f"FROM wanted w JOIN {fingerprint_table} f ON f.band = w.band "
            f"JOIN {testimonial_table} t ON t.id = f.testimonial_id WHERE f.testimonial_id <> w.item_id "
            "GROUP BY w.item_id, f.testimonial_id, f.brand_id), "
            "ranked AS (SELECT item_id, testimonial_id, brand_id, shared, ROW_NUMBER() OVER "
            "(PARTITION BY item_id ORDER BY shared DESC, testimonial_id) AS n FROM shared) "
            f"SELECT r.item_id, r.testimonial_id, r.brand_id, t.text, r.shared FROM ranked r "
            f"JOIN {testimonial_table} t ON t.id = r.testimonial_id WHERE r.n <= %s",
            [*params, DUPLICATE_CANDIDATES],
        )
        for item_id, candidate_id, brand_id, text, shared in cursor.fetchall():
            found[item_id][candidate_id] = (shared, brand_id, text)
    return found


def testimonial_duplicate_flag(
    *, item: Testimonial, bands: list[int], peers: list[Peer] | tuple = (), stored: Candidates | None = None
) -> rules.Flag | None:
    """The flag for the most similar earlier testimonial sharing an LSH band, in any brand.

    `peers` are earlier rows of the same batch, compared as if their fingerprints were stored;
    `stored`, the stored candidates if a batch looked them up already.
    """
    if not bands:
        return None
    found = dict(stored) if stored is not None else duplicate_candidates({item.id: bands})[item.id]
    if peers:
        wanted = set(bands)
        for peer in peers:
            shared = sum(1 for band in peer.bands if band in wanted)
            if shared and peer.testimonial_id != item.id and shared > found.get(peer.testimonial_id, (0,))[0]:
                found[peer.testimonial_id] = (shared, peer.brand_id, peer.text)
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda entry: (-entry[1][0], entry[0]))[:DUPLICATE_CANDIDATES]
    best: tuple | None = None
    for candidate_id, (_shared, brand_id, text) in ranked:
        score = rules.similarity(item.text, text)
        same = brand_id == item.brand_id
        # A near-duplicate in the brand itself wins over a closer one elsewhere: it can be shown.
        key = (same and score >= rules.DUPLICATE_AT, score, same, candidate_id)
        if best is None or key[:2] > best[:2]:
            best = key
    best = best[1:]
    flag = rules.duplicate_flag(similarity=best[0], same_brand=best[1])
    if flag and best[1]:
        # Within the brand the admin may open the other one; another brand's ids are never shown.
        flag = dataclasses.replace(flag, evidence=(*flag.evidence, f"testimonial #{best[2]}"))
    return flag
