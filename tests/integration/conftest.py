import os

import kombu.pools
import pytest
from django.conf import settings

from config.celery import app
from tests.integration.support import RedisServer, point_celery_at


@pytest.fixture(autouse=True)
def _redis_queue_is_empty():
    """Each test starts with an empty Redis broker database, so no earlier test's messages leak in."""
    import redis

    if settings.CELERY_BROKER_URL.startswith("redis://"):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    yield


@pytest.fixture
def broker(settings):
    """A Redis of this test's own that it may stop and start; this process and its workers send to it."""
    server = RedisServer()
    server.start()
    original = os.environ.get("CELERY_BROKER_URL")
    settings.CELERY_BROKER_URL = server.url
    point_celery_at(server.url)
    assert app.connection_for_write().as_uri().endswith(f":{server.port}/0")
    yield server
    if original is None:
        os.environ.pop("CELERY_BROKER_URL", None)
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
    else:
        point_celery_at(original)
    server.stop()
