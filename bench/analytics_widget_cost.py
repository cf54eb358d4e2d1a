"""What the analytics add to a widget view in the browser: main-thread time inside the widget document
and bytes, measured in the same run against the same widget with analytics off.

    .venv/bin/python bench/analytics_widget_cost.py [--runs 15]

A throwaway installation (SQLite, a wall of 12 testimonials) served by gunicorn; a host page on another
origin embeds it. Debian's chromium (Playwright) loads the page, scrolls the wall into view, waits 3 s
(views fire, a batch goes out), and reads the main-thread time from the Chrome
DevTools Protocol (Performance.getMetrics: TaskDuration and ScriptDuration; the widget's frame runs in
the page's renderer for this, --disable-site-isolation-trials, so the figures are host page + widget).
Analytics on and off alternate run by run: frame.js and embed.js skip every measurement when
navigator.webdriver is true (automated browsers), so "off" is the same page with that flag left as
Playwright sets it, and "on" is the flag cleared by an init script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
SETUP = """
import json, sys
from testimonials.models import Brand, Widget
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory
brand = Brand.objects.create(slug="bench", name="Bench", allowed_domains=[sys.argv[-1]])
for n in range(12):
    TestimonialFactory(brand=brand, author_name=f"Customer {n}", text="Setting this up took ten minutes. " * 4)
widget = Widget.objects.create(brand=brand, name="Wall")
widget_publish(widget_id=widget.id)
sys.stdout.write(json.dumps({"widget": widget.public_id}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vouch-bench-widget-cost-"))
    web_port, host_port = _free_port(), _free_port()
    vouch, host = f"http://localhost:{web_port}", f"http://127.0.0.1:{host_port}"
    env = {
        **os.environ, "DEBUG": "false", "SECRET_KEY": "bench-only-" + "x" * 40, "ALLOWED_HOSTS": "localhost",
        "VOUCH_HTTPS": "false", "VOUCH_READ_DOT_ENV": "false", "VOUCH_VAR_DIR": str(work / "var"),
        "VOUCH_PUBLIC_URL": vouch, "LOG_LEVEL": "WARNING", "SERVE_MEDIA": "true",
        "ANALYTICS_BUFFER_URL": f"spool://{work / 'spool'}",
    }  # fmt: skip
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    web = None
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        out = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", SETUP.replace("sys.argv[-1]", repr(host))],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        widget = json.loads(out.strip().splitlines()[-1])["widget"]
        web = subprocess.Popen(
            [GUNICORN, "config.wsgi", "--workers", "2", "--threads", "4", "--worker-class", "gthread",
             "--bind", f"127.0.0.1:{web_port}", "--log-level", "warning"], cwd=ROOT, env=env,
        )  # fmt: skip
        page_html = (
            f'<!doctype html><meta charset="utf-8"><body style="margin:0"><div style="height:1200px">Shop</div>'
            f'<script src="{vouch}/embed.js" data-widget="{widget}" async></script><div style="height:2000px"></div>'
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page_html)

            def log_message(self, *a):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", host_port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        time.sleep(2)
        from playwright.sync_api import sync_playwright

        results = {"off": [], "on": []}
        beacon_bytes = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                # One renderer for the host page and the widget: one DevTools session then times both.
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-site-isolation-trials",
                    "--disable-features=IsolateOrigins,site-per-process",
                ],
                headless=True,
            )
            for run in range(args.runs * 2):
                mode = "on" if run % 2 else "off"
                context = browser.new_context(viewport={"width": 1280, "height": 800}, user_agent=UA)
                if mode == "on":
                    context.add_init_script(
                        "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false})"
                    )
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.on("request", lambda r: beacon_bytes.append(len(r.post_data_buffer or b""))
                        if r.url.endswith("/events") else None)  # fmt: skip
                page.goto(host + "/")
                page.evaluate("() => window.scrollTo(0, 900)")
                page.wait_for_function(
                    "() => { const f = document.querySelector('iframe'); "
                    "return f && f.getBoundingClientRect().height > 100; }"
                )
                frame = page.locator("iframe").element_handle().content_frame()
                frame.wait_for_selector("[data-t]")
                page.wait_for_timeout(4500)  # views (1 s), then the 4 s batch goes out
                metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                results[mode].append((metrics["TaskDuration"] * 1000, metrics["ScriptDuration"] * 1000))
                context.close()
            browser.close()
        server.shutdown()
        print(f"\nload average {os.getloadavg()[0]:.1f}; {args.runs} runs each, alternating\n")
        print("| host page + widget | main-thread task time, median ms | script time, median ms |")
        print("|---|---:|---:|")
        for mode in ("off", "on"):
            tasks = statistics.median(t for t, _ in results[mode])
            scripts = statistics.median(s for _, s in results[mode])
            print(f"| analytics {mode} | {tasks:.1f} | {scripts:.1f} |")
        if beacon_bytes:
            middle = statistics.median(beacon_bytes)
            print(f"\nbeacon bodies: {len(beacon_bytes)} sent in {args.runs} 'on' views, median {middle:.0f} bytes")
    finally:
        if web and web.poll() is None:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
