"""Public renditions are served inert (nosniff, sandboxing CSP); private originals never are."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import Client

from tests.media import corpus


@pytest.fixture
def rendition(settings):
    return default_storage.save("r/Zk3v9QpL0aTqXw2yBn7cRd/card.webp", ContentFile(corpus.photo(fmt="WEBP")))


def test_it_serves_a_rendition_with_nosniff_and_a_sandboxing_csp(client, settings, rendition):
    response = client.get(settings.MEDIA_URL + rendition)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp


def test_it_serves_even_a_slipped_through_html_file_inert(client, settings):
    # Defence in depth: were an HTML file ever to land in public storage, it could not run script.
    name = default_storage.save("r/AbCdEfGhIjKlMnOpQrStUv/page.html", ContentFile(corpus.HTML))
    response = client.get(settings.MEDIA_URL + name)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


@pytest.mark.parametrize("path", ["../private/{name}", "..%2fprivate%2f{name}", "%2e%2e/private/{name}"])
def test_it_never_serves_a_private_original(settings, path):
    name = storages["private"].save("originals/2026/11/0a1b2c.jpg", ContentFile(corpus.photo(fmt="JPEG")))
    response = Client(raise_request_exception=False).get(settings.MEDIA_URL + path.format(name=name))
    assert response.status_code in (400, 404)  # 400: Django's answer to a path-traversal attempt
    assert b"JFIF" not in response.content


def test_it_only_answers_reads(client, settings, rendition):
    assert client.post(settings.MEDIA_URL + rendition).status_code == 405


def test_it_answers_byte_ranges_so_phones_can_play_video(client, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("r/abcdefghijklmnopqrstuvwx/video.mp4", ContentFile(bytes(range(256)) * 4))
    url = settings.MEDIA_URL + name

    first = client.get(url, HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206
    assert first["Content-Range"] == "bytes 0-99/1024" and first.content == (bytes(range(256)) * 4)[:100]
    assert first["X-Content-Type-Options"] == "nosniff"

    tail = client.get(url, HTTP_RANGE="bytes=-24")
    assert tail.status_code == 206 and tail["Content-Range"] == "bytes 1000-1023/1024" and len(tail.content) == 24

    beyond = client.get(url, HTTP_RANGE="bytes=5000-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == "bytes */1024"

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == bytes(range(256)) * 4
