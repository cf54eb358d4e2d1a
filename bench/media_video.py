"""Video pipeline overhead: Vouch's inspect + transcode (with progress parsing) vs the same ffmpeg
arguments run directly, in the same run, on a 30-second 1080p phone-like clip.

    .venv/bin/python bench/media_video.py              # 3 rounds, alternating direct / pipeline
    .venv/bin/python bench/media_video.py --rounds 5 --seconds 30

The clip is made once by the bundled ffmpeg and cached under var/bench/: 1920x1080 at 30 fps,
H.264 with temporal sensor-like noise (synthetic test patterns compress unrealistically well),
AAC sound, a 90-degree display matrix like a phone held upright. Needs no database.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from testimonials.media import video  # noqa: E402


def phone_clip(seconds: int) -> Path:
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"phone-1080p-{seconds}s.mov"
    if clip.exists():
        return clip
    stored = folder / "stored.mov"
    result = video._run(
        [
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}",
            "-vf", "noise=alls=12:allf=t+u", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-f", "mov", "-y", str(stored),
        ],
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-1000:]
    result = video._run(["-display_rotation", "90", "-i", str(stored), "-c", "copy", "-y", str(clip)], timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-1000:]
    stored.unlink()
    return clip


def _cpu() -> float:
    """CPU seconds of this process and its finished children: unlike wall time, barely moved by
    other work on a shared machine."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def direct(clip: Path, out: Path, info: video.VideoInfo) -> tuple[float, float]:
    """The same ffmpeg arguments, without Vouch: no inspection, no progress pipe, no checks."""
    start, cpu = time.perf_counter(), _cpu()
    command = [video.ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
    subprocess.run([*command, *video.transcode_args(clip, out, info=info)], check=True)
    return time.perf_counter() - start, _cpu() - cpu


def pipeline(clip: Path, out: Path, progress: list[int]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu()
    info = video.inspect_video(clip, max_seconds=600)
    video.transcode_video(clip, out, info=info, progress_callback=progress.append)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    clip = phone_clip(args.seconds)
    info = video.inspect_video(clip, max_seconds=600)
    print(
        f"clip: {clip.name}, {clip.stat().st_size / 1e6:.1f} MB, {info.width}x{info.height} {info.video_codec}, "
        f"rotation {info.rotation}, {info.duration:.1f} s -> {info.output_size[0]}x{info.output_size[1]}"
    )
    direct_times, pipeline_times, poster_times, direct_cpu, pipeline_cpu = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp4"
        for round_ in range(args.rounds):
            # Alternate the order so drift on a shared machine hits both sides alike.
            order = ("direct", "pipeline") if round_ % 2 == 0 else ("pipeline", "direct")
            for which in order:
                if which == "direct":
                    wall, cpu = direct(clip, out, info)
                    direct_times.append(wall)
                    direct_cpu.append(cpu)
                else:
                    progress: list[int] = []
                    wall, cpu = pipeline(clip, out, progress)
                    pipeline_times.append(wall)
                    pipeline_cpu.append(cpu)
                    start = time.perf_counter()
                    video.make_poster(out, duration=info.duration, workdir=tmp)
                    poster_times.append(time.perf_counter() - start)
            print(
                f"round {round_ + 1}: direct {direct_times[-1]:.2f} s wall / {direct_cpu[-1]:.2f} s CPU, pipeline "
                f"{pipeline_times[-1]:.2f} s wall / {pipeline_cpu[-1]:.2f} s CPU ({len(progress)} progress updates), "
                f"load average {os.getloadavg()[0]:.1f}"
            )
        size = out.stat().st_size
    d, p, poster = (statistics.median(x) for x in (direct_times, pipeline_times, poster_times))
    dc, pc = statistics.median(direct_cpu), statistics.median(pipeline_cpu)
    print(f"\ndirect ffmpeg   median {d:.2f} s wall ({info.duration / d:.1f}x realtime), {dc:.2f} s CPU")
    print(f"Vouch pipeline  median {p:.2f} s wall ({info.duration / p:.1f}x realtime), {pc:.2f} s CPU")
    print(f"overhead ratio  {p / d:.3f}x wall, {pc / dc:.3f}x CPU  (target <= 1.1x)")
    print(f"poster (WebP+JPEG from the 720p output) median {poster:.2f} s; output {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
