"""Redaction runs once, when the text is written; the wall and widgets read the stored public text."""

from __future__ import annotations

import pytest

from testimonials.moderation import rules
from testimonials.services.decisions import testimonial_edit
from testimonials.widgets.render import widget_render
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
LONG = "x" * 5000  # a long text without spaces: what made the old per-request redaction costly


class Counting:
    """A stand-in for a compiled pattern that counts every use."""

    def __init__(self, pattern):
        self.pattern, self.calls = pattern, 0

    def __getattr__(self, name):
        method = getattr(self.pattern, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def regex_work(monkeypatch):
    """Every redaction pattern, counted: rules.redact and anything else that reaches them."""
    counted = {name: Counting(getattr(rules, name)) for name in ("_EMAIL", "_PHONE")}
    for name, wrapper in counted.items():
        monkeypatch.setattr(rules, name, wrapper)
    return lambda: sum(wrapper.calls for wrapper in counted.values())


def test_it_renders_the_wall_of_an_unpublished_widget_without_redacting(client, brand_a, regex_work):
    for n in range(3):
        TestimonialFactory(brand=brand_a, text=f"{LONG}{n} mail me at ada@example.com")
    widget = WidgetFactory(brand=brand_a)  # never published: the wall renders from the database
    written = regex_work()  # the factory redacts as processing does, once per row
    response = client.get(f"/w/{widget.public_id}/")
    assert response.status_code == 200
    assert "[email removed]" in response.content.decode()
    assert regex_work() == written


def test_it_serves_a_published_wall_with_no_query_and_no_redaction(
    client, brand_a, regex_work, django_assert_num_queries
):
    TestimonialFactory(brand=brand_a, text=f"{LONG} call +1 415 555 0134")
    widget = WidgetFactory(brand=brand_a)
    written = regex_work()
    widget_publish(widget_id=widget.id)
    with django_assert_num_queries(0):
        assert client.get(f"/w/{widget.public_id}/").status_code == 200
    assert regex_work() == written  # neither publishing nor the page view redacted again


def test_it_redacts_a_persons_edit_of_the_displayed_text_once_when_it_is_saved(brand_a, alice, regex_work):
    item = TestimonialFactory(brand=brand_a)
    testimonial_edit(
        testimonial=item, actor=alice, public_text="Great! Write to ada@example.com", highlight="", note="typo"
    )
    item.refresh_from_db()
    assert item.public_text == "Great! Write to [email removed]"
    saved = regex_work()
    widget_render(WidgetFactory(brand=brand_a))
    assert saved > 0 and regex_work() == saved
