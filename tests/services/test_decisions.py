"""People's decisions: roles are enforced, every decision is recorded, widgets are republished."""

import pytest

from testimonials.errors import InvalidTransition, PermissionDenied
from testimonials.models import Testimonial
from testimonials.services.decisions import (
    testimonial_add_tags,
    testimonial_approve,
    testimonial_reject,
    testimonial_set_featured,
    testimonial_unpublish,
)
from tests.factories import TagFactory, TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


@pytest.fixture
def pending(brand_a):
    return TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)


def test_it_lets_an_editor_approve_and_records_who_did(bob, pending):
    item = testimonial_approve(testimonial=pending, actor=bob, note="Checked with the customer.")
    assert item.state == State.APPROVED and item.decided_at is not None
    event = item.events.get()
    assert (event.action, event.actor, event.actor_kind, event.from_state, event.to_state) == (
        "approve",
        bob,
        "human",
        State.PENDING_REVIEW,
        State.APPROVED,
    )
    assert event.note == "Checked with the customer."


def test_it_refuses_a_viewer_and_changes_nothing(victor, pending):
    with pytest.raises(PermissionDenied):
        testimonial_approve(testimonial=pending, actor=victor)
    pending.refresh_from_db()
    assert pending.state == State.PENDING_REVIEW and not pending.events.exists()


def test_it_refuses_a_member_of_another_brand(charlie, pending):
    with pytest.raises(PermissionDenied):
        testimonial_reject(testimonial=pending, actor=charlie, reason="spam")
    assert Testimonial.objects.get(id=pending.id).state == State.PENDING_REVIEW


def test_it_requires_a_reason_to_reject(alice, pending):
    with pytest.raises(InvalidTransition, match="Say why"):
        testimonial_reject(testimonial=pending, actor=alice, reason="  ")
    item = testimonial_reject(testimonial=pending, actor=alice, reason="Abusive language")
    assert item.rejection_reason == "Abusive language"
    assert item.events.get().reasons == ["Abusive language"]


def test_it_lets_a_person_decide_while_the_pipeline_still_runs(alice, brand_a):
    item = TestimonialFactory(brand=brand_a, state=State.PROCESSING)
    assert testimonial_reject(testimonial=item, actor=alice, reason="Spam").state == State.REJECTED


def test_it_republishes_the_brands_widgets_when_something_visible_changes(
    alice, pending, django_capture_on_commit_callbacks, fake_broker
):
    widget = WidgetFactory(brand=pending.brand)
    WidgetFactory()  # another brand's widget is left alone
    sent = fake_broker.sent["widget_publish_task"]
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_approve(testimonial=pending, actor=alice)
    assert sent == [widget.id]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_unpublish(testimonial=pending, actor=alice)
    assert sent == [widget.id]


def test_it_features_and_tags_with_an_audit_trail(alice, brand_a, brand_b):
    item = TestimonialFactory(brand=brand_a, state=State.APPROVED)
    testimonial_set_featured(testimonial=item, actor=alice, featured=True)
    tag = TagFactory(brand=brand_a, name="Video")
    testimonial_add_tags(testimonial=item, actor=alice, tags=[tag])
    assert Testimonial.objects.get(id=item.id).featured
    assert list(item.tags.all()) == [tag]
    assert list(item.events.values_list("action", flat=True)) == ["feature", "tag"]
    with pytest.raises(PermissionDenied):
        testimonial_add_tags(testimonial=item, actor=alice, tags=[TagFactory(brand=brand_b)])
