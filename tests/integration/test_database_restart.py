"""PostgreSQL restarts under running workers: the next task on every worker process succeeds.

Each worker process keeps its connection across tasks (CELERY_DB_REUSE_MAX). Before the fix, a
process whose connection died with the server failed every task with "the connection is closed"
until it had run CELERY_DB_REUSE_MAX of them. The test uses a private PostgreSQL (never the shared
one on 5432), pins one task on each of the two pool processes with a table lock both before and
after the restart, and asks that both finish, first time.
"""

from __future__ import annotations

import pytest
from django.db import connection

from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import ContentFingerprint, Testimonial
from tests.factories import BrandFactory, CollectionFormFactory
from tests.integration.support import PostgresServer, TableLock, django_uses, pool_children
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = Testimonial.State
DECIDED = [State.APPROVED, State.PENDING_REVIEW]
TEXTS = [
    "The standing desk arrived in two days and the motor is whisper quiet.",
    "Lovely ceramic mugs, they keep coffee warm and survive the dishwasher.",
    "Our hiking boots were waterproof on a rainy weekend in the mountains.",
    "The bakery delivered fresh sourdough every Saturday morning without fail.",
]


@pytest.fixture
def private_postgres():
    server = PostgresServer()
    yield server
    server.destroy()


def submit(form, text: str) -> Testimonial:
    data = SubmissionData(author_name="Grace", rating=5, text=text, consent_given=True)
    return testimonial_submit(form=form, data=data)


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def one_task_on_each_process(form, texts: list[str]) -> list[Testimonial]:
    """Two submissions processed at once, one per pool process: the first blocks on a lock, so the second
    goes to the other process. Returns them once both are decided."""
    lock = TableLock(ContentFingerprint._meta.db_table)
    try:
        items = [submit(form, text) for text in texts]
        wait_until(lambda: waiting_on_a_lock() >= 2, limit=60)
    finally:
        lock.release()
    return [
        wait_until(lambda item=item: Testimonial.objects.filter(id=item.id, state__in=DECIDED).first(), limit=60)
        for item in items
    ]


def test_it_succeeds_on_the_next_task_of_every_worker_process_after_postgresql_restarts(private_postgres):
    with django_uses(private_postgres):
        form = CollectionFormFactory(brand=BrandFactory(slug="pg-restart", auto_approve=True), slug="restart")
        with celery_worker(concurrency=2, extra_env={"VOUCH_PROCESS_BATCH": "1"}) as worker:
            assert len(pool_children(worker)) == 2
            before = one_task_on_each_process(form, TEXTS[:2])
            assert [item.attempts for item in before] == [1, 1]

            connection.close()
            private_postgres.restart()  # every session ends, the workers' included

            after = one_task_on_each_process(form, TEXTS[2:])
            assert [item.attempts for item in after] == [1, 1]
            assert [item.last_error for item in after] == ["", ""]
            assert worker.poll() is None
