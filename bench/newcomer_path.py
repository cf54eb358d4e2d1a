"""A new owner's path, timed: from `make run` to their first widget showing on their own page.

    .venv/bin/python bench/newcomer_path.py            # prints the timings (docs/benchmarks.md)

It does what `make run` does (migrate, createcachetable, seed_demo, runstack) in a fresh var/ on a
free port, then drives Debian's chromium as the owner would: log in, open the widget builder, pick
"Carousel", type their site's address as they know it (a page on 127.0.0.2), copy the snippet,
paste it into that page, and wait until the real worker has published the widget and it shows.
The scripted clicks take no thinking time: the figure is the machine's part; a person adds the time
to read and type (about a dozen actions, listed in the output).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
STEPS = [
    "open the printed admin link and log in",
    "Widgets > Add widget",
    "name it, pick Carousel",
    "type the site's address under 'Where it may appear'",
    "Save and continue editing",
    "Copy the snippet",
    "paste it into the page and reload it",
]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def main() -> None:
    var = Path(tempfile.mkdtemp(prefix="vouch-newcomer-"))
    port = free_port()
    inherited = ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "VOUCH_PUBLIC_URL")
    env = {
        **{k: v for k, v in os.environ.items() if k not in inherited},
        "DEBUG": "true",
        "VOUCH_VAR_DIR": str(var),
        "VOUCH_ADDR": f"127.0.0.1:{port}",
        "VOUCH_READ_DOT_ENV": "false",
    }
    started = time.monotonic()
    for step in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["seed_demo"]):
        subprocess.run([PY, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True)
    stack = subprocess.Popen(
        [PY, "manage.py", "runstack", f"--addr=127.0.0.1:{port}", "--concurrency=1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        served = time.monotonic() - started
        widget_shown = owner_path(base, (var / "demo-admin-password.txt").read_text().strip())
        total = time.monotonic() - started
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        stack.wait(timeout=30)
    print(f"make run's steps until the site answers: {served:.1f} s")
    print(f"the owner's scripted path to the widget showing on their page: {widget_shown:.1f} s")
    print(f"total, machine time: {total:.1f} s; a person also reads and types {len(STEPS)} steps:")
    for number, step in enumerate(STEPS, start=1):
        print(f"  {number}. {step}")


def owner_path(base: str, password: str) -> float:
    from playwright.sync_api import sync_playwright

    pages: dict[str, bytes] = {}

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    site = ThreadingHTTPServer(("127.0.0.2", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    address = f"127.0.0.2:{site.server_address[1]}"
    began = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(f"{base}/admin/login/?next=/admin/testimonials/widget/add/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#id_name")
        page.fill("#id_name", "My site")
        page.get_by_label("Carousel").check()
        page.fill("#id_allowed_domains", address)
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        with page.expect_response(lambda response: "/copied/" in response.url):
            page.get_by_role("button", name="Copy the snippet").click()
        snippet = page.evaluate("() => navigator.clipboard.readText()")
        pages["/"] = f"<!doctype html><title>My shop</title><h1>My shop</h1>{snippet}".encode()
        shop = context.new_page()
        while True:  # the worker publishes within a few seconds of the save
            shop.goto(f"http://{address}/")
            try:
                shop.wait_for_function(
                    "() => { const f = document.querySelector('iframe');"
                    " return f && f.getBoundingClientRect().height > 100; }",
                    timeout=2000,
                )
                break
            except Exception:  # noqa: BLE001 - not published yet: reload, as a person would
                time.sleep(0.5)
        browser.close()
    site.shutdown()
    return time.monotonic() - began


if __name__ == "__main__":
    main()
