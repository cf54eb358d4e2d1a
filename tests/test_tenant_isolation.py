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
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from testimonials.models import AuditEvent, Testimonial, Widget
from tests.factories import CampaignFactory, TestimonialFactory, WidgetFactory


@dataclass
class World:
    """Brand A's rows that every case points its URL at."""

    form: object
    testimonial: Testimonial
    widget: Widget


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
    widgets = Widget.objects.order_by("id").values_list("id", "name", "layout", "published_version")
    recipients = Recipient.objects.order_by("id").values_list("id", "status", "email")
    return tuple(rows), tuple(widgets), tuple(recipients), AuditEvent.objects.count()


# URLs anyone may open, and why. Each still may not leak other brands' private data: their own
# tests check that.
PUBLIC_URLS: dict[str, str] = {
    "healthz": "load-balancer health check, no data",
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
    "widget-blocked": "the embed snippet's report from a site not allowed: records the site, reveals nothing",
    "home": "the landing page of an installation: links only, no brand data",
    # Invitations (tests/invitations/test_link.py proves a forged, expired or reused token is refused, and
    # a token of brand A's customer changes nothing of brand B's):
    "invitation-open": "an invited customer's form, reached only with a token signed for that customer",
    "invitation-unsubscribe": "one-click unsubscribe (RFC 8058), reached only with a token signed for that customer",
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
]


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
    return World(
        form=form_a,
        testimonial=TestimonialFactory(brand=brand_a, form=form_a, state=Testimonial.State.PENDING_REVIEW),
        widget=WidgetFactory(brand=brand_a),
    )


def _call(client, case: TenantCase, world: World):
    kwargs = {"content_type": case.content_type} if case.content_type else {}
    data = case.data(world) if callable(case.data) else case.data
    return getattr(client, case.method)(case.url(world), data, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.url_name)
def test_it_gives_charlie_404_and_changes_nothing(case, world, charlie_client):
    before = _snapshot()
    response = _call(charlie_client, case, world)
    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.url_name)
def test_it_refuses_anonymous_visitors(case, world, client):
    before = _snapshot()
    response = _call(client, case, world)
    assert response.status_code in (302, 401, 403, 404)
    assert _snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.url_name)
def test_it_lets_the_brand_owner_through(case, world, alice_client):
    response = _call(alice_client, case, world)
    assert response.status_code < 400, response.content[:300]
