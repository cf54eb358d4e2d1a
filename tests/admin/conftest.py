"""Admin fixtures: logged-in clients for each persona and a helper to read the moderation list."""

from __future__ import annotations

import pytest
from django.test import Client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bob_client(bob):
    return login(bob)


@pytest.fixture
def victor_client(victor):
    return login(victor)


@pytest.fixture
def root_client(db):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)
    return login(root)
