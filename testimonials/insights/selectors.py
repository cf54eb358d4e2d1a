"""Reads about topics: a brand's vocabulary, topic labels, tag suggestions and the dashboard's topic stats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from testimonials.insights.models import BrandTopic
from testimonials.models import Tag, Testimonial
from testimonials.moderation import sentiment, topics
from testimonials.moderation.rules import redact

State = Testimonial.State
# What the dashboard counts: every genuine testimonial (published or waiting), like the rating summary.
COUNTED_STATES = (State.APPROVED, State.PENDING_REVIEW)
TREND_WEEKS = 8
TOP_TOPICS = 6
QUOTES_PER_TOPIC = 2


def topic_vocabularies_for_brands(brand_ids: Iterable[int]) -> dict[int, topics.Vocabulary]:
    """Each brand's vocabulary (built-in topics plus its own), in one query for any number of brands."""
    ids = set(brand_ids)
    extra: dict[int, list[tuple[str, str, list[str]]]] = {brand_id: [] for brand_id in ids}
    for brand_id, code, name, terms in BrandTopic.objects.filter(brand_id__in=ids).values_list(
        "brand_id", "code", "name", "terms"
    ):
        extra[brand_id].append((code, name, [str(t) for t in terms or []]))
    return {brand_id: topics.vocabulary(own) for brand_id, own in extra.items()}


def topic_labels_for_brands(brand_ids: Iterable[int] | None) -> dict[str, str]:
    """Topic code -> its name: the built-in ones, then the brands' own (all brands when None)."""
    labels = dict(topics.builtin_labels())
    own = BrandTopic.objects.all() if brand_ids is None else BrandTopic.objects.filter(brand_id__in=list(brand_ids))
    for code, name in own.order_by("name").values_list("code", "name"):
        labels.setdefault(code, name)
    return labels


def topic_label(code: str, labels: dict[str, str]) -> str:
    return labels.get(code) or code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class TagSuggestion:
    code: str  # the topic
    label: str  # the tag's name as it would be created or is
    tag: Tag | None  # the brand's tag that already carries this name, if any
    polarity: str


def tag_suggestions_for_testimonial(*, testimonial: Testimonial) -> list[TagSuggestion]:
    """Tags the testimonial's topics suggest, leaving out the tags it already has (two queries)."""
    codes = [t.get("code") for t in testimonial.topics or [] if isinstance(t, dict) and t.get("code")]
    if not codes:
        return []
    labels = topic_labels_for_brands([testimonial.brand_id])
    polarity = {t["code"]: t.get("polarity", "") for t in testimonial.topics if isinstance(t, dict) and "code" in t}
    by_slug = {tag.slug: tag for tag in Tag.objects.filter(brand_id=testimonial.brand_id)}
    have = {tag.id for tag in testimonial.tags.all()}
    found = []
    for code in dict.fromkeys(codes):
        label = topic_label(code, labels)
        tag = by_slug.get(slugify(label))
        if tag is not None and tag.id in have:
            continue
        found.append(TagSuggestion(code, tag.name if tag else label, tag, polarity.get(code, "")))
    return found


# --------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Quote:
    testimonial_id: int
    author_name: str
    text: str


@dataclass
class TopicTrend:
    code: str
    label: str
    polarity: str  # "positive" (praise) or "negative" (complaint)
    count: int = 0  # testimonials in the window mentioning it this way
    weekly: list[int] = field(default_factory=list)  # oldest week first, TREND_WEEKS long
    quotes: list[Quote] = field(default_factory=list)

    @property
    def change(self) -> int:
        """The last four weeks against the four before."""
        half = len(self.weekly) // 2
        return sum(self.weekly[half:]) - sum(self.weekly[:half])


@dataclass(frozen=True)
class TopicStats:
    praise: list[TopicTrend]
    complaints: list[TopicTrend]
    weeks: list[date]  # the start of each week of `weekly`, oldest first
    since: datetime
    unscored: int  # testimonials in the window Vouch could not read (no topics, no sentiment)


def topic_stats_for_brands(
    *, brand_ids: list[int] | None, now: datetime | None = None, weeks: int = TREND_WEEKS
) -> TopicStats:
    """What customers praise most and complain about, with weekly counts and two recent quotes each.

    `brand_ids=None` means every brand (superusers). Counts testimonials received in the last `weeks`
    weeks that are published or waiting for a person (every genuine one, as the rating summary does).
    Three queries whatever the row count: the topic counts and the unscored count over the JSON
    column, then the quotes of the topics shown.
    """
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    week_starts = [(since + timedelta(weeks=i)).date() for i in range(weeks)]
    labels = topic_labels_for_brands(brand_ids)
    if brand_ids is not None and not brand_ids:
        return TopicStats([], [], week_starts, since, 0)
    counts = _topic_week_counts(brand_ids, since, weeks)
    trends: dict[tuple[str, str], TopicTrend] = {}
    for (code, polarity, week), n in counts.items():
        trend = trends.setdefault(
            (code, polarity), TopicTrend(code, topic_label(code, labels), polarity, weekly=[0] * weeks)
        )
        trend.count += n
        if 0 <= week < weeks:
            trend.weekly[week] += n
    praise = _top(trends, sentiment.POSITIVE)
    complaints = _top(trends, sentiment.NEGATIVE)
    _attach_quotes(praise + complaints, brand_ids, since)
    return TopicStats(praise, complaints, week_starts, since, _unscored_count(brand_ids, since))


def _top(trends: dict[tuple[str, str], TopicTrend], polarity: str) -> list[TopicTrend]:
    chosen = [t for (_, p), t in trends.items() if p == polarity and t.count]
    return sorted(chosen, key=lambda t: (-t.count, t.label))[:TOP_TOPICS]


def _json_topics_source() -> tuple[str, str, str]:
    """(FROM clause, code expression, polarity expression) over Testimonial.topics, per database."""
    table = Testimonial._meta.db_table
    if connection.vendor == "postgresql":
        return f"{table} t CROSS JOIN LATERAL jsonb_array_elements(t.topics) e", "e ->> 'code'", "e ->> 'polarity'"
    return (
        f"{table} t, json_each(t.topics) e",
        "json_extract(e.value, '$.code')",
        "json_extract(e.value, '$.polarity')",
    )


def _window(brand_ids: list[int] | None, since: datetime) -> tuple[str, list]:
    states = ", ".join(["%s"] * len(COUNTED_STATES))
    where, params = f"t.created_at >= %s AND t.state IN ({states})", [since, *COUNTED_STATES]
    if brand_ids is not None:
        where += f" AND t.brand_id IN ({', '.join(['%s'] * len(brand_ids))})"
        params += list(brand_ids)
    return where, params


def _topic_week_counts(brand_ids: list[int] | None, since: datetime, weeks: int) -> dict[tuple[str, str, int], int]:
    """(code, polarity, week index) -> testimonials, in one grouped query over the JSON column."""
    source, code, polarity = _json_topics_source()
    where, params = _window(brand_ids, since)
    if connection.vendor == "postgresql":
        week = "FLOOR(EXTRACT(EPOCH FROM (t.created_at - %s)) / 604800)::int"
    else:
        week = "CAST((julianday(t.created_at) - julianday(%s)) / 7 AS INTEGER)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {code}, {polarity}, {week} AS week, COUNT(DISTINCT t.id) FROM {source} "  # noqa: S608
            f"WHERE {where} GROUP BY 1, 2, 3",
            [since, *params],
        )
        rows = cursor.fetchall()
    return {
        (row[0], row[1], min(int(row[2]), weeks - 1)): row[3]
        for row in rows
        if row[0] and row[1] in (sentiment.POSITIVE, sentiment.NEGATIVE)
    }


def _attach_quotes(trends: list[TopicTrend], brand_ids: list[int] | None, since: datetime) -> None:
    """The newest QUOTES_PER_TOPIC quotes of each shown topic, published ones first, in one query."""
    if not trends:
        return
    wanted = {(t.code, t.polarity): t for t in trends}
    source, code, polarity = _json_topics_source()
    quote = "e ->> 'quote'" if connection.vendor == "postgresql" else "json_extract(e.value, '$.quote')"
    where, params = _window(brand_ids, since)
    pairs = " OR ".join([f"({code} = %s AND {polarity} = %s)"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT topic, tone, id, author_name, quote FROM ("  # noqa: S608
            f"SELECT {code} AS topic, {polarity} AS tone, t.id AS id, t.author_name AS author_name, "
            f"{quote} AS quote, ROW_NUMBER() OVER (PARTITION BY {code}, {polarity} "
            f"ORDER BY CASE WHEN t.state = %s THEN 0 ELSE 1 END, t.created_at DESC, t.id DESC) AS n "
            f"FROM {source} WHERE {where} AND ({pairs})) ranked WHERE n <= %s ORDER BY topic, tone, n",
            [State.APPROVED, *params, *[v for pair in wanted for v in pair], QUOTES_PER_TOPIC],
        )
        for topic, tone, testimonial_id, author, text in cursor.fetchall():
            if text:
                wanted[(topic, tone)].quotes.append(Quote(testimonial_id, author, redact(text)))


def _unscored_count(brand_ids: list[int] | None, since: datetime) -> int:
    qs = Testimonial.objects.filter(
        created_at__gte=since, state__in=COUNTED_STATES, sentiment_label=Testimonial.Sentiment.UNSCORED
    )
    if brand_ids is not None:
        qs = qs.filter(brand_id__in=brand_ids)
    return qs.count()


def topic_choices_for_brand(*, brand_id: int | None) -> list[tuple[str, str]]:
    """(code, label) of every topic a widget of this brand may select by: built-in, then the brand's own."""
    labels = dict(topics.builtin_labels())
    if brand_id is not None:
        for code, name in BrandTopic.objects.filter(brand_id=brand_id).values_list("code", "name"):
            labels.setdefault(code, name)
    return sorted(labels.items(), key=lambda pair: pair[1].lower())
