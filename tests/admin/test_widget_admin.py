"""Widgets and brands edited in the admin: what snippets on brands' sites show follows at once."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from testimonials.models import Testimonial, Widget
from testimonials.widgets.services import widget_publish
from tests.admin.conftest import login
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(fake_broker):
    return fake_broker.sent["widget_publish_task"]


def test_it_removes_every_published_file_when_a_widget_is_deleted_in_the_admin(
    alice, brand_a, django_capture_on_commit_callbacks, fake_broker
):
    widget = WidgetFactory(brand=brand_a)
    TestimonialFactory(brand=brand_a, state=Testimonial.State.APPROVED)
    widget_publish(widget_id=widget.id)
    assert default_storage.listdir(f"widgets/{widget.public_id}")[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(reverse("admin:testimonials_widget_delete", args=[widget.id]), {"post": "yes"})
    assert response.status_code == 302 and not Widget.objects.filter(id=widget.id).exists()
    assert default_storage.listdir(f"widgets/{widget.public_id}")[1] == []


def test_it_republishes_a_brands_widgets_when_the_brand_changes(
    alice, brand_a, sent, django_capture_on_commit_callbacks
):
    widget = WidgetFactory(brand=brand_a)
    WidgetFactory()  # another brand's
    data = {
        "name": brand_a.name, "slug": brand_a.slug, "accent_color": "#0f766e", "website": "",
        "allowed_domains": "new-shop.example.com", "blocklist": "",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(reverse("admin:testimonials_brand_change", args=[brand_a.id]), data)
    assert response.status_code == 302, response.content[:2000]
    assert sent == [widget.id]


def test_it_republishes_only_the_saved_widget(alice, brand_a, sent, django_capture_on_commit_callbacks):
    widget, other = WidgetFactory(brand=brand_a), WidgetFactory(brand=brand_a)
    url = reverse("admin:testimonials_widget_change", args=[widget.id])
    form = login(alice).get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"name": "Homepage", "layout": "carousel", "widgetpick_set-TOTAL_FORMS": "0",
                 "widgetpick_set-INITIAL_FORMS": "0", "allowed_domains": ""})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(url, data)
    assert response.status_code == 302, response.content[:3000]
    assert sent == [widget.id] and other.id not in sent


def test_it_sets_a_widgets_holdout_in_the_builder(alice, brand_a, sent, django_capture_on_commit_callbacks):
    from testimonials.analytics.models import WidgetHoldout

    widget = WidgetFactory(brand=brand_a)
    url = reverse("admin:testimonials_widget_change", args=[widget.id])
    form = login(alice).get(url).context["adminform"].form
    assert form.fields["holdout_percent"].initial == 0
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"widgetpick_set-TOTAL_FORMS": "0", "widgetpick_set-INITIAL_FORMS": "0", "allowed_domains": "",
                 "holdout_percent": "5"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(alice).post(url, data)
    assert response.status_code == 302, response.content[:3000]
    assert WidgetHoldout.objects.get(widget=widget).percent == 5
    assert set(sent) == {widget.id}  # republished (debounced): the pointer now tells the loader
    data["holdout_percent"] = "80"
    response = login(alice).post(url, data)
    assert response.status_code == 200  # refused with the form's message
    assert WidgetHoldout.objects.get(widget=widget).percent == 5
