"""The testimonial page: everything needed to decide, and no way to change state but the decision buttons."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from testimonials.models import AuditEvent, MediaAsset, Testimonial
from tests.admin.conftest import login
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


def _page(client, item) -> str:
    response = client.get(f"/admin/testimonials/testimonial/{item.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def held(brand_a, form_a):
    return TestimonialFactory(
        brand=brand_a,
        form=form_a,
        author_name="Hilda Held",
        state=State.PENDING_REVIEW,
        text="Call me on 0612345678 or write to hilda@example.com <b>bold</b>",
        public_text="Call me on [phone removed] or write to [email removed] <b>bold</b>",
        flags=[
            {"code": "phone", "reason": "Contains a phone number.", "action": "hold", "evidence": ["0612345678"]},
            {
                "code": "email",
                "reason": "Contains an email address.",
                "action": "hold",
                "evidence": ["hilda@example.com"],
            },
        ],
        consent_text="I agree that my testimonial may be shown publicly.",
    )


def test_it_explains_every_flag_and_marks_its_evidence(held, alice_client):
    body = _page(alice_client, held)
    assert "Contains a phone number." in body and "Contains an email address." in body
    assert "<mark>0612345678</mark>" in body and "<mark>hilda@example.com</mark>" in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body and "<b>bold</b>" not in body


def test_it_shows_the_original_and_the_redacted_text_and_the_consent_record(held, alice_client):
    body = _page(alice_client, held)
    assert "[phone removed]" in body and "[email removed]" in body
    assert "I agree that my testimonial may be shown publicly." in body
    assert "Consent record" in body


def test_it_warns_when_no_consent_was_recorded(brand_a, form_a, alice_client):
    item = TestimonialFactory(brand=brand_a, form=form_a, consent_given=False, consented_at=None, consent_text="")
    assert "No consent recorded" in _page(alice_client, item)


def test_it_shows_the_audit_trail_read_only(held, alice, alice_client):
    AuditEvent.objects.create(
        brand_id=held.brand_id,
        testimonial=held,
        actor_kind="system",
        action="auto_decision",
        from_state="processing",
        to_state="pending_review",
        reasons=["Contains a phone number."],
    )
    AuditEvent.objects.create(
        brand_id=held.brand_id, testimonial=held, actor_kind="human", actor=alice, action="feature", note="Lovely"
    )
    body = _page(alice_client, held)
    assert "Audit trail" in body and "auto_decision" in body and "Lovely" in body
    assert 'name="events-0-action"' not in body  # not editable
    assert 'name="_save"' not in body


def test_it_previews_a_photo_and_a_video_with_its_poster(held, alice_client):
    MediaAsset.objects.create(
        testimonial=held,
        kind=MediaAsset.Kind.PHOTO,
        status=MediaAsset.Status.READY,
        derivatives={"card.webp": {"path": "p/1/card.webp"}, "card.jpg": {"path": "p/1/card.jpg"}},
    )
    MediaAsset.objects.create(
        testimonial=held,
        kind=MediaAsset.Kind.VIDEO,
        status=MediaAsset.Status.READY,
        duration_seconds=42.4,
        derivatives={"video.mp4": {"path": "v/1/video.mp4"}, "poster.jpg": {"path": "v/1/poster.jpg"}},
    )
    body = _page(alice_client, held)
    assert '<img src="/media/p/1/card.webp"' in body
    assert (
        '<video controls preload="none" playsinline src="/media/v/1/video.mp4" poster="/media/v/1/poster.jpg"' in body
    )
    assert "Video 42 s" in body


def test_it_shows_processing_progress_and_failures(held, alice_client):
    MediaAsset.objects.create(
        testimonial=held, kind=MediaAsset.Kind.VIDEO, status=MediaAsset.Status.PROCESSING, progress=37
    )
    MediaAsset.objects.create(
        testimonial=held,
        kind=MediaAsset.Kind.PHOTO,
        status=MediaAsset.Status.FAILED,
        error="This photo is damaged or incomplete.",
    )
    body = _page(alice_client, held)
    assert '<progress max="100" value="37">' in body and "data-vouch-refresh" in body
    assert "This photo is damaged or incomplete." in body


def test_it_offers_decisions_to_editors_and_keeps_state_read_only(held, bob):
    client = login(bob)
    body = _page(client, held)
    assert reverse("admin:testimonials_testimonial_decide", args=[held.pk, "approve"]) in body
    assert reverse("admin:testimonials_testimonial_decide", args=[held.pk, "reject"]) in body
    assert 'name="state"' not in body
    response = client.post(f"/admin/testimonials/testimonial/{held.pk}/change/", {"state": "approved"})
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.state == State.PENDING_REVIEW and not held.events.exists()


def test_it_rejects_from_the_page_and_returns_to_it(held, alice):
    client = login(alice)
    page = f"/admin/testimonials/testimonial/{held.pk}/change/"
    response = client.post(
        reverse("admin:testimonials_testimonial_decide", args=[held.pk, "reject"]),
        {"reason": "Personal data that cannot be redacted", "next": page},
    )
    assert response.status_code == 302 and response["Location"] == page
    held.refresh_from_db()
    assert held.state == State.REJECTED and held.decided_at <= timezone.now()


def test_it_never_redirects_outside_the_site_after_a_decision(held, alice):
    response = login(alice).post(
        reverse("admin:testimonials_testimonial_decide", args=[held.pk, "approve"]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == "/admin/testimonials/testimonial/"
