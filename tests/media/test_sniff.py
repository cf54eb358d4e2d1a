"""Type by content, cheap enough for the upload form: names and browser claims are ignored."""

from __future__ import annotations

import io

import pytest

from testimonials.media.errors import MediaRejected
from testimonials.media.sniff import sniff
from tests.media import corpus


@pytest.mark.parametrize(
    ("content", "kind", "fmt", "content_type"),
    [
        (corpus.photo(fmt="JPEG"), "image", "jpeg", "image/jpeg"),
        (corpus.photo(fmt="PNG"), "image", "png", "image/png"),
        (corpus.photo(fmt="WEBP"), "image", "webp", "image/webp"),
        (b"\0\0\0\x14ftypqt  \0\0\0\0qt  " + b"\0" * 40, "video", "mov", "video/quicktime"),
        (b"\0\0\0\x18ftypmp42\0\0\0\0isommp42" + b"\0" * 40, "video", "mp4", "video/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\0" * 40, "video", "webm", "video/webm"),
    ],
    ids=["jpeg", "png", "webp", "mov", "mp4", "webm"],
)
def test_it_identifies_accepted_files_by_content_whatever_their_name(tmp_path, content, kind, fmt, content_type):
    path = tmp_path / "holiday.txt.php"
    path.write_bytes(content)
    found = sniff(path)
    assert (found.kind, found.format, found.content_type) == (kind, fmt, content_type)


def test_it_reads_the_photo_size_from_the_header_and_leaves_a_file_where_it_was():
    upload = io.BytesIO(corpus.photo((1234, 567), "JPEG"))
    upload.seek(3)
    found = sniff(upload)
    assert (found.width, found.height) == (1234, 567)
    assert upload.tell() == 3


def test_it_refuses_a_65_byte_png_bomb_at_upload_time():
    with pytest.raises(MediaRejected) as refused:
        sniff(io.BytesIO(corpus.png_bomb()))
    assert refused.value.code == "too_many_pixels"


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/x.ts\n", "playlist", "playlist"),
        (b"ffconcat version 1.0\nfile '/etc/passwd'\n", "playlist", "list of other files"),
        (corpus.HTML, "html", "web page"),
        (corpus.SVG, "svg", "SVG"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 40, "heic", "Most Compatible"),
        (b"\0\0\0\x18ftypM4A \0\0\0\0M4A isom" + b"\0" * 40, "no_video", "sound"),
        (b"PK\x03\x04 a zip file", "unsupported", "could not recognise"),
        (b"", "empty", "empty"),
    ],
    ids=["hls", "ffconcat", "html", "svg", "heic", "m4a", "zip", "empty"],
)
def test_it_refuses_everything_else_with_a_reason(tmp_path, content, code, words):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaRejected) as refused:
        sniff(path)
    assert refused.value.code == code
    assert words in refused.value.reason


def test_it_refuses_a_photo_where_a_video_is_expected():
    with pytest.raises(MediaRejected) as refused:
        sniff(io.BytesIO(corpus.photo(fmt="PNG")), expect="video")
    assert refused.value.code == "wrong_kind"
    assert refused.value.reason == "This file is a photo; please send a video here."


def test_a_photo_field_never_suggests_a_video_format_and_a_video_field_no_photo_format():
    with pytest.raises(MediaRejected) as photo:
        sniff(io.BytesIO(b"just some text, not a picture"), expect="image")
    assert photo.value.reason.endswith("Please send a JPEG, PNG or WebP photo.") and "MP4" not in photo.value.reason
    with pytest.raises(MediaRejected) as video:
        sniff(io.BytesIO(b"just some text, not a video"), expect="video")
    assert video.value.reason.endswith("Please send an MP4, MOV or WebM video.") and "JPEG" not in video.value.reason
