"""The browser side, read as text: frame.js and embed.js send only the declared vocabulary, batch with
keepalive as text/plain, skip automated browsers and touch no cookie or storage."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from testimonials.analytics import beacon
from testimonials.analytics.models import ROLLUP_COLUMN, EventKind

STATIC = Path(settings.BASE_DIR) / "static" / "widget"
FRAME_JS = (STATIC / "frame.js").read_text()
EMBED_JS = (STATIC / "embed.js").read_text()


def sent_kinds(source: str) -> set[str]:
    frame = re.findall(r'(?<![.\w])add\("([a-z_0-9]+)"', source)
    host = re.findall(r'\[rid\(\), "([a-z_0-9]+)"', source)
    return set(frame) | set(host)


def test_it_sends_from_the_widget_document_exactly_the_frame_vocabulary():
    assert sent_kinds(FRAME_JS) == {str(k) for k in beacon.FRAME_KINDS}


def test_it_sends_from_the_host_page_exactly_the_host_vocabulary():
    assert sent_kinds(EMBED_JS) == {str(k) for k in beacon.HOST_KINDS}


def test_it_gives_every_frame_event_a_rollup_column():
    assert set(ROLLUP_COLUMN) == set(beacon.FRAME_KINDS)
    assert set(beacon.FRAME_KINDS) | set(beacon.HOST_KINDS) == set(EventKind)


def test_it_batches_beacons_as_text_plain_with_keepalive_and_skips_automated_browsers():
    for source in (FRAME_JS, EMBED_JS):
        assert "keepalive: true" in source
        assert '"Content-Type": "text/plain"' in source
        assert 'credentials: "omit"' in source
        assert "navigator.webdriver" in source
    assert 'addEventListener("pagehide", flush)' in FRAME_JS
    assert '"visibilitychange"' in FRAME_JS


def test_it_keeps_frame_js_free_of_cookies_and_storage():
    source = FRAME_JS.replace("navigator.webdriver", "")
    for forbidden in (".cookie", "localStorage", "sessionStorage", "indexedDB", "navigator.", "eval(", "innerHTML"):
        assert forbidden not in source, forbidden
