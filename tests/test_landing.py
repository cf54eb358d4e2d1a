"""The landing page at / (and the admin's "View site"): where a new owner starts."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_links_the_demo_form_the_wall_and_the_workspace(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--no-media", stdout=None)
    page = client.get("/").content.decode()
    assert 'href="/c/demo/feedback/"' in page and 'href="/w/' in page and 'href="/admin/"' in page


def test_it_shows_no_brand_when_there_is_no_demo(client, brand_a, form_a):
    response = client.get("/")
    assert response.status_code == 200
    assert "Brand A" not in response.content.decode() and "/c/brand-a/" not in response.content.decode()
