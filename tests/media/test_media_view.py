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
