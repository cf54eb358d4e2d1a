"""POST /api/v1/invitations/: a shop invites customers with an API key; idempotent, per-item answers,
editors only, and charlie gets 404 and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testimonials.invitations.models import Recipient
from testimonials.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db
URL = "/api/v1/invitations/"


def _key(brand, user) -> str:
    return api_key_create(brand=brand, actor=user, name="Shop")[1]


def _post(client, body, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(URL, body, content_type="application/json", **headers)


def test_the_url_is_where_the_docs_say():
    assert reverse("api-invitation-create") == URL


def test_a_shop_invites_customers_with_its_key(client, campaign_a, alice, brand_a, fake_broker):
    body = {
        "campaign": campaign_a.public_id,
        "customers": [
            {
                "email": "ada@example.com",
                "name": "Ada",
                "order_id": "1042",
                "order_date": "2024-05-31",
                "product": "Beans",
            },
            {"email": "not-an-email", "name": "Bad"},
            {"email": "ADA@example.com", "name": "Ada again"},
        ],
    }
    response = _post(client, body, _key(brand_a, alice))
    assert response.status_code == 201
    data = response.json()
    assert data["added"] == 1
    first, bad, again = data["customers"]
    ada = Recipient.objects.get()
    assert first == {"item": 1, "email": "ada@example.com", "status": "queued", "invitation": ada.public_id}
    assert bad["status"] == "refused" and bad["problem"] == "invalid_email"
    assert again["problem"] == "duplicate"
    assert (ada.source, ada.order_id, str(ada.order_date), ada.product) == ("api", "1042", "2024-05-31", "Beans")


def test_posting_the_same_customer_again_adds_nothing(client, campaign_a, alice, brand_a, fake_broker):
    key = _key(brand_a, alice)
    body = {"campaign": campaign_a.public_id, "customers": [{"email": "ada@example.com", "name": "Ada"}]}
    assert _post(client, body, key).status_code == 201
    again = _post(client, body, key)
    assert again.status_code == 200 and again.json()["customers"][0]["problem"] == "duplicate"
    assert Recipient.objects.count() == 1


def test_it_explains_a_malformed_request(client, campaign_a, alice, brand_a):
    response = _post(client, {"campaign": campaign_a.public_id, "customers": []}, _key(brand_a, alice))
    assert response.status_code == 400 and "customers" in response.json()["errors"]  # problem details
    response = _post(
        client,
        {"campaign": campaign_a.public_id, "customers": [{"email": "a@example.com", "order_date": "31/05"}]},
        _key(brand_a, alice),
    )
    assert response.status_code == 400 and "order_date" in str(response.json())


def test_a_viewer_may_not_invite(client, campaign_a, victor, brand_a):
    client.force_login(victor)
    response = _post(client, {"campaign": campaign_a.public_id, "customers": [{"email": "a@example.com", "name": "A"}]})
    assert response.status_code == 403
    assert not Recipient.objects.exists()


def test_charlie_gets_404_and_changes_nothing(client, campaign_a, charlie, brand_b):
    body = {"campaign": campaign_a.public_id, "customers": [{"email": "a@example.com", "name": "A"}]}
    assert _post(client, body, _key(brand_b, charlie)).status_code == 404
    client.force_login(charlie)
    assert _post(client, body).status_code == 404
    assert not Recipient.objects.exists()


def test_anonymous_callers_are_refused(client, campaign_a):
    body = {"campaign": campaign_a.public_id, "customers": [{"email": "a@example.com", "name": "A"}]}
    assert _post(client, body).status_code in (401, 403)
    assert not Recipient.objects.exists()
