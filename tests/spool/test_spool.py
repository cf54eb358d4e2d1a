"""The spool: a submission the database or the originals' disk could not take is kept durably, the customer
is thanked, and it is stored exactly once when storage is back; if even the spool fails, the text stays."""

from __future__ import annotations

import errno

import django.db
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import MediaAsset, Testimonial
from testimonials.spool import services as spool
from tests.collection.collect_support import _fresh_rate_limits, form_url, jpeg_bytes, valid_post  # noqa: F401

pytestmark = pytest.mark.django_db
DOWN = django.db.OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
FULL_DISK = OSError(errno.ENOSPC, "No space left on device")


def raises(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.fixture
def database_down_at_store(monkeypatch):
    monkeypatch.setattr("testimonials.collection.views.testimonial_submit", raises(DOWN))


def test_it_thanks_the_customer_and_spools_the_submission_when_the_database_is_down(
    client, form_a, database_down_at_store
):
    response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303 and "/thanks/" in response["Location"]
    assert spool.pending_count() == 1
    assert Testimonial.objects.count() == 0
    [entry] = spool._entries()
    assert (entry / spool.ENTRY_FILE).read_text().count("The onboarding call saved us a week of work.") == 1


def test_it_stores_a_spooled_submission_exactly_once_when_the_database_is_back(
    client, form_a, database_down_at_store, monkeypatch
):
    post = valid_post(form_a)
    client.post(form_url(form_a), post)
    client.post(form_url(form_a), post)  # the customer pressed Send twice: one entry, one key
    assert spool.pending_count() == 1
    monkeypatch.undo()
    assert spool.spool_replay() == {"stored": 1, "held": 0, "left": 0}
    assert spool.spool_replay() == {"stored": 0, "held": 0, "left": 0}
    item = Testimonial.objects.get()
    assert item.text == "The onboarding call saved us a week of work."
    assert item.author_email == "maya@example.com"
    assert item.state == Testimonial.State.RECEIVED
    # And the page's own resend, once the database is back, finds the same row.
    assert client.post(form_url(form_a), post).status_code == 303
    assert Testimonial.objects.count() == 1


def test_it_stores_once_when_a_replay_died_after_storing_and_before_deleting(client, form_a, database_down_at_store):
    client.post(form_url(form_a), valid_post(form_a))
    [entry] = spool._entries()
    form, data, _opened = spool._load(entry)
    testimonial_submit(form=form, data=data)  # the replay that crashed before removing its entry
    assert spool.spool_replay()["stored"] == 1
    assert Testimonial.objects.count() == 1
    assert spool.pending_count() == 0


def test_it_keeps_the_consent_time_of_the_submit_not_of_the_replay(client, form_a, database_down_at_store):
    client.post(form_url(form_a), valid_post(form_a))
    [entry] = spool._entries()
    _, data, _ = spool._load(entry)
    assert data.consented_at is not None and data.consent_given


def test_it_leaves_the_spool_alone_while_the_database_is_still_down(
    client, form_a, database_down_at_store, monkeypatch
):
    client.post(form_url(form_a), valid_post(form_a))
    monkeypatch.setattr(spool, "testimonial_submit", raises(DOWN))
    assert spool.spool_replay() == {"stored": 0, "held": 0, "left": 1}


def test_it_holds_for_an_operator_what_the_service_refuses_on_replay(client, form_a, database_down_at_store):
    client.post(form_url(form_a), valid_post(form_a))
    form_a.delete()
    assert spool.spool_replay() == {"stored": 0, "held": 1, "left": 0}
    assert spool.held_count() == 1
    [held] = (spool.spool_dir() / spool.HELD).iterdir()
    assert "no longer exists" in (held / "held-reason.txt").read_text()


def test_it_spools_the_photo_when_the_originals_disk_is_full_and_stores_it_after(client, form_a, monkeypatch):
    storage = MediaAsset._meta.get_field("original").storage
    monkeypatch.setattr(storage, "save", raises(FULL_DISK))  # the storage boundary: the disk is full
    photo = SimpleUploadedFile("garden.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(form_url(form_a), {**valid_post(form_a), "photo": photo})
    assert response.status_code == 303 and "/thanks/" in response["Location"]
    assert Testimonial.objects.count() == 0 and spool.pending_count() == 1
    monkeypatch.undo()
    assert spool.spool_replay()["stored"] == 1
    asset = MediaAsset.objects.get()
    assert asset.original_name == "garden.jpg"
    assert storage.open(asset.original.name).read() == jpeg_bytes()


def test_it_shows_the_form_again_with_the_text_when_even_the_spool_cannot_be_written(
    client, form_a, database_down_at_store, monkeypatch
):
    monkeypatch.setattr(spool, "submission_spool", raises(FULL_DISK))
    response = client.post(form_url(form_a), valid_post(form_a, text="Our garden has never looked better, thanks."))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "couldn&#x27;t save your testimonial just yet" in body
    assert "Our garden has never looked better, thanks." in body
    assert "Maya Lopez" in body


def test_it_serves_the_form_and_takes_submits_when_the_database_is_down_at_page_load(client, form_a, monkeypatch):
    assert client.get(form_url(form_a)).status_code == 200  # loaded once: this process remembers it
    monkeypatch.setattr("testimonials.collection.views.collection_form_get_public", raises(DOWN))
    monkeypatch.setattr("testimonials.collection.views.testimonial_submit", raises(DOWN))
    assert client.get(form_url(form_a)).status_code == 200
    response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303
    assert client.get(response["Location"]).status_code == 200  # the thank-you page too
    assert spool.pending_count() == 1


def test_it_still_raises_a_bug_at_store_instead_of_spooling_it(client, form_a, monkeypatch):
    monkeypatch.setattr("testimonials.collection.views.testimonial_submit", raises(KeyError("bug")))
    client.raise_request_exception = False
    assert client.post(form_url(form_a), valid_post(form_a)).status_code == 500
    assert spool.pending_count() == 0


def test_it_names_an_entry_by_a_digest_of_its_key_never_by_the_key(form_a):
    data = SubmissionData(author_name="x", text="Great shop.", submission_key="../../etc/passwd", consent_given=True)
    spool.submission_spool(form=form_a, data=data)
    [entry] = spool._entries()
    assert entry.parent == spool.spool_dir() and len(entry.name) == 40


def test_it_spools_only_a_pages_own_submission_with_its_key(form_a):
    with pytest.raises(ValueError):
        spool.submission_spool(form=form_a, data=SubmissionData(author_name="x", consent_given=True))


def test_the_replay_command_says_what_it_did(client, form_a, database_down_at_store, monkeypatch, capsys):
    client.post(form_url(form_a), valid_post(form_a))
    monkeypatch.undo()
    call_command("spool_replay")
    assert "Stored 1, held 0" in capsys.readouterr().out
