"""Share images rendered per second on one core (testimonials/influence/share_image.py).

    .venv/bin/python bench/share_images.py            # about 30 seconds

Renders the 1200x630 PNG for a mix of quotes (short, long and truncated, Arabic, Hebrew, emoji,
markup) with a brand logo, in one process pinned to one core (os.sched_setaffinity), for a fixed
number of rounds; reports images per second (median of 5 rounds) and the mean PNG size. Reference
in the same run: Pillow encoding the same blank 1200x630 canvas to PNG alone, so the figure can be
read against the machine's speed at the time.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from testimonials.influence.share_image import HEIGHT, RTL_SHAPED, WIDTH, ShareCard, render  # noqa: E402

QUOTES = [
    "Setup took ten minutes.",
    "Setting this up took ten minutes and our conversion rate on the pricing page went up within a week. " * 4,
    "هذا المنتج رائع، ساعدنا على الإطلاق في أسبوع واحد فقط. فريق الدعم رد خلال ساعة وحل المشكلة",
    "המוצר הזה מעולה, עזר לנו להשיק תוך שבוע. התמיכה ענתה תוך שעה",
    "Love it 😍👍🏽 👨‍👩‍👧 best purchase this year 🚀🚀🚀",
    "<script>alert(1)</script> <b>bold</b> &amp; still fine",
]


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (320, 120), (79, 70, 229, 255)).save(out, format="PNG")
    return out.getvalue()


def main() -> int:
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        print("note: could not pin to one core", file=sys.stderr)
    logo = _logo()
    cards = [
        ShareCard(quote=q, name=f"Customer {i}", brand="Acme Coffee", rating=1 + i % 5, accent="#0f766e", logo=logo)
        for i, q in enumerate(QUOTES)
    ]
    render(cards[0])  # fonts loaded once, as in a long-lived worker
    per_round = 60
    rates, sizes = [], []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(per_round):
            sizes.append(len(render(cards[i % len(cards)])))
        rates.append(per_round / (time.perf_counter() - started))
    blank = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    reference = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(per_round):
            blank.save(io.BytesIO(), format="PNG", compress_level=6)
        reference.append(per_round / (time.perf_counter() - started))
    print(f"load average: {os.getloadavg()[0]:.1f}, raqm layout: {RTL_SHAPED}")
    print(f"share images: {statistics.median(rates):.1f}/s on one core (median of 5 rounds of {per_round})")
    print(f"mean PNG size: {statistics.mean(sizes) / 1024:.0f} KB")
    print(f"reference, blank 1200x630 PNG encode only: {statistics.median(reference):.1f}/s")
    print(f"ratio: {statistics.median(rates) / statistics.median(reference):.2f}x the blank encode")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
