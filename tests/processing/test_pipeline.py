"""testimonial_process: sentiment, explained flags, a decision, an audit event; idempotent and fenced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from testimonials.models import AuditEvent, ContentFingerprint, Testimonial
from testimonials.moderation import duplicates
from testimonials.processing import pipeline, writes
from testimonials.services.decisions import testimonial_reject
from testimonials.sweeper import sweep_stuck
from tests.factories import BrandFactory, CollectionFormFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State

LONG_PRAISE = (
    "Fantastic customer service team, they replaced my broken kettle within two days and kept me updated "
    "the whole time."
)


def received(brand, **fields) -> Testimonial:
    fields.setdefault("form", CollectionFormFactory(brand=brand))
    return TestimonialFactory(brand=brand, state=State.RECEIVED, **fields)


@pytest.fixture
def auto_brand(db):
    return BrandFactory(slug="auto", auto_approve=True)


def test_it_approves_a_clean_testimonial_for_a_brand_that_publishes_automatically(auto_brand):
    item = received(auto_brand, text="The support team answered within an hour and fixed everything. Wonderful!")
    outcome = pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert outcome == pipeline.ProcessOutcome("decided", State.APPROVED)
    assert item.state == State.APPROVED
    assert item.sentiment_label == "positive" and item.sentiment_score > 0.05
    assert item.highlight
    assert item.language == "en"
    assert item.flags == []
    assert item.attempts == 1 and item.decided_at is not None
    event = item.events.get()
    assert (event.action, event.actor_kind, event.to_state) == ("auto_decision", "system", State.APPROVED)
    assert event.reasons == ["Nothing was flagged and the brand publishes automatically."]


def test_it_holds_a_clean_testimonial_when_the_brand_approves_by_hand(brand_a):
    item = received(brand_a, text="Lovely shop and kind staff.")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert item.events.get().reasons == ["Nothing was flagged; this brand approves every testimonial by hand."]


def test_it_holds_flagged_text_stores_every_reason_and_redacts_contact_details(auto_brand):
    item = received(auto_brand, text="Absolute sh1t support. Call me on 555-867-5309 or mail jo@example.com.", rating=2)
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert {f["code"] for f in item.flags} == {"profanity", "phone", "email"}
    assert all(f["reason"] and f["action"] == "hold" for f in item.flags)
    assert item.public_text == "Absolute sh1t support. Call me on [phone removed] or mail [email removed]."
    assert item.events.get().reasons == [f["reason"] for f in item.flags]


def test_it_rejects_advertising_spam_for_a_content_reason(auto_brand):
    item = received(auto_brand, text="Best casino bonus online, 200 free spins at luckyspins.xyz")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.REJECTED
    assert "spam" in item.events.get().reasons[0]


def test_it_holds_words_on_the_brands_own_blocklist(db):
    brand = BrandFactory(slug="blocky", auto_approve=True, blocklist=["GadgetHub"])
    item = received(brand, text="So much better than gadgethub, I am very happy.")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert [f["code"] for f in item.flags] == ["blocklist"]


def test_it_publishes_a_one_star_review_like_any_other(auto_brand):
    # FTC: a low rating is never a reason to hold. Clean negative text publishes like praise.
    item = received(auto_brand, rating=1, text="The kettle stopped working after a week and the lid never sealed.")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.APPROVED
    assert item.sentiment_label == "negative"


def test_it_holds_five_stars_with_clearly_negative_text(auto_brand):
    item = received(auto_brand, rating=5, text="Terrible quality, it broke after one day. Very disappointed.")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert [f["code"] for f in item.flags] == ["rating_mismatch"]


def test_it_checks_length_against_the_form(auto_brand):
    form = CollectionFormFactory(brand=auto_brand, text_min_length=20, text_max_length=100)
    item = received(auto_brand, form=form, text="Great class!")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert [f["code"] for f in item.flags] == ["too_short"]


def test_it_does_not_judge_the_length_of_a_video_only_testimonial(auto_brand):
    form = CollectionFormFactory(brand=auto_brand, text_min_length=20)
    item = received(auto_brand, form=form, text="")
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.APPROVED


def test_it_flags_a_near_duplicate_in_the_same_brand_and_points_to_it(auto_brand):
    first = received(auto_brand, text=LONG_PRAISE)
    pipeline.testimonial_process(testimonial_id=first.id)
    second = received(auto_brand, text=LONG_PRAISE.replace("two", "three").upper().lower())
    pipeline.testimonial_process(testimonial_id=second.id)
    second.refresh_from_db()
    assert second.state == State.PENDING_REVIEW
    [flag] = second.flags
    assert flag["code"] == "duplicate"
    assert "an earlier testimonial for this brand" in flag["reason"]
    assert f"testimonial #{first.id}" in flag["evidence"]


def test_it_flags_a_copy_sent_to_another_brand_without_saying_where_it_matched(auto_brand):
    other = BrandFactory(slug="other")
    first = received(other, text=LONG_PRAISE)
    pipeline.testimonial_process(testimonial_id=first.id)
    copy = received(auto_brand, text=LONG_PRAISE)
    pipeline.testimonial_process(testimonial_id=copy.id)
    copy.refresh_from_db()
    [flag] = copy.flags
    # No cross-tenant oracle: not "another brand", no share, no id or text of another tenant's testimonial.
    assert flag["code"] == "duplicate" and flag["reason"] == "Appears copied from elsewhere: suspected fake review."
    assert flag["evidence"] == []


def test_it_does_not_flag_short_generic_praise_as_duplicate(auto_brand):
    for _ in range(2):
        item = received(auto_brand, text="Great product, fast shipping.")
        pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.APPROVED


def test_it_stores_fingerprints_once_however_often_it_runs(auto_brand):
    item = received(auto_brand, text=LONG_PRAISE)
    pipeline.testimonial_process(testimonial_id=item.id)
    Testimonial.objects.filter(id=item.id).update(state=State.RECEIVED)  # as if the sweeper re-ran it
    pipeline.testimonial_process(testimonial_id=item.id)
    assert ContentFingerprint.objects.filter(testimonial=item).count() == duplicates.BANDS


def test_it_processes_a_row_once_when_its_message_arrives_twice(auto_brand):
    item = received(auto_brand)
    assert pipeline.testimonial_process(testimonial_id=item.id).status == "decided"
    assert pipeline.testimonial_process(testimonial_id=item.id).status == "skipped"
    item.refresh_from_db()
    assert item.attempts == 1
    assert item.events.count() == 1


def test_it_leaves_a_human_decision_made_during_processing_alone(auto_brand, monkeypatch):
    from tests.factories import MembershipFactory, UserFactory

    moderator = UserFactory(username="mod")
    MembershipFactory(user=moderator, brand=auto_brand)
    item = received(auto_brand, text="Lovely shop and kind staff, would recommend.")
    replace = writes.fingerprints_replace

    def human_rejects_meanwhile(**kwargs):
        testimonial_reject(testimonial=item, actor=moderator, reason="Off-topic.")
        replace(**kwargs)

    monkeypatch.setattr(writes, "fingerprints_replace", human_rejects_meanwhile)
    outcome = pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert outcome.status == "superseded"
    assert item.state == State.REJECTED
    assert item.sentiment_label == "positive"  # the analysis is still kept for the admin
    assert list(item.events.values_list("action", flat=True)) == ["reject"]


def test_it_never_touches_a_row_a_person_already_decided(auto_brand):
    item = received(auto_brand)
    Testimonial.objects.filter(id=item.id).update(state=State.REJECTED)
    assert pipeline.testimonial_process(testimonial_id=item.id).status == "skipped"
    item.refresh_from_db()
    assert item.state == State.REJECTED and item.attempts == 0


def test_it_retries_a_failed_attempt_and_gives_up_after_the_limit(auto_brand, settings):
    settings.VOUCH_MAX_ATTEMPTS = 2
    item = received(auto_brand)
    states = []
    for _ in range(2):
        assert pipeline.testimonials_claim(testimonial_id=item.id, limit=1)
        states.append(pipeline.testimonial_processing_failed(testimonial_id=item.id, error="ValueError: boom"))
    item.refresh_from_db()
    assert states == [State.RECEIVED, State.FAILED]
    assert item.state == State.FAILED
    assert item.last_error == "ValueError: boom"
    assert item.events.get().action == "failed"
    assert pipeline.testimonial_process(testimonial_id=item.id).status == "skipped"


def test_it_fails_a_row_whose_worker_keeps_dying(auto_brand, settings):
    # Each death leaves the attempt counted; the sweeper sends it back; the next claim gives up.
    settings.VOUCH_MAX_ATTEMPTS = 3
    item = received(auto_brand, attempts=3, last_error="The worker stopped before finishing; retrying.")
    outcome = pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert outcome.state == State.FAILED
    assert item.state == State.FAILED
    assert "worker stopped" in item.last_error
    assert "Gave up after 3 attempts" in item.events.get().reasons[0]


def test_it_sweeps_rows_stuck_in_received_or_processing_and_nothing_else(auto_brand, fake_broker):
    sent = fake_broker.sent["testimonial_process_task"]
    old = timezone.now() - timedelta(minutes=10)
    lost = received(auto_brand, state_changed_at=old)
    orphaned = received(auto_brand, state_changed_at=old, attempts=1)
    Testimonial.objects.filter(id=orphaned.id).update(state=State.PROCESSING)
    fresh = received(auto_brand)
    decided = TestimonialFactory(brand=auto_brand, state=State.PENDING_REVIEW, state_changed_at=old)

    result = sweep_stuck()
    assert sorted(sent) == sorted([lost.id, orphaned.id])
    assert result["released"] == 1
    orphaned.refresh_from_db()
    assert orphaned.state == State.RECEIVED and orphaned.attempts == 1
    decided.refresh_from_db()
    assert decided.state == State.PENDING_REVIEW
    assert fresh.id not in sent

    sent.clear()
    sweep_stuck()
    assert sent == []  # the clock was reset: a backlog is not enqueued again at every sweep


def test_it_writes_one_event_per_automatic_decision(auto_brand):
    items = [received(auto_brand, text=text) for text in ("Lovely.", "Absolute sh1t.", "Visit spam.example.com")]
    for item in items:
        pipeline.testimonial_process(testimonial_id=item.id)
    assert AuditEvent.objects.filter(action="auto_decision").count() == 3


def test_it_keeps_flags_set_at_submit_time_and_holds_for_them(auto_brand):
    captcha = {
        "code": "captcha_unavailable",
        "reason": "The anti-spam check was down.",
        "action": "hold",
        "evidence": [],
    }
    item = received(auto_brand, text="Lovely shop and kind staff.", flags=[captcha])
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert item.flags == [captcha]
    assert item.events.get().reasons == ["The anti-spam check was down."]


def test_it_drops_the_work_of_a_stale_run_when_a_newer_one_owns_the_row(auto_brand, monkeypatch):
    item = received(auto_brand, text=LONG_PRAISE)
    analyse = pipeline.testimonial_analyse

    def swept_and_reclaimed_meanwhile(**kwargs):
        # This run stalled; the sweeper released the row and a newer run claimed it.
        Testimonial.objects.filter(id=item.id).update(state=State.PROCESSING, attempts=2)
        return analyse(**kwargs)

    monkeypatch.setattr(pipeline, "testimonial_analyse", swept_and_reclaimed_meanwhile)
    assert pipeline.testimonial_process(testimonial_id=item.id).status == "superseded"
    item.refresh_from_db()
    assert item.state == State.PROCESSING and item.attempts == 2
    assert item.flags == [] and item.sentiment_label == ""
    assert not ContentFingerprint.objects.filter(testimonial=item).exists()


# --------------------------------------------------------------------------- batches


def test_a_batch_decides_its_own_row_first_and_the_waiting_ones_with_it(auto_brand):
    waiting = [received(auto_brand, text=f"Lovely shop number {n}, kind staff.") for n in range(3)]
    mine = received(auto_brand, text="The support team answered within an hour. Wonderful!")
    outcomes = pipeline.testimonials_process(testimonial_id=mine.id, limit=10)
    assert next(iter(outcomes)) == mine.id
    assert set(outcomes) == {mine.id, *(item.id for item in waiting)}
    assert all(outcome == pipeline.ProcessOutcome("decided", State.APPROVED) for outcome in outcomes.values())
    for item in [*waiting, mine]:
        item.refresh_from_db()
        assert item.state == State.APPROVED and item.attempts == 1 and item.sentiment_label == "positive"
        assert list(item.events.values_list("action", flat=True)) == ["auto_decision"]
    # The redundant messages of the rows this batch took find nothing to do.
    assert pipeline.testimonials_process(testimonial_id=waiting[0].id, limit=10) == {}


def test_a_batch_takes_no_more_than_its_limit(auto_brand):
    items = [received(auto_brand, text=f"Lovely shop number {n}.") for n in range(5)]
    outcomes = pipeline.testimonials_process(testimonial_id=items[4].id, limit=3)
    assert list(outcomes) == [items[4].id, items[0].id, items[1].id]  # its own, then the oldest waiting
    assert Testimonial.objects.filter(state=State.RECEIVED).count() == 2


def test_two_drains_take_disjoint_rows(auto_brand):
    items = [received(auto_brand, text=f"Lovely shop number {n}.") for n in range(6)]
    first = pipeline.testimonials_claim(testimonial_id=items[0].id, limit=4)
    second = pipeline.testimonials_claim(testimonial_id=items[0].id, limit=4)  # its row is taken already
    assert [row_id for row_id, _ in first] == [items[0].id, items[1].id, items[2].id, items[3].id]
    assert [row_id for row_id, _ in second] == [items[4].id, items[5].id]
    assert all(attempt == 1 for _, attempt in first + second)
    assert pipeline.testimonials_claim(testimonial_id=None, limit=4) == []


def test_a_poison_row_fails_alone_and_the_rest_of_its_batch_is_decided(auto_brand, monkeypatch, settings, fake_broker):
    settings.VOUCH_MAX_ATTEMPTS = 2
    retried = fake_broker.sent["testimonial_process_task"]
    items = [received(auto_brand, text=f"Lovely shop number {n}, kind staff.") for n in range(4)]
    poison = items[1]
    batch_write = writes.fingerprints_replace_many
    one_write = writes.fingerprints_replace

    def refuses_the_batch(work):
        batch_write(work)
        if any(entry.item.id == poison.id for entry in work):
            raise RuntimeError("the database refuses the poison row")

    def refuses_the_poison(*, item, **kwargs):
        if item.id == poison.id:
            raise RuntimeError("the database refuses the poison row")
        one_write(item=item, **kwargs)

    monkeypatch.setattr(writes, "fingerprints_replace_many", refuses_the_batch)
    monkeypatch.setattr(writes, "fingerprints_replace", refuses_the_poison)

    outcomes = pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    assert outcomes[poison.id] == pipeline.ProcessOutcome("failed", State.RECEIVED)
    assert retried == [poison.id]  # retried later, after a backoff
    for item in items:
        item.refresh_from_db()
    assert [item.state for item in items] == [State.APPROVED, State.RECEIVED, State.APPROVED, State.APPROVED]
    assert poison.attempts == 1 and "poison row" in poison.last_error
    assert not poison.events.exists()
    assert not ContentFingerprint.objects.filter(testimonial=poison).exists()
    assert AuditEvent.objects.filter(action="auto_decision").count() == 3

    # Its second attempt fails too: attempts ran out, it is marked failed, and it is not retried again.
    retried.clear()
    outcomes = pipeline.testimonials_process(testimonial_id=poison.id, limit=10)
    assert outcomes == {poison.id: pipeline.ProcessOutcome("failed", State.FAILED)}
    assert retried == []
    poison.refresh_from_db()
    assert poison.state == State.FAILED and poison.attempts == 2
    assert poison.events.get().action == "failed"


def test_a_row_whose_analysis_crashes_fails_alone(auto_brand, monkeypatch, fake_broker):
    items = [received(auto_brand, text=f"Lovely shop number {n}.") for n in range(3)]
    analyse = pipeline.testimonial_analyse

    def crashes_on_the_second(*, item, **kwargs):
        if item.id == items[1].id:
            raise ValueError("boom")
        return analyse(item=item, **kwargs)

    monkeypatch.setattr(pipeline, "testimonial_analyse", crashes_on_the_second)
    outcomes = pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    assert outcomes[items[1].id].status == "failed"
    assert [outcomes[item.id].state for item in items] == [State.APPROVED, State.RECEIVED, State.APPROVED]
    items[1].refresh_from_db()
    assert items[1].last_error == "ValueError: boom" and items[1].attempts == 1


def test_a_human_decision_mid_batch_wins_and_the_rest_of_the_batch_is_decided(auto_brand, monkeypatch):
    from tests.factories import MembershipFactory, UserFactory

    moderator = UserFactory(username="mod")
    MembershipFactory(user=moderator, brand=auto_brand)
    texts = (
        "Lovely shop, kind staff, would recommend.",
        "Quick delivery and a sturdy box.",
        "Great class, fun teacher.",
    )
    items = [received(auto_brand, text=text) for text in texts]
    batch_write = writes.fingerprints_replace_many

    def human_rejects_meanwhile(work):
        testimonial_reject(testimonial=items[1], actor=moderator, reason="Off-topic.")
        batch_write(work)

    monkeypatch.setattr(writes, "fingerprints_replace_many", human_rejects_meanwhile)
    outcomes = pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    assert outcomes[items[1].id] == pipeline.ProcessOutcome("superseded")
    for item in items:
        item.refresh_from_db()
    assert [item.state for item in items] == [State.APPROVED, State.REJECTED, State.APPROVED]
    assert items[1].sentiment_label and items[1].language == "en"  # the analysis is still kept for the admin
    assert list(items[1].events.values_list("action", flat=True)) == ["reject"]
    assert [list(item.events.values_list("action", flat=True)) for item in (items[0], items[2])] == [
        ["auto_decision"],
        ["auto_decision"],
    ]


def test_a_stale_batch_leaves_a_row_a_newer_run_owns_alone_and_decides_the_others(auto_brand, monkeypatch):
    desk = (
        "The standing desk arrived in two days and assembly took twenty minutes, rock solid, quiet motor, "
        "and my back has never felt better."
    )
    items = [received(auto_brand, text=text) for text in (desk, "Quick delivery and a sturdy box.", LONG_PRAISE)]
    analyse = pipeline.testimonial_analyse

    def swept_and_reclaimed_meanwhile(*, item, **kwargs):
        if item.id == items[2].id:  # this run stalled; the sweeper released the row and a newer run claimed it
            Testimonial.objects.filter(id=item.id).update(state=State.PROCESSING, attempts=2)
        return analyse(item=item, **kwargs)

    monkeypatch.setattr(pipeline, "testimonial_analyse", swept_and_reclaimed_meanwhile)
    outcomes = pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    assert outcomes[items[2].id] == pipeline.ProcessOutcome("superseded")
    for item in items:
        item.refresh_from_db()
    assert items[2].state == State.PROCESSING and items[2].attempts == 2 and items[2].sentiment_label == ""
    assert not ContentFingerprint.objects.filter(testimonial=items[2]).exists()
    assert items[0].state == State.APPROVED
    assert ContentFingerprint.objects.filter(testimonial=items[0]).count() == duplicates.BANDS


def test_a_batch_flags_a_near_duplicate_of_an_earlier_row_in_the_same_batch(auto_brand):
    first = received(auto_brand, text=LONG_PRAISE)
    second = received(auto_brand, text=LONG_PRAISE.replace("two", "three"))
    pipeline.testimonials_process(testimonial_id=first.id, limit=10)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == State.APPROVED
    [flag] = second.flags
    assert flag["code"] == "duplicate" and f"testimonial #{first.id}" in flag["evidence"]
    assert second.state == State.PENDING_REVIEW


def test_a_batch_reruns_a_row_with_its_fingerprints_replaced_not_doubled(auto_brand):
    items = [received(auto_brand, text=f"{LONG_PRAISE} Order {n}.") for n in range(2)]
    pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    Testimonial.objects.filter(id__in=[i.id for i in items]).update(state=State.RECEIVED)  # as if swept
    outcomes = pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    assert len(outcomes) == 2
    for item in items:
        assert ContentFingerprint.objects.filter(testimonial=item).count() == duplicates.BANDS


# --------------------------------------------------------------------------- widgets


def test_it_asks_once_per_brand_per_batch_to_republish_for_approvals_and_pending_reviews(
    auto_brand, monkeypatch, fake_broker, django_capture_on_commit_callbacks
):
    from testimonials.widgets import subscriber
    from tests.factories import WidgetFactory

    by_hand = BrandFactory(slug="by-hand", auto_approve=False)
    widget = WidgetFactory(brand=by_hand)
    asked = []
    publish = subscriber.widgets_request_publish

    def counting(*, brand_ids=(), widget_ids=()):
        asked.extend(brand_ids)
        return publish(brand_ids=brand_ids, widget_ids=widget_ids)

    monkeypatch.setattr(subscriber, "widgets_request_publish", counting)
    items = [received(by_hand, text=f"Lovely shop number {n}.") for n in range(3)]
    items += [received(auto_brand, text=f"Kind staff number {n}.") for n in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.testimonials_process(testimonial_id=items[0].id, limit=10)
    assert sorted(asked) == sorted([by_hand.id, auto_brand.id])
    assert {Testimonial.objects.get(id=item.id).state for item in items[:3]} == {State.PENDING_REVIEW}
    widget.refresh_from_db()
    assert widget.publish_requested_at is not None


def test_a_single_pending_review_asks_for_a_republish_too(
    brand_a, monkeypatch, fake_broker, django_capture_on_commit_callbacks
):
    from testimonials.widgets import subscriber

    asked = []
    monkeypatch.setattr(
        subscriber, "widgets_request_publish", lambda *, brand_ids=(), widget_ids=(): asked.extend(brand_ids)
    )
    item = received(brand_a, text="Lovely shop and kind staff.")
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.testimonial_process(testimonial_id=item.id).state == State.PENDING_REVIEW
    assert asked == [brand_a.id]


def test_the_sweeper_republishes_widgets_whose_publish_was_lost(brand_a, fake_broker):
    from tests.factories import WidgetFactory

    sent = fake_broker.sent["widget_publish_task"]
    lost = WidgetFactory(brand=brand_a, publish_requested_at=timezone.now() - timedelta(minutes=10))
    WidgetFactory(brand=brand_a, publish_requested_at=timezone.now())
    result = sweep_stuck()
    assert sent == [lost.id]
    assert result["widgets"] == 1


def test_a_batch_looks_up_stored_near_duplicates_for_all_its_rows_at_once(auto_brand):
    other = BrandFactory(slug="other")
    mine = received(auto_brand, text=LONG_PRAISE)
    theirs = received(other, text=LONG_PRAISE.replace("kettle", "toaster"))
    for item in (mine, theirs):
        pipeline.testimonial_process(testimonial_id=item.id)
    same_brand_copy = received(auto_brand, text=LONG_PRAISE.replace("two", "three"))
    other_brand_copy = received(other, text=LONG_PRAISE.replace("within", "in"))
    clean = received(auto_brand, text="Lovely shop and kind staff.")
    pipeline.testimonials_process(testimonial_id=same_brand_copy.id, limit=10)
    for item in (same_brand_copy, other_brand_copy, clean):
        item.refresh_from_db()
    [flag] = same_brand_copy.flags
    assert flag["code"] == "duplicate" and f"testimonial #{mine.id}" in flag["evidence"]
    [flag] = other_brand_copy.flags
    # Closest is the kettle one, in auto; a near-duplicate in its own brand (the toaster one) is what it shows.
    assert flag["code"] == "duplicate" and f"testimonial #{theirs.id}" in flag["evidence"]
    assert clean.flags == [] and clean.state == State.APPROVED
