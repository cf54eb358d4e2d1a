"""Publishing: content-hashed files plus a pointer, debounced, and nothing erased survives."""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from testimonials.models import Testimonial, Widget
from testimonials.privacy.services import testimonial_erase
from testimonials.widgets import files, tasks
from testimonials.widgets.services import widget_publish, widget_save
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


def _files(widget):
    return sorted(default_storage.listdir(f"widgets/{widget.public_id}")[1])


def _ask(widget):
    Widget.objects.filter(id=widget.id).update(publish_requested_at=timezone.now())


def test_it_writes_the_document_and_data_under_content_hashed_names_and_a_pointer(brand_a):
    TestimonialFactory(brand=brand_a, text="Lovely beans.")
    widget = WidgetFactory(brand=brand_a)
    version = widget_publish(widget_id=widget.id)
    assert _files(widget) == sorted(
        [f"{version}.html", f"{version}.json", f"{version}-p1.html", f"{version}-shown.json", "index.json",
         "frame-ancestors", "nginx-map.conf"]
    )  # fmt: skip
    pointer = files.read_pointer(widget.public_id)
    assert pointer == {
        "v": version,
        "doc": f"{version}.html",
        "data": f"{version}.json",
        "layout": "wall",
        "jsonld": False,
        "pages": 1,  # the hosted page, /w/<id>/
        "theme": "light",
        "allow": ["https://shop-a.example.com"],  # the snippet tells the brand when a site is not among them
        "holdout": 0,  # analytics: no visitor is held out, so the loader asks nothing before showing it
    }
    assert "Lovely beans." in files.read(f"widgets/{widget.public_id}/{version}.html").decode()
    data = json.loads(files.read(f"widgets/{widget.public_id}/{version}.json"))
    assert [item["text"] for item in data["items"]] == ["Lovely beans."]
    widget.refresh_from_db()
    assert widget.published_version == version and widget.published_at is not None


def test_it_does_nothing_when_nothing_was_asked_since_the_last_publish(brand_a):
    widget = WidgetFactory(brand=brand_a)
    first = widget_publish(widget_id=widget.id)
    TestimonialFactory(brand=brand_a)  # changed, but nobody asked: a burst's later tasks land here
    assert widget_publish(widget_id=widget.id) == "unchanged"
    _ask(widget)
    second = widget_publish(widget_id=widget.id)
    assert second not in (first, "unchanged")


def test_it_publishes_the_same_version_for_the_same_content(brand_a):
    TestimonialFactory(brand=brand_a)
    widget = WidgetFactory(brand=brand_a)
    first = widget_publish(widget_id=widget.id)
    _ask(widget)
    assert widget_publish(widget_id=widget.id) == first


def test_it_keeps_the_previous_version_for_cached_pointers_and_removes_older_ones(brand_a):
    widget = WidgetFactory(brand=brand_a)
    versions = []
    for n in range(3):
        TestimonialFactory(brand=brand_a, text=f"Review {n}")
        _ask(widget)
        versions.append(widget_publish(widget_id=widget.id))
    names = _files(widget)
    assert f"{versions[2]}.html" in names and f"{versions[1]}.html" in names
    assert f"{versions[0]}.html" not in names and f"{versions[0]}.json" not in names


def test_it_removes_every_published_copy_of_an_erased_testimonial(
    brand_a, alice, django_capture_on_commit_callbacks, fake_broker
):
    item = TestimonialFactory(brand=brand_a, author_name="Erase Me")
    widget = WidgetFactory(brand=brand_a)
    old = widget_publish(widget_id=widget.id)
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_erase(testimonial=item, actor=alice)
    new = widget_publish(widget_id=widget.id)
    assert new != old
    for name in _files(widget):
        assert b"Erase Me" not in files.read(f"widgets/{widget.public_id}/{name}")


def test_it_lets_only_the_widgets_domains_frame_the_document_else_the_brands(brand_a):
    own = WidgetFactory(brand=brand_a, allowed_domains=["https://blog.example.org", "javascript:x; script-src *"])
    inherited = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=own.id)
    widget_publish(widget_id=inherited.id)
    assert files.read(f"widgets/{own.public_id}/frame-ancestors") == b"https://blog.example.org"
    assert files.read(f"widgets/{inherited.public_id}/frame-ancestors") == b"https://shop-a.example.com"
    assert files.read(f"widgets/{own.public_id}/nginx-map.conf").decode() == (
        f'"{own.public_id}" "https://blog.example.org";\n'
    )


def test_it_frames_for_nobody_when_no_domain_is_allowed(brand_a):
    brand_a.allowed_domains = []
    brand_a.save()
    widget = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=widget.id)
    assert files.read(f"widgets/{widget.public_id}/frame-ancestors") == b"'none'"


def test_it_republishes_when_a_widgets_settings_change(alice, brand_a, django_capture_on_commit_callbacks, fake_broker):
    widget = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=widget.id)
    sent = fake_broker.sent["widget_publish_task"]
    widget.layout = Widget.Layout.CAROUSEL
    with django_capture_on_commit_callbacks(execute=True):
        widget_save(widget=widget, actor=alice, created=False, changed=["layout"])
    assert sent == [widget.id]
    widget_publish(widget_id=widget.id)
    assert files.read_pointer(widget.public_id)["layout"] == "carousel"


def test_it_publishes_through_the_task_and_tolerates_a_deleted_widget(brand_a):
    widget = WidgetFactory(brand=brand_a)
    assert tasks.widget_publish_task.run(widget.id) == Widget.objects.get(id=widget.id).published_version
    assert tasks.widget_publish_task.run(widget.id + 1000) == "missing"


def test_it_replaces_the_pointer_atomically(brand_a, tmp_path):
    name = "widgets/x/index.json"
    files.write_atomic(name, b"old")
    files.write_atomic(name, b"new")
    assert files.read(name) == b"new"
    assert [p.name for p in (tmp_path / "media" / "widgets" / "x").iterdir()] == ["index.json"]  # no temp files left


def test_it_marks_rejected_testimonials_for_republishing(
    brand_a, alice, django_capture_on_commit_callbacks, fake_broker
):
    from testimonials.services.decisions import testimonial_reject

    item = TestimonialFactory(brand=brand_a, author_name="Soon Gone")
    widget = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=widget.id)
    with django_capture_on_commit_callbacks(execute=True):
        testimonial_reject(testimonial=item, actor=alice, reason="spam")
    version = widget_publish(widget_id=widget.id)
    assert b"Soon Gone" not in files.read(f"widgets/{widget.public_id}/{version}.html")
    assert Testimonial.objects.get(id=item.id).state == Testimonial.State.REJECTED


def test_it_asks_nginx_to_reload_only_when_a_widgets_allowed_domains_change(brand_a):
    widget = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=widget.id)
    stamp = files.read("widgets/.nginx-reload")
    assert stamp is not None
    default_storage.delete("widgets/.nginx-reload")
    TestimonialFactory(brand=brand_a)
    _ask(widget)
    widget_publish(widget_id=widget.id)
    assert files.read("widgets/.nginx-reload") is None  # new content, same domains: no reload
    Widget.objects.filter(id=widget.id).update(allowed_domains=["https://new.example.com"])
    _ask(widget)
    widget_publish(widget_id=widget.id)
    assert files.read("widgets/.nginx-reload") is not None


def test_it_finds_widgets_whose_publish_was_lost_for_the_sweeper(brand_a, fake_broker):
    from testimonials.widgets.services import widgets_republish_stale

    long_ago = timezone.now() - timezone.timedelta(minutes=5)
    lost = WidgetFactory(brand=brand_a, publish_requested_at=long_ago)
    done = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=done.id)
    Widget.objects.filter(id=done.id).update(publish_requested_at=long_ago)
    just_asked = WidgetFactory(brand=brand_a, publish_requested_at=timezone.now())  # its task is on its way
    never_asked = WidgetFactory(brand=brand_a)
    sent = fake_broker.sent["widget_publish_task"]
    assert widgets_republish_stale(older_than_seconds=60) == [lost.id]
    assert sent == [lost.id]
    assert just_asked.id not in sent and never_asked.id not in sent


def test_it_removes_a_deleted_widgets_files_and_lets_only_editors_delete(
    brand_a, alice, victor, charlie, django_capture_on_commit_callbacks, fake_broker
):
    from testimonials.errors import PermissionDenied
    from testimonials.widgets.services import widget_delete

    widget = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=widget.id)
    for outsider in (victor, charlie):
        with pytest.raises(PermissionDenied):
            widget_delete(widget=widget, actor=outsider)
    assert Widget.objects.filter(id=widget.id).exists()
    with django_capture_on_commit_callbacks(execute=True):
        widget_delete(widget=widget, actor=alice)
    assert not Widget.objects.filter(id=widget.id).exists()
    assert default_storage.listdir(f"widgets/{widget.public_id}")[1] == []
