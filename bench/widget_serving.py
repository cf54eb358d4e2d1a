"""Widget read path and publish latency, measured against references in the same run.

    .venv/bin/python bench/widget_serving.py            # about 3 minutes on 2 cores

Builds a throwaway installation under a temporary folder (SQLite, a brand with 12 testimonials
and a wall widget with JSON-LD), publishes it, then measures with wrk (1 thread, 32 connections,
repeated rounds, median):

1. a page view of the published widget (pointer + document + data) through docs/widgets-nginx.conf,
   the documented production setup, against the same nginx serving plain static files of the
   same sizes with no headers (target: at least 0.8x);
2. the per-view Django JSON endpoint other tools use (one database read and JSON per view),
   gunicorn gthread 2 workers x 4 threads;
3. the embedded default: the same three files through Django's file view, same gunicorn;
4. approve-to-visible latency with a real Celery worker (filesystem broker, and Redis when
   one answers on 127.0.0.1:6379): from the approval's commit to nginx serving a pointer whose
   data shows the new testimonial;
5. bytes transferred for a first view of the 12-testimonial wall, text only, gzip as configured.

nginx and wrk come from Debian (`apt-get install nginx-light wrk`); this script installs them
when missing. Everything binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TEXTS = [
    "Setting this up took ten minutes and our conversion rate on the pricing page went up within a week.",
    "We finally have one place for every review our customers leave. The wall of love is the first thing "
    "new visitors mention.",
    "Clean, fast and it respects our brand colours. I wish the carousel had more layouts, but it does the job.",
    "Recording a video testimonial from my phone was easier than sending a text message.",
    "It works well once it is set up. The first import of our old reviews took longer than I expected.",
    "Our customers trust what other customers say. Since we added the rating badge, fewer people ask if we are legit.",
]


# --------------------------------------------------------------------------- inside Django


def _django(env_settings: str = "config.settings"):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", env_settings)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup_data() -> dict:
    _django()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from testimonials.models import Brand, Membership, Testimonial, Widget
    from testimonials.widgets.services import widget_publish

    brand = Brand.objects.create(
        name="Bench Coffee", slug="bench", allowed_domains=["https://shop.example.com"], accent_color="#b45309"
    )
    user = get_user_model().objects.create_user("bench-owner", password="x")
    Membership.objects.create(user=user, brand=brand, role=Membership.Role.OWNER)
    for n in range(12):
        Testimonial.objects.create(
            brand=brand,
            author_name=f"Customer {n:02d} Example",
            author_title="Head of Growth" if n % 2 else "",
            author_company="Brightloop" if n % 3 else "",
            rating=5 - n % 3,
            text=TEXTS[n % len(TEXTS)],
            public_text=TEXTS[n % len(TEXTS)],
            consent_given=True,
            consented_at=timezone.now(),
            state=Testimonial.State.APPROVED,
        )
    widget = Widget.objects.create(
        brand=brand, name="Wall", layout=Widget.Layout.WALL, schema_kind="Product", schema_item_name="House blend"
    )
    version = widget_publish(widget_id=widget.id)
    return {"public_id": widget.public_id, "version": version}


def approve_latency(nginx: str, public_id: str, rounds: int) -> list[float]:
    """Approve a new testimonial, then poll nginx until the published data shows it."""
    _django()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from testimonials.models import Brand, Testimonial
    from testimonials.services.decisions import testimonial_approve

    brand = Brand.objects.get(slug="bench")
    owner = get_user_model().objects.get(username="bench-owner")
    samples = []
    for n in range(rounds):
        item = Testimonial.objects.create(
            brand=brand,
            author_name=f"Latecomer {n}",
            rating=5,
            text="Approved just now.",
            consent_given=True,
            consented_at=timezone.now(),
            state=Testimonial.State.PENDING_REVIEW,
        )
        started = time.perf_counter()
        testimonial_approve(testimonial=item, actor=owner)  # commits, then enqueues the publish
        deadline = started + 30
        while time.perf_counter() < deadline:
            pointer = json.loads(_get(nginx, f"/widgets/{public_id}/index.json")[1])
            data = _get(nginx, f"/widgets/{public_id}/{pointer['data']}")[1]
            if item.public_id.encode() in data:
                samples.append(time.perf_counter() - started)
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"approval {n} did not become visible within 30 s (is the worker alive?)")
        time.sleep(0.3)
    return samples


# --------------------------------------------------------------------------- outside Django


def _get(base: str, path: str, headers: dict | None = None) -> tuple[dict, bytes]:
    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return dict(response.getheaders()), body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def ensure_tools() -> tuple[str, str]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    wrk = shutil.which("wrk")
    if not nginx or not wrk:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light", "wrk"], check=True, env=env)
        nginx, wrk = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("wrk")
    return nginx, wrk


def wrk_rate(wrk: str, base: str, paths: list[str], *, seconds: int, connections: int, folder: Path) -> float:
    script = folder / "paths.lua"
    quoted = ", ".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
    )
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors while measuring {paths}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def nginx_conf(
    folder: Path, *, port: int, app_port: int, media: Path, static: Path, ref: Path, user: str | None = None
) -> Path:
    """docs/widgets-nginx.conf filled in, inside a minimal main config that runs from `folder`."""
    documented = (ROOT / "docs" / "widgets-nginx.conf").read_text()
    server = (
        documented.replace("@MEDIA_ROOT@", str(media))
        .replace("@STATIC_ROOT@", str(static))
        .replace("@APP@", f"127.0.0.1:{app_port}")
        .replace("@LISTEN@", f"127.0.0.1:{port}")
        .replace("@SERVER_NAME@", "127.0.0.1")
    )
    # The reference: the same nginx serving plain files of the same sizes, no map, no extra headers.
    server = server.replace(
        "    location / {\n",
        f"    location /ref/ {{\n        alias {ref}/;\n        gzip off;\n    }}\n\n    location / {{\n",
        1,
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        ("" if user is None else f"user {user};\n")
        + f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {folder}/tmp-body;
    proxy_temp_path {folder}/tmp-proxy;
    fastcgi_temp_path {folder}/tmp-fastcgi;
    uwsgi_temp_path {folder}/tmp-uwsgi;
    scgi_temp_path {folder}/tmp-scgi;
{server}
}}
"""
    )
    return conf


def median_rounds(measure, rounds: int) -> float:
    return statistics.median(measure() for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--latency-rounds", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--inside", choices=["setup", "latency"], help=argparse.SUPPRESS)
    parser.add_argument("--nginx", help=argparse.SUPPRESS)
    parser.add_argument("--widget", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside == "setup":
        print(json.dumps(setup_data()))
        return
    if args.inside == "latency":
        print(json.dumps(approve_latency(args.nginx, args.widget, args.latency_rounds)))
        return

    # A terminated run still stops its nginx, gunicorn and worker (the finally block below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    nginx_bin, wrk = ensure_tools()
    folder = Path(tempfile.mkdtemp(prefix="vouch-widget-bench-"))
    nginx_port, app_port = free_port(), free_port()
    var = folder / "var"
    env = {
        **os.environ,
        "VOUCH_VAR_DIR": str(var),
        "VOUCH_READ_DOT_ENV": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "DEBUG": "false",
        "VOUCH_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VOUCH_PUBLIC_URL": f"http://127.0.0.1:{nginx_port}",
        "CELERY_BROKER_URL": "filesystem://",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("CACHE_URL", None)
    children: list[subprocess.Popen] = []
    results: dict = {}
    try:
        run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True}
        subprocess.run([PY, "manage.py", "migrate", "--noinput"], **run)
        subprocess.run([PY, "manage.py", "collectstatic", "--noinput"], **run)
        published = json.loads(subprocess.run([PY, __file__, "--inside", "setup"], **run).stdout)
        public_id, version = published["public_id"], published["version"]
        media, static = var / "media", var / "static"
        # nginx workers run as an unprivileged user: let them read (uploads are 0640 by default).
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
        widget_paths = [f"/widgets/{public_id}/index.json", f"/widgets/{public_id}/{version}.html"]
        widget_paths.append(f"/widgets/{public_id}/{version}.json")

        # Reference files: the same sizes as the three widget files.
        ref = folder / "ref"
        ref.mkdir()
        ref_paths = []
        for n, path in enumerate(widget_paths):
            size = (media / path.removeprefix("/")).stat().st_size
            name = f"f{n}{Path(path).suffix}"
            (ref / name).write_bytes(b"x" * size)
            ref_paths.append(f"/ref/{name}")
        results["file_bytes"] = [(media / p.removeprefix("/")).stat().st_size for p in widget_paths]

        conf = nginx_conf(folder, port=nginx_port, app_port=app_port, media=media, static=static, ref=ref)
        subprocess.run([nginx_bin, "-t", "-c", str(conf), "-p", str(folder)], check=True, capture_output=True)
        children.append(subprocess.Popen([nginx_bin, "-c", str(conf), "-p", str(folder)]))
        gunicorn = [
            PY, "-m", "gunicorn", "config.wsgi", "--workers", "2", "--threads", "4", "--worker-class", "gthread",
            "--bind", f"127.0.0.1:{app_port}", "--log-level", "warning",
        ]  # fmt: skip
        children.append(
            subprocess.Popen(gunicorn, cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "bench.widget_settings"})
        )
        wait_port(nginx_port)
        wait_port(app_port)
        nginx_base, app_base = f"http://127.0.0.1:{nginx_port}", f"http://127.0.0.1:{app_port}"
        headers, _ = _get(nginx_base, widget_paths[1])
        assert "frame-ancestors https://shop.example.com" in headers["Content-Security-Policy"], headers
        for path in widget_paths:
            _get(app_base, path)
        _get(app_base, f"/bench/widget-json/{public_id}")

        def rate(base, paths):
            return wrk_rate(wrk, base, paths, seconds=args.seconds, connections=args.connections, folder=folder)

        # Interleaved rounds, so drift on a shared machine hits every variant alike.
        samples: dict[str, list[float]] = {"widget": [], "reference": [], "django_json": [], "embedded": []}
        for _ in range(args.rounds):
            samples["widget"].append(rate(nginx_base, widget_paths) / 3)
            samples["reference"].append(rate(nginx_base, ref_paths) / 3)
            samples["django_json"].append(rate(app_base, [f"/bench/widget-json/{public_id}"]))
            samples["embedded"].append(rate(app_base, widget_paths) / 3)
        views = {name: statistics.median(values) for name, values in samples.items()}
        results["views_per_second"] = views
        results["ratio_widget_to_reference"] = views["widget"] / views["reference"]
        results["ratio_widget_to_django_json"] = views["widget"] / views["django_json"]
        results["ratio_widget_to_embedded"] = views["widget"] / views["embedded"]

        # Bytes of a first view, text only, as a browser with gzip would receive them.
        gz = {"Accept-Encoding": "gzip"}
        first_view = ["/embed.js", widget_paths[0], widget_paths[1]]
        doc = _get(nginx_base, widget_paths[1])[1].decode()
        first_view.append(re.search(r'<script src="([^"]+)"', doc).group(1))  # frame.js
        first_view.append(widget_paths[2])  # the data, fetched for JSON-LD
        results["first_view"] = {
            path.rsplit("/", 1)[-1]: {"gzip": len(_get(nginx_base, path, gz)[1]), "raw": len(_get(nginx_base, path)[1])}
            for path in first_view
        }
        results["first_view_total"] = {
            kind: sum(v[kind] for v in results["first_view"].values()) for kind in ("gzip", "raw")
        }

        # Approve-to-visible with a real worker: the embedded filesystem broker, then Redis if present.
        brokers = {"filesystem": "filesystem://"}
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode == 0:
            brokers["redis"] = "redis://127.0.0.1:6379/14"
        results["approve_to_visible_seconds"] = {}
        for name, url in brokers.items():
            worker_env = {**env, "CELERY_BROKER_URL": url}
            worker_log = folder / f"worker-{name}.log"
            worker = subprocess.Popen(
                [PY, "-m", "celery", "-A", "config", "worker", "--queues=text", "--concurrency=1",
                 "--without-gossip", "--without-mingle", "--loglevel=INFO", f"--hostname=bench-{name}@localhost"],
                cwd=ROOT, env=worker_env, stdout=worker_log.open("w"), stderr=subprocess.STDOUT,
            )  # fmt: skip
            children.append(worker)
            deadline = time.monotonic() + 60
            while " ready." not in worker_log.read_text():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {name} worker did not start:\n{worker_log.read_text()[-3000:]}")
                time.sleep(0.2)
            latency = subprocess.run(
                [PY, __file__, "--inside", "latency", "--nginx", nginx_base, "--widget", public_id,
                 "--latency-rounds", str(args.latency_rounds)],
                cwd=ROOT, env=worker_env, capture_output=True, text=True,
            )  # fmt: skip
            if latency.returncode:
                raise RuntimeError(f"{latency.stderr[-2000:]}\nworker log:\n{worker_log.read_text()[-3000:]}")
            latency = latency.stdout
            values = sorted(json.loads(latency.strip().splitlines()[-1]))
            results["approve_to_visible_seconds"][name] = {
                "p50": statistics.median(values),
                "p95": values[max(0, round(0.95 * len(values)) - 1)],
                "max": values[-1],
                "n": len(values),
            }
            worker.terminate()
            worker.wait(timeout=20)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
        shutil.rmtree(folder, ignore_errors=True)

    results["machine"] = {
        "cores": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "wrk": f"-t1 -c{args.connections} -d{args.seconds}s",
    }
    results["rounds"] = args.rounds
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
