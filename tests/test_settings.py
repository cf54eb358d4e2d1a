"""Settings come from the environment; a malformed value stops start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE_ENV = {"PATH": os.environ["PATH"], "VOUCH_READ_DOT_ENV": "false", "HOME": os.environ.get("HOME", "/tmp")}


def _load(env: dict, code: str = "") -> subprocess.CompletedProcess:
    script = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup(); {code}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**BASE_ENV, **env}, capture_output=True, text=True, timeout=60
    )


def test_it_runs_embedded_with_no_variables_but_debug(tmp_path):
    result = _load(
        {"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path)},
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    result = _load({"VOUCH_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_CONN_MAX_AGE", "sixty"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("TRUSTED_PROXY_COUNT", "1.5"),
        ("LOG_FORMAT", "xml"),
        ("VOUCH_METRICS_ALLOW", "10.0.0.0/33"),
        ("VOUCH_ACCESS_LOG", "maybe"),
    ],
)
def test_it_names_the_malformed_variable(tmp_path, name, value):
    result = _load({"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), name: value})
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]


def test_it_reads_postgres_and_redis_from_the_environment(tmp_path):
    result = _load(
        {
            "SECRET_KEY": "x" * 60,
            "VOUCH_VAR_DIR": str(tmp_path),
            "ALLOWED_HOSTS": "vouch.example.com",
            "DATABASE_URL": "postgres://vouch:pw@db.internal:5432/vouch",
            "CELERY_BROKER_URL": "redis://cache.internal:6379/0",
        },
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'],"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['socket_timeout'], s.DEBUG, s.SESSION_COOKIE_SECURE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "db.internal", "2", "False", "True"]


def test_it_passes_the_deployment_checklist_with_production_variables(tmp_path):
    env = {
        "SECRET_KEY": "f3Kq9-vLx2!pR7zW0mYc8TbN4sHdJ6gUe1aQoXiV5rZyP0wLkMnBvC",
        "VOUCH_VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "vouch.example.com",
        "VOUCH_PUBLIC_URL": "https://vouch.example.com",  # unsubscribe links must be https (RFC 8058)
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp+tls://vouch:secret@smtp.example.com:587",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_warns_at_deployment_when_loopback_calls_are_allowed(tmp_path):
    env = {
        "SECRET_KEY": "f3Kq9-vLx2!pR7zW0mYc8TbN4sHdJ6gUe1aQoXiV5rZyP0wLkMnBvC",
        "VOUCH_VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "vouch.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "VOUCH_OUTBOUND_ALLOW_LOOPBACK": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "vouch.W001" in result.stdout + result.stderr


def test_importing_settings_writes_nothing_to_disk_and_the_app_makes_its_folders_at_start(tmp_path):
    var = tmp_path / "fresh-var"
    imported = _load_module_only({"DEBUG": "true", "VOUCH_VAR_DIR": str(var)})
    assert imported.returncode == 0, imported.stderr
    assert not var.exists()
    started = _load({"DEBUG": "true", "VOUCH_VAR_DIR": str(var)})
    assert started.returncode == 0, started.stderr
    assert (var / "static").is_dir() and (var / "broker" / "queue").is_dir()


def _load_module_only(env: dict) -> subprocess.CompletedProcess:
    script = "import importlib; importlib.import_module('config.settings')"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**BASE_ENV, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_embedded_default_keeps_its_own_secret_key_so_commands_work_after_make_run(tmp_path):
    var = tmp_path / "var"
    started = _load(
        {"DEBUG": "true", "VOUCH_VAR_DIR": str(var)}, "from django.conf import settings as s; print(s.SECRET_KEY)"
    )
    assert started.returncode == 0, started.stderr
    kept = (var / "secret-key").read_text().strip()
    assert kept == started.stdout.strip() and len(kept) >= 50
    assert oct((var / "secret-key").stat().st_mode & 0o777) == "0o600"
    # Later, with no variable at all (not even DEBUG), a command finds the same key.
    later = _load({"VOUCH_VAR_DIR": str(var)}, "from django.conf import settings as s; print(s.SECRET_KEY, s.DEBUG)")
    assert later.returncode == 0, later.stderr
    assert later.stdout.split() == [kept, "False"]
    command = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**BASE_ENV, "VOUCH_VAR_DIR": str(var)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert command.returncode == 0, command.stderr


def test_the_public_url_follows_the_address_make_run_serves(tmp_path):
    result = _load(
        {"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), "VOUCH_ADDR": "0.0.0.0:9123"},
        "from django.conf import settings as s; print(s.PUBLIC_URL, '127.0.0.1' in s.ALLOWED_HOSTS)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://127.0.0.1:9123", "True"]
    explicit = _load(
        {"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), "VOUCH_ADDR": "127.0.0.1:9123",
         "VOUCH_PUBLIC_URL": "https://vouch.example.com/"},
        "from django.conf import settings as s; print(s.PUBLIC_URL, 'vouch.example.com' in s.ALLOWED_HOSTS)",
    )  # fmt: skip
    assert explicit.stdout.split() == ["https://vouch.example.com", "True"]
