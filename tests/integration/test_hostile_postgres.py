"""Hostile input that only PostgreSQL refuses: a NUL byte in text (SQLite stores it). A resumable upload's
name with a NUL failed the submit with a 500; now the name is kept without it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from testimonials.models import MediaAsset
from tests.collection.collect_support import WEBM_HEAD, _fresh_rate_limits, aged_token, form_url, valid_post  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
VIDEO = WEBM_HEAD + bytes(range(256)) * 40


def test_a_nul_byte_in_a_resumable_uploads_name_is_stored_without_it(client, form_a):
    url = reverse("collect-upload-start", args=[form_a.brand.slug, form_a.slug])
    body = {"token": aged_token(form_a), "kind": "video", "size": len(VIDEO), "name": "clip\x00.webm"}
    started = client.post(url, json.dumps(body), content_type="application/json").json()
    client.generic(
        "PATCH", started["url"], VIDEO, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0"
    )
    response = client.post(form_url(form_a), valid_post(form_a, video_upload=started["id"]))
    assert response.status_code == 303
    assert MediaAsset.objects.get().original_name == "clip.webm"
