"""With these settings, tests run faster and apart from anything else on the machine.

pytest names this module (pyproject.toml); worker processes started by tests use it too
(tests/workers.py). Variables still win, so the integration suite points it at PostgreSQL and Redis.
"""

import os

# What production must be given explicitly, a test run may assume.
os.environ.setdefault("SECRET_KEY", "insecure-test-only-key-0123456789abcdef-0123456789abcdef")
os.environ.setdefault("VOUCH_HTTPS", "false")
os.environ.setdefault("VOUCH_READ_DOT_ENV", "false")

from config.settings import *  # noqa: F403
from config.settings import CACHES, DATABASES, STORAGES, VAR_DIR, env, filesystem_broker_options

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a real worker process in the embedded tests sees the same data.
    # One file per test run, so two runs at once (a developer and CI) never share it. A worker
    # started by a test is handed that file as its DATABASE_URL, so this names nothing for it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

if not env.str("CACHE_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tests get their own broker folder, so a `make run` worker never eats a test's messages.
BROKER_DIR = VAR_DIR / "test-broker"
if env.str("CELERY_BROKER_URL", default="filesystem://").startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(BROKER_DIR)

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A bug while enqueueing fails the test that caused it instead of being logged.
VOUCH_ENQUEUE_BUGS_RAISE = True
