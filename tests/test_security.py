"""Allowed sites: typed as people type them, stored as the origins browsers compare, or refused with why."""

import pytest
from django.core.exceptions import ValidationError

from testimonials.models import valid_origins
from testimonials.security import OriginError, frame_ancestors, origin_normalise, origins_from_lines


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("127.0.0.2:8080", "http://127.0.0.2:8080"),  # a local test page: http
        ("localhost:3000", "http://localhost:3000"),
        ("shop.example.com", "https://shop.example.com"),  # a public site: https
        ("https://Shop.Example.com/pricing?x=1#top", "https://shop.example.com"),  # only the site counts
        ("http://www.example.com:80/", "http://www.example.com"),  # the default port is implied
        ("https://www.example.com:8443", "https://www.example.com:8443"),
        ("*.example.com", "https://*.example.com"),
        ("münchen.de", "https://xn--mnchen-3ya.de"),
        ("[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_it_normalises_a_site_address_to_the_origin_browsers_compare(typed, origin):
    assert origin_normalise(typed) == origin
    assert frame_ancestors([origin]) == origin  # frame-ancestors keeps it: it counts


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("ftp://files.example.com", "Only http:// and https://"),
        ("javascript:alert(1)", "is not a site address"),
        ("exa mple.com", "one site per line"),
        ("https://", "has no site name"),
        ("shop.example.com:99999", "port must be a number"),
        ("https://user:pw@example.com", "no user name or password"),
        ("*.com", "domain after it"),
        ("shop.*.example.com", "star only works at the start"),
        ("https://x.com; script-src *", "one site per line"),
    ],
)
def test_it_refuses_what_is_not_a_site_and_says_why(typed, why):
    with pytest.raises(OriginError) as refused:
        origin_normalise(typed)
    assert why in refused.value.message


def test_it_reads_one_site_per_line_and_names_each_refused_line():
    origins, problems = origins_from_lines(
        "shop.example.com\n\n127.0.0.2:8080\nnot a site\nhttps://shop.example.com/\n"
    )
    assert origins == ["https://shop.example.com", "http://127.0.0.2:8080"]
    assert len(problems) == 1 and problems[0].startswith("Line 4:")


def test_the_model_refuses_allowed_sites_that_are_not_origins():
    valid_origins(["https://shop.example.com", "http://127.0.0.2:8080"])
    with pytest.raises(ValidationError, match="origin browsers compare"):
        valid_origins(["127.0.0.2"])  # saved this way it was silently ignored: now it cannot be stored
    with pytest.raises(ValidationError):
        valid_origins("https://shop.example.com")
