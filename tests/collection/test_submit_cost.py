"""What a submit costs the web process: its form from memory, one message, no lookup before the insert
(issue 16, "Submit cost"; figures in docs/benchmarks.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testimonials import queue
from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.lifecycle.dispatch import lifecycle_sweep
from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.models import FieldMode, Testimonial
from testimonials.processing.tasks import testimonial_process_task
from testimonials.services.forms import collection_form_save
from testimonials.spool import services as spool
from tests.collection.collect_support import _fresh_rate_limits, form_url, valid_post  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def remembered(settings):
    settings.VOUCH_PUBLIC_FORM_CACHE_SECONDS = 5


def test_it_submits_with_three_inserts_and_no_query_for_a_form_loaded_moments_ago(client, form_a, remembered):
    client.get(form_url(form_a))
    with CaptureQueriesContext(connection) as queries:
        response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The testimonial, its audit row and its outbox entry; no SELECT (neither the form nor the key).
    assert [sql.split()[0] for sql in statements] == ["INSERT", "INSERT", "INSERT"], statements
    assert Testimonial.objects.get().form_id == form_a.id


def test_it_holds_the_submit_to_its_queries(client, form_a, remembered, django_assert_num_queries):
    client.get(form_url(form_a))
    # Three inserts in one savepoint (SAVEPOINT and RELEASE): the count a change must not grow.
    with django_assert_num_queries(5):
        assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303


def test_it_loads_the_form_again_once_its_copy_is_older_than_the_setting(client, form_a, remembered):
    client.get(form_url(form_a))
    form_a.title = "Tell us everything"
    form_a.save()  # straight through the ORM: no lifecycle event, so only age makes the change visible
    assert "Tell us everything" not in client.get(form_url(form_a)).content.decode()
    key = (form_a.brand.slug, form_a.slug)
    loaded_at, copy = spool._forms[key]
    spool._forms[key] = (loaded_at - 5, copy)
    assert "Tell us everything" in client.get(form_url(form_a)).content.decode()


def test_it_shows_a_form_change_at_once_in_the_process_that_hands_it_off(
    client, form_a, alice, remembered, fake_broker, django_capture_on_commit_callbacks
):
    client.get(form_url(form_a))
    form_a.marketing_consent_text = "Send me news now and then."
    with django_capture_on_commit_callbacks(execute=True):
        collection_form_save(form=form_a, actor=alice, changed=["marketing_consent_text"])
    assert "Send me news now and then." in client.get(form_url(form_a)).content.decode()


def test_it_keeps_a_forgotten_form_as_the_outage_fallback(client, form_a, remembered):
    client.get(form_url(form_a))
    spool.forms_forget(brand_ids={form_a.brand_id})
    assert spool.form_fresh(brand_slug=form_a.brand.slug, form_slug=form_a.slug) is None
    assert spool.form_remembered(brand_slug=form_a.brand.slug, form_slug=form_a.slug).pk == form_a.pk


def test_it_does_not_remember_forms_when_the_setting_is_zero(client, form_a, settings):
    settings.VOUCH_PUBLIC_FORM_CACHE_SECONDS = 0
    client.get(form_url(form_a))
    assert spool.form_fresh(brand_slug=form_a.brand.slug, form_slug=form_a.slug) is None


def test_it_sends_one_message_per_submit_carrying_the_received_entry(
    client, form_a, fake_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303
    item = Testimonial.objects.get()
    entry = OutboxEntry.objects.get(event=EventType.RECEIVED)
    assert fake_broker.sent["testimonial_process_task"] == [item.id]
    assert fake_broker.kwargs["testimonial_process_task"] == [{"lifecycle_entry_ids": [entry.id]}]
    assert "lifecycle_dispatch_task" not in fake_broker.sent
    entry.refresh_from_db()
    assert entry.dispatched_at is not None  # handed off by the processing message, as a worker would


def test_it_leaves_an_entry_whose_message_was_lost_to_the_sweeper(
    client, form_a, monkeypatch, django_capture_on_commit_callbacks
):
    tried = []

    def down(task, args, countdown, kwargs=None):
        tried.append(kwargs)
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(queue, "_apply", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303
    entry = OutboxEntry.objects.get(event=EventType.RECEIVED)
    assert tried == [{"lifecycle_entry_ids": [entry.id]}]
    assert entry.dispatched_at is None
    assert lifecycle_sweep(older_than=timedelta(0)) == 1
    entry.refresh_from_db()
    assert entry.dispatched_at is not None


def test_it_dispatches_the_carried_entries_before_processing(client, form_a, fake_broker):
    client.post(form_url(form_a), valid_post(form_a))
    entry = OutboxEntry.objects.get(event=EventType.RECEIVED)
    OutboxEntry.objects.filter(id=entry.id).update(dispatched_at=None)
    item = Testimonial.objects.get()
    testimonial_process_task.run(item.id, lifecycle_entry_ids=[entry.id])
    entry.refresh_from_db()
    item.refresh_from_db()
    assert entry.dispatched_at is not None
    assert item.state != Testimonial.State.RECEIVED


def test_it_processes_even_when_the_carried_hand_off_fails(client, form_a, fake_broker, monkeypatch):
    client.post(form_url(form_a), valid_post(form_a))
    entry = OutboxEntry.objects.get(event=EventType.RECEIVED)
    OutboxEntry.objects.filter(id=entry.id).update(dispatched_at=None)

    def broken(*, entry_ids):
        raise RuntimeError("a subscriber's table is locked")

    monkeypatch.setattr("testimonials.processing.tasks.lifecycle_dispatch", broken)
    item = Testimonial.objects.get()
    testimonial_process_task.run(item.id, lifecycle_entry_ids=[entry.id])
    item.refresh_from_db()
    entry.refresh_from_db()
    assert item.state != Testimonial.State.RECEIVED
    assert entry.dispatched_at is None  # the lifecycle sweeper hands it off later


def _data(**overrides) -> SubmissionData:
    values = {
        "author_name": "Maya Lopez",
        "text": "The onboarding call saved us a week of work.",
        "rating": 5,
        "consent_given": True,
        "submission_key": "form:1:abc",
    }
    values.update(overrides)
    return SubmissionData(**values)


def test_it_answers_a_repeat_with_the_first_row_through_the_unique_key(form_a, fake_broker):
    first = testimonial_submit(form=form_a, data=_data())
    again = testimonial_submit(form=form_a, data=_data(text="Edited after a lost answer, same page."))
    assert again.pk == first.pk
    assert Testimonial.objects.count() == 1
    assert OutboxEntry.objects.filter(event=EventType.RECEIVED).count() == 1  # the repeat's insert was undone


def test_it_answers_a_repeat_with_the_first_row_after_the_form_changed(form_a, fake_broker):
    first = testimonial_submit(form=form_a, data=_data())
    form_a.is_active = False
    form_a.author_title_mode = FieldMode.REQUIRED
    form_a.save()
    assert testimonial_submit(form=form_a, data=_data()).pk == first.pk
