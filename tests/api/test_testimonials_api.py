"""REST API v1: keys scoped to one brand, hashed, revocable; explicit outputs; FTC-honest summary."""

import pytest
from django.urls import reverse

from testimonials.errors import PermissionDenied
from testimonials.models import ApiKey, Testimonial
from testimonials.services.api_keys import api_key_create, api_key_revoke
from tests.factories import MembershipFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


@pytest.fixture
def key_a(alice, brand_a):
    return api_key_create(brand=brand_a, actor=alice, name="Zapier")


def _bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_it_shows_a_key_once_and_stores_only_its_hash(key_a):
    key, raw = key_a
    assert raw.startswith(f"vk_{key.prefix}_") and len(raw) > 40
    stored = ApiKey.objects.get(id=key.id)
    assert raw not in (stored.key_hash, stored.prefix, str(stored))


def test_it_lets_only_owners_create_keys(bob, brand_a):
    with pytest.raises(PermissionDenied):
        api_key_create(brand=brand_a, actor=bob, name="mine")


def test_it_lists_the_keys_brand_with_private_fields(client, key_a, brand_a, brand_b):
    mine = TestimonialFactory(brand=brand_a, author_email="ada@example.com", state=State.PENDING_REVIEW)
    TestimonialFactory(brand=brand_b)
    response = client.get(reverse("api-testimonial-list"), **_bearer(key_a[1]))
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == mine.public_id and row["author_email"] == "ada@example.com" and row["brand"] == "brand-a"
    assert "pk" not in row and str(mine.id) != row["id"]


def test_it_filters_by_state_and_refuses_a_malformed_filter(client, key_a, brand_a):
    TestimonialFactory(brand=brand_a, state=State.APPROVED)
    pending = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    url = reverse("api-testimonial-list")
    rows = client.get(url, {"state": "pending_review"}, **_bearer(key_a[1])).json()["results"]
    assert [r["id"] for r in rows] == [pending.public_id]
    bad = client.get(url, {"state": "published", "rating": 9}, **_bearer(key_a[1]))
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert set(bad.json()["errors"]) == {"state", "rating"}


def test_it_refuses_a_key_of_brand_a_for_brand_b(client, key_a, brand_b):
    other = TestimonialFactory(brand=brand_b)
    assert client.get(reverse("api-testimonial-list"), {"brand": "brand-b"}, **_bearer(key_a[1])).status_code == 404
    detail = client.get(reverse("api-testimonial-detail", args=[other.public_id]), **_bearer(key_a[1]))
    assert detail.status_code == 404


def test_it_approves_and_rejects_through_the_key_as_its_creator(client, key_a, alice, brand_a):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    approved = client.post(reverse("api-testimonial-approve", args=[item.public_id]), **_bearer(key_a[1]))
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    event = item.events.get()
    assert event.actor == alice and event.note == "Through the API."
    missing = client.post(reverse("api-testimonial-reject", args=[item.public_id]), {}, **_bearer(key_a[1]))
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    rejected = client.post(
        reverse("api-testimonial-reject", args=[item.public_id]), {"reason": "Spam"}, **_bearer(key_a[1])
    )
    assert rejected.json()["state"] == "rejected" and rejected.json()["rejection_reason"] == "Spam"


def test_it_stops_accepting_a_revoked_key_or_one_whose_creator_left(client, key_a, alice, brand_a):
    _, raw = key_a
    url = reverse("api-testimonial-list")
    assert client.get(url, **_bearer(raw)).status_code == 200
    alice.memberships.all().delete()
    assert client.get(url, **_bearer(raw)).status_code == 401
    assert client.get(url, **_bearer("vk_nope_nope")).status_code == 401


def test_it_stops_accepting_a_key_whose_creator_lost_staff_status(client, key_a, alice):
    _, raw = key_a
    url = reverse("api-testimonial-list")
    assert client.get(url, **_bearer(raw)).status_code == 200
    alice.is_staff = False  # may no longer sign in to the workspace: nor may her keys
    alice.save(update_fields=["is_staff"])
    assert client.get(url, **_bearer(raw)).status_code == 401


def test_it_stops_accepting_a_key_whose_creator_lost_this_brands_membership(client, key_a, alice, brand_a, brand_b):
    _, raw = key_a
    url = reverse("api-testimonial-list")
    alice.memberships.filter(brand=brand_a).delete()
    MembershipFactory(user=alice, brand=brand_b)  # a member elsewhere still: not of the key's brand
    assert client.get(url, **_bearer(raw)).status_code == 401


def test_it_says_how_to_send_a_key_when_none_is_sent(client, key_a, alice):
    response = client.get(reverse("api-testimonial-list"))
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    api_key_revoke(key=key_a[0], actor=alice)
    assert client.get(reverse("api-testimonial-list"), **_bearer(key_a[1])).status_code == 401


def test_it_lets_a_viewer_read_but_not_decide(client, victor, brand_a):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    client.force_login(victor)
    assert client.get(reverse("api-testimonial-detail", args=[item.public_id])).status_code == 200
    response = client.post(reverse("api-testimonial-approve", args=[item.public_id]))
    assert response.status_code == 403
    assert Testimonial.objects.get(id=item.id).state == State.PENDING_REVIEW


def test_it_counts_every_eligible_review_in_the_summary(client, key_a, brand_a):
    for rating, state in [(5, State.APPROVED), (4, State.APPROVED), (1, State.PENDING_REVIEW), (2, State.REJECTED)]:
        TestimonialFactory(brand=brand_a, rating=rating, state=state)
    summary = client.get(reverse("api-rating-summary"), **_bearer(key_a[1])).json()
    assert summary == {
        "brand": "brand-a",
        "count": 3,
        "average": 3.33,
        "distribution": {"5": 1, "4": 1, "3": 0, "2": 0, "1": 1},
    }


def test_it_asks_which_brand_when_a_member_has_several(client, alice, brand_b):
    from testimonials.models import Membership

    Membership.objects.create(user=alice, brand=brand_b, role=Membership.Role.VIEWER)
    client.force_login(alice)
    response = client.get(reverse("api-testimonial-list"))
    assert response.status_code == 400 and "brand" in response.json()["errors"]


def test_it_creates_and_revokes_keys_from_the_command_line(client, alice, brand_a, capsys):
    from django.core.management import call_command

    call_command("api_key", "create", brand="brand-a", as_user="alice", name="CRM")
    raw = capsys.readouterr().out.splitlines()[0]
    assert client.get(reverse("api-testimonial-list"), **_bearer(raw)).status_code == 200
    call_command("api_key", "revoke", brand="brand-a", as_user="alice", prefix=raw.split("_")[1])
    assert client.get(reverse("api-testimonial-list"), **_bearer(raw)).status_code == 401
