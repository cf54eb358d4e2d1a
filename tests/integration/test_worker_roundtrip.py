"""Production stack: PostgreSQL, Redis as the broker, a real `celery worker` process."""

import pytest
from django.db import connection

from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import Testimonial
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_it_runs_on_postgresql_and_redis(settings):
    assert connection.vendor == "postgresql", "run with DATABASE_URL=postgres://... (make test-integration)"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


def test_it_takes_a_submission_to_a_final_state(form_a):
    item = testimonial_submit(
        form=form_a,
        data=SubmissionData(
            author_name="Grace", rating=4, text="Solid product and a helpful team.", consent_given=True
        ),
    )
    with celery_worker(concurrency=2):
        final = wait_until(
            lambda: Testimonial.objects.filter(
                id=item.id, state__in=[Testimonial.State.APPROVED, Testimonial.State.PENDING_REVIEW]
            ).first()
        )
    assert final.attempts == 1
    assert final.sentiment_label == "positive"
    assert final.events.filter(action="auto_decision").count() == 1
