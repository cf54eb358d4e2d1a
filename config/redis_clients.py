"""Redis clients made once, not per command: for the cache (rate limits) and for the Celery broker.

Django's RedisCache and kombu's Redis transport both build a new `redis.Redis` for every command
or publish, around a connection pool they keep. Building one fills a table of about 200 response
callbacks: it was the largest single cost of a submit after the ORM (docs/benchmarks.md, "Submit
cost"). A `redis.Redis` over a pool is thread-safe and takes a connection from the pool per command,
so one per pool does the same work. The pool still handles reconnects and forks (it checks its pid).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.cache.backends import redis as django_redis
from kombu.transport import redis as kombu_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_vouch_clients", {})
        client = clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """CACHE_URL=redis://...: Django's Redis cache, with one client per connection pool."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


class Channel(kombu_redis.Channel):
    _vouch_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        cached = self._vouch_client
        # A new pool (kombu drops it when the connection is reset) gets a new client.
        if cached is None or cached.connection_pool is not self.pool:
            cached = self._vouch_client = self._create_client()
        yield cached
