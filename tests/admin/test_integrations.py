"""API keys and GDPR erasure from the admin."""

import re

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.urls import reverse

from testimonials.models import ApiKey, Testimonial
from testimonials.services.api_keys import api_key_create
from tests.admin.conftest import login
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.django_db


def test_it_shows_a_new_key_once_and_the_key_works(alice, brand_a):
    client = login(alice)
    response = client.post(reverse("admin:testimonials_apikey_add"), {"brand": brand_a.id, "name": "Zapier"})
    key = ApiKey.objects.get()
    change_page = reverse("admin:testimonials_apikey_change", args=[key.id])
    assert response.status_code == 302 and response["Location"] == change_page
    page = client.get(change_page).content.decode()  # the next page shows it, once
    raw = re.search(r"<code>(vk_[\w-]+)</code>", page).group(1)
    assert key.name == "Zapier" and key.created_by == alice and raw.startswith(f"vk_{key.prefix}_")
    api = client.get(reverse("api-testimonial-list"), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200
    assert raw not in client.get(change_page).content.decode()  # never again


def test_the_new_keys_secret_never_travels_in_a_cookie(alice, brand_a):
    """Not in the messages cookie (signed, but readable: decoded here), nor in any other Set-Cookie."""
    client = login(alice)
    created = client.post(reverse("admin:testimonials_apikey_add"), {"brand": brand_a.id, "name": "Zapier"})
    shown = client.get(created["Location"])
    secret = re.compile(rf"vk_{ApiKey.objects.get().prefix}_[\w-]{{8}}")  # the prefix alone is public
    set_cookies = [(response, morsel) for response in (created, shown) for morsel in response.cookies.values()]
    assert set_cookies
    for response, morsel in set_cookies:
        assert not secret.search(morsel.OutputString())
        if morsel.key == "messages" and morsel.value:
            decoded = CookieStorage(response.wsgi_request)._decode(morsel.value) or []
            assert decoded and not any(secret.search(str(message)) for message in decoded)


def test_it_keeps_keys_to_owners_of_the_brand(alice, bob, charlie, brand_a):
    key, _ = api_key_create(brand=brand_a, actor=alice, name="CRM")
    assert login(bob).get(reverse("admin:testimonials_apikey_changelist")).status_code == 403
    assert login(charlie).get(reverse("admin:testimonials_apikey_change", args=[key.id])).status_code in (302, 404)
    listing = login(charlie).get(reverse("admin:testimonials_apikey_changelist")).content.decode()
    assert "CRM" not in listing


def test_it_revokes_keys_from_the_list(alice, brand_a, client):
    key, raw = api_key_create(brand=brand_a, actor=alice, name="Old")
    login(alice).post(
        reverse("admin:testimonials_apikey_changelist"), {"action": "revoke_selected", "_selected_action": [key.id]}
    )
    assert ApiKey.objects.get(id=key.id).revoked_at is not None
    assert client.get(reverse("api-testimonial-list"), HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_it_erases_selected_testimonials_only_after_confirmation(alice, brand_a):
    item = TestimonialFactory(brand=brand_a, state=Testimonial.State.APPROVED)
    client = login(alice)
    url = reverse("admin:testimonials_testimonial_changelist") + "?state=all"
    ask = client.post(url, {"action": "erase_selected", "_selected_action": [item.id]})
    assert ask.status_code == 200 and "cannot be undone" in ask.content.decode()
    assert Testimonial.objects.filter(id=item.id).exists()
    client.post(url, {"action": "erase_selected", "_selected_action": [item.id], "apply": "1", "confirm": "on"})
    assert not Testimonial.objects.filter(id=item.id).exists()


def test_it_lets_no_viewer_or_outsider_erase(victor, charlie, brand_a):
    item = TestimonialFactory(brand=brand_a)
    url = reverse("admin:testimonials_testimonial_changelist") + "?state=all"
    for user in (victor, charlie):
        login(user).post(
            url, {"action": "erase_selected", "_selected_action": [item.id], "apply": "1", "confirm": "on"}
        )
    assert Testimonial.objects.filter(id=item.id).exists()
