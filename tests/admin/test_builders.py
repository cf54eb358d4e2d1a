"""The workspace's builders and the queue's new actions, for each persona: alice (owner) builds and
moderates, victor (viewer) only looks, charlie (brand B) gets 404 and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testimonials.lifecycle.models import AuditEvent, EventType
from testimonials.models import CollectionForm, FormQuestion, Testimonial, Widget
from tests.admin.conftest import login
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


def _form_post(form, **overrides) -> dict:
    data = {
        "brand": form.brand_id, "title": form.title, "slug": form.slug, "intro": "", "language": "",
        "is_active": "on", "rating_mode": "required", "text_mode": "required", "email_mode": "optional",
        "title_mode": "optional", "company_mode": "optional", "link_mode": "off", "avatar_mode": "optional",
        "photo_mode": "optional", "video_mode": "optional", "text_min_length": "10", "text_max_length": "2000",
        "video_max_seconds": "60", "consent_text": form.consent_text, "marketing_consent_text": "", "incentive": "",
        "thank_you_message": "Thanks!", "accent_color": "", "background_color": "", "button_text": "",
        "questions-TOTAL_FORMS": "0", "questions-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_it_builds_typed_ordered_required_questions_without_json_and_records_it(alice, form_a):
    url = reverse("admin:testimonials_collectionform_change", args=[form_a.id])
    data = _form_post(
        form_a,
        **{
            "questions-TOTAL_FORMS": "2",
            "questions-0-position": "1", "questions-0-label": "How do you drink it?", "questions-0-kind": "choice",
            "questions-0-required": "on", "questions-0-choices": "Espresso\nFilter\n",
            "questions-1-position": "0", "questions-1-label": "What did you try before us?",
            "questions-1-kind": "long_text", "questions-1-choices": "",
        },
    )  # fmt: skip
    response = login(alice).post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [(q.label, q.kind, q.required) for q in form_a.questions.all()] == [
        ("What did you try before us?", "long_text", False),
        ("How do you drink it?", "choice", True),
    ]
    notes = list(AuditEvent.objects.filter(action=EventType.FORM_CHANGE).values_list("note", flat=True))
    assert any("questions added" in note for note in notes)


def test_it_refuses_a_choice_question_with_one_choice_next_to_the_field(alice, form_a):
    url = reverse("admin:testimonials_collectionform_change", args=[form_a.id])
    data = _form_post(form_a, **{"questions-TOTAL_FORMS": "1", "questions-0-position": "0",
                                 "questions-0-label": "Pick", "questions-0-kind": "choice",
                                 "questions-0-choices": "Only"})  # fmt: skip
    response = login(alice).post(url, data)
    assert response.status_code == 200 and "at least two choices" in response.content.decode()
    assert not FormQuestion.objects.exists()


def test_the_form_builder_gives_the_link_a_qr_code_the_snippet_and_duplicate(alice, form_a):
    FormQuestion.objects.create(form=form_a, label="Why us?")
    page = login(alice).get(reverse("admin:testimonials_collectionform_change", args=[form_a.id])).content.decode()
    assert "http://127.0.0.1:8000/c/brand-a/feedback/" in page or "/c/brand-a/feedback/" in page
    assert "<svg" in page and "data-vouch-form" in page and "Duplicate this form" in page
    png = login(alice).get(reverse("admin:testimonials_collectionform_qr", args=[form_a.id, "png"]))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    response = login(alice).post(reverse("admin:testimonials_collectionform_duplicate", args=[form_a.id]))
    copy = CollectionForm.objects.exclude(id=form_a.id).get()
    assert response.status_code == 302 and copy.slug == "feedback-copy" and copy.questions.count() == 1
    assert copy.title.endswith("(copy)")


def test_a_new_widget_or_form_belongs_to_the_only_brand_there_is(alice, root_client, brand_a):
    for url in (reverse("admin:testimonials_widget_add"), reverse("admin:testimonials_collectionform_add")):
        for client in (login(alice), root_client):  # an owner of one brand; make run's superuser
            assert client.get(url).context["adminform"].form.initial["brand"] == brand_a.id


def test_the_widget_builder_gives_the_snippet_the_hosted_page_and_blocked_sites(alice, brand_a):
    widget = WidgetFactory(brand=brand_a)
    widget.blocked_origins.create(origin="https://elsewhere.example.net")
    page = login(alice).get(reverse("admin:testimonials_widget_change", args=[widget.id])).content.decode()
    assert f"data-widget=&quot;{widget.public_id}&quot;" in page and f"/w/{widget.public_id}/" in page
    assert "Copy the snippet" in page and "Blocked on https://elsewhere.example.net" in page
    assert 'data-allow-site="https://elsewhere.example.net"' in page


def test_the_preview_renders_unsaved_settings_with_the_published_render(alice, brand_a):
    for rating in (5, 2):
        TestimonialFactory(brand=brand_a, rating=rating, author_name=f"Rated {rating}")
    widget = WidgetFactory(brand=brand_a, layout=Widget.Layout.WALL)
    url = reverse("admin:testimonials_widget_preview", args=[widget.id])
    query = {"brand": brand_a.id, "name": widget.name, "layout": "carousel", "theme": "light", "language": "en",
             "selection": "rules", "min_rating": "4", "max_items": "12", "order": "featured",
             "corner_radius": "12"}  # fmt: skip
    response = login(alice).get(url, query)
    body = response.content.decode()
    assert response.status_code == 200 and 'class="carousel"' in body
    assert "Rated 5" in body and "Rated 2" not in body and "rated 4 stars and up" in body
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    widget.refresh_from_db()
    assert widget.layout == Widget.Layout.WALL and widget.min_rating is None  # nothing saved


def test_copying_the_snippet_ticks_the_checklist(alice, brand_a):
    widget = WidgetFactory(brand=brand_a)
    home = login(alice).get(reverse("admin:index")).content.decode()
    assert "Copy its snippet into your site" in home and "of 5 done" in home
    assert login(alice).post(reverse("admin:testimonials_widget_copied", args=[widget.id])).json() == {"copied": True}
    widget.refresh_from_db()
    assert widget.snippet_copied_at is not None


def test_a_viewer_may_preview_but_not_mark_a_snippet_copied(victor, brand_a):
    widget = WidgetFactory(brand=brand_a)
    assert login(victor).get(reverse("admin:testimonials_widget_preview", args=[widget.id])).status_code == 200
    assert login(victor).post(reverse("admin:testimonials_widget_copied", args=[widget.id])).status_code == 403


def test_brand_sites_are_typed_one_per_line_and_each_refused_line_says_why(alice, brand_a):
    url = reverse("admin:testimonials_brand_change", args=[brand_a.id])
    data = {"name": brand_a.name, "slug": brand_a.slug, "accent_color": "#0f766e", "website": "",
            "allowed_domains": "shop-a.example.com\n127.0.0.2:8080", "blocklist": "cheap\nfree money"}  # fmt: skip
    assert login(alice).post(url, data).status_code == 302
    brand_a.refresh_from_db()
    assert brand_a.allowed_domains == ["https://shop-a.example.com", "http://127.0.0.2:8080"]
    assert brand_a.blocklist == ["cheap", "free money"]
    response = login(alice).post(url, {**data, "allowed_domains": '["127.0.0.2"]'})
    assert response.status_code == 200 and "is not a site address" in response.content.decode()


def test_approving_from_the_keyboard_answers_json_and_approve_and_next_moves_on(alice, brand_a, form_a):
    first = TestimonialFactory(brand=brand_a, form=form_a, state=State.PENDING_REVIEW)
    second = TestimonialFactory(brand=brand_a, form=form_a, state=State.PENDING_REVIEW)
    decide = reverse("admin:testimonials_testimonial_decide", args=[first.id, "approve"])
    answer = login(alice).post(decide, HTTP_ACCEPT="application/json").json()
    assert answer == {"ok": True, "message": f"{first.author_name}: approved.", "state": "approved"}
    decide = reverse("admin:testimonials_testimonial_decide", args=[second.id, "reject"])
    assert login(alice).post(decide, HTTP_ACCEPT="application/json").status_code == 400  # a reason is needed
    next_url = reverse("admin:testimonials_testimonial_decide", args=[second.id, "approve"])
    response = login(alice).post(next_url, {"then": "next"})
    assert response["Location"] == reverse("admin:testimonials_testimonial_changelist")  # all caught up
    page = login(alice).get(reverse("admin:testimonials_testimonial_changelist")).content.decode()
    assert "All caught up" in page and "<title>Moderation queue" in page


def test_editing_the_displayed_text_keeps_the_original_and_records_the_note(alice, brand_a, form_a):
    item = TestimonialFactory(brand=brand_a, form=form_a, text="Grate coffee, fast delivery.", public_text="")
    url = reverse("admin:testimonials_testimonial_edit_text", args=[item.id])
    data = {"public_text": "Great coffee, fast delivery.", "highlight": "Great coffee", "note": "Fixed a typo"}
    assert login(alice).post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.text, item.public_text, item.highlight) == (
        "Grate coffee, fast delivery.",
        "Great coffee, fast delivery.",
        "Great coffee",
    )
    assert item.events.get(action=EventType.EDIT).note == "Fixed a typo"
    login(alice).post(url, {**data, "public_text": "Changed again", "note": ""})
    item.refresh_from_db()
    assert item.public_text == "Great coffee, fast delivery."  # no note, no change


def test_duplicate_evidence_links_to_the_same_brands_testimonial_only(alice, brand_a, brand_b, form_a):
    original = TestimonialFactory(brand=brand_a, form=form_a, author_name="First Writer")
    foreign = TestimonialFactory(brand=brand_b, author_name="Other Brand Person")
    flags = [{"code": "duplicate", "reason": "Nearly identical", "action": "hold",
              "evidence": ["same brand", f"testimonial #{original.id}", f"testimonial #{foreign.id}"]}]  # fmt: skip
    item = TestimonialFactory(brand=brand_a, form=form_a, state=State.PENDING_REVIEW, flags=flags)
    page = login(alice).get(reverse("admin:testimonials_testimonial_change", args=[item.id])).content.decode()
    link = reverse("admin:testimonials_testimonial_change", args=[original.id])
    assert f'<a href="{link}">the testimonial from First Writer</a>' in page
    assert "Other Brand Person" not in page and f"#{foreign.id}" not in page


@pytest.mark.parametrize(
    "url",
    [
        lambda w, f, t: reverse("admin:testimonials_widget_preview", args=[w.id]),
        lambda w, f, t: reverse("admin:testimonials_widget_change", args=[w.id]),
        lambda w, f, t: reverse("admin:testimonials_collectionform_qr", args=[f.id, "svg"]),
        lambda w, f, t: reverse("admin:testimonials_collectionform_change", args=[f.id]),
    ],
)
def test_charlie_cannot_see_brand_as_builders(charlie, brand_a, form_a, url):
    widget = WidgetFactory(brand=brand_a)
    item = TestimonialFactory(brand=brand_a, form=form_a)
    response = login(charlie).get(url(widget, form_a, item))
    assert response.status_code in (302, 404)  # the admin sends unknown objects home; never brand A's data
    assert brand_a.name not in response.content.decode()


def test_charlie_gets_404_on_every_new_write_and_changes_nothing(charlie, brand_a, form_a):
    widget = WidgetFactory(brand=brand_a)
    item = TestimonialFactory(brand=brand_a, form=form_a, state=State.PENDING_REVIEW, text="Original.")
    client = login(charlie)
    for url, data in (
        (reverse("admin:testimonials_widget_copied", args=[widget.id]), {}),
        (reverse("admin:testimonials_collectionform_duplicate", args=[form_a.id]), {}),
        (reverse("admin:testimonials_testimonial_edit_text", args=[item.id]),
         {"public_text": "Hacked", "highlight": "", "note": "x"}),
    ):  # fmt: skip
        assert client.post(url, data).status_code == 404
    item.refresh_from_db()
    widget.refresh_from_db()
    assert item.public_text == "Original." and widget.snippet_copied_at is None
    assert CollectionForm.objects.count() == 1
