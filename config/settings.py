"""Vouch settings, read from the environment (12-factor).

With no variables at all Vouch runs embedded: SQLite, media on local disk and a Celery worker on
kombu's filesystem transport, all under ./var. Production differs only by variables, every one of
them listed in .env.example and the README. The test suite's overrides live in config/test_settings.py.
Importing settings writes nothing to disk: the app creates the folders it needs when it starts
(testimonials/apps.py).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("VOUCH_READ_DOT_ENV", default=True) and (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _env(kind: str, name: str, **kwargs):
    """Read a variable; a malformed value stops start-up with a message naming the variable."""
    try:
        return getattr(env, kind)(name, **kwargs)
    except (ValueError, TypeError, KeyError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is malformed: {exc}") from exc


def _bool(name: str, default: bool) -> bool:
    # environ.Env.bool() silently reads "maybe" as False; a typo must not flip a security switch.
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} is malformed: expected true or false, got {raw!r}")


DEBUG = _bool("DEBUG", False)
VAR_DIR = Path(_env("path", "VOUCH_VAR_DIR", default=str(BASE_DIR / "var")))

# The embedded default keeps its own key in var/, like the demo's admin password: generated on the
# first start in debug (testimonials/apps.py writes it; importing settings writes nothing), then read
# by every later process, `manage.py` commands included, with no variable to set.
SECRET_KEY_FILE = VAR_DIR / "secret-key"
SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_TO_KEEP = ""
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = SECRET_KEY_TO_KEEP = secrets.token_urlsafe(50)
    else:
        raise ImproperlyConfigured(
            f"Set SECRET_KEY (or run once with DEBUG=true, as `make run` does, to keep one in {SECRET_KEY_FILE})."
        )

# `make run ADDR=host:port` passes its address here, so links and media follow it without a variable.
_ADDR = _env("str", "VOUCH_ADDR", default="127.0.0.1:8000").replace("0.0.0.0:", "127.0.0.1:")
PUBLIC_URL = _env("str", "VOUCH_PUBLIC_URL", default=f"http://{_ADDR}").rstrip("/")
_PUBLIC_HOST = PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]

ALLOWED_HOSTS = _env(
    "list", "ALLOWED_HOSTS", default=sorted({"127.0.0.1", "localhost", "[::1]", _PUBLIC_HOST}) if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = _env("list", "CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from /static/: the docs page needs no CDN
    "testimonials",
    "axes",  # brute-force protection on sign-in (README, Security)
]

MIDDLEWARE = [
    # First: the request id reaches every log line, and the latency histogram sees the whole request.
    "testimonials.observability.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "testimonials.security.SecurityHeadersMiddleware",
    # A page failing because the database or the broker is down answers 503 "back in a minute", not 500.
    "testimonials.observability.middleware.OutageMiddleware",
    # Last, as django-axes asks: answers a locked-out sign-in with its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --------------------------------------------------------------------------- database
_DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
if not _DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://", "pgsql://")):
    raise ImproperlyConfigured(
        f"Environment variable DATABASE_URL is malformed: use sqlite:///path or postgres://user@host/db, "
        f"got {_DATABASE_URL.split(':', 1)[0]}://..."
    )
DATABASES = {"default": _env("db_url", "DATABASE_URL", default=_DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = _env("int", "DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and worker processes share the file: wait for locks instead of failing,
    # and use WAL so readers never block the writer. Connections are kept like PostgreSQL's:
    # opening one (the file, its WAL, the PRAGMAs) took 1.3-4 ms here, more than a whole /healthz.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- cache
# Rate limits need a cache shared by every web process: Redis in production, the database here.
if env.str("CACHE_URL", default=""):
    CACHES = {"default": _env("cache_url", "CACHE_URL")}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # Short timeouts, and a local fallback while Redis is unreachable: a submit never waits on a
        # dead cache, and rate limits keep working per process (testimonials/resilient_cache.py); one
        # Redis client per connection pool rather than one per command (config/redis_clients.py).
        CACHES["default"]["BACKEND"] = "testimonials.resilient_cache.FailOpenRedisCache"
        _cache_timeout = _env("float", "VOUCH_CACHE_TIMEOUT", default=0.5)
        CACHES["default"].setdefault("OPTIONS", {}).update(
            {"socket_timeout": _cache_timeout, "socket_connect_timeout": _cache_timeout}
        )
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "vouch_cache"}}

# After a Redis cache failure, a process uses its local cache for this long before trying Redis again.
VOUCH_CACHE_COOLDOWN_SECONDS = _env("float", "VOUCH_CACHE_COOLDOWN_SECONDS", default=10.0)

# --------------------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
# Days a team invitation's link works (testimonials/members/).
VOUCH_MEMBER_INVITE_DAYS = _env("int", "VOUCH_MEMBER_INVITE_DAYS", default=7)

# Brute-force protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one account,
# or from one address, sign-in is refused with a clear page for AXES_COOLOFF_MINUTES; a success
# resets the count. The address is the one rate limits use (TRUSTED_PROXY_COUNT, below).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env("int", "AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=_env("int", "AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account and per address
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "testimonials.collection.abuse.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # a lockout is logged once as a warning, not a line per attempt

LANGUAGE_CODE = "en"
# Customer pages (the collection form, its thank-you page) and widget chrome speak these; the form's
# setting or the visitor's Accept-Language picks one. The admin stays in English.
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch"), ("pt", "Português"),
             ("ja", "日本語"), ("ar", "العربية")]  # fmt: skip
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = _env("str", "TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --------------------------------------------------------------------------- files
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # created at start-up (apps.py): WhiteNoise expects it before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = _env("str", "MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(_env("path", "MEDIA_ROOT", default=str(VAR_DIR / "media")))
PRIVATE_MEDIA_ROOT = Path(_env("path", "PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
# Public renditions are served by Django (WhiteNoise-style) only in the embedded default.
SERVE_MEDIA = _bool("SERVE_MEDIA", True)

_S3_BUCKET = env.str("S3_BUCKET", default="")
if _S3_BUCKET:
    _s3_common = {
        "bucket_name": _S3_BUCKET,
        "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("S3_REGION", default="") or None,
        "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
        "file_overwrite": False,
    }
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3_common,
            "location": "public",
            "querystring_auth": False,
            "custom_domain": env.str("S3_PUBLIC_DOMAIN", default="") or None,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    _private_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3_common, "location": "private", "default_acl": "private", "querystring_auth": True},
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
    _private_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    }

STORAGES = {
    "default": _default_storage,
    "private": _private_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Upload limits, counted in an upload handler while the body streams in (Django caps no file size).
UPLOAD_MAX_PHOTO_BYTES = _env("int", "UPLOAD_MAX_PHOTO_BYTES", default=10 * 1024 * 1024)
UPLOAD_MAX_VIDEO_BYTES = _env("int", "UPLOAD_MAX_VIDEO_BYTES", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# One submission carries at most an avatar, a photo and a video.
DATA_UPLOAD_MAX_NUMBER_FILES = 5
# The byte-counting handler runs first; files it lets through go to memory or a temp file as usual.
FILE_UPLOAD_HANDLERS = [
    "testimonials.collection.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Resumable uploads in progress (local disk, shared by the web processes of one machine).
UPLOAD_SESSION_DIR = _env("str", "UPLOAD_SESSION_DIR", default="") or None
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_TEMP_DIR = None

# --------------------------------------------------------------------------- background work
CELERY_BROKER_URL = _env("str", "CELERY_BROKER_URL", default="filesystem://")
if not CELERY_BROKER_URL.startswith(("filesystem://", "redis://", "rediss://", "amqp://", "memory://")):
    raise ImproperlyConfigured("Environment variable CELERY_BROKER_URL is malformed: use redis://host:6379/0.")
EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
BROKER_DIR = VAR_DIR / "broker"


def filesystem_broker_options(folder: Path) -> dict:
    """kombu's filesystem transport in `folder` (its subfolders are created at start-up, apps.py)."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        # Latency equals the polling interval (1 s by default): poll often, it is a cheap listdir.
        "polling_interval": 0.1,
    }


if EMBEDDED_BROKER:
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(BROKER_DIR)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A Redis that accepts connections but never answers must not hang a web request.
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
        "retry_on_timeout": False,
        # Unacknowledged (acks_late) tasks come back after this long if their worker vanished.
        # Must outlast the longest task (a video transcode), or Redis hands a running task to a
        # second worker; the claim would make that a no-op, but it wastes a worker.
        "visibility_timeout": _env("int", "CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker (and beat) whose broker goes away keeps retrying, forever, instead of exiting after 100
# attempts: nothing restarts it, and the work waits in the database meanwhile. See config/broker.py
# for the Redis bug that used to kill it anyway (tests/integration/test_broker_loss.py).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
# A late-ack task running when the connection drops finishes its work: every one is idempotent (a
# claim on its row), so a copy Redis redelivers later is a no-op, and cancelling a transcode to
# redo it wastes minutes of work.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SOFT_TIME_LIMIT = _env("int", "CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = _env("int", "CELERY_TASK_TIME_LIMIT", default=360)
# Media tasks transcode videos of up to ten minutes: their own, longer limits. ffmpeg's own timeout
# stays below the soft limit so the asset fails with a clear reason; progress renews the lease.
VOUCH_MEDIA_SOFT_TIME_LIMIT = _env("int", "VOUCH_MEDIA_SOFT_TIME_LIMIT", default=1800)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers log through LOGGING below like the web (LOG_FORMAT, request and task ids), instead of
# Celery replacing the root logger's handlers with its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection before and after every task unless this is
# set (CONN_MAX_AGE is ignored there): a new PostgreSQL connection per task cost more than the task.
CELERY_DB_REUSE_MAX = _env("int", "CELERY_DB_REUSE_MAX", default=500)
CELERY_TASK_DEFAULT_QUEUE = "text"
CELERY_TASK_ROUTES = {
    "testimonials.renditions.tasks.*": {"queue": "media"},
    # The sweeper recovers what a dead or stuck worker left behind, so it must not wait in that
    # worker's queue: its own queue, consumed by its own small worker (README, production).
    "testimonials.tasks.*": {"queue": "sweeper"},
    # The spool is a folder on the web host: replayed by that same sweeper worker (testimonials/spool).
    "testimonials.spool.tasks.*": {"queue": "sweeper"},
}
# Submissions accepted while the database or the originals' disk was down wait here, fsync'd, until
# they are stored (testimonials/spool). A local disk of the web host, not the originals' one.
VOUCH_SPOOL_DIR = Path(_env("str", "VOUCH_SPOOL_DIR", default=str(VAR_DIR / "spool")))
CELERY_TIMEZONE = TIME_ZONE
# How long a row may sit in received/processing before the sweeper enqueues it again.
VOUCH_STUCK_AFTER_SECONDS = _env("int", "VOUCH_STUCK_AFTER_SECONDS", default=120)
VOUCH_MAX_ATTEMPTS = _env("int", "VOUCH_MAX_ATTEMPTS", default=5)
# A processing task decides its own row and up to this many waiting rows in all, in one batch.
VOUCH_PROCESS_BATCH = _env("int", "VOUCH_PROCESS_BATCH", default=50)
# Dispatched lifecycle entries (and their receipts) are kept this many days, then purged; the
# audit trail is kept as long as its testimonial.
VOUCH_OUTBOX_RETENTION_DAYS = _env("int", "VOUCH_OUTBOX_RETENTION_DAYS", default=7)
# A bug while enqueueing (not a broker outage) raises instead of being logged: on in tests only.
VOUCH_ENQUEUE_BUGS_RAISE = False
# After a broker failure, a process stops trying to send for this long (queue.CircuitBreaker): a
# request never waits out the broker's timeouts twice in a row, and the sweeper sends what was skipped.
VOUCH_BROKER_COOLDOWN_SECONDS = _env("float", "VOUCH_BROKER_COOLDOWN_SECONDS", default=10.0)
# A public form (brand, form, questions) a web process loaded is served from memory for this long:
# a submit then needs no query for it. A settings change reaches every process within this time (0: off).
VOUCH_PUBLIC_FORM_CACHE_SECONDS = _env("float", "VOUCH_PUBLIC_FORM_CACHE_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE = {
    # Accepted work is never lost: re-enqueue rows whose message was lost (broker down at submit
    # time, worker killed) once they have waited VOUCH_STUCK_AFTER_SECONDS, and hand undispatched
    # lifecycle entries to their subscribers.
    # A sweep not run within one interval (its worker down) is dropped, not piled up: the next one does it all.
    "sweep-stuck-work": {
        "task": "testimonials.tasks.sweep_stuck_task",
        "schedule": _env("float", "VOUCH_SWEEP_EVERY_SECONDS", default=30.0),
        "options": {"expires": _env("float", "VOUCH_SWEEP_EVERY_SECONDS", default=30.0)},
    },
    # Submissions spooled during an outage are stored as soon as the database is back (exactly once).
    "spool-replay": {
        "task": "testimonials.spool.tasks.spool_replay_task",
        "schedule": _env("float", "VOUCH_SPOOL_REPLAY_EVERY_SECONDS", default=15.0),
        "options": {"expires": _env("float", "VOUCH_SPOOL_REPLAY_EVERY_SECONDS", default=15.0)},
    },
    # The outbox keeps dispatched entries VOUCH_OUTBOX_RETENTION_DAYS for inspection, then drops them.
    "purge-lifecycle-outbox": {"task": "testimonials.tasks.lifecycle_purge_task", "schedule": 3600.0},
    # Webhook retries that are due (waits of minutes to hours), messages lost with the broker, and
    # deliveries whose worker died mid-send (their lease lapsed): sent again with the same webhook-id.
    "webhook-deliveries-due": {"task": "testimonials.webhooks.tasks.webhook_deliver_due_task", "schedule": 15.0},
    # The webhook delivery log keeps VOUCH_WEBHOOK_LOG_RETENTION_DAYS of finished deliveries.
    "purge-webhook-log": {"task": "testimonials.webhooks.tasks.webhook_log_purge_task", "schedule": 3600.0},
    # Import jobs whose worker died (no heartbeat for a while) carry on from their last checkpoint.
    "resume-stalled-imports": {"task": "testimonials.imports.tasks.imports_resume_stalled_task", "schedule": 60.0},
    # Invitations: plan the invitations and reminders that are due, send them, resume interrupted
    # imports and mark sends whose worker died as interrupted (never sent twice).
    "invitations-tick": {
        "task": "testimonials.invitations.tasks.invitations_tick_task",
        "schedule": _env("float", "VOUCH_INVITE_EVERY_SECONDS", default=60.0),
    },
    # "Best performing (auto)" widgets: republish those whose rollups moved, so the published
    # posteriors follow the data (a debounced refresh: at most once per period per widget).
    "influence-auto-refresh": {
        "task": "testimonials.influence.tasks.auto_widgets_refresh_task",
        "schedule": _env("float", "VOUCH_AUTO_ORDER_REFRESH_SECONDS", default=300.0),
    },
    # Resumable uploads a customer started and never submitted (a closed tab, a retake) hold files
    # nobody consented to keep: deleted once older than VOUCH_UPLOAD_SESSION_MAX_AGE. The worker
    # running it must see UPLOAD_SESSION_DIR (the web servers' folder).
    "clean-upload-sessions": {"task": "testimonials.collection.tasks.upload_sessions_clean_task", "schedule": 3600.0},
}
# Seconds an unfinished resumable upload is kept (a customer may pause a large video and resume).
VOUCH_UPLOAD_SESSION_MAX_AGE = _env("int", "VOUCH_UPLOAD_SESSION_MAX_AGE", default=24 * 3600)

# --------------------------------------------------------------------------- analytics (docs/analytics.md)
# Visitor keys are HMACs of a salt that lives this many days (the attribution window, 1 to 7): a
# conversion is linked to the testimonials its visitor saw in the same window; then the salt is deleted.
ANALYTICS_ATTRIBUTION_DAYS = _env("int", "ANALYTICS_ATTRIBUTION_DAYS", default=1)
if not 1 <= ANALYTICS_ATTRIBUTION_DAYS <= 7:
    raise ImproperlyConfigured("ANALYTICS_ATTRIBUTION_DAYS must be between 1 and 7.")
# Raw events are kept this many days (rollups forever); at least the attribution window.
ANALYTICS_RAW_RETENTION_DAYS = _env("int", "ANALYTICS_RAW_RETENTION_DAYS", default=30)
if ANALYTICS_RAW_RETENTION_DAYS < ANALYTICS_ATTRIBUTION_DAYS:
    raise ImproperlyConfigured("ANALYTICS_RAW_RETENTION_DAYS must be at least ANALYTICS_ATTRIBUTION_DAYS.")
# Where accepted beacons wait for the ingest worker: redis://host:6379/N (a stream; run that Redis with
# appendonly yes and appendfsync always, docs/analytics.md) or spool:///path (fsync'd files, one host).
# Default: the broker's Redis when it is one, else a spool folder in VOUCH_VAR_DIR.
ANALYTICS_BUFFER_URL = (
    _env(
        "str",
        "ANALYTICS_BUFFER_URL",
        default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
    )
    or f"spool://{VAR_DIR / 'analytics-spool'}"
)
if not ANALYTICS_BUFFER_URL.startswith(("redis://", "rediss://", "spool://")):
    raise ImproperlyConfigured("ANALYTICS_BUFFER_URL is malformed: use redis://host:6379/0 or spool:///path.")
# Behind a Redis buffer: a folder on the web host's disk that takes the beacons Redis cannot (down,
# restarting), drained with the stream; empty: refuse them with a 503 instead (docs/analytics.md).
ANALYTICS_FALLBACK_DIR = _env("str", "ANALYTICS_FALLBACK_DIR", default=str(VAR_DIR / "analytics-fallback"))
# A beacon body larger than this is refused (413); a batch holds at most ANALYTICS_MAX_EVENTS events.
ANALYTICS_MAX_BEACON_BYTES = _env("int", "ANALYTICS_MAX_BEACON_BYTES", default=16 * 1024)
ANALYTICS_MAX_EVENTS = _env("int", "ANALYTICS_MAX_EVENTS", default=100)
# The ingest worker drains up to this many beacons per transaction.
ANALYTICS_DRAIN_BATCH = _env("int", "ANALYTICS_DRAIN_BATCH", default=500)
# A batch claimed by a worker that then died goes to another worker after this many seconds.
ANALYTICS_CLAIM_IDLE_SECONDS = _env("float", "ANALYTICS_CLAIM_IDLE_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE.update(
    {
        # Move accepted beacons from the buffer into raw events and rollups (one drainer at a time).
        "analytics-drain": {
            "task": "testimonials.analytics.tasks.analytics_drain_task",
            "schedule": _env("float", "ANALYTICS_DRAIN_EVERY_SECONDS", default=5.0),
        },
        # Make the next window's salt, delete salts (and every visitor key made with them) once their
        # window has passed, make the coming days' event partitions, drop raw events past retention.
        "analytics-housekeeping": {
            "task": "testimonials.analytics.tasks.analytics_housekeeping_task",
            "schedule": 600.0,
        },
    }
)

# --------------------------------------------------------------------------- integrations
# Outgoing HTTP (webhooks, media URLs of imports) refuses private, loopback, link-local and metadata
# addresses. Loopback may be allowed for tests and benchmarks only: never in production.
VOUCH_OUTBOUND_ALLOW_LOOPBACK = _bool("VOUCH_OUTBOUND_ALLOW_LOOPBACK", False)
# Waits in seconds before each webhook retry; after the last one the delivery gives up (about 24 h).
VOUCH_WEBHOOK_RETRY_SCHEDULE = _env(
    "list", "VOUCH_WEBHOOK_RETRY_SCHEDULE", cast=float, default=[5, 300, 1800, 7200, 18000, 28800, 28800]
)
VOUCH_WEBHOOK_TIMEOUT_SECONDS = _env("float", "VOUCH_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
VOUCH_WEBHOOK_LOG_RETENTION_DAYS = _env("int", "VOUCH_WEBHOOK_LOG_RETENTION_DAYS", default=30)
# Imports: photos and videos listed by URL are fetched only when the operator allows it (through
# the same SSRF guard); files are capped in size.
VOUCH_IMPORT_FETCH_MEDIA = _bool("VOUCH_IMPORT_FETCH_MEDIA", False)
VOUCH_IMPORT_MAX_BYTES = _env("int", "VOUCH_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

# --------------------------------------------------------------------------- email (invitations)
# The embedded default writes every message to a folder as an .eml file (the admin's outbox page
# reads it back); consolemail:// prints them; production sends through SMTP:
# EMAIL_URL=smtp+tls://user:password@smtp.example.com:587 (or smtp+ssl://...:465, smtp://...:25).
_EMAIL_URL = env.str("EMAIL_URL", default="")
EMAIL_FILE_PATH = str(VAR_DIR / "outbox")
if not _EMAIL_URL or _EMAIL_URL.startswith("filemail:"):
    EMAIL_BACKEND = "testimonials.invitations.mailbox.OutboxFileBackend"
    EMAIL_FILE_PATH = _EMAIL_URL.split("://", 1)[-1] if _EMAIL_URL.startswith("filemail://") else EMAIL_FILE_PATH
    EMAIL_FILE_PATH = EMAIL_FILE_PATH or str(VAR_DIR / "outbox")
elif _EMAIL_URL.startswith(("smtp://", "smtps://", "smtp+tls://", "smtp+ssl://", "consolemail://")):
    _email = _env("email_url", "EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
    EMAIL_PORT = _email.get("EMAIL_PORT") or 25
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
else:
    raise ImproperlyConfigured(
        "Environment variable EMAIL_URL is malformed: use smtp+tls://user:password@host:587, consolemail:// "
        "or filemail:///path."
    )
# Seconds an SMTP connection may block; a timeout is a temporary error, retried with backoff.
EMAIL_TIMEOUT = _env("int", "EMAIL_TIMEOUT", default=20)
_HOST = PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
# The address invitations come from (the From header shows the brand's name beside it).
VOUCH_INVITE_FROM = _env("str", "VOUCH_INVITE_FROM", default=f"invitations@{_HOST}")
DEFAULT_FROM_EMAIL = VOUCH_INVITE_FROM
# The envelope sender (Return-Path). With bounces@example.com, each message goes out as
# bounces+<message id>@example.com, so a bounce names the message it is about.
VOUCH_INVITE_BOUNCE_ADDRESS = _env("str", "VOUCH_INVITE_BOUNCE_ADDRESS", default="")
# Per brand and day (a brand's sender settings may lower or raise it); Gmail and Yahoo apply stricter
# rules to senders above 5,000 a day.
VOUCH_INVITE_DAILY_CAP = _env("int", "VOUCH_INVITE_DAILY_CAP", default=2000)
# Messages per second (or minute, hour) for the whole installation, shared by every worker.
VOUCH_INVITE_SEND_RATE = _env("str", "VOUCH_INVITE_SEND_RATE", default="10/s")
# Days an invitation link keeps working after the message that carried it.
VOUCH_INVITE_LINK_DAYS = _env("int", "VOUCH_INVITE_LINK_DAYS", default=60)
# Attempts at one message through temporary errors (4xx, timeouts) before it is marked failed.
VOUCH_INVITE_MAX_ATTEMPTS = _env("int", "VOUCH_INVITE_MAX_ATTEMPTS", default=8)
# DKIM signing (optional): the selector publishes the public key at <selector>._domainkey.<domain>.
VOUCH_DKIM_SELECTOR = _env("str", "VOUCH_DKIM_SELECTOR", default="")
VOUCH_DKIM_DOMAIN = _env("str", "VOUCH_DKIM_DOMAIN", default="")
VOUCH_DKIM_PRIVATE_KEY_FILE = _env("str", "VOUCH_DKIM_PRIVATE_KEY_FILE", default="")
VOUCH_DKIM_PRIVATE_KEY = _env("str", "VOUCH_DKIM_PRIVATE_KEY", default="").replace("\\n", "\n")
if VOUCH_DKIM_SELECTOR and not (VOUCH_DKIM_PRIVATE_KEY_FILE or VOUCH_DKIM_PRIVATE_KEY):
    raise ImproperlyConfigured(
        "VOUCH_DKIM_SELECTOR is set: also set VOUCH_DKIM_PRIVATE_KEY_FILE (or VOUCH_DKIM_PRIVATE_KEY)."
    )

# --------------------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "testimonials.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": _env("str", "API_RATE_LIMIT", default="600/min")},
    "DEFAULT_SCHEMA_CLASS": "testimonials.api.schema.VouchAutoSchema",
    "EXCEPTION_HANDLER": "testimonials.api.problems.problem_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}

# OpenAPI 3 (drf-spectacular): /api/schema/ and the docs page /api/docs/, with Swagger UI served locally.
SPECTACULAR_SETTINGS = {
    "TITLE": "Vouch API",
    "DESCRIPTION": (
        "Testimonials, forms, widgets, tags, webhooks and imports of a brand. Authenticate with "
        "`Authorization: Bearer vk_...` (a key acts for one brand with its creator's role). Lists are "
        "cursor-paginated (`next`/`previous` links, `page_size` up to 200). Errors are problem details "
        "(RFC 9457, `application/problem+json`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TestimonialStateEnum": "testimonials.models.testimonials.TestimonialState",
        "MediaStatusEnum": "testimonials.models.testimonials.MediaAsset.Status",
        "MediaKindEnum": "testimonials.models.testimonials.MediaAsset.Kind",
        "DeliveryStatusEnum": "testimonials.webhooks.models.WebhookDelivery.Status",
        "EndpointKindEnum": "testimonials.webhooks.models.WebhookEndpoint.Kind",
        "ImportStatusEnum": "testimonials.imports.models.ReviewImport.Status",
        "ImportRowStatusEnum": "testimonials.imports.models.ReviewImportRow.Status",
    },
    "DISABLE_ERRORS_AND_WARNINGS": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "testimonials.api.schema.forbid_unknown_fields",
    ],
}

# --------------------------------------------------------------------------- abuse
# Client IPs come from REMOTE_ADDR unless this many proxies in front are trusted to append to
# X-Forwarded-For. A spoofed header is ignored when it is 0.
TRUSTED_PROXY_COUNT = _env("int", "TRUSTED_PROXY_COUNT", default=0)
# "10/h", "5/10m"; 0 or "off" disables the limit (benchmarks only).
SUBMIT_RATE_LIMIT = _env("str", "SUBMIT_RATE_LIMIT", default="10/h")
# Resumable uploads started per client (a video, a retake): same syntax.
UPLOAD_RATE_LIMIT = _env("str", "UPLOAD_RATE_LIMIT", default="30/h")
_RATES = (("SUBMIT_RATE_LIMIT", SUBMIT_RATE_LIMIT), ("UPLOAD_RATE_LIMIT", UPLOAD_RATE_LIMIT))
for _name, _rate in (*_RATES, ("VOUCH_INVITE_SEND_RATE", VOUCH_INVITE_SEND_RATE)):
    if not re.fullmatch(r"\s*(0|off|\d+/\d*[smhd])\s*", _rate, flags=re.IGNORECASE):
        raise ImproperlyConfigured(f"Environment variable {_name} is malformed: use 10/h, 5/10m or 0, not {_rate!r}")
SUBMIT_MIN_SECONDS = _env("int", "SUBMIT_MIN_SECONDS", default=3)
CAPTCHA_VERIFIER = _env("str", "CAPTCHA_VERIFIER", default="")

# --------------------------------------------------------------------------- security
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
_HTTPS = _bool("VOUCH_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", _HTTPS)
SECURE_HSTS_SECONDS = _env("int", "SECURE_HSTS_SECONDS", default=31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --------------------------------------------------------------------------- operations
# /metrics answers these addresses (comma-separated addresses or networks; the client address as
# TRUSTED_PROXY_COUNT reads it), or anyone with `Authorization: Bearer <VOUCH_METRICS_TOKEN>`.
VOUCH_METRICS_TOKEN = _env("str", "VOUCH_METRICS_TOKEN", default="")
try:
    VOUCH_METRICS_ALLOW = [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in _env("list", "VOUCH_METRICS_ALLOW", default=["127.0.0.1", "::1"])
        if part.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"Environment variable VOUCH_METRICS_ALLOW is malformed: {exc}") from exc
# /readyz answers 503 when a disk Vouch writes customers' files to has less free space than this.
VOUCH_READY_MIN_FREE_MB = _env("int", "VOUCH_READY_MIN_FREE_MB", default=256)
# One INFO line per request (method, path, status, duration) on the vouch.access logger: off, so
# the log stays quiet in normal operation; nginx keeps the access log.
VOUCH_ACCESS_LOG = _bool("VOUCH_ACCESS_LOG", False)
# plain: one readable line per record; json: one JSON object per line (for a log shipper).
LOG_FORMAT = _env("str", "LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"Environment variable LOG_FORMAT is malformed: use plain or json, not {LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "testimonials.observability.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "outages"]},
    },
    "filters": {
        # Every record carries the id of the request or task it was written for.
        "request_id": {"()": "testimonials.observability.logs.RequestIdFilter"},
        # An outage (database, broker, full disk) fails every request and task at once: one line per
        # outage kind and logger per interval, with a count, instead of a traceback per failure.
        "outages": {
            "()": "testimonials.outages.OutageLogFilter",
            "interval": _env("float", "VOUCH_OUTAGE_LOG_INTERVAL", default=60.0),
        },
        # kombu warns on every connection that the embedded filesystem:// broker has no host name:
        # true, and not a problem. Everything else it says is kept.
        "not_filesystem_hostname": {
            "()": "django.utils.log.CallbackFilter",
            "callback": lambda record: "No hostname was supplied" not in record.getMessage(),
        },
    },
    "root": {"handlers": ["console"], "level": _env("str", "LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The development server's line per request; its 4xx and 5xx lines (warnings, errors) stay.
        "django.server": {"level": "WARNING"},
        "kombu.connection": {"filters": ["not_filesystem_hostname"]},
        # Celery's line per task received and per task finished; the rest of what it says stays.
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}
