"""Invitations' fixtures: a campaign of brand A with its form, and mail captured by Django's locmem backend."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import CampaignFactory


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.PUBLIC_URL = "https://vouch.example.com"
    settings.VOUCH_INVITE_FROM = "invitations@vouch.example.com"
    settings.VOUCH_INVITE_SEND_RATE = "off"
    settings.EMAIL_FILE_PATH = str(tmp_path / "outbox")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def campaign_a(brand_a, form_a):
    return CampaignFactory(brand=brand_a, form=form_a, name="Spring orders")


@pytest.fixture
def campaign_b(brand_b, form_b):
    return CampaignFactory(brand=brand_b, form=form_b, name="Brand B orders")
