"""The Redis cache, failing open to a local one while Redis is unreachable.

Rate limits, the blocked-site report throttle and the invitation sender's lock share the cache.
When Redis was killed or frozen, every submit waited out its timeouts and then failed. Here each
call has short socket timeouts (settings: VOUCH_CACHE_TIMEOUT), and after one failure the process
uses a local in-memory cache for VOUCH_CACHE_COOLDOWN_SECONDS before trying Redis again
(outages.CircuitBreaker). Rate limiting keeps working meanwhile, per process instead of shared: a
limit of 10 per address becomes at most 10 per address and web process for the outage, which is
"fail open safely": customers are served, and a flood from one address is still cut off.
"""

from __future__ import annotations

import logging

import redis.exceptions
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from redis.commands.core import Script

from config.redis_clients import RedisCache
from testimonials.outages import CircuitBreaker

log = logging.getLogger(__name__)

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
GUARDED = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


# Add to a counter, creating it with its expiry when new, in one atomic step and one round trip.
_COUNT = Script(
    None,
    b"""
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
""",
)


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.local = LocMemCache(f"vouch-fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self.circuit = CircuitBreaker(cooldown=getattr(settings, "VOUCH_CACHE_COOLDOWN_SECONDS", 10.0))

    def count(self, key: str, delta: int, timeout: int) -> int:
        """The counter `key` after adding `delta`; a new counter starts at `delta` and expires after
        `timeout` seconds. Atomic: a Lua script, one round trip (a rate limit's add + exists + incr
        were three). While Redis is unreachable, the local cache counts instead."""

        def on_redis():
            full_key = self.make_and_validate_key(key)
            return int(
                _COUNT(keys=[full_key], args=[delta, timeout], client=self._cache.get_client(full_key, write=True))
            )

        def on_local():
            return delta if self.local.add(key, delta, timeout=timeout) else self.local.incr(key, delta)

        return self._redis_or_local(on_redis, on_local)

    def _redis_or_local(self, on_redis, on_local):
        """Redis while it answers; after a failure, the local cache until the circuit lets a call try again."""
        if self.circuit.allow():
            try:
                result = on_redis()
            except REDIS_DOWN as exc:
                self.circuit.failed()
                log.warning(
                    "The Redis cache is unreachable (%s: %s); using a local cache for now.",
                    type(exc).__name__,
                    exc,
                    extra={"outage": "redis"},
                )
            else:
                self.circuit.succeeded()
                return result
        return on_local()


def _guarded(name: str):
    def method(self, *args, **kwargs):
        return self._redis_or_local(
            lambda: getattr(RedisCache, name)(self, *args, **kwargs),
            lambda: getattr(self.local, name)(*args, **kwargs),
        )

    method.__name__ = name
    return method


for _name in GUARDED:
    setattr(FailOpenRedisCache, _name, _guarded(_name))


def cache_circuit_state() -> dict:
    """The default cache's view of Redis for /readyz and metrics (closed when it is not a Redis cache)."""
    from django.core.cache import cache

    circuit = getattr(cache, "circuit", None)
    if circuit is None:
        return {"state": "closed", "failures": 0, "skipped": 0, "retry_in": 0.0}
    return circuit.state()
