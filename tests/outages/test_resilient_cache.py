"""The Redis cache fails open to a local one: short timeouts, one failure per cooldown, limits still counted."""

from __future__ import annotations

import socket

import pytest
from django.core.cache.backends.redis import RedisCache

from testimonials.resilient_cache import FailOpenRedisCache


@pytest.fixture
def dead_redis_url():
    with socket.socket() as probe:  # a free port nothing listens on: connections are refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def counted(monkeypatch):
    calls = []
    for name in ("add", "get", "incr"):
        real = getattr(RedisCache, name)

        def spy(self, *args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(RedisCache, name, spy)
    return calls


def test_it_keeps_counting_locally_when_redis_is_unreachable(dead_redis_url, counted):
    cache = FailOpenRedisCache(dead_redis_url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    assert cache.add("rate:submit:1.2.3.4", 1, timeout=60) is True
    for _ in range(9):
        cache.incr("rate:submit:1.2.3.4")
    assert cache.get("rate:submit:1.2.3.4") == 10
    assert counted == ["add"]  # Redis was tried once; the rest waited for the cooldown
    state = cache.circuit.state()
    assert state["state"] == "open" and state["skipped"] == 10


def test_it_tries_redis_again_after_the_cooldown(dead_redis_url, counted):
    cache = FailOpenRedisCache(dead_redis_url, {})
    cache.circuit.cooldown = 0.0
    assert cache.get("k", 7) == 7
    assert cache.get("k", 7) == 7
    assert counted == ["get", "get"]


def test_it_is_the_production_cache_with_short_timeouts_when_cache_url_is_redis(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/1")
    try:
        reloaded = importlib.reload(config.settings)
        backend = reloaded.CACHES["default"]
        assert backend["BACKEND"] == "testimonials.resilient_cache.FailOpenRedisCache"
        assert backend["OPTIONS"] == {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    finally:
        monkeypatch.delenv("CACHE_URL")
        importlib.reload(config.settings)


def test_it_counts_locally_in_one_call_when_redis_is_unreachable(dead_redis_url):
    cache = FailOpenRedisCache(dead_redis_url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    assert [cache.count("rate:submit:1.2.3.4", 1, 60) for _ in range(3)] == [1, 2, 3]
    assert cache.count("rate:submit:1.2.3.4", -1, 60) == 2
    assert cache.circuit.state()["state"] == "open"
