import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _redis_queue_is_empty():
    """Each test starts with an empty Redis broker database, so no earlier test's messages leak in."""
    import redis

    if settings.CELERY_BROKER_URL.startswith("redis://"):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    yield
