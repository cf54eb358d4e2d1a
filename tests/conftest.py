"""Shared fixtures. Personas: alice owns brand A, bob is alice's teammate (editor), charlie
belongs to brand B only. Every view and API test file checks that charlie gets 404."""

from __future__ import annotations

from collections import defaultdict

import pytest

from testimonials.models import Membership
from tests.factories import BrandFactory, CollectionFormFactory, MembershipFactory, UserFactory

# The generated media corpus (videos, a loopback listener), shared by tests/media and tests/services.
pytest_plugins = ["tests.media.fixtures", "tests.browsers"]


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    """Media and private originals go to a per-test folder; passwords hash fast."""
    public, private = tmp_path / "media", tmp_path / "private"
    settings.MEDIA_ROOT = public
    settings.PRIVATE_MEDIA_ROOT = private
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(public), "base_url": settings.MEDIA_URL},
        },
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(private), "base_url": None},
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def brand_a(db):
    return BrandFactory(name="Brand A", slug="brand-a", allowed_domains=["https://shop-a.example.com"])


@pytest.fixture
def brand_b(db):
    return BrandFactory(name="Brand B", slug="brand-b", allowed_domains=["https://shop-b.example.com"])


@pytest.fixture
def alice(brand_a):
    user = UserFactory(username="alice")
    MembershipFactory(user=user, brand=brand_a, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def bob(brand_a):
    user = UserFactory(username="bob")
    MembershipFactory(user=user, brand=brand_a, role=Membership.Role.EDITOR)
    return user


@pytest.fixture
def victor(brand_a):
    """A viewer of brand A: may look, may not change anything."""
    user = UserFactory(username="victor")
    MembershipFactory(user=user, brand=brand_a, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def charlie(brand_b):
    user = UserFactory(username="charlie")
    MembershipFactory(user=user, brand=brand_b, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def form_a(brand_a):
    return CollectionFormFactory(brand=brand_a, slug="feedback", title="How did we do?")


@pytest.fixture
def form_b(brand_b):
    return CollectionFormFactory(brand=brand_b, slug="feedback", title="Brand B feedback")


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice):
    return _client_for(client, alice)


@pytest.fixture
def charlie_client(client, charlie):
    return _client_for(client, charlie)


class FakeBroker:
    """Stands in for the broker in unit tests: records every task sent after commit and runs none of
    them, except lifecycle hand-offs, which it dispatches at once in this process as a worker would,
    so a test sees what the subscribers do (and records what they enqueue in turn)."""

    def __init__(self):
        self.sent: dict[str, list] = defaultdict(list)  # task name -> first argument of each send
        self.countdowns: dict[str, list] = defaultdict(list)
        self.kwargs: dict[str, list] = defaultdict(list)  # task name -> keyword arguments of each send

    def apply(self, task, args: tuple, countdown: float | None, kwargs: dict | None = None) -> None:
        from testimonials.lifecycle.dispatch import lifecycle_dispatch
        from testimonials.lifecycle.tasks import lifecycle_dispatch_task

        name = task.name.rsplit(".", 1)[-1]
        self.sent[name].append(args[0] if args else None)
        self.countdowns[name].append(countdown)
        self.kwargs[name].append(kwargs or {})
        if task is lifecycle_dispatch_task:
            lifecycle_dispatch(entry_ids=list(args[0]))
        elif kwargs and kwargs.get("lifecycle_entry_ids"):  # a hand-off carried by another task's message
            lifecycle_dispatch(entry_ids=list(kwargs["lifecycle_entry_ids"]))


@pytest.fixture
def fake_broker(monkeypatch) -> FakeBroker:
    fake = FakeBroker()
    monkeypatch.setattr("testimonials.queue._apply", fake.apply)
    return fake


@pytest.fixture(autouse=True)
def _broker_circuit_closed(settings, tmp_path):
    """Each test starts with a closed broker circuit (an earlier test's broker failure opens it for seconds),
    its own submission spool, and no public form remembered from an earlier test."""
    from testimonials import queue
    from testimonials.spool import services as spool

    settings.VOUCH_SPOOL_DIR = tmp_path / "spool"
    spool._forms.clear()
    # Tests change forms straight through the ORM; the memory of public forms is tested on its own
    # (tests/collection/test_submit_cost.py) with its production default.
    settings.VOUCH_PUBLIC_FORM_CACHE_SECONDS = 0
    queue.broker_circuit.succeeded()
    yield
    queue.broker_circuit.succeeded()
