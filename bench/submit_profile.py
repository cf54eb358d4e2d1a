"""Where one submit's CPU goes: a profile of text submissions under gunicorn, on loopback.

    .venv/bin/python bench/submit_profile.py --database postgres://postgres@127.0.0.1:5432/vouch_ops \
        --broker redis://127.0.0.1:6379/10 --cache redis://127.0.0.1:6379/10 -n 400

Sets up a throw-away Vouch like bench/submit_latency.py (its database is recreated, its Redis
database flushed) and serves it with gunicorn, one sync worker, through bench/profiled_wsgi.py:
cProfile around each POST. The client fetches the form, then posts a multipart text submission
(as a browser does) one at a time, each followed by a GET /healthz. It prints the median CPU time
of a submit measured in the worker thread (with /healthz as the same-run reference), without the
profiler and then with it (cProfile timed by the thread's CPU clock adds its own overhead), and
the top functions by own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.submit_latency import (
    GUNICORN,
    ROOT,
    SETUP,
    TOKEN_RE,
    Client,
    _env,
    _flush_redis,
    _free_port,
    _manage,
    _multipart,
    _recreate_postgres,
)

FORM = "/c/bench/feedback/"


def _submit(client: Client, body: str) -> None:
    status, page = client.request("GET", FORM)
    token = TOKEN_RE.search(page).group(1).decode()
    fields = {
        "token": token,
        "rating": "5",
        "text": "The onboarding call saved us a week of work, and support answered within the hour.",
        "author_name": "Bench Customer",
        "author_email": "bench@example.com",
        "consent_given": "on",
    }
    if body == "multipart":
        data, content_type = _multipart(fields, empty_files=("avatar", "photo", "video"))
    else:
        data, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
    status, _ = client.request("POST", FORM, data, {"Content-Type": content_type})
    if status != 303:
        raise SystemExit(f"submit answered {status}")


def _serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [GUNICORN, "bench.profiled_wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def _run(env: dict, n: int, body: str, profile: bool) -> tuple[dict[str, float], Path]:
    out = Path(env["VOUCH_VAR_DIR"]) / ("submit.prof" if profile else "plain.prof")
    run_env = {**env, "VOUCH_PROFILE_OUT": str(out)}
    if not profile:
        run_env["VOUCH_PROFILE_OFF"] = "1"
    port = _free_port()
    server = _serve(run_env, port)
    try:
        client = Client(port)
        for _ in range(20):  # warm-up: imports, connections, template caches
            _submit(client, body)
        client.request("GET", "/__profile__?reset=1")
        for _ in range(n):
            _submit(client, body)
            client.request("GET", "/healthz")  # the same-run reference, interleaved
        cpu = json.loads(client.request("GET", "/__profile__")[1])
        return {kind: statistics.median(samples) * 1000 for kind, samples in cpu.items()}, out
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="postgres://... (recreated!); SQLite when omitted")
    parser.add_argument("--broker", help="CELERY_BROKER_URL (flushed!); the filesystem broker when omitted")
    parser.add_argument("--cache", help="CACHE_URL, e.g. redis://127.0.0.1:6379/10 (the rate limit's cache)")
    parser.add_argument("-n", type=int, default=400, help="profiled submissions (bounded to 5000)")
    parser.add_argument("--body", choices=("urlencoded", "multipart"), default="multipart")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    n = max(1, min(args.n, 5000))

    var_dir = Path(tempfile.mkdtemp(prefix="vouch-profile-"))
    env = _env(var_dir, args.database)
    # The rate limit stays on (counted in the cache) at a limit no single run reaches, so its cost is measured.
    env["SUBMIT_RATE_LIMIT"] = "100000/h"
    if args.broker:
        env["CELERY_BROKER_URL"] = args.broker
        _flush_redis(args.broker)
    if args.cache:
        env["CACHE_URL"] = args.cache
    if args.database:
        _recreate_postgres(args.database)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "createcachetable")
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "shell", stdin=SETUP)

    plain, _ = _run(env, n, args.body, profile=False)
    profiled, out = _run(env, n, args.body, profile=True)
    print(
        f"{n} submits ({args.body}), load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus. Median CPU per "
        f"request in the worker thread: submit {plain['submit']:.2f} ms, /healthz {plain['healthz']:.2f} ms "
        f"(submit = {plain['submit'] / plain['healthz']:.1f}x healthz); "
        f"with cProfile on: submit {profiled['submit']:.2f} ms"
    )
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text)
        stats.strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n== top {args.top} by {order} (per-call times over {n} submits) ==")
        report = text.getvalue()
        print("ncalls" + report.split("ncalls", 1)[-1] if "ncalls" in report else report)
    if args.broker:
        _flush_redis(args.broker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
