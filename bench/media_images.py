"""Image derivatives per second for 12-megapixel JPEGs, with and without JPEG draft decoding.

    .venv/bin/python bench/media_images.py               # 4 photos x 3 passes per mode
    .venv/bin/python bench/media_images.py --passes 5

A "photo" set is what an uploaded photo costs: decode, orient, convert to sRGB, and encode card
(640 px) and full (1600 px) in WebP and JPEG. An "avatar" set is one 192 px square in both formats,
where decoding dominates and the draft shows most. Photos are 4000x3000 JPEGs (quality 90) with
camera-like content: smooth gradients plus fine noise, EXIF orientation 6 on half of them.
Needs no database.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageFilter  # noqa: E402

from testimonials.media.images import make_image_renditions  # noqa: E402


def camera_like_jpeg(seed: int) -> bytes:
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 18 + seed).filter(ImageFilter.GaussianBlur(0.6))
    image = Image.merge("RGB", (gradient, noise, gradient.rotate(90 * seed, expand=False)))
    exif = Image.Exif()
    if seed % 2:
        exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def run(photos: list[bytes], *, kind: str, use_draft: bool, passes: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per photo. CPU time is this process's own: the work is single-threaded,
    so it equals wall time on an idle machine and stays honest on a busy shared one."""
    times = []
    for _ in range(passes):
        for data in photos:
            start, cpu = time.perf_counter(), time.process_time()
            make_image_renditions(io.BytesIO(data), kind=kind, use_draft=use_draft)
            times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    photos = [camera_like_jpeg(seed) for seed in range(4)]
    print(f"{len(photos)} photos, 4000x3000, {statistics.mean(len(p) for p in photos) / 1e6:.1f} MB each on average")
    # photo: card + full in WebP and JPEG (4 derivatives); avatar: one 192 px square in both (2).
    for kind, count in (("photo", 4), ("avatar", 2)):
        results: dict[bool, list[tuple[float, float]]] = {}
        for round_ in range(2):
            # Interleave modes over two rounds so machine drift hits both alike.
            for use_draft in (True, False) if round_ == 0 else (False, True):
                results.setdefault(use_draft, []).extend(
                    run(photos, kind=kind, use_draft=use_draft, passes=args.passes)
                )
        medians = {}
        for use_draft, label in ((True, "draft (as shipped)"), (False, "full decode")):
            wall = statistics.median(w for w, _ in results[use_draft])
            cpu = medians[use_draft] = statistics.median(c for _, c in results[use_draft])
            print(
                f"{kind:<6} {label:<19} median {cpu * 1000:5.0f} ms CPU ({wall * 1000:5.0f} ms wall) per photo -> "
                f"{1 / cpu:5.1f} photos/s, {count / cpu:5.1f} derivatives/s per core"
            )
        speed_up = medians[False] / medians[True]
        print(f"{kind:<6} draft speed-up: {speed_up:.2f}x CPU (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
