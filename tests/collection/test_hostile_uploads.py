"""Hostile inputs a review turned into 500s; each now gets a clear 4xx and stores nothing broken.

  - a file in a field the form doesn't take (it was dropped without a word, or failed the page);
  - a PNG header over the limits (a 1 x 20000 image: Pillow closed the customer's upload, and reading it
    again raised "I/O operation on closed file");
  - a NUL byte in a resumable upload's name (PostgreSQL refuses NUL in text: the submit failed);
  - an API cursor whose position is not a date (tests/api/test_api_v1.py).
The Schemathesis run (tests/integration/test_api_fuzz.py) looks for more on a live server.
"""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from testimonials.media.errors import MediaRejected
from testimonials.media.images import read_image_header
from testimonials.models import FieldMode, MediaAsset, Testimonial
from tests.collection.collect_support import WEBM_HEAD, _fresh_rate_limits, aged_token, form_url, valid_post  # noqa: F401

pytestmark = pytest.mark.django_db

VIDEO = WEBM_HEAD + bytes(range(256)) * 40


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares an RGB image of this size and holds no pixels (a few dozen bytes)."""
    chunk = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    iend = b"\x00\x00\x00\x00IEND\xaeB`\x82"
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + iend


def test_it_says_so_when_a_photo_arrives_that_the_form_does_not_take(client, form_a):
    # The brand switched photos off while the customer's page was open: their photo is not dropped unseen.
    form_a.photo_mode = FieldMode.OFF
    form_a.save()
    upload = SimpleUploadedFile("x.jpg", b"\xff\xd8\xff" + b"0" * 50, content_type="image/jpeg")
    response = client.post(form_url(form_a), valid_post(form_a, photo=upload))
    assert response.status_code == 400
    assert "This form does not take a photo any more" in response.content.decode()
    assert not Testimonial.objects.exists() and not MediaAsset.objects.exists()


# A file standing in for a text field the form needs leaves that field empty: the page says so.
@pytest.mark.parametrize("field, status", [("evil", 303), ("photo_upload", 303), ("author_name", 400)])
def test_it_skips_a_file_under_a_name_no_form_has_and_stores_nothing_of_it(client, form_a, field, status):
    upload = SimpleUploadedFile("x.jpg", b"\xff\xd8\xff" + b"0" * 50, content_type="image/jpeg")
    data = valid_post(form_a)
    data[field] = upload
    response = client.post(form_url(form_a), data)
    assert response.status_code == status
    assert not MediaAsset.objects.exists()


# Under Pillow's own bomb threshold (which refused larger ones already) but over Vouch's limits.
@pytest.mark.parametrize("size", [(1, 20000), (20000, 1), (9000, 9000), (7100, 7100)])
def test_it_refuses_a_png_header_over_the_limits_with_a_reason(client, form_a, size):
    photo = SimpleUploadedFile("big.png", png_header(*size), content_type="image/png")
    response = client.post(form_url(form_a), valid_post(form_a, photo=photo))
    assert response.status_code == 400
    assert "This photo is too large" in response.content.decode()
    assert not Testimonial.objects.exists()


def test_it_leaves_the_customers_upload_open_after_reading_a_header_it_refuses():
    upload = SimpleUploadedFile("big.png", png_header(1, 20000))
    with pytest.raises(MediaRejected):
        read_image_header(upload, "png")
    assert not upload.closed and upload.tell() == 0


def test_it_refuses_a_png_header_over_the_limits_in_a_resumable_upload(client, form_a):
    payload = png_header(1, 20000)
    url = reverse("collect-upload-start", args=[form_a.brand.slug, form_a.slug])
    body = {"token": aged_token(form_a), "kind": "photo", "size": len(payload), "name": "big.png"}
    started = client.post(url, json.dumps(body), content_type="application/json").json()
    response = client.generic(
        "PATCH", started["url"], payload, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0"
    )
    assert response.status_code == 415 and "too large" in response.json()["error"]


@pytest.mark.parametrize("name", ["me\x00.webm", "\x00", "a\x00b\x01c.webm", "../../etc/passwd\x00.webm"])
def test_it_stores_a_resumable_uploads_name_without_control_characters(client, form_a, name):
    url = reverse("collect-upload-start", args=[form_a.brand.slug, form_a.slug])
    body = {"token": aged_token(form_a), "kind": "video", "size": len(VIDEO), "name": name}
    started = client.post(url, json.dumps(body), content_type="application/json").json()
    response = client.generic(
        "PATCH", started["url"], VIDEO, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0"
    )
    assert response.status_code == 200
    submitted = client.post(form_url(form_a), valid_post(form_a, video_upload=started["id"]))
    assert submitted.status_code == 303
    stored = MediaAsset.objects.get().original_name
    assert "\x00" not in stored and "\x01" not in stored and "/" not in stored


def test_it_stores_a_multipart_file_name_without_control_characters(client, form_a):
    photo = SimpleUploadedFile("me\x00.jpg", _jpeg(), content_type="image/jpeg")
    assert client.post(form_url(form_a), valid_post(form_a, photo=photo)).status_code == 303
    assert "\x00" not in MediaAsset.objects.get().original_name


def _jpeg() -> bytes:
    from tests.collection.collect_support import jpeg_bytes

    return jpeg_bytes()
