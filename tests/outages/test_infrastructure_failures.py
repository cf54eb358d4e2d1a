"""An outage (database, broker, full disk) never uses up an item's attempts and never leaves it failed;
its retries wait minutes, not seconds."""

from __future__ import annotations

import errno

import django.db
import pytest
from celery.exceptions import Retry

from testimonials import queue
from testimonials.models import MediaAsset, Testimonial
from testimonials.processing import pipeline
from testimonials.processing.tasks import testimonial_process_task
from testimonials.renditions import services as renditions
from testimonials.renditions.tasks import media_process_task
from testimonials.widgets import files as widget_files
from testimonials.widgets.tasks import widget_publish_task
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
FULL_DISK = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def retries(monkeypatch):
    asked: list[dict] = []

    def retry(task):
        def ask(exc=None, countdown=None, **kwargs):
            asked.append({"task": task.name, "exc": exc, "countdown": countdown})
            raise Retry(exc=exc, when=countdown)

        return ask

    for task in (testimonial_process_task, media_process_task, widget_publish_task):
        monkeypatch.setattr(task, "retry", retry(task))
    monkeypatch.setattr(queue.random, "uniform", lambda low, high: high)  # the longest wait each policy allows
    return asked


def test_it_gives_a_testimonial_its_attempt_back_when_the_database_fails_mid_task(brand_a, monkeypatch, retries):
    item = TestimonialFactory(brand=brand_a, state=State.RECEIVED, text="Kind staff and a lovely shop.")

    def fails(**kwargs):
        pipeline.testimonials_claim(testimonial_id=item.id, limit=1)
        raise django.db.OperationalError("the connection is closed")

    monkeypatch.setattr(pipeline, "testimonials_process", fails)
    for _ in range(8):  # more outages than VOUCH_MAX_ATTEMPTS
        with pytest.raises(Retry):
            testimonial_process_task.run(item.id)
    item.refresh_from_db()
    assert item.state == State.RECEIVED and item.attempts == 0
    assert "outage" in item.last_error
    assert retries[0]["countdown"] == queue.INFRASTRUCTURE_RETRY.base


def test_it_waits_minutes_between_retries_after_an_outage_with_jitter_and_a_cap(monkeypatch):
    monkeypatch.setattr(queue.random, "uniform", lambda low, high: high)
    waits = [queue.INFRASTRUCTURE_RETRY.delay(n) for n in range(8)]
    assert waits == [20.0, 40.0, 80.0, 160.0, 320.0, 600.0, 600.0, 600.0]
    monkeypatch.setattr(queue.random, "uniform", lambda low, high: low)
    assert queue.INFRASTRUCTURE_RETRY.delay(3) == 0.0  # full jitter: processes do not retry in step


def test_it_gives_a_row_of_a_batch_its_attempt_back_when_the_disk_is_full(brand_a, monkeypatch, fake_broker):
    item = TestimonialFactory(brand=brand_a, state=State.RECEIVED, text="Kind staff and a lovely shop.")
    monkeypatch.setattr(pipeline, "testimonial_analyse", lambda **kwargs: (_ for _ in ()).throw(FULL_DISK))
    monkeypatch.setattr(queue.random, "uniform", lambda low, high: high)
    outcomes = pipeline.testimonials_process(testimonial_id=item.id)
    assert outcomes[item.id].state == State.RECEIVED
    item.refresh_from_db()
    assert item.state == State.RECEIVED and item.attempts == 0
    assert fake_broker.countdowns["testimonial_process_task"] == [queue.INFRASTRUCTURE_RETRY.base]


def test_it_still_counts_a_failure_of_the_row_itself(brand_a, monkeypatch, retries):
    item = TestimonialFactory(brand=brand_a, state=State.RECEIVED, text="Kind staff and a lovely shop.")

    def fails(**kwargs):
        pipeline.testimonials_claim(testimonial_id=item.id, limit=1)
        raise ValueError("a bug")

    monkeypatch.setattr(pipeline, "testimonials_process", fails)
    with pytest.raises(Retry):
        testimonial_process_task.run(item.id)
    item.refresh_from_db()
    assert item.attempts == 1
    assert retries[0]["countdown"] == queue.PROCESSING_RETRY.base


def test_it_never_fails_a_photo_for_good_while_its_disk_is_full(brand_a, monkeypatch, retries, settings):
    settings.VOUCH_MAX_ATTEMPTS = 3
    asset = MediaAsset.objects.create(testimonial=TestimonialFactory(brand=brand_a), kind=MediaAsset.Kind.PHOTO)
    monkeypatch.setattr(renditions, "_process", lambda *a, **k: (_ for _ in ()).throw(FULL_DISK))
    for _ in range(6):  # twice VOUCH_MAX_ATTEMPTS
        with pytest.raises(Retry):
            media_process_task.run(asset.id)
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.PENDING and asset.attempts == 0
    assert [r["countdown"] for r in retries[:2]] == [queue.INFRASTRUCTURE_RETRY.base] * 2


def test_it_retries_a_widget_publish_that_failed_on_a_full_disk(brand_a, monkeypatch, retries):
    widget = WidgetFactory(brand=brand_a)
    monkeypatch.setattr(widget_files, "publish_files", lambda **kwargs: (_ for _ in ()).throw(FULL_DISK))
    with pytest.raises(Retry):
        widget_publish_task.run(widget.id)
    assert retries == [
        {"task": widget_publish_task.name, "exc": FULL_DISK, "countdown": queue.INFRASTRUCTURE_RETRY.base}
    ]


def test_it_raises_a_widget_publish_bug_instead_of_retrying_it(brand_a, monkeypatch, retries):
    widget = WidgetFactory(brand=brand_a)
    monkeypatch.setattr(widget_files, "publish_files", lambda **kwargs: (_ for _ in ()).throw(KeyError("layout")))
    with pytest.raises(KeyError):
        widget_publish_task.run(widget.id)
    assert retries == []


def test_it_treats_ffmpeg_failing_on_a_full_disk_as_an_outage_not_a_damaged_video(tmp_path):
    from testimonials import outages
    from testimonials.media import video

    src = video.generate_sample_video(tmp_path / "in.mp4", seconds=1)
    info = video.inspect_video(src, max_seconds=60)
    with pytest.raises(OSError) as raised:
        video.transcode_video(src, "/dev/full", info=info)  # every write: ENOSPC
    assert raised.value.errno == errno.ENOSPC
    assert outages.outage_kind(raised.value) == "disk"


def test_it_still_rejects_a_video_ffmpeg_cannot_read():
    from testimonials.media import video
    from testimonials.media.errors import MediaRejected

    assert isinstance(video._damaged("Invalid data found when processing input"), MediaRejected)
    assert video._damaged("Error writing trailer: No space left on device").errno == errno.ENOSPC
