"""The moderation queue: what needs a person first, reasons visible, decisions in one click or in bulk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from testimonials.models import MediaAsset, Testimonial
from tests.admin.conftest import login
from tests.factories import CollectionFormFactory, TagFactory, TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
CHANGELIST = "/admin/testimonials/testimonial/"


def _names(response) -> list[str]:
    """Authors in the order the list shows them."""
    return re.findall(
        r'<th class="field-author"><a href="[^"]+"><span dir="auto">([^<]+)</span><br>', response.content.decode()
    )


def _item(brand, form, name, *, age_hours=1, **kwargs):
    created = timezone.now() - timedelta(hours=age_hours)
    return TestimonialFactory(brand=brand, form=form, author_name=name, created_at=created, **kwargs)


@pytest.fixture
def sent(fake_broker):
    """Widget publishes enqueued after commit (by the widgets' lifecycle subscriber)."""
    return fake_broker.sent["widget_publish_task"]


def test_it_shows_what_needs_a_person_flagged_first_then_oldest(brand_a, form_a, alice_client):
    flag = [{"code": "link", "reason": "Contains a link", "action": "hold", "evidence": ["spam.example"]}]
    _item(brand_a, form_a, "Old plain", age_hours=50, state=State.PENDING_REVIEW)
    _item(brand_a, form_a, "New plain", age_hours=1, state=State.PENDING_REVIEW)
    _item(brand_a, form_a, "New flagged", age_hours=2, state=State.PENDING_REVIEW, flags=flag)
    _item(brand_a, form_a, "Old flagged", age_hours=40, state=State.PENDING_REVIEW, flags=flag)
    _item(brand_a, form_a, "Failed one", age_hours=30, state=State.FAILED)
    _item(brand_a, form_a, "Already approved", state=State.APPROVED)
    _item(brand_a, form_a, "Already rejected", state=State.REJECTED)
    response = alice_client.get(CHANGELIST)
    assert _names(response) == ["Old flagged", "New flagged", "Old plain", "Failed one", "New plain"]
    everything = alice_client.get(CHANGELIST + "?state=all")
    assert "Already approved" in _names(everything) and len(_names(everything)) == 7


def test_it_marks_flagged_words_in_the_excerpt_and_escapes_the_text(brand_a, form_a, alice_client):
    _item(
        brand_a,
        form_a,
        "Mallory",
        state=State.PENDING_REVIEW,
        text="Great! <script>alert(1)</script> write to me at mal@evil.example today",
        flags=[{"code": "email", "reason": "Contains an email address", "evidence": ["mal@evil.example"]}],
    )
    body = alice_client.get(CHANGELIST).content.decode()
    assert "<mark>mal@evil.example</mark>" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Email address" in body and 'title="Contains an email address"' in body


def test_it_shows_stars_sentiment_source_and_a_media_thumbnail(brand_a, form_a, alice_client):
    item = _item(
        brand_a,
        form_a,
        "Vera Video",
        rating=4,
        state=State.PENDING_REVIEW,
        sentiment_label="positive",
        sentiment_score=0.83,
        source=Testimonial.Source.IMPORT,
    )
    MediaAsset.objects.create(
        testimonial=item,
        kind=MediaAsset.Kind.VIDEO,
        status=MediaAsset.Status.READY,
        derivatives={
            "video.mp4": {"path": "v/abc/video.mp4"},
            "poster.jpg": {"path": "v/abc/poster.jpg"},
        },
    )
    body = alice_client.get(CHANGELIST).content.decode()
    assert 'aria-label="4 of 5 stars"' in body
    assert "Positive +0.83" in body
    assert "Imported" in body
    assert '<img src="/media/v/abc/poster.jpg"' in body


def test_it_filters_by_rating_sentiment_media_flag_tag_and_form(brand_a, form_a, alice_client):
    other_form = CollectionFormFactory(brand=brand_a, title="Onboarding survey")
    tag = TagFactory(brand=brand_a, name="Launch")
    _item(
        brand_a,
        form_a,
        "Flagged Fiona",
        rating=2,
        sentiment_label="negative",
        flags=[{"code": "profanity", "reason": "Profane", "evidence": ["darn"]}],
    )
    with_video = _item(brand_a, other_form, "Video Victor", rating=5, sentiment_label="positive")
    MediaAsset.objects.create(testimonial=with_video, kind=MediaAsset.Kind.VIDEO)
    tagged = _item(brand_a, form_a, "Tagged Tina", rating=5, sentiment_label="neutral")
    tagged.tags.add(tag)
    cases = {
        "rating=2": ["Flagged Fiona"],
        "sentiment=positive": ["Video Victor"],
        "media=video": ["Video Victor"],
        "media=none": ["Flagged Fiona", "Tagged Tina"],
        "flag=profanity": ["Flagged Fiona"],
        "flag=any": ["Flagged Fiona"],
        "flag=email": [],
        f"tag={tag.pk}": ["Tagged Tina"],
        f"form={other_form.pk}": ["Video Victor"],
        "q=Tina": ["Tagged Tina"],
    }
    for query, expected in cases.items():
        names = _names(alice_client.get(f"{CHANGELIST}?state=all&{query}"))
        assert sorted(names) == sorted(expected), query


def test_it_approves_one_item_from_the_list_and_records_who_did(brand_a, form_a, bob):
    item = _item(brand_a, form_a, "Pending Pat", state=State.PENDING_REVIEW)
    client = login(bob)
    with_list = CHANGELIST + "?rating=5"
    response = client.post(
        reverse("admin:testimonials_testimonial_decide", args=[item.pk, "approve"]),
        HTTP_REFERER=f"http://testserver{with_list}",
    )
    assert response.status_code == 302 and response["Location"] == f"http://testserver{with_list}"
    item.refresh_from_db()
    assert item.state == State.APPROVED
    event = item.events.get()
    assert (event.action, event.actor, event.to_state) == ("approve", bob, State.APPROVED)


def test_it_republishes_widgets_after_a_decision_from_the_list(
    brand_a, form_a, alice, sent, django_capture_on_commit_callbacks
):
    widget = WidgetFactory(brand=brand_a)
    item = _item(brand_a, form_a, "Pending Pat", state=State.PENDING_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        login(alice).post(reverse("admin:testimonials_testimonial_decide", args=[item.pk, "approve"]))
    assert sent == [widget.id]


def test_it_rejects_one_item_from_the_list_with_the_reason_typed_in_its_row(brand_a, form_a, alice):
    item = _item(brand_a, form_a, "Spammy Sam", state=State.PENDING_REVIEW)
    client = login(alice)
    response = client.post(
        reverse("admin:testimonials_testimonial_decide", args=[item.pk, "reject"]),
        {f"reason-{item.pk}": "Spam or advertising", "reason-999": "someone else's reason"},
        follow=True,
    )
    item.refresh_from_db()
    assert item.state == State.REJECTED and item.rejection_reason == "Spam or advertising"
    assert item.events.get().reasons == ["Spam or advertising"]
    assert "Spammy Sam: rejected." in response.content.decode()


def test_it_refuses_to_reject_without_a_reason_and_says_why(brand_a, form_a, alice):
    item = _item(brand_a, form_a, "Quiet Quinn", state=State.PENDING_REVIEW)
    response = login(alice).post(
        reverse("admin:testimonials_testimonial_decide", args=[item.pk, "reject"]),
        {f"reason-{item.pk}": " "},
        follow=True,
    )
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert "Say why this testimonial is rejected" in response.content.decode()


def test_it_approves_in_bulk_writing_one_event_each_and_republishing(
    brand_a, form_a, alice, sent, django_capture_on_commit_callbacks
):
    widget = WidgetFactory(brand=brand_a)
    items = [_item(brand_a, form_a, f"Bulk {i}", state=State.PENDING_REVIEW) for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(
            CHANGELIST,
            {"action": "approve_selected", ACTION_CHECKBOX_NAME: [i.pk for i in items], "index": 0},
            follow=True,
        )
    assert "3 testimonials approved." in response.content.decode()
    for item in items:
        item.refresh_from_db()
        assert item.state == State.APPROVED
        assert list(item.events.values_list("action", "actor__username")) == [("approve", "alice")]
    assert set(sent) == {widget.id}


def test_it_rejects_in_bulk_after_asking_for_a_reason(brand_a, form_a, alice):
    items = [_item(brand_a, form_a, f"Spam {i}", state=State.PENDING_REVIEW) for i in range(2)]
    client = login(alice)
    ids = [i.pk for i in items]
    ask = client.post(CHANGELIST, {"action": "reject_selected", ACTION_CHECKBOX_NAME: ids, "index": 0})
    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    assert all(Testimonial.objects.get(pk=pk).state == State.PENDING_REVIEW for pk in ids)
    client.post(CHANGELIST, {"action": "reject_selected", ACTION_CHECKBOX_NAME: ids, "apply": "1", "reason": "Spam"})
    for item in items:
        item.refresh_from_db()
        assert (item.state, item.rejection_reason) == (State.REJECTED, "Spam")
        assert item.events.get().action == "reject"


def test_it_features_tags_and_unpublishes_in_bulk_with_an_audit_trail(
    brand_a, brand_b, form_a, alice, sent, django_capture_on_commit_callbacks
):
    widget = WidgetFactory(brand=brand_a)
    item = _item(brand_a, form_a, "Star", state=State.APPROVED)
    tag = TagFactory(brand=brand_a, name="Homepage")
    TagFactory(brand=brand_b, name="Not offered")
    client = login(alice)
    data = {ACTION_CHECKBOX_NAME: [item.pk], "index": 0}
    everything = CHANGELIST + "?state=all"  # actions apply to what the list shows, like the page they come from
    with django_capture_on_commit_callbacks(execute=True):
        client.post(everything, {**data, "action": "feature_selected"})
    ask = client.post(everything, {**data, "action": "tag_selected"}).content.decode()
    assert "Homepage" in ask and "Not offered" not in ask
    client.post(everything, {**data, "action": "tag_selected", "apply": "1", "tags": [tag.pk]})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(everything, {**data, "action": "unpublish_selected"})
    item.refresh_from_db()
    assert item.featured and list(item.tags.all()) == [tag] and item.state == State.PENDING_REVIEW
    assert list(item.events.values_list("action", flat=True)) == ["feature", "tag", "unpublish"]
    assert sent.count(widget.id) >= 2


def test_it_reports_items_a_bulk_action_could_not_change(brand_a, form_a, alice):
    pending = _item(brand_a, form_a, "Waiting Will", state=State.PENDING_REVIEW)
    response = login(alice).post(
        CHANGELIST + "?state=all",
        {"action": "unpublish_selected", ACTION_CHECKBOX_NAME: [pending.pk], "index": 0},
        follow=True,
    )
    pending.refresh_from_db()
    assert pending.state == State.PENDING_REVIEW
    assert "Waiting Will" in response.content.decode()


def _seed(brand, form, n):
    tag = TagFactory(brand=brand)
    for i in range(n):
        item = _item(
            brand,
            form,
            f"Seeded {i}",
            state=State.PENDING_REVIEW,
            flags=[{"code": "link", "reason": "link", "evidence": ["x.example"]}] if i % 2 else [],
        )
        item.tags.add(tag)
        MediaAsset.objects.create(testimonial=item, kind=MediaAsset.Kind.PHOTO, status=MediaAsset.Status.READY)


@pytest.mark.parametrize("rows", [3, 40])
def test_it_renders_the_list_in_a_bounded_number_of_queries(
    rows, brand_a, form_a, alice, django_assert_max_num_queries
):
    _seed(brand_a, form_a, rows)
    client = login(alice)
    with django_assert_max_num_queries(12):
        response = client.get(CHANGELIST)
    assert len(_names(response)) == rows


def test_it_renders_the_superusers_list_in_a_bounded_number_of_queries(
    brand_a, brand_b, form_a, form_b, root_client, django_assert_max_num_queries
):
    _seed(brand_a, form_a, 20)
    _seed(brand_b, form_b, 20)
    with django_assert_max_num_queries(10):
        response = root_client.get(CHANGELIST)
    assert len(_names(response)) == 40


def test_it_gives_each_row_approve_and_reject_buttons_for_editors_only(brand_a, form_a, bob, victor):
    item = _item(brand_a, form_a, "Row Rita", state=State.PENDING_REVIEW)
    approve = reverse("admin:testimonials_testimonial_decide", args=[item.pk, "approve"])
    reject = reverse("admin:testimonials_testimonial_decide", args=[item.pk, "reject"])
    editor_page = login(bob).get(CHANGELIST).content.decode()
    assert f'formaction="{approve}"' in editor_page and f'formaction="{reject}"' in editor_page
    assert f'name="reason-{item.pk}"' in editor_page
    assert "formaction" not in login(victor).get(CHANGELIST).content.decode()


def test_it_refuses_an_overlong_reason_with_a_message_instead_of_an_error(brand_a, form_a, alice):
    item = _item(brand_a, form_a, "Long Lou", state=State.PENDING_REVIEW)
    response = login(alice).post(
        reverse("admin:testimonials_testimonial_decide", args=[item.pk, "reject"]),
        {f"reason-{item.pk}": "spam " * 100},
        follow=True,
    )
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert "Keep the reason under 300 characters." in response.content.decode()
