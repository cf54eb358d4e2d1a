"""The embedded default, for real: SQLite file, filesystem broker, a real Celery worker process."""

import pytest

from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import AuditEvent, Testimonial
from tests.workers import celery_worker, wait_until


@pytest.mark.django_db(transaction=True)
def test_it_processes_a_submission_off_the_request_path(settings, form_a):
    assert settings.CELERY_BROKER_URL.startswith("filesystem://")
    form_a.brand.auto_approve = True
    form_a.brand.save()
    item = testimonial_submit(
        form=form_a,
        data=SubmissionData(
            author_name="Ada", rating=5, text="Lovely service, quick and friendly.", consent_given=True
        ),
    )
    assert item.state == Testimonial.State.RECEIVED  # nothing ran in this process

    with celery_worker():
        wait_until(lambda: Testimonial.objects.get(id=item.id).state == Testimonial.State.APPROVED)

    item.refresh_from_db()
    assert item.sentiment_label == "positive"
    assert list(item.events.values_list("action", flat=True)) == ["received", "auto_decision"]
    assert AuditEvent.objects.filter(testimonial=item, actor_kind="system").count() == 2
