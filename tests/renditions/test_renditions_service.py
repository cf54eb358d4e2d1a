"""The media service: private originals become public renditions, once, with reasons when they cannot."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils import timezone
from PIL import Image

from testimonials.media import video as video_media
from testimonials.models import MediaAsset, Testimonial
from testimonials.renditions import services as media_services
from testimonials.renditions.services import media_process
from testimonials.services.decisions import testimonial_approve
from testimonials.sweeper import sweep_stuck
from tests.factories import TestimonialFactory
from tests.media import corpus

Status = MediaAsset.Status


def _public_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _asset(testimonial, kind: str, content: bytes, original_name: str = "upload.bin") -> MediaAsset:
    return MediaAsset.objects.create(
        testimonial=testimonial,
        kind=kind,
        original=ContentFile(content, name="3f9c2a.bin"),
        original_name=original_name,
        size_bytes=len(content),
    )


@pytest.fixture
def item(form_a):
    return TestimonialFactory(brand=form_a.brand, form=form_a, state=Testimonial.State.PENDING_REVIEW)


def test_it_makes_clean_public_photo_renditions_and_keeps_the_original_private(item, settings):
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.jpeg_with_gps_and_rotation(), "IMG_0001.jpg")

    assert media_process(asset_id=asset.id) == Status.READY

    asset.refresh_from_db()
    assert (asset.status, asset.progress, asset.error, asset.attempts) == (Status.READY, 100, "", 1)
    assert (asset.width, asset.height, asset.content_type) == (200, 400, "image/jpeg")
    assert set(asset.derivatives) == {"card.webp", "card.jpg", "full.webp", "full.jpg"}
    for name, info in asset.derivatives.items():
        assert info["path"].endswith("/" + name) and len(info["path"].split("/")[1]) >= 24  # unguessable folder
        data = default_storage.open(info["path"]).read()
        assert len(data) == info["bytes"]
        assert not Image.open(io.BytesIO(data)).getexif()  # no GPS or any EXIF in public
    public = _public_files(settings)
    assert len(public) == 4 and not any("IMG_0001" in str(p) or p.name == "3f9c2a.bin" for p in public)
    assert Path(settings.PRIVATE_MEDIA_ROOT, asset.original.name).exists()


def test_it_makes_a_square_avatar(item):
    asset = _asset(item, MediaAsset.Kind.AVATAR, corpus.photo((900, 600), "PNG"))
    assert media_process(asset_id=asset.id) == Status.READY
    asset.refresh_from_db()
    assert {(n, d["width"], d["height"]) for n, d in asset.derivatives.items()} == {
        ("avatar.webp", 192, 192),
        ("avatar.jpg", 192, 192),
    }


def test_it_transcodes_a_video_with_a_poster_and_writes_progress_while_it_runs(item, tmp_path, monkeypatch):
    clip = video_media.generate_sample_video(tmp_path / "clip.mov", seconds=2, container="mov")
    asset = _asset(item, MediaAsset.Kind.VIDEO, clip.read_bytes(), "my-review.mov")
    seen: list[int] = []
    real_transcode = video_media.transcode_video

    def watching(*args, progress_callback, **kwargs):
        def callback(percent):
            progress_callback(percent)
            seen.append(MediaAsset.objects.get(id=asset.id).progress)

        return real_transcode(*args, progress_callback=callback, **kwargs)

    monkeypatch.setattr(video_media, "transcode_video", watching)

    assert media_process(asset_id=asset.id) == Status.READY

    asset.refresh_from_db()
    assert set(asset.derivatives) == {"video.mp4", "poster.webp", "poster.jpg"}
    assert asset.derivatives["video.mp4"]["width"] == 640 and asset.derivatives["poster.jpg"]["height"] == 360
    assert abs(asset.duration_seconds - 2.0) < 0.2
    assert (asset.width, asset.height, asset.content_type) == (640, 360, "video/quicktime")
    assert any(0 < p < 100 for p in seen) and seen == sorted(seen)  # an admin saw it move
    assert default_storage.open(asset.derivatives["video.mp4"]["path"]).read(12)[4:8] == b"ftyp"


def test_it_keeps_its_lease_while_a_long_transcode_is_still_moving(item, tmp_path, monkeypatch):
    clip = video_media.generate_sample_video(tmp_path / "clip.mp4", seconds=2)
    asset = _asset(item, MediaAsset.Kind.VIDEO, clip.read_bytes())
    monkeypatch.setattr(media_services, "HEARTBEAT_SECONDS", 0)
    real_transcode = video_media.transcode_video
    released: list[int] = []

    def slow_machine(*args, progress_callback, **kwargs):
        def callback(percent):
            # As if the transcode had been running for ten minutes when this progress line came in.
            MediaAsset.objects.filter(id=asset.id).update(status_changed_at=timezone.now() - timedelta(minutes=10))
            progress_callback(percent)
            released.append(sweep_stuck(older_than=timedelta(minutes=2))["media"])

        return real_transcode(*args, progress_callback=callback, **kwargs)

    monkeypatch.setattr(video_media, "transcode_video", slow_machine)

    assert media_process(asset_id=asset.id) == Status.READY
    assert released and set(released) == {0}  # the sweeper never took it away
    assert MediaAsset.objects.get(id=asset.id).attempts == 1


BAD_INPUTS = {
    "png_bomb": (MediaAsset.Kind.PHOTO, lambda d, port: corpus.png_bomb(), "too large"),
    "svg": (MediaAsset.Kind.PHOTO, lambda d, port: corpus.SVG, "SVG images are not accepted"),
    "html_named_photo_jpg": (MediaAsset.Kind.PHOTO, lambda d, port: corpus.HTML, "web page"),
    "zero_bytes": (MediaAsset.Kind.PHOTO, lambda d, port: b"", "empty"),
    "video_as_photo": (MediaAsset.Kind.PHOTO, lambda d, port: d["phone_mov"].read_bytes(), "please send a photo"),
    "truncated_mp4": (MediaAsset.Kind.VIDEO, lambda d, port: d["truncated"].read_bytes(), "incomplete"),
    "truncated_faststart_mp4": (
        MediaAsset.Kind.VIDEO,
        lambda d, port: d["truncated_faststart"].read_bytes(),
        "incomplete",
    ),
    "hls_playlist_named_clip_mp4": (
        MediaAsset.Kind.VIDEO,
        lambda d, port: corpus.hls_playlist(d["phone_mov"].with_name("x.m3u8"), port).read_bytes(),
        "streaming playlist",
    ),
    "ffconcat": (
        MediaAsset.Kind.VIDEO,
        lambda d, port: corpus.ffconcat_file(d["phone_mov"].with_name("x.txt"), port).read_bytes(),
        "list of other files",
    ),
    "audio_only": (MediaAsset.Kind.VIDEO, lambda d, port: d["audio_only"].read_bytes(), "only sound"),
    "header_8k": (MediaAsset.Kind.VIDEO, lambda d, port: d["header_8k"].read_bytes(), "7680x4320"),
    "long_low_bitrate": (MediaAsset.Kind.VIDEO, lambda d, port: d["long"].read_bytes(), "the limit here is 1:00"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_it_fails_bad_files_with_a_reason_publishes_nothing_and_keeps_the_text_moderatable(
    item, alice, videos, listener, settings, case
):
    kind, make, words = BAD_INPUTS[case]
    # The customer's file name plays no part; give each the name it pretends to have.
    asset = _asset(
        item, kind, make(videos, listener.port), "photo.jpg" if kind == MediaAsset.Kind.PHOTO else "clip.mp4"
    )
    retries: list[Exception] = []

    assert media_process(asset_id=asset.id, retry=lambda exc, attempt: retries.append(exc)) == Status.FAILED

    asset.refresh_from_db()
    assert asset.status == Status.FAILED and words in asset.error
    assert asset.derivatives == {} and _public_files(settings) == []
    assert retries == [] and asset.attempts == 1  # the file is the problem: no retry
    assert listener.connections() == 0
    assert testimonial_approve(testimonial=item, actor=alice).state == Testimonial.State.APPROVED


def test_it_publishes_only_a_clean_reencode_of_a_png_with_html_appended(item, settings):
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.png_with_html(), "photo.png")

    assert media_process(asset_id=asset.id) == Status.READY

    public = _public_files(settings)
    assert sorted(p.suffix for p in public) == [".jpg", ".jpg", ".webp", ".webp"]
    for path in public:
        data = path.read_bytes()
        assert b"<script" not in data and b"<html" not in data
        assert data[:4] in (b"RIFF", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")


def test_it_refuses_a_file_over_the_upload_limit(item, settings):
    settings.UPLOAD_MAX_PHOTO_BYTES = 1000
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.photo((800, 600), "PNG") + b"\0" * 2000)
    assert media_process(asset_id=asset.id) == Status.FAILED
    asset.refresh_from_db()
    assert asset.error == "This file is larger than the 1000\xa0bytes limit."
    assert asset.derivatives == {} and _public_files(settings) == []


def test_it_retries_a_transient_storage_error_then_succeeds_without_leftovers(item, settings, monkeypatch):
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.photo((800, 600), "JPEG"))
    real_save = FileSystemStorage.save
    calls = {"n": 0}

    def flaky_save(self, name, content, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # two renditions stored, then the disk hiccups
            raise OSError("No space left on device")
        return real_save(self, name, content, *args, **kwargs)

    monkeypatch.setattr(FileSystemStorage, "save", flaky_save)
    retries: list[tuple[Exception, int]] = []

    assert media_process(asset_id=asset.id, retry=lambda exc, attempt: retries.append((exc, attempt))) == Status.PENDING
    asset.refresh_from_db()
    assert asset.status == Status.PENDING and "temporary problem" in asset.error
    assert [attempt for _, attempt in retries] == [1]
    assert _public_files(settings) == []  # the half-made set was removed

    assert media_process(asset_id=asset.id) == Status.READY
    asset.refresh_from_db()
    assert asset.attempts == 2 and asset.error == ""
    assert len(_public_files(settings)) == 4


def test_it_gives_up_after_the_maximum_attempts(item, settings, monkeypatch):
    settings.VOUCH_MAX_ATTEMPTS = 2
    asset = _asset(item, MediaAsset.Kind.VIDEO, b"\0\0\0\x18ftypmp42\0\0\0\0isommp42" + b"\0" * 100)

    def slow(*args, **kwargs):
        raise video_media.MediaTimeout("ffmpeg took longer than 30 s")

    monkeypatch.setattr(video_media, "inspect_video", slow)
    assert media_process(asset_id=asset.id) == Status.PENDING
    assert media_process(asset_id=asset.id) == Status.FAILED
    asset.refresh_from_db()
    assert asset.status == Status.FAILED and asset.attempts == 2
    assert asset.error == "Gave up after 2 attempts. Last error: Processing took too long; it will be retried."
    assert media_process(asset_id=asset.id) == Status.FAILED  # a late duplicate changes nothing
    asset.refresh_from_db()
    assert asset.attempts == 2


def test_it_fails_rather_than_loops_on_an_unexpected_error(item, monkeypatch):
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.photo(fmt="PNG"))
    monkeypatch.setattr(media_services, "make_image_renditions", lambda *a, **k: 1 / 0)
    retries: list = []
    assert media_process(asset_id=asset.id, retry=lambda exc, attempt: retries.append(exc)) == Status.FAILED
    asset.refresh_from_db()
    assert "unexpectedly (ZeroDivisionError)" in asset.error and retries == []


def test_it_processes_an_asset_once_when_the_message_arrives_twice(item, settings):
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.photo(fmt="PNG"))
    assert media_process(asset_id=asset.id) == Status.READY
    first = MediaAsset.objects.get(id=asset.id).derivatives

    assert media_process(asset_id=asset.id) == Status.READY

    asset.refresh_from_db()
    assert asset.derivatives == first and asset.attempts == 1
    assert len(_public_files(settings)) == 4


def test_it_discards_its_work_when_the_asset_was_taken_over_meanwhile(item, settings, monkeypatch):
    asset = _asset(item, MediaAsset.Kind.PHOTO, corpus.photo(fmt="PNG"))
    real = media_services.make_image_renditions

    def sweeper_releases_it_meanwhile(*args, **kwargs):
        result = real(*args, **kwargs)
        MediaAsset.objects.filter(id=asset.id).update(status=Status.PENDING)
        return result

    monkeypatch.setattr(media_services, "make_image_renditions", sweeper_releases_it_meanwhile)

    assert media_process(asset_id=asset.id) == "superseded"
    asset.refresh_from_db()
    assert asset.status == Status.PENDING and asset.derivatives == {}
    assert _public_files(settings) == []
