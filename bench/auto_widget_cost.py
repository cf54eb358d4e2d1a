"""What the "Best performing (auto)" order adds to a widget view: bytes, and main-thread time in chromium.

    .venv/bin/python bench/auto_widget_cost.py          # about a minute

A throwaway installation (SQLite in a temporary folder) with a brand of 36 testimonials and two wall
widgets of 12 cards that differ only in their order: "featured first" (fixed) and "auto" (its document
carries a pool of 36 cards with their posteriors, from rollups of a week of traffic). For each:
- the document's bytes, raw and gzipped (level 6, as nginx's default), what a view transfers beyond the
  shared, cached frame.js; and frame.js itself with and without the order block;
- main-thread time in Debian's chromium (Playwright, headless): the document served from a fake origin
  with frame.js, loaded 30 times per widget in a fresh page; the sum of the renderer's task durations
  (CDP Performance.getMetrics TaskDuration) from navigation to load, median and p90, plus the order
  code alone (vouchOrder.apply timed in the page on a fresh copy of the list, median of 200).
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOADS = 30


def _django(folder: str):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        VOUCH_VAR_DIR=folder,
        DATABASE_URL=f"sqlite:///{folder}/db.sqlite3",
        VOUCH_READ_DOT_ENV="false",
        CELERY_BROKER_URL="memory://",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _documents() -> tuple[str, str]:
    import random

    from django.utils import timezone

    from testimonials.analytics.models import DailyRollup
    from testimonials.models import Brand, Testimonial, Widget
    from testimonials.widgets.render import widget_render

    rng = random.Random(1)
    brand = Brand.objects.create(name="Bench Coffee", slug="bench", accent_color="#b45309")
    items = [
        Testimonial.objects.create(
            brand=brand,
            author_name=f"Customer {n:02d} Example",
            author_company="Brightloop" if n % 3 else "",
            rating=5 - n % 3,
            text=f"Card {n}: setting this up took ten minutes and our conversion rate went up within a week.",
            consent_given=True,
            consented_at=timezone.now(),
            state=Testimonial.State.APPROVED,
        )
        for n in range(36)
    ]
    fixed = Widget.objects.create(brand=brand, name="Fixed", order=Widget.Order.FEATURED, max_items=12)
    auto = Widget.objects.create(brand=brand, name="Auto", order=Widget.Order.AUTO, max_items=12)
    for item in items:
        views = rng.randint(200, 3000)
        DailyRollup.objects.create(
            brand=brand,
            widget=auto,
            testimonial=item,
            day=timezone.localdate(),
            views=views,
            conversions_last=int(views * rng.uniform(0.005, 0.05)),
        )
    return widget_render(fixed, with_pages=False).document, widget_render(auto, with_pages=False).document


def _serve(document: str):
    # Playwright calls a handler with (route, request): the document comes from this closure.
    def handler(route, _request=None):
        route.fulfill(body=document, content_type="text/html; charset=utf-8")

    return handler


def _browser_times(documents: dict[str, str], frame_js: str) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    from tests.browsers import CHROMIUM, CHROMIUM_ARGS

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name, document in documents.items():
            tasks = []
            for _ in range(LOADS):
                page = browser.new_page()
                page.route(
                    "https://vouch.test/static/widget/frame.js",
                    lambda route: route.fulfill(body=frame_js, content_type="text/javascript"),
                )
                page.route("https://vouch.test/doc.html", _serve(document))
                page.route(re.compile(r"^https://(?!vouch\.test/).*"), lambda route: route.abort())
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                page.goto("https://vouch.test/doc.html", wait_until="load")
                after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                tasks.append((after["TaskDuration"] - before.get("TaskDuration", 0)) * 1000)
                if name == "auto" and len(tasks) == 1:
                    # The draw ran: 12 of the pool's 36 cards are left in the wall.
                    assert page.evaluate("() => document.querySelectorAll('.wall > .card').length") == 12
                page.close()
            tasks.sort()
            results[name] = {
                "median": statistics.median(tasks),
                "p90": tasks[int(len(tasks) * 0.9) - 1],
            }
        # The order code alone, on the 36-card pool, in a page of its own.
        page = browser.new_page()
        bare = documents["auto"].replace('<script src="/static/widget/frame.js" defer></script>', "")
        page.route("https://vouch.test/doc.html", _serve(bare))
        page.route(re.compile(r"^https://(?!vouch\.test/doc).*"), lambda route: route.abort())
        page.goto("https://vouch.test/doc.html", wait_until="load")
        block = re.search(r"/\* order:start[\s\S]*?/\* order:end \*/", frame_js).group(0)
        block = block.replace('if (typeof document !== "undefined") vouchOrder.apply(document, Math.random);', "")
        page.add_script_tag(content=block + "; window.vouchOrder = vouchOrder;")
        results["order_block_ms"] = page.evaluate(
            """() => { const root = document.getElementById('vouch'); const html = root.innerHTML; const times = [];
            for (let i = 0; i < 200; i++) {
              root.innerHTML = html;
              const t = performance.now(); vouchOrder.apply(document, Math.random); times.push(performance.now() - t);
            } times.sort((a, b) => a - b); return times[100]; }"""
        )
        browser.close()
    return results


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        _django(folder)
        fixed, auto = _documents()
        frame_js = (ROOT / "static" / "widget" / "frame.js").read_text()
        without_block = re.sub(r"/\* order:start[\s\S]*?/\* order:end \*/\n", "", frame_js)
        sizes = {
            name: (len(text.encode()), len(gzip.compress(text.encode(), 6)))
            for name, text in (
                ("fixed document", fixed),
                ("auto document", auto),
                ("frame.js", frame_js),
                ("frame.js without the order block", without_block),
            )
        }
        times = _browser_times({"fixed": fixed, "auto": auto}, frame_js)
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print("| file | bytes | gzipped |")
    print("|---|---:|---:|")
    for name, (raw, packed) in sizes.items():
        print(f"| {name} | {raw:,} | {packed:,} |")
    print()
    print(f"| widget | main-thread task time to load, median | p90 | ({LOADS} loads each) |")
    print("|---|---:|---:|---|")
    for name in ("fixed", "auto"):
        print(f"| {name} | {times[name]['median']:.1f} ms | {times[name]['p90']:.1f} ms | |")
    print(f"\nthe order code alone on the 36-card pool: {times['order_block_ms']:.2f} ms (median of 200)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
