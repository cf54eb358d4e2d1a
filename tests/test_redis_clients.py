"""One Redis client per pool for the cache and the broker (config/redis_clients.py): the same work as
Django's and kombu's clients, without building a client per command."""

from __future__ import annotations

from kombu import Connection

from config import redis_clients


def test_it_reuses_one_cache_client_per_connection_pool():
    cache = redis_clients.RedisCache("redis://127.0.0.1:6399/3", {})
    first = cache._cache.get_client("k", write=True)
    assert cache._cache.get_client("other", write=False) is first  # one server: one pool for reads and writes
    assert first.connection_pool.connection_kwargs["db"] == 3
    cache._cache._pools.clear()  # a new pool (after a reset) gets a new client
    assert cache._cache.get_client("k", write=True) is not first


def test_it_is_the_cache_backend_production_gets_from_a_redis_cache_url(tmp_path):
    from tests.test_settings import _load

    result = _load(
        {"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), "CACHE_URL": "redis://127.0.0.1:6379/1"},
        "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])",
    )
    # The fail-open cache (testimonials/resilient_cache.py) is this cache with a local fallback.
    assert result.stdout.strip().splitlines()[-1] == "testimonials.resilient_cache.FailOpenRedisCache"
    from testimonials.resilient_cache import FailOpenRedisCache

    assert issubclass(FailOpenRedisCache, redis_clients.RedisCache)


def test_it_reuses_one_broker_client_per_channel_until_its_pool_changes():
    import config.celery  # noqa: F401 - registers the redis:// alias

    connection = Connection("redis://127.0.0.1:6399/0")
    # config/broker.py's transport (it survives a lost connection) publishes through this channel.
    assert issubclass(connection.transport.Channel, redis_clients.Channel)
    channel = redis_clients.Channel.__new__(redis_clients.Channel)
    channel._pool = None
    channel._vouch_client = None
    made = []
    channel._create_client = lambda asynchronous=False: made.append(1) or _FakeClient(channel.pool)
    channel._get_pool = lambda asynchronous=False: object()
    with channel.conn_or_acquire() as first:
        pass
    with channel.conn_or_acquire() as second:
        pass
    assert first is second and len(made) == 1
    channel._pool = None  # kombu dropped the pool (a reset connection)
    with channel.conn_or_acquire() as third:
        pass
    assert third is not first and len(made) == 2
    given = object()
    with channel.conn_or_acquire(given) as passed:
        assert passed is given


class _FakeClient:
    def __init__(self, pool):
        self.connection_pool = pool
