"""PostgreSQL down, or the originals' disk (a tiny tmpfs) full, when a customer presses Send: they are thanked (their
submission waits, fsync'd, in the spool) and it is stored exactly once when storage is back, by beat.

Against a private PostgreSQL this test stops and starts (never the shared one on 5432), a real
worker with beat, and the customer's page through Django's test client.
"""

from __future__ import annotations

import errno
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from testimonials.models import MediaAsset, Testimonial
from testimonials.spool import services as spool
from tests.collection.collect_support import form_url, jpeg_bytes, valid_post
from tests.factories import BrandFactory, CollectionFormFactory
from tests.integration.support import PostgresServer, django_uses
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DECIDED = [Testimonial.State.APPROVED, Testimonial.State.PENDING_REVIEW]
TEXT = "The tailor fixed my jacket in a day and it fits perfectly now, thank you."


@pytest.fixture
def private_postgres():
    server = PostgresServer()
    yield server
    server.destroy()


def replaying_worker(settings):
    """A worker with beat that replays the spool every half second, from the web process's spool folder."""
    return celery_worker(
        concurrency=1,
        beat=True,
        extra_env={"VOUCH_SPOOL_DIR": str(settings.VOUCH_SPOOL_DIR), "VOUCH_SPOOL_REPLAY_EVERY_SECONDS": "0.5"},
    )


def test_it_thanks_the_customer_while_postgresql_is_down_and_stores_it_once_when_it_returns(
    private_postgres, client, settings
):
    with django_uses(private_postgres):
        form = CollectionFormFactory(brand=BrandFactory(slug="pg-down", auto_approve=True), slug="down")
        assert client.get(form_url(form)).status_code == 200  # the page was open before the outage
        post = valid_post(form, text=TEXT)
        connection.close()
        private_postgres.stop()

        response = client.post(form_url(form), post)
        assert response.status_code == 303 and "/thanks/" in response["Location"]
        thanks = client.get(response["Location"])
        assert thanks.status_code == 200
        assert client.post(form_url(form), post).status_code == 303  # pressed Send again: still one entry
        assert spool.pending_count() == 1

        private_postgres.start()
        connection.close()
        with replaying_worker(settings):
            item = wait_until(lambda: Testimonial.objects.filter(text=TEXT, state__in=DECIDED).first(), limit=60)
            wait_until(lambda: spool.pending_count() == 0, limit=30)
        assert Testimonial.objects.filter(text=TEXT).count() == 1
        assert item.author_name == "Maya Lopez" and item.consented_at is not None
        # The page's own resend after recovery finds the same row.
        assert client.post(form_url(form), post).status_code == 303
        assert Testimonial.objects.filter(text=TEXT).count() == 1


@pytest.fixture
def tiny_originals_disk(settings, tmp_path):
    """PRIVATE_MEDIA_ROOT on a 512 KiB tmpfs of its own, filled to the last byte (root only)."""
    mountpoint = tmp_path / "originals"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mountpoint)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    settings.PRIVATE_MEDIA_ROOT = mountpoint
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(mountpoint), "base_url": None},
        },
    }
    filler = mountpoint / "filler"
    try:
        with open(filler, "wb") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    yield filler
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_it_thanks_the_customer_when_the_originals_disk_is_full_and_stores_the_photo_after(
    private_postgres, client, settings, tiny_originals_disk
):
    with django_uses(private_postgres):
        form = CollectionFormFactory(brand=BrandFactory(slug="disk-full", auto_approve=True), slug="full")
        photo = SimpleUploadedFile("jacket.jpg", jpeg_bytes(), content_type="image/jpeg")
        response = client.post(form_url(form), {**valid_post(form, text=TEXT), "photo": photo})
        assert response.status_code == 303 and "/thanks/" in response["Location"]
        assert Testimonial.objects.count() == 0 and spool.pending_count() == 1
        assert [p.name for p in settings.PRIVATE_MEDIA_ROOT.rglob("*") if p.is_file()] == ["filler"]

        tiny_originals_disk.unlink()  # the operator frees space
        with replaying_worker(settings):
            item = wait_until(lambda: Testimonial.objects.filter(text=TEXT).first(), limit=60)
            wait_until(lambda: spool.pending_count() == 0, limit=30)
            asset = wait_until(
                lambda: MediaAsset.objects.filter(testimonial=item, status=MediaAsset.Status.READY).first(), limit=90
            )
        assert Testimonial.objects.filter(text=TEXT).count() == 1
        assert asset.original_name == "jacket.jpg"
        assert (settings.PRIVATE_MEDIA_ROOT / asset.original.name).read_bytes() == jpeg_bytes()
