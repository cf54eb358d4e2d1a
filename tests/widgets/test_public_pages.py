"""The public surfaces: published files, the embed snippet and the hosted wall page.

They are public by design (PUBLIC_URLS in tests/test_tenant_isolation.py), so each must carry
only what the brand chose to show: no emails, IPs, internal ids, cookies or credentialed CORS.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from testimonials.models import Testimonial, Widget
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory
from tests.widgets.conftest import parse

pytestmark = pytest.mark.django_db

EMBED_JS = Path(django_settings.BASE_DIR) / "static" / "widget" / "embed.js"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w")
IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")


@pytest.fixture
def published(brand_a):
    TestimonialFactory(
        brand=brand_a,
        author_name="Dana Scully",
        author_email="dana@fbi.example.com",
        text="Trust no one, except this shop. Write to me: dana@fbi.example.com",
        rating=5,
        flags=[{"code": "email", "reason": "Contains an email", "evidence": ["dana@fbi.example.com"]}],
        referral_code="REFsecret1",
        submission_key="submission-secret",
    )
    TestimonialFactory(brand=brand_a, author_name="Held Back", state=Testimonial.State.PENDING_REVIEW)
    widget = WidgetFactory(brand=brand_a, schema_kind="Product", schema_item_name="House blend")
    return widget, widget_publish(widget_id=widget.id)


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, f"{path}[]")
    else:
        yield path, value


def test_it_publishes_no_emails_ips_or_internal_ids(client, published, brand_a):
    widget, version = published
    item = Testimonial.objects.get(author_name="Dana Scully")
    bodies = {
        name: client.get(f"/widgets/{widget.public_id}/{name}").content.decode()
        for name in ("index.json", f"{version}.html", f"{version}.json")
    }
    bodies["wall"] = client.get(f"/w/{widget.public_id}/").content.decode()
    for name, body in bodies.items():
        assert not EMAIL.search(body), name
        assert not IPV4.search(body), name
        for secret in ("REFsecret1", "submission-secret", "Contains an email", "Held Back"):
            assert secret not in body, (name, secret)
    data = json.loads(bodies[f"{version}.json"])
    for path, value in _walk(data):
        leaf = path.rsplit(".", 1)[-1]
        assert leaf not in {"pk", "brand_id", "form_id", "email", "ip"} and not leaf.endswith("_id"), path
        if leaf == "id":
            assert value in {widget.public_id, item.public_id}, path  # public ids, never database ids


def test_it_serves_the_document_framed_only_by_allowed_domains(client, published):
    widget, version = published
    response = client.get(f"/widgets/{widget.public_id}/{version}.html")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors https://shop-a.example.com")
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1]
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert not response.cookies


def test_it_serves_the_pointer_briefly_cached_and_data_with_anonymous_cors(client, published):
    widget, version = published
    pointer = client.get(f"/widgets/{widget.public_id}/index.json", HTTP_ORIGIN="https://shop-a.example.com")
    assert pointer.headers["Cache-Control"] == "public, max-age=5"
    assert pointer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in pointer.headers
    assert pointer.json()["v"] == version
    data = client.get(f"/widgets/{widget.public_id}/{version}.json")
    assert data.headers["Access-Control-Allow-Origin"] == "*"
    assert data.json()["jsonld"]["@type"] == "Product"


@pytest.mark.parametrize(
    "name", ["frame-ancestors", "nginx-map.conf", "..%2F..%2Fsettings.py", "0123456789abcdef.html", "index.json.bak"]
)
def test_it_serves_only_published_documents_data_and_pointers(client, published, name):
    widget, _ = published
    assert client.get(f"/widgets/{widget.public_id}/{name}").status_code == 404


def test_it_answers_404_for_an_unknown_widget(client, db):
    assert client.get("/widgets/NoSuchWidget/index.json").status_code == 404
    assert client.get("/w/NoSuchWidget/").status_code == 404


def test_it_renders_the_hosted_wall_page_with_approved_testimonials_and_json_ld(client, published, brand_a):
    widget, _ = published
    TestimonialFactory(brand=brand_a, author_name="Closing </script><script>alert(1)</script>", rating=4)
    _republish(widget)  # what the lifecycle does after an approval
    response = client.get(f"/w/{widget.public_id}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "What customers say about Brand A" in body and "Dana Scully" in body
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]  # a page, not an embed
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert len(blocks) == 1
    jsonld = json.loads(blocks[0])
    assert jsonld["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 4.7,  # every eligible review: the pending one counts too (FTC)
        "reviewCount": 3,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert {r["author"]["name"] for r in jsonld["review"]} == {
        "Dana Scully",
        "Closing </script><script>alert(1)</script>",
    }
    assert "<script>alert(1)" not in body


def _republish(widget):
    Widget.objects.filter(id=widget.id).update(publish_requested_at=timezone.now())
    return widget_publish(widget_id=widget.id)


def test_it_serves_the_published_hosted_page_from_a_file_without_the_database(
    client, published, django_assert_num_queries
):
    widget, _ = published
    with django_assert_num_queries(0):
        response = client.get(f"/w/{widget.public_id}/")
    assert response.status_code == 200 and "Dana Scully" in response.content.decode()
    assert client.get(f"/w/{widget.public_id}/?page=2").status_code == 404
    assert client.get(f"/w/{widget.public_id}/?page=x").status_code == 404


def test_it_paginates_the_hosted_page_in_the_widgets_layout_with_the_brands_button(client, brand_a, form_a):
    for n in range(30):
        TestimonialFactory(brand=brand_a, form=form_a, author_name=f"Customer {n:02d}", rating=5)
    widget = WidgetFactory(brand=brand_a, layout=Widget.Layout.CAROUSEL, max_items=5, order=Widget.Order.NEWEST)
    widget_publish(widget_id=widget.id)
    first = client.get(f"/w/{widget.public_id}/").content.decode()
    second = client.get(f"/w/{widget.public_id}/?page=2").content.decode()
    assert 'class="carousel"' in first and "Page 1 of 2" in first and 'href="?page=2"' in first
    assert first.count('class="slide') == 24 and second.count('class="slide') == 6
    assert "Customer 29" in first and "Customer 00" in second
    assert f'href="https://vouch.example.com/c/brand-a/{form_a.slug}/"' in first  # "Leave a testimonial"
    assert "Leave a testimonial" in first
    # The widget itself still shows its own five.
    version = client.get(f"/widgets/{widget.public_id}/index.json").json()["v"]
    assert client.get(f"/widgets/{widget.public_id}/{version}.html").content.decode().count('class="slide') == 5


def test_it_leaves_json_ld_out_unless_the_widget_is_about_a_product_or_service(client, brand_a):
    TestimonialFactory(brand=brand_a)
    widget = WidgetFactory(brand=brand_a)
    assert "application/ld+json" not in client.get(f"/w/{widget.public_id}/").content.decode()
    version = widget_publish(widget_id=widget.id)
    assert client.get(f"/widgets/{widget.public_id}/{version}.json").json()["jsonld"] is None


def test_it_serves_embed_js_without_cookies(client, db):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.content == EMBED_JS.read_bytes()
    assert not response.cookies


def test_it_keeps_embed_js_under_4_kb_gzipped():
    assert len(gzip.compress(EMBED_JS.read_bytes(), compresslevel=9)) <= 4096


def test_it_keeps_embed_js_free_of_cookies_storage_and_fingerprinting():
    # navigator.webdriver only: automated browsers are not counted (issue 11); nothing else is read.
    source = EMBED_JS.read_bytes().decode().replace("navigator.webdriver", "")
    for forbidden in (".cookie", "localStorage", "sessionStorage", "navigator.", "canvas", "eval(", "innerHTML"):
        assert forbidden not in source, forbidden
    assert "event.origin !== f.origin" in source  # postMessage is believed only from our own frame


def test_it_never_publishes_script_inside_a_document(published, client):
    widget, version = published
    doc = parse(client.get(f"/widgets/{widget.public_id}/{version}.html").content.decode())
    scripts = [attrs for kind, tag, *attrs in doc.shape if kind == "start" and tag == "script"]
    assert scripts == [[("defer", "src")]]


def test_it_documents_the_same_document_headers_for_nginx_as_the_embedded_view():
    from testimonials.widgets.views import document_csp

    conf = (Path(django_settings.BASE_DIR) / "docs" / "widgets-nginx.conf").read_text()
    assert f'add_header Content-Security-Policy "{document_csp("$vouch_frame_ancestors")}";' in conf


def test_it_labels_the_hosted_wall_of_a_curated_badge_widget_as_selected(client, brand_a):
    TestimonialFactory(brand=brand_a, featured=True)
    widget = WidgetFactory(brand=brand_a, layout="badge", filter_featured=True)
    assert "Selected testimonials" in client.get(f"/w/{widget.public_id}/").content.decode()
    version = widget_publish(widget_id=widget.id)
    assert "Selected testimonials" not in client.get(f"/widgets/{widget.public_id}/{version}.html").content.decode()
