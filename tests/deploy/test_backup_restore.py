"""docs/deploy/backup.sh and restore.sh: a backup of the database and both media folders, wiped,
restored, gives back every row and every file; a corrupted backup changes nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from testimonials.models import AuditEvent, Testimonial
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("backup.sh and restore.sh are for PostgreSQL: run the integration suite with DATABASE_URL")
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    return f"postgres://{s.get('USER') or 'postgres'}{password}@{host}:{port}/{s['NAME']}"


def _row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def stack(transactional_db, settings, tmp_path):
    media, private = tmp_path / "media", tmp_path / "private"
    (media / "r" / "abc").mkdir(parents=True)
    (media / "r" / "abc" / "card.webp").write_bytes(os.urandom(3000))
    (media / "widgets" / "w1").mkdir(parents=True)
    (media / "widgets" / "w1" / "index.json").write_text('{"v": "0123456789abcdef"}')
    (private / "originals" / "2026" / "12").mkdir(parents=True)
    (private / "originals" / "2026" / "12" / "a1b2.jpg").write_bytes(os.urandom(5000))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(media),
        "PRIVATE_MEDIA_ROOT": str(private),
    }
    return env, media, private, tmp_path / "backups"


def _run(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEPLOY / script), *args], env=env, capture_output=True, text=True, timeout=300)


def test_it_backs_up_wipes_and_restores_every_row_and_file(stack):
    env, media, private, backups = stack
    for n in range(5):
        TestimonialFactory(text=f"Testimonial number {n}, with ünïcode ✓")
    rows, texts = _row_counts(), sorted(Testimonial.objects.values_list("public_id", "text"))
    files = (_files(media), _files(private))
    assert rows["testimonials_testimonial"] == 5 and sum(len(f) for f in files) == 3

    made = _run("backup.sh", str(backups), env=env)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert backup.parent == backups and sorted(p.name for p in backup.iterdir()) == [
        "SHA256SUMS", "database.dump", "media.tar", "private.tar",
    ]  # fmt: skip
    assert not list(backups.glob("*.partial"))

    # Wipe: every row and every file gone.
    call_command("flush", "--noinput", verbosity=0)
    for folder in (media, private):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    assert Testimonial.objects.count() == 0 and AuditEvent.objects.count() == 0

    connection.close()  # the restore drops and recreates every table
    restored = _run("restore.sh", str(backup), env=env)
    assert restored.returncode == 0, restored.stderr
    assert _row_counts() == rows
    assert sorted(Testimonial.objects.values_list("public_id", "text")) == texts
    assert (_files(media), _files(private)) == files
    assert not list(media.parent.glob("*.restoring")) and not list(media.parent.glob("*.replaced"))


def test_it_refuses_a_corrupted_backup_and_changes_nothing(stack):
    env, media, private, backups = stack
    TestimonialFactory()
    backup = Path(_run("backup.sh", str(backups), env=env).stdout.strip())
    with open(backup / "media.tar", "r+b") as tar:
        tar.seek(600)
        tar.write(b"corrupted")
    TestimonialFactory()
    (media / "new.txt").write_text("written after the backup")
    before = (_row_counts(), _files(media), _files(private))
    connection.close()
    refused = _run("restore.sh", str(backup), env=env)
    assert refused.returncode == 1
    assert "fails its checksums; nothing was changed" in refused.stderr
    assert (_row_counts(), _files(media), _files(private)) == before


def test_it_names_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT", "PRIVATE_MEDIA_ROOT")}
    result = _run("backup.sh", str(tmp_path), env=env)
    assert result.returncode != 0 and "DATABASE_URL" in result.stderr
    assert list(tmp_path.iterdir()) == []
