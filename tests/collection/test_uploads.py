"""Resumable uploads: resume from the offset, limits counted on real bytes, one form per session."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from django.urls import reverse

from testimonials.collection.uploads import session_dir, upload_sessions_clean
from testimonials.models import FieldMode, MediaAsset, Testimonial
from tests.collection.collect_support import WEBM_HEAD, _fresh_rate_limits, aged_token, form_url, valid_post  # noqa: F401

pytestmark = pytest.mark.django_db

VIDEO = WEBM_HEAD + bytes(range(256)) * 40  # ~10 KB that sniffs as WebM


def _start(client, form, *, size=None, kind="video", token=None):
    size = len(VIDEO) if size is None else size
    url = reverse("collect-upload-start", args=[form.brand.slug, form.slug])
    body = {"token": token if token is not None else aged_token(form), "kind": kind, "size": size, "name": "me.webm"}
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client, url, offset, data):
    return client.generic(
        "PATCH", url, data, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET=str(offset)
    )


def _upload(client, form, payload=VIDEO, chunk=4000):
    started = _start(client, form, size=len(payload)).json()
    offset = 0
    while offset < len(payload):
        response = _patch(client, started["url"], offset, payload[offset : offset + chunk])
        assert response.status_code == 200, response.content
        offset = response.json()["offset"]
    return started


def _session_files() -> list[Path]:
    return sorted(session_dir().iterdir())


def test_it_uploads_in_chunks_and_checks_the_finished_file(client, form_a):
    started = _upload(client, form_a)
    status = client.get(started["url"]).json()
    assert status == {**status, "offset": len(VIDEO), "complete": True, "kind": "video"}


def test_it_resumes_from_what_arrived_after_a_dropped_connection(client, form_a):
    started = _start(client, form_a).json()
    url = started["url"]
    assert _patch(client, url, 0, VIDEO[:3000]).json()["offset"] == 3000
    # The connection dropped mid-chunk: the client asks where to continue, never starts from zero.
    assert client.get(url).json()["offset"] == 3000
    # A retry of a chunk that had arrived is answered with the real offset, and nothing is written twice.
    repeated = _patch(client, url, 0, VIDEO[:3000])
    assert repeated.status_code == 409 and repeated.json()["offset"] == 3000
    done = _patch(client, url, 3000, VIDEO[3000:])
    assert done.json() == {**done.json(), "offset": len(VIDEO), "complete": True}
    part = next(p for p in _session_files() if p.suffix == ".part")
    assert part.read_bytes() == VIDEO


def test_it_refuses_to_start_an_upload_over_the_limit(client, form_a, settings):
    settings.UPLOAD_MAX_VIDEO_BYTES = 5000
    response = _start(client, form_a, size=5001)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert _session_files() == []


def test_it_refuses_an_over_limit_chunked_body_and_keeps_nothing(client, form_a):
    started = _start(client, form_a, size=4000).json()
    assert _patch(client, started["url"], 0, VIDEO[:3000]).status_code == 200
    response = _patch(client, started["url"], 3000, VIDEO[3000:6000])  # past the announced 4000 bytes
    assert response.status_code == 413
    assert _session_files() == []
    assert client.get(started["url"]).status_code == 404


def test_it_refuses_a_finished_upload_that_is_not_a_video(client, form_a):
    page = b"<html><script>alert(1)</script></html>"
    started = _start(client, form_a, size=len(page)).json()
    response = _patch(client, started["url"], 0, page)
    assert response.status_code == 415
    assert "web page" in response.json()["error"]
    assert _session_files() == []


def test_it_refuses_to_start_without_a_valid_page_token(client, form_a):
    assert _start(client, form_a, token="forged").status_code == 403


def test_it_refuses_a_kind_the_form_does_not_take(client, form_a):
    form_a.video_mode = FieldMode.OFF
    form_a.save()
    assert _start(client, form_a).status_code == 400


def test_it_attaches_a_finished_upload_to_the_submission(client, form_a, settings):
    started = _upload(client, form_a)
    response = client.post(form_url(form_a), valid_post(form_a, video_upload=started["id"]))
    assert response.status_code == 303
    asset = MediaAsset.objects.get()
    assert asset.kind == MediaAsset.Kind.VIDEO and asset.content_type == "video/webm"
    assert asset.original_name == "me.webm"
    assert (settings.PRIVATE_MEDIA_ROOT / asset.original.name).read_bytes() == VIDEO
    assert _session_files() == []  # the session is gone once the original is stored


def test_it_refuses_an_unfinished_upload_and_keeps_the_text(client, form_a):
    started = _start(client, form_a).json()
    _patch(client, started["url"], 0, VIDEO[:100])
    response = client.post(form_url(form_a), valid_post(form_a, video_upload=started["id"]))
    assert response.status_code == 400
    assert "not finished uploading" in response.content.decode()
    assert "The onboarding call saved us a week of work." in response.content.decode()
    assert not Testimonial.objects.exists()


def test_it_keeps_another_forms_upload_session_out(client, form_a, form_b):
    started = _upload(client, form_b)
    # Not reachable under brand A's form...
    other_url = reverse("collect-upload", args=["brand-a", "feedback", started["id"]])
    assert client.get(other_url).status_code == 404
    assert _patch(client, other_url, len(VIDEO), b"x").status_code == 404
    # ...and not attachable to brand A's testimonial.
    response = client.post(form_url(form_a), valid_post(form_a, video_upload=started["id"]))
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Testimonial.objects.exists() and not MediaAsset.objects.exists()


def test_it_answers_404_for_unknown_or_malformed_ids(client, form_a):
    for upload_id in ("A" * 24, "..%2F..%2Fetc", "x"):
        assert client.get(reverse("collect-upload", args=["brand-a", "feedback", upload_id])).status_code == 404


def test_it_cleans_up_abandoned_sessions(client, form_a):
    _start(client, form_a)
    assert upload_sessions_clean(older_than_seconds=3600) == 0
    assert upload_sessions_clean(older_than_seconds=-1) == 1
    assert _session_files() == []


def test_the_beat_sweeps_abandoned_sessions_and_keeps_fresh_ones(client, form_a, settings):
    from django.conf import settings as live

    from config.celery import app
    from testimonials.collection.tasks import upload_sessions_clean_task

    entry = live.CELERY_BEAT_SCHEDULE["clean-upload-sessions"]
    assert app.tasks[entry["task"]].name == upload_sessions_clean_task.name and entry["schedule"] <= 24 * 3600
    old, fresh = _start(client, form_a).json()["id"], _start(client, form_a).json()["id"]
    day_ago = time.time() - settings.VOUCH_UPLOAD_SESSION_MAX_AGE - 60
    for path in _session_files():
        if path.name.startswith(old):
            os.utime(path, (day_ago, day_ago))
    assert upload_sessions_clean_task() == 1
    names = {path.name for path in _session_files()}
    assert not any(name.startswith(old) for name in names)
    assert any(name.startswith(fresh) for name in names)


def test_starting_an_upload_never_sweeps_other_sessions(client, form_a, monkeypatch):
    import testimonials.collection.uploads as uploads

    monkeypatch.setattr(uploads.secrets, "randbelow", lambda n: 0, raising=True)  # the old "now and then"
    old = _start(client, form_a).json()["id"]
    for path in _session_files():
        os.utime(path, (0, 0))
    _start(client, form_a)
    assert any(path.name.startswith(old) for path in _session_files())  # only the beat task sweeps


def test_it_rate_limits_starting_uploads(client, form_a, settings):
    settings.UPLOAD_RATE_LIMIT = "2/h"
    assert _start(client, form_a).status_code == 201
    assert _start(client, form_a).status_code == 201
    response = _start(client, form_a)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_it_stores_one_testimonial_when_a_page_with_a_video_is_sent_twice(client, form_a):
    started = _upload(client, form_a)
    data = valid_post(form_a, video_upload=started["id"])
    first = client.post(form_url(form_a), data)
    second = client.post(form_url(form_a), data)  # the session was consumed by the first
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Testimonial.objects.count() == 1 and MediaAsset.objects.count() == 1
