"""The admin's side of text intelligence: "not scored", reasons, topics, one-click tags, highlight choices,
the brand's own topics, widget rules by topic and language, exports, and the dashboard's topics."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from testimonials.insights.models import BrandTopic
from testimonials.lifecycle.models import AuditEvent
from testimonials.models import Tag, Testimonial, Widget
from testimonials.moderation import sentiment, topics
from tests.admin.conftest import login
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
CHANGELIST = "/admin/testimonials/testimonial/"


def _said(brand, text, **fields) -> Testimonial:
    reading = sentiment.read(text)
    judged = sentiment.judge(reading, fields.get("rating", 5))
    fields.setdefault("state", State.PENDING_REVIEW)
    return TestimonialFactory(
        brand=brand,
        text=text,
        public_text=text,
        sentiment_label=judged.label,
        sentiment_score=judged.score,
        sentiment_reason=judged.reason,
        highlight=judged.highlight,
        topics=topics.as_stored(topics.find(reading)),
        **fields,
    )


@pytest.fixture
def praise(brand_a):
    return _said(
        brand_a,
        "Amazing product, highly recommend! Support was quick and our conversion went up 30% in the first month.",
        author_name="Priya Praise",
    )


@pytest.fixture
def unread(brand_a):
    return _said(brand_a, "スタッフの対応がとても丁寧で、コーヒーも美味しかったです。", author_name="Yuki Unread")


def _page(client, item) -> str:
    response = client.get(reverse("admin:testimonials_testimonial_change", args=[item.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --------------------------------------------------------------------------- the testimonial page and list


def test_a_language_vouch_cannot_read_shows_as_not_scored_with_its_reason(unread, alice_client):
    body = _page(alice_client, unread)
    assert "Not scored" in body and "Neutral" not in body
    assert "written in Japanese" in body and "Not read." in body
    listing = alice_client.get(CHANGELIST + "?sentiment=unscored").content.decode()
    assert "Yuki Unread" in listing and "Not scored" in listing


def test_the_page_shows_the_reason_the_topics_and_suggested_tags(praise, alice_client):
    body = _page(alice_client, praise)
    assert praise.sentiment_reason in body.replace("&quot;", '"').replace("&#x27;", "'")
    assert 'class="vouch-topic topic-positive"' in body and ">Support<" in body and ">Results<" in body
    accept = reverse("admin:testimonials_testimonial_accept_tag", args=[praise.pk, "support"])
    assert f'action="{accept}"' in body and "(new tag)" in body


def test_a_viewer_sees_topics_but_no_buttons(praise, victor):
    body = _page(login(victor), praise)
    assert ">Support<" in body and "accept-tag" not in body and "vouch-sentences" not in body


def test_one_click_tags_a_testimonial_with_its_topic(praise, alice, alice_client):
    url = reverse("admin:testimonials_testimonial_accept_tag", args=[praise.pk, "support"])
    assert alice_client.get(url).status_code == 405
    response = alice_client.post(url, {"next": reverse("admin:testimonials_testimonial_change", args=[praise.pk])})
    assert response.status_code == 302
    assert list(praise.tags.values_list("name", flat=True)) == ["Support"]
    assert "Tagged Support" in _page(alice_client, praise)
    assert 'accept-tag/support/"' not in _page(alice_client, praise)  # accepted: no longer suggested


def test_charlie_gets_404_and_a_viewer_403_and_nothing_changes(praise, charlie, victor):
    url = reverse("admin:testimonials_testimonial_accept_tag", args=[praise.pk, "support"])
    assert login(charlie).post(url).status_code == 404
    assert login(victor).post(url).status_code == 403
    assert not Tag.objects.exists() and not praise.tags.exists() and not AuditEvent.objects.exists()


def test_the_highlight_choices_offer_the_concrete_outcome_first(praise, alice_client):
    body = _page(alice_client, praise)
    choices = re.findall(r'data-highlight="([^"]*)"', body)
    assert choices[0] == "Support was quick and our conversion went up 30% in the first month."
    assert "Amazing product, highly recommend!" in choices


def test_the_list_filters_by_topic_with_only_the_users_brands_topics(praise, brand_a, brand_b, alice_client):
    BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta"])
    BrandTopic.objects.create(brand=brand_b, name="Secret plan", code="secret_plan", terms=["x"])
    _said(brand_a, "The lamp is pretty.", author_name="No Topic")
    body = alice_client.get(CHANGELIST + "?topic=support").content.decode()
    assert "Priya Praise" in body and "No Topic" not in body
    assert "Latte art" in body and "Secret plan" not in body


def test_the_bulk_action_tags_each_selected_testimonial_with_its_topics(praise, brand_a, alice_client):
    other = _said(brand_a, "The price was fair.", author_name="Fair Price")
    response = alice_client.post(
        CHANGELIST, {"action": "tag_by_topics_selected", "_selected_action": [praise.pk, other.pk]}
    )
    assert response.status_code == 302
    assert sorted(other.tags.values_list("name", flat=True)) == ["Price"]
    assert {"Support", "Results"} <= set(praise.tags.values_list("name", flat=True))


def test_the_export_carries_the_reason_the_topics_and_not_scored(praise, unread, alice_client):
    response = alice_client.get(CHANGELIST + "export.csv?state=all")
    rows = {
        row["author_name"]: row
        for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    }
    assert rows["Yuki Unread"]["sentiment_label"] == "unscored" and rows["Yuki Unread"]["sentiment_score"] == ""
    assert "Japanese" in rows["Yuki Unread"]["sentiment_reason"]
    assert "support+" in rows["Priya Praise"]["topics"] and rows["Priya Praise"]["sentiment_reason"]
    data = alice_client.get(CHANGELIST + "export.json?state=all")
    import json

    exported = {row["author_name"]: row for row in json.loads(b"".join(data.streaming_content))}
    assert exported["Priya Praise"]["topics"][0]["code"] == "support"


# --------------------------------------------------------------------------- the brand's own topics


def test_an_editor_adds_a_topic_with_terms_one_per_line(brand_a, bob, django_capture_on_commit_callbacks, fake_broker):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(bob).post(
            reverse("admin:testimonials_brandtopic_add"),
            {"brand": brand_a.id, "name": "Latte art", "terms": "latte art\nrosetta, tulip"},
        )
    assert response.status_code == 302, response.content[:2000]
    topic = BrandTopic.objects.get()
    assert topic.terms == ["latte art", "rosetta", "tulip"] and topic.code == "latte_art"
    assert fake_broker.sent["brand_topics_reread_task"] == [brand_a.id]  # the brand's testimonials are read again


def test_a_bad_term_is_refused_with_a_message(brand_a, alice):
    response = login(alice).post(
        reverse("admin:testimonials_brandtopic_add"), {"brand": brand_a.id, "name": "Beans", "terms": "!!!"}
    )
    assert response.status_code == 200 and "no letters or digits" in response.content.decode()
    assert not BrandTopic.objects.exists()


def test_charlie_cannot_see_or_change_brand_as_topics_and_a_viewer_cannot_add(brand_a, alice, charlie, victor):
    charlie_client = login(charlie)
    topic = BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta"])
    change = reverse("admin:testimonials_brandtopic_change", args=[topic.id])
    assert charlie_client.get(change).status_code in (302, 404)
    assert charlie_client.post(
        reverse("admin:testimonials_brandtopic_delete", args=[topic.id]), {"post": "yes"}
    ).status_code in (302, 404)
    assert "Latte art" not in charlie_client.get(reverse("admin:testimonials_brandtopic_changelist")).content.decode()
    assert BrandTopic.objects.filter(id=topic.id).exists()
    response = login(victor).post(
        reverse("admin:testimonials_brandtopic_add"), {"brand": brand_a.id, "name": "Beans", "terms": "beans"}
    )
    assert response.status_code == 403 and BrandTopic.objects.count() == 1
    assert "Latte art" in login(alice).get(reverse("admin:testimonials_brandtopic_changelist")).content.decode()


# --------------------------------------------------------------------------- widget rules


def test_a_widget_selects_by_topic_and_only_the_brands_own_topics(brand_a, brand_b, alice):
    BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta"])
    BrandTopic.objects.create(brand=brand_b, name="Secret plan", code="secret_plan", terms=["x"])
    widget = WidgetFactory(brand=brand_a)
    url = reverse("admin:testimonials_widget_change", args=[widget.id])
    page = login(alice).get(url)
    choices = dict(page.context["adminform"].form.fields["filter_topic"].choices)
    assert choices["support"] == "Support" and choices["latte_art"] == "Latte art" and "secret_plan" not in choices
    languages = dict(page.context["adminform"].form.fields["filter_language"].choices)
    assert languages["en"] == "English" and "not scored" in languages["ja"]
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"name": "About support", "widgetpick_set-TOTAL_FORMS": "0", "widgetpick_set-INITIAL_FORMS": "0",
                 "allowed_domains": "", "filter_topic": "secret_plan"})  # fmt: skip
    refused = login(alice).post(url, data)
    assert refused.status_code == 200 and list(refused.context["adminform"].form.errors) == ["filter_topic"]
    data["filter_topic"] = "support"
    assert login(alice).post(url, data).status_code == 302
    assert Widget.objects.get(id=widget.id).filter_topic == "support"


# --------------------------------------------------------------------------- the dashboard


def test_the_dashboard_shows_praise_and_complaints_with_trends_and_quotes(praise, brand_a, alice, charlie):
    praise.state = State.APPROVED
    praise.save()
    _said(brand_a, "Delivery was slow and the box was damaged.", state=State.APPROVED, author_name="Dan Delay")
    _said(brand_a, "スタッフの対応がとても丁寧でした。", state=State.APPROVED)
    body = login(alice).get(reverse("admin:testimonials_testimonial_dashboard")).content.decode()
    assert "What customers praise most" in body and "What they complain about" in body
    assert ">Support</a>" in body and ">Delivery</a>" in body and 'class="vouch-spark"' in body
    assert "Dan Delay" in body and "Priya Praise" in body
    assert "1 testimonial Vouch could not read (another language, or no text) is not scored" in body
    other = login(charlie).get(reverse("admin:testimonials_testimonial_dashboard")).content.decode()
    assert "Dan Delay" not in other and "Priya Praise" not in other and "No praise of a topic yet." in other
