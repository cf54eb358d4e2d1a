"""The API under Schemathesis, against a live server (gunicorn on PostgreSQL) with a test key of brand A:
no 5xx, every answer as the schema says (status, content type, headers, body), invalid input refused,
and no answer holding brand B's data. Its time is bounded (examples per operation, --max-time)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from testimonials.imports.models import ReviewImport, ReviewImportRow
from testimonials.models import Testimonial
from testimonials.services.api_keys import api_key_create
from testimonials.webhooks.models import WebhookDelivery, WebhookEndpoint
from testimonials.webhooks.signing import secret_new
from tests.factories import (
    BrandFactory,
    CollectionFormFactory,
    MembershipFactory,
    TagFactory,
    TestimonialFactory,
    UserFactory,
    WidgetFactory,
)
from tests.workers import ROOT, database_url, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]
State = Testimonial.State
EXAMPLES = int(os.environ.get("VOUCH_FUZZ_EXAMPLES", "25"))
MAX_SECONDS = int(os.environ.get("VOUCH_FUZZ_MAX_SECONDS", "120"))
# Registering or changing an endpoint resolves its host name: random names would go to the network's
# DNS. Those two operations are covered by tests/webhooks (with addresses that need no lookup).
NOT_FUZZED = ["webhooks_create", "webhooks_partial_update"]


def _brand_rows(slug: str, owner_name: str, marker: str):
    brand = BrandFactory(slug=slug, name=slug.title())
    owner = UserFactory(username=owner_name)
    MembershipFactory(user=owner, brand=brand)
    form = CollectionFormFactory(brand=brand, slug="feedback")
    tag = TagFactory(brand=brand, slug=f"{slug}-tag")
    states = [State.APPROVED, State.PENDING_REVIEW, State.REJECTED, State.RECEIVED]
    items = [
        TestimonialFactory(
            brand=brand, form=form, state=state, author_name=f"{marker} {i}", author_email=f"{marker.lower()}{i}@x.org"
        )
        for i, state in enumerate(states)
    ]
    items[0].tags.add(tag)
    widget = WidgetFactory(brand=brand)
    endpoint = WebhookEndpoint.objects.create(
        brand=brand, url="https://hooks.example.com/x", events=["testimonial.approved"], secret=secret_new()
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        brand=brand,
        event_type="testimonial.approved",
        status="failed",
        payload={"id": items[0].public_id},
    )
    job = ReviewImport.objects.create(brand=brand, preset="csv", status="done", total_rows=1, processed_rows=1)
    ReviewImportRow.objects.create(job=job, number=1, status="created", testimonial=items[0])
    ids = {
        "testimonial": items[1].public_id,
        "widget": widget.public_id,
        "endpoint": endpoint.public_id,
        "delivery": delivery.public_id,
        "import": job.public_id,
    }
    public = [i.public_id for i in items] + [ids["widget"], ids["endpoint"], ids["delivery"], ids["import"]]
    return brand, owner, public, endpoint.secret, ids


def _config(path: Path, ids: dict[str, str]) -> Path:
    """Brand A's real ids for the path parameters, so operations reach their logic instead of a 404."""
    routes = [
        (r"^/api/v1/testimonials/\\{public_id\\}", {"path.public_id": ids["testimonial"]}),
        (r"^/api/v1/widgets/\\{public_id\\}", {"path.public_id": ids["widget"]}),
        (r"^/api/v1/webhooks/\\{public_id\\}/deliveries/\\{delivery_id\\}",
         {"path.public_id": ids["endpoint"], "path.delivery_id": ids["delivery"]}),
        (r"^/api/v1/webhooks/\\{public_id\\}/(secret/|rotate-secret/|deliveries/)?$",
         {"path.public_id": ids["endpoint"]}),
        (r"^/api/v1/imports/\\{public_id\\}", {"path.public_id": ids["import"]}),
        (r"^/api/v1/influence/testimonials/\\{public_id\\}", {"path.public_id": ids["testimonial"]}),
    ]  # fmt: skip
    blocks = []
    for regex, parameters in routes:
        values = ", ".join(f'"{name}" = "{value}"' for name, value in parameters.items())
        blocks.append(f'[[operations]]\ninclude-path-regex = "{regex}"\nparameters = {{ {values} }}\n')
    path.write_text("\n".join(blocks))
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_api_survives_schemathesis_with_no_5xx_and_no_other_brands_data(tmp_path):
    brand_a, alice, _, _, ids = _brand_rows("brand-a", "alice", "Ada")
    _, _, foreign_ids, foreign_secret, _ = _brand_rows("brand-b", "charlie", "Zebulonforeign")
    config = _config(tmp_path / "schemathesis.toml", ids)
    _, key = api_key_create(brand=brand_a, actor=alice, name="fuzz")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
        "API_RATE_LIMIT": "100000/min",
    }
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "2", "--timeout", "60", "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), limit=60, every=0.3)
        started = time.monotonic()
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                f"http://127.0.0.1:{port}/api/schema/?format=json",
                "--header", f"Authorization: Bearer {key}", "--checks", "all",
                # Valid-looking input that a business rule refuses (a form's required field, an https-only
                # link, a file that fits no preset) is a fair 400; everything else is checked.
                "--exclude-checks", "positive_data_acceptance",
                "--phases", "examples,coverage,fuzzing", "--max-examples", str(EXAMPLES),
                "--max-time", str(MAX_SECONDS),
                # One worker: Schemathesis's workers are threads, and CPython 3.11.7 (before 3.11.8) can raise
                # "SystemError: AST constructor recursion depth mismatch" when two threads run ast.parse at
                # once (python/cpython#106905), as Hypothesis does to describe lambdas: a crash of the tool.
                "--seed", "20261205", "--generation-database", "none", "--workers", "1", "--no-color",
                "--request-timeout", "30", *[arg for op in NOT_FUZZED for arg in ("--exclude-operation-id", op)],
            ],
            cwd=ROOT,
            env={
                **env,
                "SCHEMATHESIS_HOOKS": "tests.integration.fuzz_hooks",
                "VOUCH_FUZZ_FOREIGN": ",".join([*foreign_ids, "Zebulonforeign", foreign_secret]),
            },
            capture_output=True,
            text=True,
            timeout=MAX_SECONDS + 300,
        )  # fmt: skip
        print(run.stdout, run.stderr[-3000:])
        print(f"schemathesis took {time.monotonic() - started:.0f}s")
        assert run.returncode == 0, "Schemathesis found failures (above)"
        assert " 5" not in _statuses(Path(log.name).read_text()), "the server answered a 5xx (server log above)"
    except BaseException:
        print("---- server log ----\n" + Path(log.name).read_text()[-6000:])
        raise
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        os.unlink(log.name)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _statuses(access_log: str) -> str:
    """The status codes gunicorn logged, one per line, each preceded by a space (" 200", " 404")."""
    codes = []
    for line in access_log.splitlines():
        parts = line.split('" ')
        if len(parts) > 1 and parts[1][:3].isdigit():
            codes.append(" " + parts[1][:3])
    return "\n".join(codes)
