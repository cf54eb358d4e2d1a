"""Soak and fault run: mixed load on loopback against the production stack, with a worker killed,
Redis restarted and PostgreSQL restarted along the way. Bounded in time and in count.

    .venv/bin/python bench/soak.py                  # 10 minutes at 10 submits/s, then the drain
    .venv/bin/python bench/soak.py --minutes 3      # a shorter run (1 to 30 minutes)

Everything runs from a temporary folder and is removed at the end: a PRIVATE PostgreSQL cluster
(initdb/pg_ctl on a free port; as the postgres user when run as root) and a PRIVATE redis-server on
a free port (never the shared 5432 or 6379) with `appendonly yes` and `appendfsync always` (what
docs/analytics.md asks of the Redis holding the beacon buffer), and the README's production
commands: `manage.py spool_replay` once, then gunicorn started with docs/deploy/gunicorn.conf.py,
Celery workers for the text, media and sweeper queues, beat and `manage.py analytics_ingest`, each
restarted 2 s after it dies, as the systemd units of docs/deploy do. The submission spool
(VOUCH_SPOOL_DIR) is a folder of the run. The load, open loop (latency counts from when a request
was due):

- submits (--rate per second; one in five with a photo), each from its own client address through
  X-Forwarded-For (TRUSTED_PROXY_COUNT=1), so the per-address rate limit stays on;
- widget views (the published pointer and document, and the hosted wall page now and then);
- API reads (the testimonial list and the rating summary, with an API key);
- admin approvals (the changelist's "Approve selected" action on pending testimonials, logged in);
- analytics beacons (as many as widget views), in frame.js's format: a text/plain POST to
  /widgets/<id>/events from the widget document's origin naming the allowed host page in "o", with 1
  to 5 events (impression, testimonial views, clicks), each with a page-view id plus a counter; one
  in ten is a host-page conversion (Origin: the allowed site, a unique order id).

Faults, at fixed fractions of the run: the text worker is killed (SIGKILL, its pool with it) at
20%; Redis is killed (SIGKILL) and started again --redis-down seconds later at 40%; PostgreSQL is
stopped (fast shutdown) for --pg-down seconds at 65%. After the load the run waits (at most
--drain-limit seconds) until no testimonial or media item waits for a worker, every lifecycle entry is
dispatched, no widget waits for its publish, the spool is empty and the beacon buffer is drained,
then counts per phase: submits sent, accepted (303), stored, final (decided), lost (accepted, not
stored), duplicated, customer 5xx, no answer, latency; and beacons sent, accepted (204), their events
stored in the raw events table, lost, and whether the rollups count each stored event exactly once.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN_RE = re.compile(rb'name="token" value="([^"]+)"')
CSRF_INPUT_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
SELECTED_RE = re.compile(rb'name="_selected_action" value="(\d+)"')
FORM = "/c/soak/feedback/"
TEXTS = [
    "The onboarding call saved us a week of work, and support answered within the hour.",
    "Setup took ten minutes and our checkout conversion went up noticeably in the first month.",
    "Reliable, fast and the team listens. We moved three shops over and never looked back.",
    "A bit pricey for a small shop, but the reports alone paid for it within a quarter.",
    "Shipping was slow once, but they called us before we even noticed and fixed it.",
]
SETUP = """
import json
from django.contrib.auth import get_user_model
from django.utils import timezone
from testimonials.models import Brand, CollectionForm, Membership, Testimonial, Widget
from testimonials.services.api_keys import api_key_create
from testimonials.widgets.services import widget_publish
brand = Brand.objects.create(slug="soak", name="Soak Brand", allowed_domains=["https://shop.example.com"])
form = CollectionForm.objects.create(brand=brand, slug="feedback", title="How did we do?")
shown = [
    Testimonial.objects.create(
        brand=brand, form=form, author_name=f"Seed {n}", author_email=f"seed{n}@example.com", rating=5,
        text=f"Seed testimonial {n}: the team helped us launch in a week.", consent_given=True,
        consent_text="I agree that my testimonial may be shown publicly.", consented_at=timezone.now(),
        state=Testimonial.State.APPROVED, public_text=f"Seed testimonial {n}: the team helped us launch in a week.",
    ).public_id
    for n in range(3)
]
user = get_user_model().objects.create_superuser("soak", "soak@example.com", "soak-password-0123")
Membership.objects.create(user=user, brand=brand, role=Membership.Role.OWNER)
widget = Widget.objects.create(brand=brand, name="Wall", allowed_domains=["https://shop.example.com"])
Widget.objects.filter(id=widget.id).update(publish_requested_at=widget.created_at)
widget_publish(widget_id=widget.id)
_key, raw = api_key_create(brand=brand, actor=user, name="soak")
print("SOAK " + json.dumps({"widget": widget.public_id, "key": raw, "shown": shown}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"soak: {what} did not come up within {limit:.0f} s")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- private servers


class PrivatePostgres:
    """A PostgreSQL cluster of this run only, in `base`, on a free port."""

    def __init__(self, base: Path):
        self.folder, self.port = base / "pg", free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/vouch"

    def _run(self, *argv: str) -> None:
        # initdb refuses to run as root: the cluster belongs to the postgres user then.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.folder), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        import psycopg

        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE vouch")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.folder), "-l", str(self.folder / "log"), "-o", options,
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.folder), "-m", "fast", "-w", "stop")


class PrivateRedis:
    """A redis-server of this run only, on a free port. Its append-only file is written before each answer
    (docs/analytics.md: the beacon buffer lives in the broker's Redis), so a kill -9 loses nothing."""

    def __init__(self, base: Path):
        self.port, self.log, self.folder = free_port(), base / "redis.log", base / "redis"
        self.folder.mkdir()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: _port_open(self.port), 30, "redis-server")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Supervised:
    """A process restarted 2 s after it dies, as systemd's Restart=always, RestartSec=2 does."""

    def __init__(self, name: str, argv: list[str], env: dict, logs: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, logs / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.died_at: float | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def tend(self) -> None:
        if self.proc is None or self.proc.poll() is None:
            self.died_at = None
            return
        now = time.monotonic()
        if self.died_at is None:
            self.died_at = now
        elif now - self.died_at >= 2:
            self.restarts += 1
            self.died_at = None
            self.start()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- load


@dataclass
class Outcome:
    kind: str
    phase: int
    latency_ms: float
    status: int  # 0: no answer (refused, reset, timed out)
    marker: int | None = None


@dataclass
class Stack:
    port: int
    widget: str
    api_key: str
    run_id: str
    photo: bytes
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    admin_cookies: dict = field(default_factory=dict)
    admin_lock: threading.Lock = field(default_factory=threading.Lock)
    shown: list[str] = field(default_factory=list)  # testimonials the widget shows (their public ids)
    # beacon number -> [(event id, kind)] of the batch it sent
    beacons: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), response
    finally:
        conn.close()


def _multipart(fields: dict, photo: bytes | None) -> tuple[bytes, str]:
    boundary = "----VouchSoak" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    if photo is not None:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="me.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode()
        )
        out.write(photo + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def submit(stack: Stack, marker: int, with_photo: bool) -> int:
    address = f"10.{marker >> 16 & 255}.{marker >> 8 & 255}.{marker & 255}"
    forwarded = {"X-Forwarded-For": address}
    status, page, _ = _request(stack.port, "GET", FORM, headers=forwarded)
    match = TOKEN_RE.search(page) if status == 200 else None
    if match is None:
        return status
    fields = {
        "token": match.group(1).decode(),
        "rating": str(random.choice([5, 5, 5, 4, 4, 3, 2, 1])),
        "text": f"{random.choice(TEXTS)} Order {stack.run_id}-{marker:06d}.",
        "author_name": f"Soak Customer {marker}",
        "author_email": f"customer{marker}@example.com",
        "consent_given": "on",
    }
    body, content_type = _multipart(fields, stack.photo if with_photo else None)
    status, _, _ = _request(stack.port, "POST", FORM, body, {"Content-Type": content_type, **forwarded})
    return status


def widget_view(stack: Stack, n: int) -> int:
    status, body, _ = _request(stack.port, "GET", f"/widgets/{stack.widget}/index.json")
    if status != 200:
        return status
    version = json.loads(body).get("version") or json.loads(body).get("v")
    if version:
        status, document, _ = _request(stack.port, "GET", f"/widgets/{stack.widget}/{version}.html")
        cards = [m.decode() for m in CARD_RE.findall(document)] if status == 200 else []
        if cards:
            stack.shown = sorted(set(cards))  # what the visitors' beacons name, as frame.js would
    if n % 5 == 0 and status == 200:
        status, _, _ = _request(stack.port, "GET", f"/w/{stack.widget}/")
    return status


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
HOST_PAGE = "https://shop.example.com"
CARD_RE = re.compile(rb'data-t="([A-Za-z0-9_-]{4,40})"')


def beacon(stack: Stack, n: int) -> int:
    """One batch as frame.js sends it (from the widget document, naming the host page), or one in ten a
    conversion as embed.js sends it from the host page; each from its own visitor address."""
    page = uuid.uuid4().hex[:16]
    headers = {
        "Content-Type": "text/plain",
        "User-Agent": BROWSER,
        "X-Forwarded-For": f"172.16.{n >> 8 & 255}.{n & 255}",
    }
    if n % 10 == 0:
        events = [[page + "0", "convert", "", 49.0, "EUR", f"order-{stack.run_id}-{n}"]]
        body = {"e": events}
        headers["Origin"] = HOST_PAGE
    else:
        shown = list(stack.shown)
        events = [[page + "0", "imp"]]
        for t in random.sample(shown, min(len(shown), random.randint(0, 3))):
            events.append([page + str(len(events)), "view", t])
        if random.random() < 0.3 and shown:
            events.append(
                [page + str(len(events)), random.choice(["c_more", "c_author", "c_share"]), random.choice(shown)]
            )
        elif random.random() < 0.1:
            events.append([page + str(len(events)), "c_wall"])
        body = {"o": HOST_PAGE, "e": events}
        headers["Origin"] = f"http://127.0.0.1:{stack.port}"
    with stack.lock:
        stack.beacons[n] = [(e[0], e[1]) for e in events]
    payload = json.dumps(body, separators=(",", ":")).encode()
    return _request(stack.port, "POST", f"/widgets/{stack.widget}/events", payload, headers)[0]


def api_read(stack: Stack, n: int) -> int:
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    path = "/api/v1/summary/?brand=soak" if n % 3 == 0 else "/api/v1/testimonials/?brand=soak&page_size=20"
    return _request(stack.port, "GET", path, headers=auth)[0]


def _cookies(response) -> dict:
    found = {}
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _admin_login(stack: Stack) -> None:
    status, page, response = _request(stack.port, "GET", "/admin/login/")
    cookies = _cookies(response)
    token = CSRF_INPUT_RE.search(page).group(1).decode()
    body = urlencode({"username": "soak", "password": "soak-password-0123", "csrfmiddlewaretoken": token,
                      "next": "/admin/"}).encode()  # fmt: skip
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
              "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    status, _, response = _request(stack.port, "POST", "/admin/login/", body, header)
    if status != 302:
        raise RuntimeError(f"admin login answered {status}")
    stack.admin_cookies = {**cookies, **_cookies(response)}


def admin_approve(stack: Stack, n: int) -> int:
    with stack.admin_lock:
        if "sessionid" not in stack.admin_cookies:
            _admin_login(stack)
        cookies = dict(stack.admin_cookies)
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    path = "/admin/testimonials/testimonial/?state=pending_review"
    status, page, _ = _request(stack.port, "GET", path, headers=header)
    if status != 200:
        if status == 302:
            stack.admin_cookies.pop("sessionid", None)
        return status
    ids = SELECTED_RE.findall(page)[:5]
    csrf = CSRF_INPUT_RE.search(page)
    if not ids or csrf is None:
        return status
    form = [("action", "approve_selected"), ("index", "0"), ("csrfmiddlewaretoken", csrf.group(1).decode())]
    form += [("_selected_action", pk.decode()) for pk in ids]
    body = urlencode(form).encode()
    return _request(stack.port, "POST", path, body, {**header, "Content-Type": "application/x-www-form-urlencoded"})[0]


def _timed(stack: Stack, kind: str, phase: int, due: float, work, *args, marker: int | None = None) -> None:
    try:
        status = work(stack, *args)
    except (OSError, http.client.HTTPException, RuntimeError, ValueError, AttributeError):
        status = 0
    latency = (time.monotonic() - due) * 1000  # from when it was due: queueing in the client counts too
    with stack.lock:
        stack.outcomes.append(Outcome(kind, phase, latency, status, marker))


# --------------------------------------------------------------------------- the run


def _env(var: Path, pg: PrivatePostgres, redis_port: int, web_port: int) -> dict:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "soak-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VOUCH_HTTPS": "false",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": str(var),
        "VOUCH_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "DATABASE_URL": pg.url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
        "TRUSTED_PROXY_COUNT": "1",
        "SUBMIT_MIN_SECONDS": "0",
        "API_RATE_LIMIT": "100000/min",
        "LOG_LEVEL": "WARNING",
        "SERVE_MEDIA": "true",
        # The sweeper looks every 10 s for work waiting over 30 s (production: 30 s and 120 s), so a
        # ten-minute run sees recovery, not just waiting.
        "VOUCH_STUCK_AFTER_SECONDS": "30",
        "VOUCH_SWEEP_EVERY_SECONDS": "10",
        "PROMETHEUS_MULTIPROC_DIR": str(var / "metrics"),
        "VOUCH_SPOOL_DIR": str(var / "spool"),
        "ANALYTICS_FALLBACK_DIR": str(var / "analytics-fallback"),
        "VOUCH_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        "VOUCH_THREADS": "4",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (40, 90, 160))
    ImageDraw.Draw(image).ellipse((200, 100, 600, 500), fill=(240, 200, 80))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _schedule(seconds: float, rate: float) -> list[tuple[float, str]]:
    """(when, kind) for the whole run: evenly spaced per kind, kinds interleaved."""
    plan = []
    kinds = (("submit", rate), ("widget", rate / 2), ("beacon", rate / 2), ("api", rate / 5), ("admin", 0.5))
    for kind, per_second in kinds:
        step = 1 / per_second
        plan += [(i * step + random.uniform(0, step / 2), kind) for i in range(int(seconds * per_second))]
    return sorted(plan)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _db_rows(url: str, run_id: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT text, state FROM testimonials_testimonial WHERE text LIKE %s", [f"%Order {run_id}-%"]
        ).fetchall()


def _media_failed(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM testimonials_mediaasset WHERE status = 'failed'").fetchone()[0]


def _waiting(url: str) -> int:
    """Work not done yet: testimonials and media items waiting for a worker, lifecycle entries (an approval's
    widget publish, webhooks...) not dispatched to every subscriber, widgets waiting for their publish."""
    import psycopg

    with psycopg.connect(url, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM testimonials_testimonial WHERE state IN ('received', 'processing'))"
            " + (SELECT count(*) FROM testimonials_mediaasset WHERE status IN ('pending', 'processing'))"
            " + (SELECT count(*) FROM testimonials_outboxentry WHERE dispatched_at IS NULL)"
            " + (SELECT count(*) FROM testimonials_widget"
            "    WHERE publish_requested_at > coalesce(published_at, '-infinity'))"
        ).fetchone()
    return rows[0]


def _spooled(folder: Path) -> tuple[int, int]:
    """(waiting, held for an operator) in the submission spool (testimonials/spool: one folder per entry)."""
    if not folder.is_dir():
        return 0, 0
    waiting = sum(1 for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".tmp-") and p.name != "held")
    held = folder / "held"
    return waiting, sum(1 for p in held.iterdir() if p.is_dir()) if held.is_dir() else 0


def _beacons_buffered(redis_port: int, fallback: Path) -> int:
    """Entries in the analytics buffer (the Redis stream, and the spool behind it), waiting or claimed."""
    import redis as redis_lib

    client = redis_lib.Redis(port=redis_port, socket_timeout=3, socket_connect_timeout=3)
    try:
        waiting = int(client.xlen("vouch:analytics:beacons"))
    finally:
        client.close()
    return waiting + sum(1 for path in fallback.rglob("*.b")) if fallback.is_dir() else waiting


def _analytics_rows(url: str, widget: str) -> dict:
    """What the ingest wrote for the soak's widget: raw events by id, rollup sums, conversions."""
    import psycopg

    with psycopg.connect(url) as conn:
        widget_id = conn.execute("SELECT id FROM testimonials_widget WHERE public_id = %s", [widget]).fetchone()[0]
        events = conn.execute(
            "SELECT event_id, kind FROM testimonials_event WHERE widget_id = %s", [widget_id]
        ).fetchall()
        sums = conn.execute(
            "SELECT coalesce(sum(impressions), 0), coalesce(sum(views), 0), coalesce(sum(clicks_more), 0),"
            " coalesce(sum(clicks_author), 0), coalesce(sum(clicks_share), 0), coalesce(sum(clicks_wall), 0)"
            " FROM testimonials_dailyrollup WHERE widget_id = %s",
            [widget_id],
        ).fetchone()
        orders = conn.execute("SELECT order_id FROM testimonials_conversion").fetchall()
    rollups = dict(zip(("imp", "view", "c_more", "c_author", "c_share", "c_wall"), sums, strict=True))
    return {"events": events, "rollups": rollups, "orders": [o[0] for o in orders]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load (1 to 30)")
    parser.add_argument("--rate", type=float, default=10.0, help="submits per second (1 to 30)")
    parser.add_argument("--redis-down", type=float, default=10.0, help="seconds Redis stays stopped (at most 60)")
    parser.add_argument("--pg-down", type=float, default=15.0, help="seconds PostgreSQL stays stopped (at most 60)")
    parser.add_argument("--drain-limit", type=float, default=300.0, help="longest wait for the backlog (at most 900)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) for inspection")
    args = parser.parse_args()
    seconds = max(60.0, min(args.minutes, 30.0) * 60)
    rate = max(1.0, min(args.rate, 30.0))
    redis_down, pg_down = max(1.0, min(args.redis_down, 60.0)), max(1.0, min(args.pg_down, 60.0))
    drain_limit = max(30.0, min(args.drain_limit, 900.0))

    base = Path(tempfile.mkdtemp(prefix="vouch-soak-"))
    base.chmod(0o755)  # the postgres user reaches its cluster inside
    var, logs = base / "var", base / "logs"
    var.mkdir()
    logs.mkdir()
    (var / "metrics").mkdir()
    pg, redis = PrivatePostgres(base), PrivateRedis(base)
    processes: list[Supervised] = []
    try:
        pg.init()
        redis.start()
        web_port = free_port()
        env = _env(var, pg, redis.port, web_port)
        manage = [str(BIN / "python"), "manage.py"]
        for command in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True)
        seeded = subprocess.run([*manage, "shell"], cwd=ROOT, env=env, input=SETUP, text=True, capture_output=True,
                                check=True).stdout  # fmt: skip
        setup = json.loads(seeded.split("SOAK ", 1)[1].splitlines()[0])
        # README, production: what an outage left in the spool is stored before the web server starts.
        subprocess.run([*manage, "spool_replay"], cwd=ROOT, env=env, check=True, capture_output=True)

        celery = [str(BIN / "celery"), "-A", "config"]
        quiet = ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
        web = Supervised("web", [str(BIN / "gunicorn"), "-c", "docs/deploy/gunicorn.conf.py", "config.wsgi"], env, logs)
        text = Supervised("text", [*celery, "worker", "--queues=text", "--hostname=text@soak", "--concurrency=2",
                                   *quiet], env, logs)  # fmt: skip
        media = Supervised("media", [*celery, "worker", "--queues=media", "--hostname=media@soak", "--concurrency=1",
                                     *quiet], env, logs)  # fmt: skip
        sweeper = Supervised("sweeper", [*celery, "worker", "--queues=sweeper", "--hostname=sweeper@soak",
                                         "--concurrency=1", *quiet], env, logs)  # fmt: skip
        beat = Supervised("beat", [*celery, "beat", f"--schedule={var / 'beat-schedule'}", "--loglevel=WARNING"],
                          env, logs)  # fmt: skip
        ingest = Supervised("ingest", [*manage, "analytics_ingest"], env, logs)
        processes = [web, text, media, sweeper, beat, ingest]
        for process in processes:
            process.start()
        wait_for(lambda: _request(web_port, "GET", "/healthz")[0] == 200, 60, "gunicorn")

        run_id = uuid.uuid4().hex[:6]
        stack = Stack(port=web_port, widget=setup["widget"], api_key=setup["key"], run_id=run_id, photo=_photo(),
                      shown=setup["shown"])  # fmt: skip
        faults = [
            (0.20 * seconds, "worker killed", lambda: text.kill(signal.SIGKILL)),
            (0.40 * seconds, f"Redis killed, down {redis_down:g} s", redis.kill),
            (0.40 * seconds + redis_down, None, redis.start),
            (0.65 * seconds, f"PostgreSQL down {pg_down:g} s", pg.stop),
            (0.65 * seconds + pg_down, None, pg.start),
        ]
        phases = ["steady"] + [name for _, name, _ in faults if name]
        starts = [0.0] + [at for at, name, _ in faults if name]
        print(
            f"soak {run_id}: {seconds / 60:g} min at {rate:g} submits/s (+ widget views, beacons, API reads, "
            f"approvals) on "
            f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}; PostgreSQL :{pg.port}, Redis :{redis.port},"
            f" gunicorn :{web_port}; logs in {logs}",
            flush=True,
        )

        # Warm-up, not counted: every process imports, connects and fills its caches.
        for n in range(10):
            submit(stack, 900_000 + n, n % 5 == 0)
            widget_view(stack, n)
            api_read(stack, n)
            beacon(stack, 900_000 + n)  # kept among the sent ids (rollups count them), in no phase
        admin_approve(stack, 0)

        plan = _schedule(seconds, rate)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=256)
        started = time.monotonic()
        pending_faults = list(faults)
        markers = iter(range(1, 10**6))
        counters = {"widget": 0, "beacon": 0, "api": 0, "admin": 0}
        futures = []
        for at, kind in plan:
            while True:
                now = time.monotonic() - started
                while pending_faults and pending_faults[0][0] <= now:
                    _, name, action = pending_faults.pop(0)
                    if name:
                        print(f"  {now:6.1f} s  {name}", flush=True)
                    threading.Thread(target=action, daemon=True).start()
                for process in processes:
                    process.tend()
                if now >= at:
                    break
                time.sleep(min(0.05, at - now))
            phase = sum(1 for s in starts if s <= at) - 1
            due = started + at
            if kind == "submit":
                marker = next(markers)
                photo = marker % 5 == 0
                futures.append(pool.submit(_timed, stack, kind, phase, due, submit, marker, photo, marker=marker))
            else:
                counters[kind] += 1
                work = {"widget": widget_view, "beacon": beacon, "api": api_read, "admin": admin_approve}[kind]
                marker = counters[kind] if kind == "beacon" else None
                futures.append(pool.submit(_timed, stack, kind, phase, due, work, counters[kind], marker=marker))
        while pending_faults:  # a fault scheduled past the last request still happens (and is undone)
            at, name, action = pending_faults.pop(0)
            time.sleep(max(0.0, started + at - time.monotonic()))
            action()
        for future in futures:
            while not future.done():
                for process in processes:
                    process.tend()
                time.sleep(0.1)
        load_end = time.monotonic()
        print(f"  {load_end - started:6.1f} s  load over; draining", flush=True)

        drained = None
        while time.monotonic() - load_end < drain_limit:
            for process in processes:
                process.tend()
            try:
                beacons_waiting = _beacons_buffered(redis.port, var / "analytics-fallback")
                if _waiting(pg.url) == 0 and _spooled(var / "spool")[0] == 0 and beacons_waiting == 0:
                    drained = time.monotonic() - load_end
                    break
            except Exception:  # noqa: BLE001 - the database or Redis may still be starting
                pass
            time.sleep(1)

        rows = _db_rows(pg.url, run_id)
        media_failed = _media_failed(pg.url)
        metrics = _request(web_port, "GET", "/metrics")[1].decode()
        report = _report(stack, rows, phases, starts, seconds, drained, drain_limit, processes)
        report["beacons"] = _beacon_report(stack, _analytics_rows(pg.url, stack.widget), phases, starts, seconds)
        report["media_failed"] = media_failed
        report["spool_waiting"], report["spool_held"] = _spooled(var / "spool")
        print(f"media items that ended failed: {media_failed}; spool: {report['spool_waiting']} waiting, "
              f"{report['spool_held']} held for an operator")  # fmt: skip
        report["metrics_after"] = [
            line for line in metrics.splitlines()
            if line.startswith(("vouch_queue_depth", "vouch_waiting_items", "vouch_oldest_waiting_seconds",
                                "vouch_sweeper_last_run", "vouch_celery_tasks_total", "vouch_spool_depth",
                                "vouch_circuit_open"))
        ]  # fmt: skip
        for line in report["metrics_after"]:
            print("  " + line)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
    finally:
        for process in processes:
            process.stop()
        redis.stop()
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def _report(stack, rows, phases, starts, seconds, drained, drain_limit, processes) -> dict:
    marker_re = re.compile(rf"Order {stack.run_id}-(\d{{6}})\.")
    stored: dict[int, list[str]] = {}
    for text, state in rows:
        match = marker_re.search(text)
        if match:
            stored.setdefault(int(match.group(1)), []).append(state)
    final_states = {"approved", "pending_review", "rejected"}
    table = []
    for index, name in enumerate(phases):
        mine = [o for o in stack.outcomes if o.phase == index]
        submits = [o for o in mine if o.kind == "submit"]
        accepted = {o.marker for o in submits if o.status == 303}
        sent = {o.marker for o in submits}
        in_db = {m for m in sent if m in stored}
        customer = [o for o in mine if o.kind in ("submit", "widget")]
        end = starts[index + 1] if index + 1 < len(starts) else seconds
        table.append(
            {
                "phase": name,
                "window_s": f"{starts[index]:.0f}-{end:.0f}",
                "sent": len(sent),
                "accepted": len(accepted),
                "stored": len(in_db),
                "final": sum(1 for m in in_db if all(s in final_states for s in stored[m])),
                "failed": sum(1 for m in in_db if "failed" in stored[m]),
                "lost": len(accepted - in_db),
                "duplicated": sum(len(stored[m]) - 1 for m in in_db),
                "stored_without_303": len(in_db - accepted),
                "customer_5xx": sum(1 for o in customer if o.status >= 500),
                "no_answer": sum(1 for o in customer if o.status == 0),
                "submit_p50_ms": statistics.median([o.latency_ms for o in submits]) if submits else float("nan"),
                "submit_p95_ms": _pct([o.latency_ms for o in submits], 0.95),
                "widget_p95_ms": _pct([o.latency_ms for o in mine if o.kind == "widget"], 0.95),
                # A document named by the pointer and already deleted by a newer publish.
                "widget_404": sum(1 for o in mine if o.kind == "widget" and o.status == 404),
                "other_5xx": sum(1 for o in mine if o.kind in ("api", "admin") and o.status >= 500),
            }
        )
    print(
        "\n| phase | window (s) | submits sent | accepted (303) | stored | final | lost | duplicated | stored, no 303 "
        "| customer 5xx | no answer | submit p50 / p95 ms | widget p95 ms | widget 404 | API/admin 5xx |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for row in table:
        print(
            f"| {row['phase']} | {row['window_s']} | {row['sent']} | {row['accepted']} | {row['stored']} | "
            f"{row['final']} | {row['lost']} | {row['duplicated']} | {row['stored_without_303']} | "
            f"{row['customer_5xx']} | {row['no_answer']} | {row['submit_p50_ms']:.0f} / {row['submit_p95_ms']:.0f} | "
            f"{row['widget_p95_ms']:.0f} | {row['widget_404']} | {row['other_5xx']} |"
        )
    drain = f"{drained:.0f} s" if drained is not None else f"not drained within {drain_limit:.0f} s"
    restarts = ", ".join(f"{p.name} {p.restarts}" for p in processes)
    kinds = {k: sum(1 for o in stack.outcomes if o.kind == k) for k in ("submit", "widget", "beacon", "api", "admin")}
    print(
        f"\ndrain after the load: {drain}; restarts by the supervisor: {restarts}; requests: {kinds}; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    return {"phases": table, "drain_s": drained, "restarts": {p.name: p.restarts for p in processes}, "requests": kinds}


def _beacon_report(stack, stored, phases, starts, seconds) -> dict:
    """Per phase: beacons sent and accepted (204), the events of accepted beacons found in the raw events
    table (lost: accepted, not stored), and overall whether each stored event is counted once in the rollups
    and each accepted order once among conversions."""
    in_table: dict[str, int] = {}
    for event_id, _kind in stored["events"]:
        in_table[event_id] = in_table.get(event_id, 0) + 1
    table = []
    accepted_all: set[str] = set()
    refused_all: set[str] = set()
    for index, name in enumerate(phases):
        mine = [o for o in stack.outcomes if o.phase == index and o.kind == "beacon"]
        ok = [o for o in mine if o.status == 204]
        accepted = {eid for o in ok for eid, _ in stack.beacons.get(o.marker, [])}
        refused = {eid for o in mine if o.status != 204 for eid, _ in stack.beacons.get(o.marker, [])}
        accepted_all |= accepted
        refused_all |= refused
        end = starts[index + 1] if index + 1 < len(starts) else seconds
        table.append(
            {
                "phase": name,
                "window_s": f"{starts[index]:.0f}-{end:.0f}",
                "sent": len(mine),
                "accepted": len(ok),
                "events_accepted": len(accepted),
                "events_stored": sum(1 for e in accepted if e in in_table),
                "lost": sum(1 for e in accepted if e not in in_table),
                "stored_without_204": sum(1 for e in refused if e in in_table),
                "status_4xx": sum(1 for o in mine if 400 <= o.status < 500),
                "status_5xx": sum(1 for o in mine if o.status >= 500),
                "no_answer": sum(1 for o in mine if o.status == 0),
                "p50_ms": statistics.median([o.latency_ms for o in mine]) if mine else float("nan"),
                "p95_ms": _pct([o.latency_ms for o in mine], 0.95),
            }
        )
    kinds_sent = {eid: kind for events in stack.beacons.values() for eid, kind in events}
    stored_by_kind: dict[str, int] = {}
    for event_id, kind in stored["events"]:
        if event_id in kinds_sent:
            stored_by_kind[kind] = stored_by_kind.get(kind, 0) + 1
    rollup_excess = {
        kind: stored["rollups"][kind] - stored_by_kind.get(kind, 0)
        for kind in stored["rollups"]
        if stored["rollups"][kind] != stored_by_kind.get(kind, 0)
    }
    # Conversions of this run, without the warm-up's (beacons 900000 and up, in no phase).
    orders = [
        o for o in stored["orders"] if o.startswith(f"order-{stack.run_id}-") and int(o.rsplit("-", 1)[1]) < 900_000
    ]
    orders_accepted = {
        f"order-{stack.run_id}-{o.marker}"
        for o in stack.outcomes
        if o.kind == "beacon" and o.status == 204 and any(k == "convert" for _, k in stack.beacons.get(o.marker, []))
    }
    unknown = sum(1 for e in in_table if e not in kinds_sent)  # warm-up beacons are not counted: none are sent
    summary = {
        "events_duplicated_in_table": sum(n - 1 for n in in_table.values() if n > 1),
        "events_stored_not_sent": unknown,
        "rollup_minus_events_by_kind": rollup_excess,
        "conversions_stored": len(orders),
        "conversions_accepted": len(orders_accepted),
        "conversions_duplicated": len(orders) - len(set(orders)),
        "conversions_lost": len(orders_accepted - set(orders)),
    }
    print(
        "\n| phase | window (s) | beacons sent | accepted (204) | events accepted | stored | lost | stored, no 204 "
        "| 4xx | 5xx | no answer | p50 / p95 ms |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for row in table:
        print(
            f"| {row['phase']} | {row['window_s']} | {row['sent']} | {row['accepted']} | {row['events_accepted']} | "
            f"{row['events_stored']} | {row['lost']} | {row['stored_without_204']} | {row['status_4xx']} | "
            f"{row['status_5xx']} | {row['no_answer']} | {row['p50_ms']:.0f} / {row['p95_ms']:.0f} |"
        )
    print(
        f"\nbeacon events: {summary['events_duplicated_in_table']} duplicated in the raw table, rollups minus raw "
        f"events by kind {summary['rollup_minus_events_by_kind'] or 'all 0'}; conversions: "
        f"{summary['conversions_accepted']} accepted, {summary['conversions_stored']} stored, "
        f"{summary['conversions_lost']} lost, {summary['conversions_duplicated']} duplicated"
    )
    return {"phases": table, **summary}


if __name__ == "__main__":
    sys.exit(main())
