"""Issue 16's security fixes on the production stack: the rate limit on a private Redis cache, and the
rating summary's JSON query on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory

from testimonials.collection import abuse
from testimonials.models import Testimonial
from testimonials.selectors import rating_summary_for_brand
from tests.collection.collect_support import race_rate_takes
from tests.factories import TestimonialFactory
from tests.integration.support import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture(
    params=[
        "django.core.cache.backends.redis.RedisCache",  # add, then incr
        "testimonials.resilient_cache.FailOpenRedisCache",  # production: one script call (count)
    ]
)
def redis_cache(settings, request):
    server = RedisServer()
    server.start()
    settings.CACHES = {"default": {"BACKEND": request.param, "LOCATION": server.url}}
    yield server
    server.stop()


def test_the_rate_limit_holds_on_redis_when_thirty_requests_race(redis_cache):
    assert race_rate_takes("198.51.100.30") == 10


def test_the_rate_limit_counter_expires_with_its_window_on_redis(redis_cache):
    import redis
    from django.core.cache import cache

    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.31")
    for _ in range(3):
        assert abuse.rate_take(request, scope="submit", rate="10/h") is None
    client = redis.Redis.from_url(redis_cache.url)
    [key] = client.keys("*vouch:rl:submit:198.51.100.31:*")
    assert 3600 < client.ttl(key) <= 3605
    assert cache.get(key.decode().split(":", 2)[-1]) == 3  # the cache's own key: prefix:version:key


@pytest.mark.django_db
def test_the_rating_summary_leaves_out_held_for_content_reviews_on_postgresql(brand_a):
    if connection.vendor != "postgresql":
        pytest.skip("run with DATABASE_URL=postgres://... (make test-integration)")
    TestimonialFactory(brand=brand_a, rating=5, state=Testimonial.State.APPROVED)
    TestimonialFactory(brand=brand_a, rating=4, state=Testimonial.State.PENDING_REVIEW,
                       flags=[{"code": "rating_mismatch", "reason": "r"}])  # fmt: skip
    for _ in range(5):
        TestimonialFactory(brand=brand_a, rating=1, state=Testimonial.State.PENDING_REVIEW,
                           flags=[{"code": "gibberish", "reason": "r"}])  # fmt: skip
    assert rating_summary_for_brand(brand_id=brand_a.id) == {"average": 4.5, "count": 2}
