"""testimonial_process: sentiment, explained flags, a decision, an audit event; idempotent and fenced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from testimonials.models import ContentFingerprint, ModerationEvent, Testimonial
from testimonials.moderation import duplicates
from testimonials.services import processing
from testimonials.services.moderation import testimonial_reject
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
    outcome = processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert outcome == processing.ProcessOutcome("decided", State.APPROVED)
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
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert item.events.get().reasons == ["Nothing was flagged; this brand approves every testimonial by hand."]


def test_it_holds_flagged_text_stores_every_reason_and_redacts_contact_details(auto_brand):
    item = received(auto_brand, text="Absolute sh1t support. Call me on 555-867-5309 or mail jo@example.com.", rating=2)
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert {f["code"] for f in item.flags} == {"profanity", "phone", "email"}
    assert all(f["reason"] and f["action"] == "hold" for f in item.flags)
    assert item.public_text == "Absolute sh1t support. Call me on [phone removed] or mail [email removed]."
    assert item.events.get().reasons == [f["reason"] for f in item.flags]


def test_it_rejects_advertising_spam_for_a_content_reason(auto_brand):
    item = received(auto_brand, text="Best casino bonus online, 200 free spins at luckyspins.xyz")
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.REJECTED
    assert "spam" in item.events.get().reasons[0]


def test_it_holds_words_on_the_brands_own_blocklist(db):
    brand = BrandFactory(slug="blocky", auto_approve=True, blocklist=["GadgetHub"])
    item = received(brand, text="So much better than gadgethub, I am very happy.")
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert [f["code"] for f in item.flags] == ["blocklist"]


def test_it_publishes_a_one_star_review_like_any_other(auto_brand):
    # FTC: a low rating is never a reason to hold. Clean negative text publishes like praise.
    item = received(auto_brand, rating=1, text="The kettle stopped working after a week and the lid never sealed.")
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.APPROVED
    assert item.sentiment_label == "negative"


def test_it_holds_five_stars_with_clearly_negative_text(auto_brand):
    item = received(auto_brand, rating=5, text="Terrible quality, it broke after one day. Very disappointed.")
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert [f["code"] for f in item.flags] == ["rating_mismatch"]


def test_it_checks_length_against_the_form(auto_brand):
    form = CollectionFormFactory(brand=auto_brand, text_min_length=20, text_max_length=100)
    item = received(auto_brand, form=form, text="Great class!")
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert [f["code"] for f in item.flags] == ["too_short"]


def test_it_does_not_judge_the_length_of_a_video_only_testimonial(auto_brand):
    form = CollectionFormFactory(brand=auto_brand, text_min_length=20)
    item = received(auto_brand, form=form, text="")
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.APPROVED


def test_it_flags_a_near_duplicate_in_the_same_brand_and_points_to_it(auto_brand):
    first = received(auto_brand, text=LONG_PRAISE)
    processing.testimonial_process(testimonial_id=first.id)
    second = received(auto_brand, text=LONG_PRAISE.replace("two", "three").upper().lower())
    processing.testimonial_process(testimonial_id=second.id)
    second.refresh_from_db()
    assert second.state == State.PENDING_REVIEW
    [flag] = second.flags
    assert flag["code"] == "duplicate"
    assert "this brand" in flag["reason"]
    assert f"testimonial #{first.id}" in flag["evidence"]


def test_it_calls_a_copy_sent_to_another_brand_a_suspected_fake_without_naming_it(auto_brand):
    other = BrandFactory(slug="other")
    first = received(other, text=LONG_PRAISE)
    processing.testimonial_process(testimonial_id=first.id)
    copy = received(auto_brand, text=LONG_PRAISE)
    processing.testimonial_process(testimonial_id=copy.id)
    copy.refresh_from_db()
    [flag] = copy.flags
    assert flag["code"] == "duplicate" and "another brand" in flag["reason"]
    assert flag["evidence"] == ["another brand"]  # no id or text of another tenant's testimonial


def test_it_does_not_flag_short_generic_praise_as_duplicate(auto_brand):
    for _ in range(2):
        item = received(auto_brand, text="Great product, fast shipping.")
        processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.APPROVED


def test_it_stores_fingerprints_once_however_often_it_runs(auto_brand):
    item = received(auto_brand, text=LONG_PRAISE)
    processing.testimonial_process(testimonial_id=item.id)
    Testimonial.objects.filter(id=item.id).update(state=State.RECEIVED)  # as if the sweeper re-ran it
    processing.testimonial_process(testimonial_id=item.id)
    assert ContentFingerprint.objects.filter(testimonial=item).count() == duplicates.BANDS


def test_it_processes_a_row_once_when_its_message_arrives_twice(auto_brand):
    item = received(auto_brand)
    assert processing.testimonial_process(testimonial_id=item.id).status == "decided"
    assert processing.testimonial_process(testimonial_id=item.id).status == "skipped"
    item.refresh_from_db()
    assert item.attempts == 1
    assert item.events.count() == 1


def test_it_leaves_a_human_decision_made_during_processing_alone(auto_brand, monkeypatch):
    from tests.factories import MembershipFactory, UserFactory

    moderator = UserFactory(username="mod")
    MembershipFactory(user=moderator, brand=auto_brand)
    item = received(auto_brand, text="Lovely shop and kind staff, would recommend.")
    replace = processing.fingerprints_replace

    def human_rejects_meanwhile(**kwargs):
        testimonial_reject(testimonial=item, actor=moderator, reason="Off-topic.")
        replace(**kwargs)

    monkeypatch.setattr(processing, "fingerprints_replace", human_rejects_meanwhile)
    outcome = processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert outcome.status == "superseded"
    assert item.state == State.REJECTED
    assert item.sentiment_label == "positive"  # the analysis is still kept for the admin
    assert list(item.events.values_list("action", flat=True)) == ["reject"]


def test_it_never_touches_a_row_a_person_already_decided(auto_brand):
    item = received(auto_brand)
    Testimonial.objects.filter(id=item.id).update(state=State.REJECTED)
    assert processing.testimonial_process(testimonial_id=item.id).status == "skipped"
    item.refresh_from_db()
    assert item.state == State.REJECTED and item.attempts == 0


def test_it_retries_a_failed_attempt_and_gives_up_after_the_limit(auto_brand, settings):
    settings.VOUCH_MAX_ATTEMPTS = 2
    item = received(auto_brand)
    states = []
    for _ in range(2):
        assert processing.testimonial_claim(testimonial_id=item.id)
        states.append(processing.testimonial_processing_failed(testimonial_id=item.id, error="ValueError: boom"))
    item.refresh_from_db()
    assert states == [State.RECEIVED, State.FAILED]
    assert item.state == State.FAILED
    assert item.last_error == "ValueError: boom"
    assert item.events.get().action == "failed"
    assert processing.testimonial_process(testimonial_id=item.id).status == "skipped"


def test_it_fails_a_row_whose_worker_keeps_dying(auto_brand, settings):
    # Each death leaves the attempt counted; the sweeper sends it back; the next claim gives up.
    settings.VOUCH_MAX_ATTEMPTS = 3
    item = received(auto_brand, attempts=3, last_error="The worker stopped before finishing; retrying.")
    outcome = processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert outcome.state == State.FAILED
    assert item.state == State.FAILED
    assert "worker stopped" in item.last_error
    assert "Gave up after 3 attempts" in item.events.get().reasons[0]


def test_it_sweeps_rows_stuck_in_received_or_processing_and_nothing_else(auto_brand, monkeypatch):
    sent = []
    monkeypatch.setattr("testimonials.queue.enqueue_processing", lambda tid: sent.append(tid) or True)
    old = timezone.now() - timedelta(minutes=10)
    lost = received(auto_brand, state_changed_at=old)
    orphaned = received(auto_brand, state_changed_at=old, attempts=1)
    Testimonial.objects.filter(id=orphaned.id).update(state=State.PROCESSING)
    fresh = received(auto_brand)
    decided = TestimonialFactory(brand=auto_brand, state=State.PENDING_REVIEW, state_changed_at=old)

    result = processing.sweep_stuck()
    assert sorted(sent) == sorted([lost.id, orphaned.id])
    assert result["released"] == 1
    orphaned.refresh_from_db()
    assert orphaned.state == State.RECEIVED and orphaned.attempts == 1
    decided.refresh_from_db()
    assert decided.state == State.PENDING_REVIEW
    assert fresh.id not in sent

    sent.clear()
    processing.sweep_stuck()
    assert sent == []  # the clock was reset: a backlog is not enqueued again at every sweep


def test_it_writes_one_event_per_automatic_decision(auto_brand):
    items = [received(auto_brand, text=text) for text in ("Lovely.", "Absolute sh1t.", "Visit spam.example.com")]
    for item in items:
        processing.testimonial_process(testimonial_id=item.id)
    assert ModerationEvent.objects.filter(action="auto_decision").count() == 3


def test_it_keeps_flags_set_at_submit_time_and_holds_for_them(auto_brand):
    captcha = {
        "code": "captcha_unavailable",
        "reason": "The anti-spam check was down.",
        "action": "hold",
        "evidence": [],
    }
    item = received(auto_brand, text="Lovely shop and kind staff.", flags=[captcha])
    processing.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert item.flags == [captcha]
    assert item.events.get().reasons == ["The anti-spam check was down."]


def test_it_drops_the_work_of_a_stale_run_when_a_newer_one_owns_the_row(auto_brand, monkeypatch):
    item = received(auto_brand, text=LONG_PRAISE)
    analyse = processing.testimonial_analyse

    def swept_and_reclaimed_meanwhile(**kwargs):
        # This run stalled; the sweeper released the row and a newer run claimed it.
        Testimonial.objects.filter(id=item.id).update(state=State.PROCESSING, attempts=2)
        return analyse(**kwargs)

    monkeypatch.setattr(processing, "testimonial_analyse", swept_and_reclaimed_meanwhile)
    assert processing.testimonial_process(testimonial_id=item.id).status == "superseded"
    item.refresh_from_db()
    assert item.state == State.PROCESSING and item.attempts == 2
    assert item.flags == [] and item.sentiment_label == ""
    assert not ContentFingerprint.objects.filter(testimonial=item).exists()
