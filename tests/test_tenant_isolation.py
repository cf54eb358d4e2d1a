"""Brands are tenants: a matrix over every URL x {anonymous, brand A's owner, brand B's owner}.

Every URL the project serves must have a row in CASES (or be listed in PUBLIC_URLS with why it is
public). A new URL without a row fails `test_it_has_a_row_for_every_url`. For brand-private URLs,
charlie (brand B) gets 404 and changes nothing, anonymous visitors are sent to log in or refused,
and alice (brand A) gets through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from testimonials.imports.models import ReviewImport
from testimonials.models import AuditEvent, Tag, Testimonial, Widget
from testimonials.webhooks.models import WebhookDelivery, WebhookEndpoint
from testimonials.webhooks.signing import secret_new
from tests.factories import CampaignFactory, TagFactory, TestimonialFactory, WidgetFactory


@dataclass
class World:
    """Brand A's rows that every case points its URL at."""

    form: object
    testimonial: Testimonial
    widget: Widget
    tag: Tag | None = None
    endpoint: WebhookEndpoint | None = None
    delivery: WebhookDelivery | None = None
    import_job: ReviewImport | None = None


@dataclass
class TenantCase:
    url_name: str
    url: Callable[[World], str]
    method: str = "get"
    data: dict | Callable[[World], dict] = field(default_factory=dict)  # a callable builds brand A's rows it names
    content_type: str | None = None


def _snapshot() -> tuple:
    """What charlie must not be able to change."""
    from testimonials.invitations.models import Recipient

    rows = Testimonial.objects.order_by("id").values_list("id", "state", "featured", "text")
    widgets = Widget.objects.order_by("id").values_list(
        "id", "name", "layout", "published_version", "publish_requested_at"
    )
    recipients = Recipient.objects.order_by("id").values_list("id", "status", "email")
    endpoints = WebhookEndpoint.objects.order_by("id").values_list("id", "url", "is_active", "secret", "events")
    deliveries = WebhookDelivery.objects.order_by("id").values_list("id", "status", "next_attempt_at")
    others = (Tag.objects.count(), ReviewImport.objects.count(), Testimonial.tags.through.objects.count())
    return (
        tuple(rows), tuple(widgets), tuple(recipients), tuple(endpoints), tuple(deliveries), others,
        AuditEvent.objects.count(),
    )  # fmt: skip


# URLs anyone may open, and why. Each still may not leak other brands' private data: their own
# tests check that.
PUBLIC_URLS: dict[str, str] = {
    "healthz": "load-balancer health check, no data",
    "readyz": "readiness: whether the database, broker and disks are fine, with the reason when not; no data",
    "metrics": "Prometheus metrics: open only to VOUCH_METRICS_ALLOW addresses or the token (tests/observability)",
    "media-public": "public renditions under unguessable names; originals live elsewhere",
    # Collection (tests/collection/test_collect_*.py prove a form of brand B is 404 under brand A's slug,
    # a token or upload session of one form is refused by another, and no private data is shown).
    "collect-form": "the customer's public collection page; shows only the form's own settings",
    "collect-thanks": "the thank-you page; shows the form's message and the reviewer's own referral link",
    "collect-upload-start": "starts a resumable upload; needs a signed page token of that very form",
    "collect-upload": "resumes an upload by unguessable id; a session of another form is 404",
    # Widgets (tests/widgets/test_public_pages.py proves they carry no emails, IPs or internal ids):
    "widget-embed": "the embed snippet, a static script with no data",
    "widget-file": "published widget files: only what the brand chose to show on its own site",
    "widget-wall": "the hosted wall page a brand shares: approved testimonials only",
    # tests/influence/test_public_page.py: approved only, 404 otherwise, no email or referral code of others.
    "testimonial-public": "one approved testimonial's shareable page, what its reviewer shares",
    "widget-blocked": "the embed snippet's report from a site not allowed: records the site, reveals nothing",
    # Analytics beacons (tests/analytics/test_beacon_endpoint.py: refused from sites outside the widget's
    # allowed sites, answer nothing but a status, or the visitor's own holdout arm and seed):
    "analytics-events": "a batch of events from a widget's document or its allowed host page; answers 204",
    "analytics-hello": "the loader's holdout question for a widget on an allowed site: this visitor's arm only",
    "home": "the landing page of an installation: links only, no brand data",
    # The API's description (tests/api/test_schema.py): generated from the views, no data.
    "api-schema": "the OpenAPI 3 schema of the API, no data",
    "api-docs": "the docs page that renders the schema (Swagger UI served locally), no data",
    "api-not-found": "the problem-details 404 for URLs under /api/ that no route matches",
    # Invitations (tests/invitations/test_link.py proves a forged, expired or reused token is refused, and
    # a token of brand A's customer changes nothing of brand B's):
    "invitation-open": "an invited customer's form, reached only with a token signed for that customer",
    "invitation-unsubscribe": "one-click unsubscribe (RFC 8058), reached only with a token signed for that customer",
    # Team invitations (tests/members/ proves a forged, expired, revoked or used link is refused):
    "member-join": "a person invited to a brand's team accepts, reached only with a link signed for that invitation",
}


def _import_file(world) -> dict:
    upload = SimpleUploadedFile("reviews.csv", b"name,rating,text\nAda,5,Lovely shop\n", content_type="text/csv")
    return {"brand": "brand-a", "preset": "csv", "file": upload}


def _new_testimonial(world) -> dict:
    return {
        "brand": "brand-a",
        "form": "feedback",
        "author_name": "Ada",
        "rating": 5,
        "text": "The onboarding call saved us a week.",
        "consent_text": "I agree.",
        "consented_at": "2026-01-02T03:04:05Z",
    }


# Brand-private URLs: one row each. Later issues add theirs here.
CASES: list[TenantCase] = [
    # REST API v1 (tests/api/): a session member here; API keys are tested there.
    TenantCase("api-testimonial-list", lambda w: reverse("api-testimonial-list") + "?brand=brand-a"),
    TenantCase("api-testimonial-detail", lambda w: reverse("api-testimonial-detail", args=[w.testimonial.public_id])),
    TenantCase(
        "api-testimonial-approve",
        lambda w: reverse("api-testimonial-approve", args=[w.testimonial.public_id]),
        method="post",
    ),
    TenantCase(
        "api-testimonial-reject",
        lambda w: reverse("api-testimonial-reject", args=[w.testimonial.public_id]),
        method="post",
        data={"reason": "Spam"},
    ),
    TenantCase("api-rating-summary", lambda w: reverse("api-rating-summary") + "?brand=brand-a"),
    TenantCase("api-influence-reviewers", lambda w: reverse("api-influence-reviewers") + "?brand=brand-a"),
    TenantCase(
        "api-testimonial-feature",
        lambda w: reverse("api-testimonial-feature", args=[w.testimonial.public_id]),
        method="post",
        data={"featured": True},
    ),
    TenantCase(
        "api-testimonial-tag",
        lambda w: reverse("api-testimonial-tag", args=[w.testimonial.public_id]),
        method="post",
        data={"tags": ["praise"]},
        content_type="application/json",
    ),
    TenantCase("api-form-list", lambda w: reverse("api-form-list") + "?brand=brand-a"),
    TenantCase("api-form-detail", lambda w: reverse("api-form-detail", args=[w.form.slug]) + "?brand=brand-a"),
    TenantCase("api-widget-list", lambda w: reverse("api-widget-list") + "?brand=brand-a"),
    TenantCase("api-widget-detail", lambda w: reverse("api-widget-detail", args=[w.widget.public_id])),
    TenantCase("api-widget-publish", lambda w: reverse("api-widget-publish", args=[w.widget.public_id]), method="post"),
    TenantCase("api-tag-list", lambda w: reverse("api-tag-list") + "?brand=brand-a"),
    # Webhooks (tests/webhooks/test_webhooks_api.py): owners only, since endpoints hold signing secrets.
    TenantCase("api-webhook-list", lambda w: reverse("api-webhook-list") + "?brand=brand-a"),
    TenantCase("api-webhook-detail", lambda w: reverse("api-webhook-detail", args=[w.endpoint.public_id])),
    TenantCase("api-webhook-secret", lambda w: reverse("api-webhook-secret", args=[w.endpoint.public_id])),
    TenantCase(
        "api-webhook-rotate-secret",
        lambda w: reverse("api-webhook-rotate-secret", args=[w.endpoint.public_id]),
        method="post",
    ),
    TenantCase(
        "api-webhook-delivery-list", lambda w: reverse("api-webhook-delivery-list", args=[w.endpoint.public_id])
    ),
    TenantCase(
        "api-webhook-delivery-detail",
        lambda w: reverse("api-webhook-delivery-detail", args=[w.endpoint.public_id, w.delivery.public_id]),
    ),
    TenantCase(
        "api-webhook-delivery-redeliver",
        lambda w: reverse("api-webhook-delivery-redeliver", args=[w.endpoint.public_id, w.delivery.public_id]),
        method="post",
    ),
    # Imports (tests/imports/): editors and owners upload; members read progress and reports.
    TenantCase("api-import-list", lambda w: reverse("api-import-list"), method="post", data=_import_file),
    TenantCase("api-import-detail", lambda w: reverse("api-import-detail", args=[w.import_job.public_id])),
    TenantCase("api-import-rows", lambda w: reverse("api-import-rows", args=[w.import_job.public_id])),
    TenantCase(
        "api-invitation-create",
        lambda w: reverse("api-invitation-create"),
        method="post",
        data=lambda w: {
            "campaign": CampaignFactory(brand=w.form.brand, form=w.form).public_id,
            "customers": [{"email": "ada@example.com", "name": "Ada"}],
        },
        content_type="application/json",
    ),
    # Influence (tests/analytics/test_influence_api.py): members of any role read; keys reach their brand.
    TenantCase("api-influence-summary", lambda w: reverse("api-influence-summary") + "?brand=brand-a"),
    TenantCase(
        "api-influence-testimonial-list", lambda w: reverse("api-influence-testimonial-list") + "?brand=brand-a"
    ),
    TenantCase(
        "api-influence-testimonial-detail",
        lambda w: reverse("api-influence-testimonial-detail", args=[w.testimonial.public_id]),
    ),
]

# The same URL name, other methods: creating through a list URL.
CASES.append(
    TenantCase(
        "api-testimonial-list",
        lambda w: reverse("api-testimonial-list"),
        method="post",
        data=_new_testimonial,
        content_type="application/json",
    )
)


def _named_urls(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin has its own per-persona tests (tests/admin/)
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _named_urls(entry, ns)
        elif isinstance(entry, URLPattern):
            if entry.name is None:
                raise AssertionError(f"URL {entry.pattern} has no name: name it and give it a row here.")
            names.add(prefix + entry.name)
    return names


def test_it_has_a_row_for_every_url():
    covered = set(PUBLIC_URLS) | {case.url_name for case in CASES}
    missing = sorted(_named_urls() - covered)
    assert not missing, f"URLs with no tenant-isolation row: {missing}"


@pytest.fixture
def world(brand_a, form_a):
    endpoint = WebhookEndpoint.objects.create(
        brand=brand_a, url="https://hooks.example.com/vouch", events=["testimonial.approved"], secret=secret_new()
    )
    return World(
        form=form_a,
        testimonial=TestimonialFactory(brand=brand_a, form=form_a, state=Testimonial.State.PENDING_REVIEW),
        widget=WidgetFactory(brand=brand_a),
        tag=TagFactory(brand=brand_a, name="Praise", slug="praise"),
        endpoint=endpoint,
        delivery=WebhookDelivery.objects.create(
            endpoint=endpoint, brand=brand_a, event_type="testimonial.approved", status=WebhookDelivery.Status.FAILED
        ),
        import_job=ReviewImport.objects.create(brand=brand_a, preset="csv", status=ReviewImport.Status.DONE),
    )


def _call(client, case: TenantCase, world: World):
    kwargs = {"content_type": case.content_type} if case.content_type else {}
    data = case.data(world) if callable(case.data) else case.data
    return getattr(client, case.method)(case.url(world), data, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url_name}")
def test_it_gives_charlie_404_and_changes_nothing(case, world, charlie_client):
    before = _snapshot()
    response = _call(charlie_client, case, world)
    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url_name}")
def test_it_refuses_anonymous_visitors(case, world, client):
    before = _snapshot()
    response = _call(client, case, world)
    assert response.status_code in (302, 401, 403, 404)
    assert _snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url_name}")
def test_it_lets_the_brand_owner_through(case, world, alice_client):
    response = _call(alice_client, case, world)
    assert response.status_code < 400, response.content[:300]
