"""The API a brand automates with: server-side creation with consent, feature and tag, forms, widgets and
tags; capped cursor pagination; one problem-details error shape; the schema and its docs page."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from testimonials.api.pagination import PAGE_SIZE_MAX
from testimonials.models import AuditEvent, Testimonial, Widget
from testimonials.services.api_keys import api_key_create
from tests.factories import TagFactory, TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
PROBLEM = "application/problem+json"


@pytest.fixture
def key(alice, brand_a):
    return api_key_create(brand=brand_a, actor=alice, name="CRM")[1]


@pytest.fixture
def api(client, key):
    """A client that sends the key, with JSON bodies."""

    class Api:
        def get(self, url, params=None):
            return client.get(url, params or {}, HTTP_AUTHORIZATION=f"Bearer {key}")

        def post(self, url, data=None, **headers):
            return client.post(
                url,
                json.dumps(data or {}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
                **headers,
            )

    return Api()


def _new(**overrides) -> dict:
    data = {
        "form": "feedback",
        "author_name": "Maya Lopez",
        "author_email": "maya@example.com",
        "rating": 5,
        "text": "The onboarding call saved us a week of work.",
        "consent_text": "I agree that Acme may show my words and name.",
        "consented_at": "2026-03-02T10:15:00Z",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --------------------------------------------------------------------------- create


def test_it_creates_a_testimonial_collected_on_the_brands_site_with_its_consent(
    api, form_a, fake_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api-testimonial-list"), _new())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "received" and body["source"] == "api" and body["form"] == "feedback"
    item = Testimonial.objects.get(public_id=body["id"])
    assert item.consent_text == "I agree that Acme may show my words and name."
    assert item.consented_at.isoformat().startswith("2026-03-02T10:15")
    assert item.events.get().reasons == ["Sent through the API."]
    assert fake_broker.sent["testimonial_process_task"] == [item.id]  # moderated like any other


@pytest.mark.parametrize("missing", ["consent_text", "consented_at"])
def test_it_refuses_a_testimonial_without_its_consent(api, form_a, missing):
    response = api.post(reverse("api-testimonial-list"), _new(**{missing: None}))
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert missing in response.json()["errors"] and not Testimonial.objects.exists()


def test_it_applies_the_forms_rules(api, form_a):
    response = api.post(reverse("api-testimonial-list"), _new(rating=None, text="Too short"))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"rating"}  # the service names the first broken rule
    future = api.post(reverse("api-testimonial-list"), _new(consented_at="2999-01-01T00:00:00Z"))
    assert future.status_code == 400 and "consented_at" in future.json()["errors"]


def test_it_stores_one_testimonial_per_idempotency_key(api, form_a):
    first = api.post(reverse("api-testimonial-list"), _new(), HTTP_IDEMPOTENCY_KEY="order-1234")
    again = api.post(reverse("api-testimonial-list"), _new(), HTTP_IDEMPOTENCY_KEY="order-1234")
    assert first.json()["id"] == again.json()["id"] and Testimonial.objects.count() == 1


def test_it_takes_no_file_on_create(client, key, form_a):
    photo = SimpleUploadedFile("me.jpg", b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")
    response = client.post(
        reverse("api-testimonial-list"), {**_new(), "photo": photo}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 400 and "photo" in response.json()["errors"]
    assert not Testimonial.objects.exists()


def test_it_lets_a_viewer_read_but_not_create(client, victor, form_a):
    client.force_login(victor)
    response = client.post(reverse("api-testimonial-list"), _new(), content_type="application/json")
    assert response.status_code == 403 and not Testimonial.objects.exists()


# --------------------------------------------------------------------------- decisions


def test_it_features_and_tags_a_testimonial(api, brand_a, alice):
    item = TestimonialFactory(brand=brand_a, state=State.APPROVED)
    TagFactory(brand=brand_a, name="Praise", slug="praise")
    featured = api.post(reverse("api-testimonial-feature", args=[item.public_id]), {"featured": True})
    assert featured.status_code == 200 and featured.json()["featured"] is True
    tagged = api.post(reverse("api-testimonial-tag", args=[item.public_id]), {"tags": ["praise"]})
    assert tagged.status_code == 200 and tagged.json()["tags"] == ["Praise"]
    unknown = api.post(reverse("api-testimonial-tag", args=[item.public_id]), {"tags": ["nope"]})
    assert unknown.status_code == 400 and "tags" in unknown.json()["errors"]
    assert [e.action for e in AuditEvent.objects.filter(testimonial=item)] == ["feature", "tag"]


def test_it_refuses_another_brands_tag_and_decisions_by_a_viewer(client, victor, brand_a, brand_b):
    item = TestimonialFactory(brand=brand_a, state=State.APPROVED)
    TagFactory(brand=brand_b, name="Theirs", slug="theirs")
    client.force_login(victor)
    response = client.post(
        reverse("api-testimonial-feature", args=[item.public_id]), {"featured": True}, content_type="application/json"
    )
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 403 and "editors" in response.json()["detail"]
    assert not Testimonial.objects.get(id=item.id).featured


def test_it_gives_charlie_404_for_brand_as_things(charlie_client, brand_a, form_a):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    widget = WidgetFactory(brand=brand_a)
    for url in (
        reverse("api-testimonial-detail", args=[item.public_id]),
        reverse("api-widget-detail", args=[widget.public_id]),
        reverse("api-form-list") + "?brand=brand-a",
        reverse("api-tag-list") + "?brand=brand-a",
    ):
        response = charlie_client.get(url)
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    response = charlie_client.post(reverse("api-widget-publish", args=[widget.public_id]))
    assert response.status_code == 404
    assert Widget.objects.get(id=widget.id).publish_requested_at is None


# --------------------------------------------------------------------------- forms, widgets, tags


def test_it_reads_forms_widgets_and_tags(api, brand_a, form_a):
    widget = WidgetFactory(brand=brand_a, name="Homepage wall")
    forms = api.get(reverse("api-form-list")).json()["results"]
    assert [f["slug"] for f in forms] == ["feedback"] and forms[0]["fields"]["rating"] == "required"
    assert forms[0]["url"].endswith("/c/brand-a/feedback/")
    assert api.get(reverse("api-form-detail", args=["feedback"])).json()["title"] == "How did we do?"
    detail = api.get(reverse("api-widget-detail", args=[widget.public_id])).json()
    assert detail["name"] == "Homepage wall" and f'data-widget="{widget.public_id}"' in detail["embed"]
    assert [w["id"] for w in api.get(reverse("api-widget-list")).json()["results"]] == [widget.public_id]
    created = api.post(reverse("api-tag-list"), {"name": "Video stories"})
    assert created.status_code == 201 and created.json()["slug"] == "video-stories"
    assert api.post(reverse("api-tag-list"), {"name": "Video stories"}).status_code == 400
    assert [t["slug"] for t in api.get(reverse("api-tag-list")).json()["results"]] == ["video-stories"]


def test_it_publishes_a_widget_on_request(api, brand_a, fake_broker, django_capture_on_commit_callbacks):
    widget = WidgetFactory(brand=brand_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api-widget-publish", args=[widget.public_id]))
    assert response.status_code == 202 and response.json()["publish_requested_at"]
    assert fake_broker.sent["widget_publish_task"] == [widget.id]


# --------------------------------------------------------------------------- pagination and errors


def test_it_pages_with_cursors_and_caps_the_page_size(api, brand_a):
    for _ in range(5):
        TestimonialFactory(brand=brand_a)
    first = api.get(reverse("api-testimonial-list"), {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    huge = api.get(reverse("api-testimonial-list"), {"page_size": 10_000})
    assert huge.status_code == 200 and len(huge.json()["results"]) == 5
    from testimonials.api.pagination import NewestFirst

    assert NewestFirst.max_page_size == PAGE_SIZE_MAX == 200


@pytest.mark.parametrize(
    "position",
    ["not-a-date", "2026-13-45 10:00:00", "'; DROP TABLE x; --", "9" * 40],
)
def test_it_refuses_a_cursor_whose_position_is_not_a_date(api, brand_a, position):
    # Found by a review: the position of a hand-made cursor went into the query as it was, a 500.
    TestimonialFactory(brand=brand_a)
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    response = api.get(reverse("api-testimonial-list"), {"cursor": cursor})
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert "cursor" in response.json()["errors"]


def test_it_refuses_a_cursor_that_is_not_a_cursor(api, brand_a):
    cursor = base64.b64encode(b"o=abc&p=2026-01-01").decode()
    response = api.get(reverse("api-testimonial-list"), {"cursor": cursor})
    assert response.status_code == 400 and "cursor" in response.json()["errors"]


def test_it_answers_every_error_in_one_shape(client, api, brand_a):
    shapes = [
        client.get(reverse("api-testimonial-list")),  # no key: 401
        client.get(reverse("api-testimonial-list"), HTTP_AUTHORIZATION="Bearer vk_nope"),  # unknown key
        api.get(reverse("api-testimonial-detail", args=["nope"])),  # 404
        api.get(reverse("api-testimonial-list"), {"rating": 9}),  # 400
        api.get("/api/v1/testimonials/a/b/c/"),  # no such route
        api.post(reverse("api-testimonial-detail", args=["nope"])),  # 405
    ]
    assert [r.status_code for r in shapes] == [401, 401, 404, 400, 404, 405]
    for response in shapes:
        body = response.json()
        assert response["Content-Type"] == PROBLEM
        assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == response.status_code
        assert body["type"].startswith("urn:vouch:problem:")
    assert shapes[0]["WWW-Authenticate"] == "Bearer"


# --------------------------------------------------------------------------- schema and docs


def test_it_generates_the_schema_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/testimonials/",
        "/api/v1/webhooks/",
        "/api/v1/imports/",
        "/api/v1/widgets/{public_id}/publish/",
    ):
        assert path in text


def test_it_serves_the_schema_and_a_docs_page_without_a_cdn(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and "openapi" in schema.content.decode()[:200]
    page = client.get(reverse("api-docs"))
    html = page.content.decode()
    assert page.status_code == 200 and "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "<script>" not in html  # the page's CSP allows no inline script
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_it_refuses_unknown_fields_wrong_types_and_empty_parameters(api, brand_a, form_a):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    typo = api.post(reverse("api-testimonial-list"), _new(ratting=5))
    assert typo.status_code == 400 and typo.json()["errors"] == {"ratting": ["Unknown field."]}
    wrong = api.post(reverse("api-testimonial-reject", args=[item.public_id]), {"reason": 0})
    assert wrong.status_code == 400 and wrong.json()["errors"] == {"reason": ["Must be a string."]}
    flag = api.post(reverse("api-testimonial-feature", args=[item.public_id]), {"featured": "yes"})
    assert flag.status_code == 400 and "featured" in flag.json()["errors"]
    empty = api.get(reverse("api-testimonial-list"), {"brand": ""})
    assert empty.status_code == 400 and "brand" in empty.json()["errors"]
    assert api.get(reverse("api-testimonial-list"), {"page_size": "abc"}).status_code == 400
    assert Testimonial.objects.get(id=item.id).state == State.PENDING_REVIEW
