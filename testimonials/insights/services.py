"""Changes to what a brand's topics are, the reading again that follows, and tags accepted from topics."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from testimonials import queue
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.insights.models import BrandTopic, TopicReread
from testimonials.insights.selectors import topic_label, topic_labels_for_brands, topic_vocabularies_for_brands
from testimonials.lifecycle.events import record
from testimonials.models import EventType, Tag, Testimonial
from testimonials.moderation import sentiment, topics
from testimonials.moderation.rules import redact
from testimonials.selectors import brand_ids_user_can_edit, user_can_edit_brand
from testimonials.services.brands import tag_save
from testimonials.services.decisions import BulkResult, testimonials_add_tags

# Rows one reading-again task handles before it enqueues the next: a brand of 100,000 testimonials
# is read again in bounded steps, each well inside the task time limit.
REREAD_BATCH = 500
NOT_AN_EDITOR = "Only the brand's owners and editors can change its topics and tags."
State = Testimonial.State
# Rows the pipeline still owns: it reads them with the newest vocabulary itself.
IN_PIPELINE = (State.RECEIVED, State.PROCESSING)


@transaction.atomic
def brand_topic_save(*, topic: BrandTopic, actor, created: bool, changed: Iterable[str] = ()) -> BrandTopic:
    """Store a brand's topic as a person set it and record it; the brand's testimonials are read again after."""
    if not user_can_edit_brand(actor, topic.brand):
        raise PermissionDenied(NOT_AN_EDITOR)
    topic.full_clean()
    topic.save()
    what = "Created." if created else (f"Changed {', '.join(sorted(changed))}." if changed else "Saved.")
    record(event=EventType.TOPIC_CHANGE, brand_id=topic.brand_id, actor=actor, note=f"Topic {topic.name!r}: {what}")
    return topic


@transaction.atomic
def brand_topic_delete(*, topic: BrandTopic, actor) -> None:
    if not user_can_edit_brand(actor, topic.brand):
        raise PermissionDenied(NOT_AN_EDITOR)
    record(event=EventType.TOPIC_CHANGE, brand_id=topic.brand_id, actor=actor, note=f"Topic {topic.name!r} deleted.")
    topic.delete()


def topics_reread_request(*, brand_ids: Iterable[int]) -> None:
    """Start reading these brands' testimonials again from the first (the subscriber's one call).

    Runs in the subscriber's transaction: the request commits with its receipt, and the first step is
    enqueued after commit; if the broker is down then, the sweeper resumes it.
    """
    from testimonials.insights.tasks import brand_topics_reread_task  # tasks import this module

    now = timezone.now()
    for brand_id in sorted(set(brand_ids)):
        TopicReread.objects.get_or_create(brand_id=brand_id)
        TopicReread.objects.filter(brand_id=brand_id).update(
            generation=F("generation") + 1, after_id=0, done=False, updated_at=now
        )
        generation = TopicReread.objects.filter(brand_id=brand_id).values_list("generation", flat=True).get()
        queue.send_on_commit(brand_topics_reread_task, brand_id, generation)


def topics_reread_step(*, brand_id: int, generation: int) -> bool:
    """Read the topics of the brand's next REREAD_BATCH testimonials with its current vocabulary; True
    when more remain. At the end the reading again is recorded (TOPICS_REREAD): widgets that select
    by topic follow.

    Idempotent: every run recomputes from the text, and the cursor moves only for the current
    `generation` (a newer vocabulary change restarts from the first). Only `topics` is written, never on
    rows the pipeline owns (it reads them itself with the newest vocabulary).
    """
    progress = TopicReread.objects.filter(brand_id=brand_id, generation=generation, done=False).first()
    if progress is None:
        return False  # done, or superseded by a newer change
    vocabulary = topic_vocabularies_for_brands([brand_id])[brand_id]
    rows = list(
        Testimonial.objects.filter(brand_id=brand_id, id__gt=progress.after_id)
        .exclude(state__in=IN_PIPELINE)
        .order_by("id")
        .values_list("id", "text", "topics")[:REREAD_BATCH]
    )
    changed = []
    for testimonial_id, text, old in rows:
        found = topics.find(sentiment.read(text), vocabulary)
        new = topics.as_stored(found, redact=bool(found) and redact(text) != text)
        if new != old:
            changed.append(Testimonial(id=testimonial_id, topics=new))
    done = len(rows) < REREAD_BATCH
    with transaction.atomic():
        if changed:
            Testimonial.objects.bulk_update(changed, ["topics"], batch_size=200)
        moved = TopicReread.objects.filter(brand_id=brand_id, generation=generation, done=False).update(
            after_id=rows[-1][0] if rows else progress.after_id, done=done, updated_at=timezone.now()
        )
        if moved and done:
            record(
                event=EventType.TOPICS_REREAD,
                brand_id=brand_id,
                note="The brand's testimonials were read again for its topics.",
            )
    return bool(moved) and not done


def topics_reread_sweep(*, cutoff) -> int:
    """For the sweeper: resume readings again that stopped (a lost message, a dead worker). Their number."""
    from testimonials.insights.tasks import brand_topics_reread_task  # tasks import this module

    stuck = list(TopicReread.objects.filter(done=False, updated_at__lt=cutoff).values_list("brand_id", "generation"))
    for brand_id, generation in stuck:
        TopicReread.objects.filter(brand_id=brand_id, generation=generation).update(updated_at=timezone.now())
        queue.send(brand_topics_reread_task, brand_id, generation)
    return len(stuck)


def testimonial_accept_topic_tag(*, testimonial: Testimonial, actor, code: str) -> Tag:
    """Tag the testimonial with the tag its topic `code` suggests, creating the tag if the brand has none."""
    if not any(isinstance(t, dict) and t.get("code") == code for t in testimonial.topics or []):
        raise ApplicationError("This testimonial does not talk about that topic.")
    if not user_can_edit_brand(actor, testimonial.brand):
        raise PermissionDenied("Only the brand's owners and editors can tag its testimonials.")
    with transaction.atomic():
        tag = _tag_for_topic(brand_id=testimonial.brand_id, code=code, actor=actor)
        testimonials_add_tags(testimonials=[testimonial], actor=actor, tags=[tag]).raise_first()
    return tag


def testimonials_accept_topic_tags(*, testimonials: Iterable[Testimonial], actor) -> BulkResult:
    """Tag each testimonial with every tag its topics suggest (bulk), creating a missing tag once per brand."""
    items = list(testimonials)
    editable = brand_ids_user_can_edit(actor, {item.brand_id for item in items})
    result = BulkResult()
    with transaction.atomic():
        tags: dict[tuple[int, str], Tag] = {}
        groups: dict[tuple[int, ...], list[Testimonial]] = {}
        for item in items:
            if item.brand_id not in editable:
                result.refused.append((item, PermissionDenied(NOT_AN_EDITOR)))
                continue
            mine = []
            for code in dict.fromkeys(t.get("code") for t in item.topics or [] if isinstance(t, dict)):
                if code:
                    key = (item.brand_id, code)
                    if key not in tags:
                        tags[key] = _tag_for_topic(brand_id=item.brand_id, code=code, actor=actor)
                    mine.append(tags[key])
            if mine:
                groups.setdefault(tuple(sorted(tag.id for tag in mine)), []).append(item)
        by_id = {tag.id: tag for tag in tags.values()}
        for tag_ids, group in groups.items():
            added = testimonials_add_tags(testimonials=group, actor=actor, tags=[by_id[i] for i in tag_ids])
            result.done += added.done
            result.refused += added.refused
    return result


def _tag_for_topic(*, brand_id: int, code: str, actor) -> Tag:
    label = topic_label(code, topic_labels_for_brands([brand_id]))
    slug = slugify(label)[:60] or code.replace("_", "-")[:60]
    tag = Tag.objects.filter(brand_id=brand_id, slug=slug).first()
    if tag is None:
        tag = tag_save(tag=Tag(brand_id=brand_id, name=label[:60], slug=slug), actor=actor, created=True)
    return tag
