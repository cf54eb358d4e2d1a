"""A moderator clears the queue in a real browser: approve one item, reject another with a reason."""

from __future__ import annotations

import pytest

from testimonials.models import Membership, Testimonial
from tests.factories import BrandFactory, CollectionFormFactory, MembershipFactory, TestimonialFactory, UserFactory

pytestmark = pytest.mark.browser
State = Testimonial.State


@pytest.fixture
def queue(transactional_db):
    brand = BrandFactory(name="Brand A", slug="brand-a")
    form = CollectionFormFactory(brand=brand, title="Feedback")
    MembershipFactory(user=UserFactory(username="alice"), brand=brand, role=Membership.Role.OWNER)
    good = TestimonialFactory(brand=brand, form=form, author_name="Gina Good", state=State.PENDING_REVIEW)
    spam = TestimonialFactory(
        brand=brand,
        form=form,
        author_name="Sam Spam",
        state=State.PENDING_REVIEW,
        text="Buy cheap watches at watches.example now",
        flags=[{"code": "link", "reason": "Contains a link.", "action": "hold", "evidence": ["watches.example"]}],
    )
    return good, spam


def _log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/testimonials/testimonial/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pass-word-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/testimonials/testimonial/")


def test_it_approves_an_item_from_the_queue(page, live_server, queue):
    good, _ = queue
    _log_in(page, live_server)
    row = page.locator("#result_list tbody tr", has_text="Gina Good")
    row.get_by_role("button", name="Approve").click()
    page.wait_for_selector(".messagelist .success")
    assert "Gina Good: approved." in page.inner_text(".messagelist")
    good.refresh_from_db()
    assert good.state == State.APPROVED
    assert good.events.get().action == "approve"
    # The approved item has left the queue; the flagged one is still there, its evidence marked.
    assert page.locator("#result_list tbody tr", has_text="Gina Good").count() == 0
    assert page.locator("#result_list mark", has_text="watches.example").count() == 1


def test_it_rejects_with_the_reason_typed_in_the_row_when_enter_is_pressed(page, live_server, queue):
    _, spam = queue
    _log_in(page, live_server)
    reason = page.get_by_label("Reason to reject Sam Spam")
    reason.fill("Spam or advertising")
    reason.press("Enter")
    page.wait_for_selector(".messagelist .success")
    spam.refresh_from_db()
    assert (spam.state, spam.rejection_reason) == (State.REJECTED, "Spam or advertising")
