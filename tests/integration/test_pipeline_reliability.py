"""The pipeline survives what production throws at it: real PostgreSQL, real Redis, real workers.

(a) the broker is down at submit time; (b) a worker process is SIGKILLed mid-task; (c) a poison
row crashes every attempt; (d) a person decides while a task runs.

Each test runs its own redis-server on a free port, so it can stop the broker without touching
anyone else's, and holds PostgreSQL locks from a second connection to freeze a task at a known
point: after its claim, while it writes the row's fingerprints (see pipeline.testimonial_process).
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from testimonials import sweeper
from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import ContentFingerprint, Testimonial
from testimonials.moderation import duplicates
from testimonials.processing import pipeline
from testimonials.services.decisions import testimonial_reject
from tests.factories import BrandFactory, CollectionFormFactory, MembershipFactory, UserFactory
from tests.integration.support import TableLock, pool_children, someone_waits_on_a_lock
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = Testimonial.State
DECIDED = [State.APPROVED, State.PENDING_REVIEW, State.REJECTED]
TEXT = (
    "The standing desk arrived in two days and assembly took twenty minutes, rock solid, quiet motor, "
    "and my back has never felt better."
)


@pytest.fixture
def form_auto(db):
    brand = BrandFactory(slug="pipeline", auto_approve=True)
    return CollectionFormFactory(brand=brand, slug="pipeline")


def submit(form, text: str = TEXT, **fields) -> Testimonial:
    data = SubmissionData(author_name="Grace", rating=5, text=text, consent_given=True, **fields)
    return testimonial_submit(form=form, data=data)


def decided(item_id: int) -> Testimonial | None:
    return Testimonial.objects.filter(id=item_id, state__in=DECIDED).first()


def frozen_after_claim(item_id: int) -> bool:
    return Testimonial.objects.filter(id=item_id, state=State.PROCESSING).exists() and someone_waits_on_a_lock()


@pytest.fixture
def fingerprint_lock():
    locks: list[TableLock] = []

    def take() -> TableLock:
        locks.append(TableLock(ContentFingerprint._meta.db_table))
        return locks[-1]

    yield take
    for lock in locks:
        lock.release()


# --------------------------------------------------------------------------- (a)


def test_it_keeps_a_submission_sent_while_the_broker_is_down_and_processes_it_once_it_returns(broker, form_auto):
    broker.stop()
    item = submit(form_auto)  # the enqueue after commit fails; the customer still gets their answer
    item.refresh_from_db()
    assert item.state == State.RECEIVED

    broker.start()
    sweeping = {"VOUCH_SWEEP_EVERY_SECONDS": "0.5", "VOUCH_STUCK_AFTER_SECONDS": "1"}
    with celery_worker(concurrency=2, beat=True, extra_env=sweeping):
        final = wait_until(lambda: decided(item.id), limit=60)
        # Let the sweeper run several more times: nothing may be processed twice.
        time.sleep(3)
        final.refresh_from_db()
    assert final.state == State.APPROVED
    assert final.attempts == 1
    assert final.events.filter(action="auto_decision").count() == 1
    assert ContentFingerprint.objects.filter(testimonial=final).count() == duplicates.BANDS


# --------------------------------------------------------------------------- (b)


def test_it_processes_a_row_once_when_its_worker_is_killed_mid_task(broker, form_auto, fingerprint_lock):
    item = submit(form_auto)
    lock = fingerprint_lock()
    with celery_worker(concurrency=1) as worker:
        wait_until(lambda: frozen_after_claim(item.id))
        [child] = pool_children(worker)
        os.kill(child, signal.SIGKILL)  # the OOM killer, mid-task, after the claim
        wait_until(lambda: pool_children(worker) and child not in pool_children(worker))
        lock.release()
        # The row stays claimed by the dead run until the sweeper's lease runs out.
        assert Testimonial.objects.get(id=item.id).state == State.PROCESSING
        sweeper.sweep_stuck(older_than=timedelta(0))
        final = wait_until(lambda: decided(item.id))
    assert worker.returncode is None or worker.returncode <= 0
    assert final.state == State.APPROVED
    assert final.attempts == 2  # the killed run counts: a poison message cannot loop forever
    assert final.last_error == ""
    assert final.events.filter(action="auto_decision").count() == 1
    assert ContentFingerprint.objects.filter(testimonial=final).count() == duplicates.BANDS


def test_it_processes_a_row_once_when_the_whole_worker_is_killed_mid_task(broker, form_auto, fingerprint_lock):
    # No parent survives to requeue the message: it waits, unacknowledged, for Redis's visibility
    # timeout (15 minutes). The sweeper of a new worker must not wait that long.
    item = submit(form_auto)
    lock = fingerprint_lock()
    with celery_worker(concurrency=1) as worker:
        wait_until(lambda: frozen_after_claim(item.id))
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    lock.release()
    sweeping = {"VOUCH_SWEEP_EVERY_SECONDS": "0.5", "VOUCH_STUCK_AFTER_SECONDS": "1"}
    with celery_worker(concurrency=1, beat=True, extra_env=sweeping):
        final = wait_until(lambda: decided(item.id), limit=60)
        time.sleep(2)  # more sweeps: still processed once
        final.refresh_from_db()
    assert final.state == State.APPROVED
    assert final.attempts == 2
    assert final.events.filter(action="auto_decision").count() == 1
    assert ContentFingerprint.objects.filter(testimonial=final).count() == duplicates.BANDS


# --------------------------------------------------------------------------- (c)

POISON = "poison-pill"


@pytest.fixture
def poison_trigger(db):
    """A row that always breaks its analysis write: the database refuses it, on every attempt."""
    table = Testimonial._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE OR REPLACE FUNCTION vouch_test_poison() RETURNS trigger AS $$
            BEGIN
              IF NEW.text LIKE '%%{POISON}%%' AND NEW.sentiment_score IS NOT NULL THEN
                RAISE EXCEPTION 'poison pill: this row always breaks its analysis';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER vouch_test_poison BEFORE UPDATE ON {table}
              FOR EACH ROW EXECUTE FUNCTION vouch_test_poison();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TRIGGER IF EXISTS vouch_test_poison ON {table}; DROP FUNCTION IF EXISTS vouch_test_poison();"
        )


def test_it_gives_up_on_a_task_that_always_crashes_and_keeps_the_queue_flowing(broker, form_auto, poison_trigger):
    poison = submit(form_auto, text=f"Great desk, {POISON} inside, I really love it.")
    with celery_worker(concurrency=2, extra_env={"VOUCH_MAX_ATTEMPTS": "3"}):
        wait_until(lambda: Testimonial.objects.get(id=poison.id).attempts >= 1)
        later = [submit(form_auto, text=text) for text in ("Lovely shop.", "Kind, helpful staff!", "Fast delivery.")]
        failed = wait_until(lambda: Testimonial.objects.filter(id=poison.id, state=State.FAILED).first(), limit=90)
        for item in later:
            assert wait_until(lambda item=item: decided(item.id)).state == State.APPROVED
    assert failed.attempts == 3
    assert "poison pill" in failed.last_error
    [event] = failed.events.filter(action="failed")
    assert "3 times" in event.reasons[0]
    assert not failed.events.filter(action="auto_decision").exists()


def test_a_poison_row_drained_in_a_batch_fails_alone(broker, form_auto, poison_trigger):
    # Submitted while no worker runs: the first task takes them all in one batch.
    texts = (
        "Lovely shop.",
        f"Great desk, {POISON} inside, I really love it.",
        "Kind, helpful staff!",
        "Fast delivery.",
    )
    items = [submit(form_auto, text=text) for text in texts]
    poison = items[1]
    with celery_worker(concurrency=1, extra_env={"VOUCH_MAX_ATTEMPTS": "3"}):
        for item in items[:1] + items[2:]:
            assert wait_until(lambda item=item: decided(item.id)).state == State.APPROVED
        failed = wait_until(lambda: Testimonial.objects.filter(id=poison.id, state=State.FAILED).first(), limit=90)
    assert failed.attempts == 3
    assert "poison pill" in failed.last_error
    for item in items[:1] + items[2:]:
        assert list(item.events.values_list("action", flat=True)) == ["received", "auto_decision"]
        assert Testimonial.objects.get(id=item.id).attempts == 1


# --------------------------------------------------------------------------- (d)


def test_it_keeps_a_rejection_made_by_a_person_while_the_task_runs(broker, form_auto, fingerprint_lock):
    moderator = UserFactory(username="moderator")
    MembershipFactory(user=moderator, brand=form_auto.brand)
    item = submit(form_auto)
    lock = fingerprint_lock()
    with celery_worker(concurrency=1):
        wait_until(lambda: frozen_after_claim(item.id))
        testimonial_reject(testimonial=item, actor=moderator, reason="This customer asked us to remove it.")
        lock.release()
        # The run finishes (it stores its analysis) and must leave the person's decision alone.
        final = wait_until(lambda: Testimonial.objects.filter(id=item.id).exclude(sentiment_label="").first())
        time.sleep(1)
        final.refresh_from_db()
    assert final.state == State.REJECTED
    assert final.rejection_reason == "This customer asked us to remove it."
    assert list(final.events.values_list("action", flat=True)) == ["received", "reject"]  # no auto_decision


# --------------------------------------------------------------------------- batches


def test_drains_racing_on_postgresql_take_disjoint_rows_and_skip_locked_ones(form_auto):
    import threading

    from django.db import connections

    from tests.factories import TestimonialFactory

    items = [
        TestimonialFactory(brand=form_auto.brand, form=form_auto, state=State.RECEIVED, text=f"Lovely shop {n}.")
        for n in range(60)
    ]
    ids = [item.id for item in items]
    # Another drain's claim is in flight on the first five rows: they are skipped, not waited for.
    s = connection.settings_dict
    other = psycopg.connect(
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        user=s.get("USER") or "postgres",
        dbname=s["NAME"],
    )
    other.execute(f"SELECT id FROM {Testimonial._meta.db_table} WHERE id = ANY(%s) FOR UPDATE", [ids[:5]])
    results: list[list[tuple[int, int]]] = [[], [], []]
    start = threading.Barrier(3)

    def drain(slot: int) -> None:
        try:
            start.wait(timeout=10)
            while batch := pipeline.testimonials_claim(testimonial_id=None, limit=7):
                assert len(batch) <= 7
                results[slot].extend(batch)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=drain, args=(slot,)) for slot in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        other.rollback()
        other.close()
    taken = [row_id for batch in results for row_id, _ in batch]
    assert len(taken) == len(set(taken))  # disjoint: no row claimed twice
    assert sorted(taken) == ids[5:]  # every row but the locked ones, and none of those waited for
    assert all(attempt == 1 for batch in results for _, attempt in batch)
    assert Testimonial.objects.filter(id__in=ids[:5], state=State.RECEIVED).count() == 5
