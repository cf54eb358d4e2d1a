"""Every recorded change reaches each subscriber exactly once after commit; a failing subscriber holds up
no other and gets the entry again, with backoff, until it succeeds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from testimonials.collection.submission import MediaUpload, SubmissionData, testimonial_submit
from testimonials.lifecycle.dispatch import lifecycle_dispatch, lifecycle_purge, lifecycle_sweep
from testimonials.lifecycle.events import record
from testimonials.lifecycle.subscribers import subscribers
from testimonials.models import AuditEvent, EventType, MediaAsset, OutboxEntry, OutboxReceipt, Testimonial, Widget
from testimonials.privacy.services import testimonial_erase
from testimonials.processing import pipeline
from testimonials.renditions.services import media_process
from testimonials.services.brands import brand_save, tag_delete, tag_save
from testimonials.services.decisions import (
    testimonial_add_tags,
    testimonial_approve,
    testimonial_edit,
    testimonial_reject,
    testimonial_set_featured,
    testimonial_unpublish,
    testimonials_decide,
)
from testimonials.services.forms import collection_form_delete, collection_form_save
from testimonials.widgets.services import widget_delete, widget_save
from tests.factories import CollectionFormFactory, TagFactory, TestimonialFactory, WidgetFactory
from tests.media import corpus

pytestmark = pytest.mark.django_db
State = Testimonial.State


def _data(**overrides) -> SubmissionData:
    values = {"author_name": "Ada", "rating": 5, "text": "Lovely shop and kind staff.", "consent_given": True}
    return SubmissionData(**{**values, **overrides})


def test_it_writes_the_audit_row_and_the_outbox_entry_together(alice, brand_a):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    with transaction.atomic():
        audit = record(event=EventType.APPROVE, testimonial=item, actor=alice, from_state="a", to_state="b")
        transaction.set_rollback(True)
    assert not AuditEvent.objects.filter(id=audit.id).exists() and not OutboxEntry.objects.exists()
    with transaction.atomic():
        record(event=EventType.APPROVE, testimonial=item, actor=alice)
    entry = OutboxEntry.objects.get()
    assert (entry.event, entry.public_id, entry.brand_id, entry.actor_kind) == (
        "approve",
        item.public_id,
        brand_a.id,
        "human",
    )
    assert AuditEvent.objects.get(testimonial=item).actor == alice


def test_it_refuses_to_record_outside_the_transaction_of_the_change(brand_a):
    item = TestimonialFactory(brand=brand_a)
    transaction.get_connection().in_atomic_block = False  # as in autocommit, outside any atomic block
    try:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            record(event=EventType.APPROVE, testimonial=item)
    finally:
        transaction.get_connection().in_atomic_block = True


def test_it_hands_off_once_per_transaction_however_many_changes_it_recorded(
    alice, brand_a, fake_broker, django_capture_on_commit_callbacks
):
    items = [TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        testimonials_decide(testimonials=items, actor=alice, verb="approve")
    assert len(callbacks) == 1
    [entry_ids] = fake_broker.sent["lifecycle_dispatch_task"]
    assert sorted(entry_ids) == sorted(OutboxEntry.objects.values_list("id", flat=True))
    assert OutboxEntry.objects.filter(dispatched_at__isnull=False).count() == 5


def test_every_lifecycle_action_reaches_a_subscriber_exactly_once(
    alice, brand_a, form_a, recorder, fake_broker, django_capture_on_commit_callbacks, tmp_path
):
    brand_a.auto_approve = True
    brand_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        item = testimonial_submit(form=form_a, data=_data())
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.testimonial_process(testimonial_id=item.id)
    # A batch of automatic decisions (the bulk form of the same record).
    with django_capture_on_commit_callbacks(execute=True):
        batch = [
            testimonial_submit(form=form_a, data=_data(text=f"Kind staff, lovely shop, visit {n}.")) for n in range(3)
        ]
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.testimonials_process(testimonial_id=batch[0].id, limit=10)
    tag = TagFactory(brand=brand_a)
    steps = [
        lambda: testimonial_set_featured(testimonial=item, actor=alice, featured=True),
        lambda: testimonial_set_featured(testimonial=item, actor=alice, featured=False),
        lambda: testimonial_add_tags(testimonial=item, actor=alice, tags=[tag]),
        lambda: testimonial_edit(
            testimonial=item, actor=alice, public_text="Lovely shop, kind staff.", highlight="", note="Fixed a typo."
        ),
        lambda: testimonial_unpublish(testimonial=item, actor=alice),
        lambda: testimonial_approve(testimonial=item, actor=alice),
        lambda: testimonial_reject(testimonial=item, actor=alice, reason="Off-topic"),
        lambda: testimonial_erase(testimonial=item, actor=alice),
        lambda: brand_save(brand=brand_a, actor=alice, changed=["accent_color"]),
        lambda: collection_form_save(form=form_a, actor=alice, changed=["title"]),
        lambda: tag_save(tag=tag, actor=alice, changed=["name"]),
        lambda: tag_delete(tag=tag, actor=alice),
        lambda: widget_save(widget=WidgetFactory(brand=brand_a), actor=alice, created=True),
        lambda: widget_delete(widget=Widget.objects.get(brand=brand_a), actor=alice),
        lambda: collection_form_delete(form=CollectionFormFactory(brand=brand_a), actor=alice),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
    assert recorder.events() == [
        "received", "auto_decision", "received", "received", "received", "auto_decision", "auto_decision",
        "auto_decision", "feature", "unfeature", "tag", "edit", "unpublish", "approve", "reject", "erase",
        "brand_change", "form_change", "tag_change", "tag_change", "widget_change", "widget_delete", "form_change",
    ]  # fmt: skip
    entry_ids = [entry_id for _, _, entry_id in recorder.handled]
    assert len(entry_ids) == len(set(entry_ids))  # each entry once
    # Handing everything off again delivers nothing twice.
    assert lifecycle_sweep(older_than=timedelta(0)) == 0
    lifecycle_dispatch(entry_ids=list(OutboxEntry.objects.values_list("id", flat=True)))
    assert len(recorder.handled) == len(entry_ids)
    assert OutboxReceipt.objects.filter(subscriber="test-recorder").count() == len(entry_ids)


def test_it_records_a_photo_becoming_ready(brand_a, form_a):
    upload = MediaUpload(
        MediaAsset.Kind.PHOTO, ContentFile(corpus.photo(fmt="JPEG"), name="p.jpg"), "p.jpg", "image/jpeg"
    )
    item = testimonial_submit(form=form_a, data=_data(media=[upload]))
    media_process(asset_id=item.media.get().id)
    assert item.events.filter(action=EventType.MEDIA_READY).count() == 1


def test_a_failing_subscriber_holds_up_no_other_and_gets_the_entry_again_until_it_succeeds(
    alice, brand_a, recorder, fake_broker, django_capture_on_commit_callbacks
):
    widget = WidgetFactory(brand=brand_a)
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    recorder.fail_with = RuntimeError("the receiver is down")
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_approve(testimonial=item, actor=alice)
    entry = OutboxEntry.objects.get()
    assert entry.dispatched_at is None and "test-recorder: RuntimeError: the receiver is down" in entry.last_error
    assert fake_broker.sent["widget_publish_task"] == [widget.id]  # the widgets did not wait for it
    # Every other subscriber of an approval (webhooks, widgets, influence...) handled it, not the failing one.
    others = sorted(s.name for s in subscribers() if EventType.APPROVE in s.events and s.name != "test-recorder")
    assert {"webhooks", "widgets"} <= set(others)
    assert sorted(entry.receipts.values_list("subscriber", flat=True)) == others

    # The sweeper tries again, backing off each time; the widgets are not handed the entry twice.
    OutboxEntry.objects.filter(id=entry.id).update(created_at=timezone.now() - timedelta(minutes=10))
    assert lifecycle_sweep() == 0
    entry.refresh_from_db()
    assert entry.attempts == 1 and entry.retry_at > timezone.now() - timedelta(seconds=1)
    assert lifecycle_sweep() == 0  # not due yet
    entry.refresh_from_db()
    assert entry.attempts == 1
    recorder.fail_with = None
    OutboxEntry.objects.filter(id=entry.id).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert lifecycle_sweep() == 1
    entry.refresh_from_db()
    assert entry.dispatched_at is not None and entry.attempts == 2
    assert recorder.events() == ["approve"]
    assert fake_broker.sent["widget_publish_task"] == [widget.id]


def test_the_sweeper_hands_off_entries_whose_hand_off_was_lost(alice, brand_a, recorder):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    testimonial_approve(testimonial=item, actor=alice)  # committed, but the hand-off never ran (no worker)
    assert recorder.handled == []
    assert lifecycle_sweep() == 0  # too recent: its hand-off may still be on its way
    OutboxEntry.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert lifecycle_sweep() == 1
    assert recorder.events() == ["approve"]
    assert lifecycle_sweep(older_than=timedelta(0)) == 0


def test_it_purges_dispatched_entries_after_their_retention_and_keeps_the_audit_trail(alice, brand_a, settings):
    settings.VOUCH_OUTBOX_RETENTION_DAYS = 7
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    testimonial_approve(testimonial=item, actor=alice)
    pending = OutboxEntry.objects.get()
    testimonial_approve(testimonial=TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW), actor=alice)
    old = timezone.now() - timedelta(days=8)
    OutboxEntry.objects.exclude(id=pending.id).update(dispatched_at=old)
    assert lifecycle_purge() == 1
    assert list(OutboxEntry.objects.values_list("id", flat=True)) == [pending.id]  # undispatched: kept
    assert AuditEvent.objects.count() == 2


def test_an_erasure_keeps_only_its_own_record_naming_the_public_id(alice, brand_a, fake_broker):
    item = TestimonialFactory(brand=brand_a, state=State.APPROVED)
    testimonial_set_featured(testimonial=item, actor=alice, featured=True)
    testimonial_erase(testimonial=item, actor=alice)
    [audit] = AuditEvent.objects.all()
    assert (audit.action, audit.testimonial_id, audit.subject) == ("erase", None, item.public_id)
