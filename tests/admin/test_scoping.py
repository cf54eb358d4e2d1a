"""Brands are tenants in the admin too: lists, filters, autocomplete, choices, change pages and actions.

charlie owns brand B and must learn nothing about brand A; victor (viewer of A) may look but not decide;
bob (editor of A) moderates but does not manage members; a staff user of no brand sees nothing.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from testimonials.models import AuditEvent, MediaAsset, Membership, Testimonial, Widget
from tests.admin.conftest import login
from tests.factories import (
    CollectionFormFactory,
    TagFactory,
    TestimonialFactory,
    UserFactory,
    WidgetFactory,
)

pytestmark = pytest.mark.django_db
State = Testimonial.State
CHANGELIST = "/admin/testimonials/testimonial/"


@pytest.fixture
def secret_a(brand_a, form_a):
    """Brand A's rows, each carrying a word that must never appear in charlie's pages."""
    tag = TagFactory(brand=brand_a, name="SecretTagA", slug="secret-tag-a")
    item = TestimonialFactory(
        brand=brand_a,
        form=form_a,
        author_name="Zelda SecretA",
        text="SecretTextA about brand A",
        state=State.PENDING_REVIEW,
    )
    item.tags.add(tag)
    MediaAsset.objects.create(testimonial=item, kind=MediaAsset.Kind.PHOTO, original_name="SecretFileA.jpg")
    AuditEvent.objects.create(
        brand_id=item.brand_id, testimonial=item, actor_kind="system", action="received", note="SecretNoteA"
    )
    widget = WidgetFactory(brand=brand_a, name="SecretWidgetA")
    CollectionFormFactory(brand=brand_a, title="SecretFormA")
    return item, tag, widget


@pytest.fixture
def mine_b(brand_b, form_b):
    return TestimonialFactory(brand=brand_b, form=form_b, author_name="Charlie's customer", state=State.PENDING_REVIEW)


SECRETS = ["SecretA", "SecretTextA", "SecretTagA", "SecretWidgetA", "SecretFormA", "SecretFileA", "SecretNoteA"]


def _assert_no_secret(response):
    body = response.content.decode()
    for secret in SECRETS:
        assert secret not in body, f"{secret} leaked into {response.request['PATH_INFO']}"


@pytest.mark.parametrize(
    "url",
    [
        CHANGELIST,
        CHANGELIST + "?state=all",
        CHANGELIST + "?state=all&q=Zelda",
        "/admin/testimonials/auditevent/?q=Zelda",
        "/admin/testimonials/tag/?q=Secret",
        "/admin/testimonials/collectionform/",
        "/admin/testimonials/widget/",
        "/admin/testimonials/tag/",
        "/admin/testimonials/mediaasset/",
        "/admin/testimonials/auditevent/",
        "/admin/testimonials/membership/",
        "/admin/testimonials/brand/",
        "/admin/testimonials/widget/add/",
        "/admin/testimonials/collectionform/add/",
        "/admin/testimonials/testimonial/dashboard/",
        "/admin/",
    ],
)
def test_it_shows_charlie_nothing_of_brand_a(url, secret_a, mine_b, charlie_client):
    response = charlie_client.get(url)
    assert response.status_code == 200
    _assert_no_secret(response)
    assert "Brand A" not in response.content.decode()


def test_it_lists_charlies_own_items_while_hiding_brand_a(secret_a, mine_b, charlie_client):
    body = charlie_client.get(CHANGELIST).content.decode()
    assert "Charlie&#x27;s customer" in body
    assert "Zelda" not in body


def test_it_offers_charlie_only_his_own_tags_and_forms_as_filters(secret_a, mine_b, brand_b, charlie_client):
    TagFactory(brand=brand_b, name="TagB")
    response = charlie_client.get(CHANGELIST)
    body = response.content.decode()
    assert "TagB" in body and "Brand B feedback" in body
    _assert_no_secret(response)
    assert "How did we do?" not in body  # brand A's form_a title


def test_it_ignores_a_filter_on_brand_a_rows_in_charlies_list(secret_a, mine_b, charlie_client):
    item, tag, _ = secret_a
    for query in (f"?tag={tag.pk}&state=all", f"?form={item.form_id}&state=all", f"?brand={item.brand_id}&state=all"):
        response = charlie_client.get(CHANGELIST + query)
        _assert_no_secret(response)


def test_it_keeps_brand_a_out_of_charlies_autocomplete(secret_a, mine_b, charlie_client, alice):
    params = {"app_label": "testimonials", "model_name": "widgetpick", "field_name": "testimonial", "term": ""}
    charlie_results = charlie_client.get("/admin/autocomplete/", params).json()["results"]
    assert [r["id"] for r in charlie_results] == [str(mine_b.pk)]
    alice_results = login(alice).get("/admin/autocomplete/", {**params, "term": "Zelda"}).json()["results"]
    assert [r["id"] for r in alice_results] == [str(secret_a[0].pk)]
    tags = charlie_client.get(
        "/admin/autocomplete/",
        {"app_label": "testimonials", "model_name": "widget", "field_name": "filter_tags", "term": "Secret"},
    ).json()
    assert tags["results"] == []


def test_it_does_not_open_brand_a_pages_for_charlie(secret_a, charlie_client):
    item, tag, widget = secret_a
    for url in (
        f"{CHANGELIST}{item.pk}/change/",
        f"/admin/testimonials/tag/{tag.pk}/change/",
        f"/admin/testimonials/widget/{widget.pk}/change/",
        f"/admin/testimonials/brand/{item.brand_id}/change/",
    ):
        response = charlie_client.get(url, follow=True)
        assert response.status_code == 200  # the admin answers "does not exist" and goes home
        _assert_no_secret(response)
        assert response.redirect_chain and response.redirect_chain[-1][0] == "/admin/"


def test_it_refuses_charlies_decisions_on_brand_a_and_changes_nothing(secret_a, charlie_client):
    item = secret_a[0]
    for decision in ("approve", "reject", "feature"):
        response = charlie_client.post(
            reverse("admin:testimonials_testimonial_decide", args=[item.pk, decision]), {"reason": "spam"}
        )
        assert response.status_code == 404
    response = charlie_client.post(
        CHANGELIST, {"action": "approve_selected", ACTION_CHECKBOX_NAME: [item.pk], "index": 0}
    )
    item.refresh_from_db()
    assert (item.state, item.featured) == (State.PENDING_REVIEW, False)
    assert not item.events.exclude(action="received").exists()


def test_it_leaves_brand_a_out_of_charlies_export(secret_a, mine_b, charlie_client):
    for fmt in ("csv", "json"):
        response = charlie_client.get(f"{CHANGELIST}export.{fmt}?state=all")
        body = b"".join(response.streaming_content).decode()
        assert "Charlie" in body
        assert "Secret" not in body


def test_it_limits_foreign_key_choices_on_the_widget_form(secret_a, brand_b, form_b, charlie_client):
    body = charlie_client.get("/admin/testimonials/widget/add/").content.decode()
    assert "Brand B" in body and "Brand A" not in body
    assert "SecretFormA" not in body


def test_it_refuses_a_widget_pointing_at_another_brands_form(secret_a, brand_a, brand_b, charlie, charlie_client):
    form_of_a = secret_a[0].form
    response = charlie_client.post(
        "/admin/testimonials/widget/add/",
        {
            "brand": brand_b.pk,
            "name": "Sneaky",
            "layout": "wall",
            "selection": "rules",
            "filter_form": form_of_a.pk,
            "max_items": 12,
            "order": "featured",
            "theme": "auto",
            "corner_radius": 12,
            "allowed_domains": "[]",
            "widgetpick_set-TOTAL_FORMS": 0,
            "widgetpick_set-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200  # the form is shown again with an error
    assert not Widget.objects.filter(name="Sneaky").exists()


def test_it_lets_a_viewer_look_but_not_decide(secret_a, victor_client):
    item = secret_a[0]
    page = victor_client.get(CHANGELIST)
    body = page.content.decode()
    assert "Zelda SecretA" in body
    assert "approve_selected" not in body and "vouch-approve" not in body
    response = victor_client.post(reverse("admin:testimonials_testimonial_decide", args=[item.pk, "approve"]))
    assert response.status_code == 403
    victor_client.post(CHANGELIST, {"action": "approve_selected", ACTION_CHECKBOX_NAME: [item.pk], "index": 0})
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    detail = victor_client.get(f"{CHANGELIST}{item.pk}/change/").content.decode()
    assert "Zelda SecretA" in detail and "vouch-decide" not in detail


def test_it_keeps_viewers_and_editors_away_from_members(secret_a, victor_client, bob_client, alice):
    assert victor_client.get("/admin/testimonials/membership/").status_code == 403
    assert bob_client.get("/admin/testimonials/membership/").status_code == 403
    assert "victor" in login(alice).get("/admin/testimonials/membership/").content.decode()


def test_it_lets_a_viewer_read_forms_but_not_change_them(secret_a, brand_a, victor_client):
    assert victor_client.get("/admin/testimonials/collectionform/add/").status_code == 403
    form = brand_a.forms.first()
    response = victor_client.post(f"/admin/testimonials/collectionform/{form.pk}/change/", {"title": "Hacked"})
    assert response.status_code == 403
    form.refresh_from_db()
    assert form.title != "Hacked"


def test_it_no_longer_adds_a_member_by_username_or_email(brand_a, alice_client):
    """People join by invitation only (tests/members): adding any user attached them without consent."""
    newcomer = UserFactory(username="newcomer")
    response = alice_client.post(
        "/admin/testimonials/membership/add/", {"person": "newcomer", "brand": brand_a.pk, "role": "editor"}
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()


def test_it_shows_a_staff_user_of_no_brand_nothing(secret_a):
    lonely = login(UserFactory(username="lonely"))
    assert lonely.get(CHANGELIST).status_code == 403
    index = lonely.get("/admin/")
    assert index.status_code == 200
    _assert_no_secret(index)
    assert "/admin/testimonials/" not in index.content.decode()  # no module, no queue link


def test_it_shows_a_superuser_every_brand(secret_a, mine_b, root_client):
    body = root_client.get(CHANGELIST).content.decode()
    assert "Zelda SecretA" in body and "Charlie&#x27;s customer" in body
    assert "Brand A" in body and "Brand B" in body  # the brand column and filter appear with several brands


def test_it_refuses_anonymous_visitors_everywhere(secret_a, client):
    item = secret_a[0]
    for url in (CHANGELIST, f"{CHANGELIST}export.csv", f"{CHANGELIST}dashboard/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(reverse("admin:testimonials_testimonial_decide", args=[item.pk, "approve"]))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW


def test_it_exports_json_that_parses(secret_a, alice_client):
    response = alice_client.get(f"{CHANGELIST}export.json?state=all")
    rows = json.loads(b"".join(response.streaming_content))
    assert [r["author_name"] for r in rows] == ["Zelda SecretA"]
