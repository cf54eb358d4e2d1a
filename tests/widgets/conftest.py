"""Helpers for widget tests: parse rendered documents the way a browser would."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


class Structure(HTMLParser):
    """The element skeleton of a document: tags and attribute names, without any text or values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.shape.append(("start", tag, tuple(sorted(name for name, _ in attrs))))
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value or "")
            if name == "src":
                self.srcs.append(value or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.shape.append(("end", tag))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Structure:
    parser = Structure()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = "https://vouch.example.com"
