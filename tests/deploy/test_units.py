"""docs/deploy: the systemd units pass `systemd-analyze verify`, gunicorn accepts its config file,
and the units, the Procfile and the README start the same processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
VENV_BIN = Path(sys.executable).parent


@pytest.mark.integration
def test_it_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze not found (package systemd)")
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/srv/vouch/app/.venv/bin/", f"{VENV_BIN}/")
        # The vouch user exists on the server, not here.
        text = text.replace("User=vouch", "User=root").replace("Group=vouch", "Group=root")
        name = unit.name.replace("@.service", "@text.service")
        (tmp_path / name).write_text(text)
    units = sorted(str(path) for path in tmp_path.iterdir())
    result = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # not even an ignored key


def test_it_gives_gunicorn_a_config_it_accepts(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "deploy-test-" + "x" * 40,
        "ALLOWED_HOSTS": "vouch.example.com",
        "VOUCH_VAR_DIR": str(tmp_path),
        "VOUCH_READ_DOT_ENV": "false",
    }
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", "-c", str(DEPLOY / "gunicorn.conf.py"), "config.wsgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout


def test_it_runs_the_same_queues_in_the_units_and_the_procfile():
    from django.conf import settings

    procfile = (DEPLOY / "Procfile").read_text()
    target = (DEPLOY / "systemd" / "vouch.target").read_text()
    # Every queue a task is routed to has a worker: the sweeper's too (README, production commands).
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed == {"text", "media", "sweeper"}
    for queue in routed:
        assert f"--queues={queue} " in procfile
        assert f"vouch-worker@{queue}.service" in target
    assert procfile.count(" beat ") == 1 and "vouch-beat.service" in target
    assert "manage.py analytics_ingest" in procfile and "vouch-ingest.service" in target
    ingest = (DEPLOY / "systemd" / "vouch-ingest.service").read_text()
    assert "manage.py analytics_ingest" in ingest
    web = (DEPLOY / "systemd" / "vouch-web.service").read_text()
    assert "manage.py spool_replay" in web and "manage.py spool_replay" in procfile
    worker = (DEPLOY / "systemd" / "vouch-worker@.service").read_text()
    assert "--queues=%i" in worker and "PROMETHEUS_MULTIPROC_DIR=/run/vouch/metrics" in worker
