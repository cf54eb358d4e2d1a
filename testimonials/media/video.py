"""Videos (the ffmpeg shipped by imageio-ffmpeg): inspect, refuse, transcode to web-ready MP4, poster.

ffmpeg reads playlists (HLS, ffconcat) that make it open other files or URLs, and its probing
picks a reader from the content, not the name. So every call here works on a local copy with a
server-chosen name, forces the demuxer found by `sniff`, allows only the `file` protocol, real
containers and a short list of decoders, and runs under a time limit.

The wheel has no ffprobe: facts come from `ffmpeg -i` (which exits 1 but prints the streams).
"""

from __future__ import annotations

import errno
import functools
import logging
import math
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from testimonials.media.errors import MediaRejected, MediaTimeout
from testimonials.media.images import ImageResult, make_image_renditions
from testimonials.media.sniff import sniff

log = logging.getLogger(__name__)

# ffmpeg demuxer names (as -format_whitelist matches them): ISO-BMFF/QuickTime and Matroska/WebM.
FORMAT_WHITELIST = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
# Codecs as ffmpeg names them in `-i` output, and the decoders allowed to run on customer files.
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
AUDIO_CODECS = frozenset(
    {"aac", "opus", "vorbis", "mp3", "alac", "amr_nb", "amr_wb", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_f32le"}
)
DECODER_WHITELIST = (
    "h264,hevc,vp8,vp9,libdav1d,av1,mpeg4,aac,aac_fixed,opus,libopus,vorbis,libvorbis,mp3float,mp3,alac,"
    "amrnb,amrwb,pcm_s16le,pcm_s16be,pcm_s24le,pcm_f32le"
)
MAX_VIDEO_PIXELS = 4096 * 2304  # 4K (UHD and DCI) from any phone; 8K is refused
MAX_VIDEO_SIDE = 4096
MAX_OUTPUT_LONG, MAX_OUTPUT_SHORT = 1280, 720  # "at most 720p", portrait or landscape
MAX_FPS = 60  # slow-motion 120/240 fps clips are played at 60
DURATION_GRACE = 1.0  # a browser recorder stopped at the limit overshoots by a few frames
CRF = 23
PRESET = "veryfast"
AUDIO_BITRATE = "128k"
PROBE_TIMEOUT = 30.0


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    container: str  # mp4, mov, webm, matroska (from content)
    demuxer: str  # the ffmpeg demuxer forced on every later call
    duration: float  # seconds
    width: int  # coded size, before rotation
    height: int
    rotation: int  # 0, 90, 180 or 270
    video_codec: str
    fps: float | None
    audio_codec: str | None
    hdr: bool = False
    sample_aspect: float = 1.0

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as a viewer sees them: rotation and non-square pixels applied."""
        width = round(self.width * self.sample_aspect)
        return (self.height, width) if self.rotation in (90, 270) else (width, self.height)

    @property
    def output_size(self) -> tuple[int, int]:
        """At most 1280x720 (or 720x1280), even sides for yuv420p, never upscaled."""
        width, height = self.display_size
        scale = min(1.0, MAX_OUTPUT_LONG / max(width, height), MAX_OUTPUT_SHORT / min(width, height))
        return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


@dataclass(frozen=True)
class TranscodeResult:
    width: int
    height: int
    duration: float
    bytes: int


# --------------------------------------------------------------------------- running ffmpeg


def _input_args(path: str | os.PathLike, demuxer: str) -> list[str]:
    """Input options that keep ffmpeg to one local file of a real container."""
    return [
        "-protocol_whitelist", "file",
        "-format_whitelist", FORMAT_WHITELIST,
        "-codec_whitelist", DECODER_WHITELIST,
        "-f", demuxer,
        "-i", "file:" + str(Path(path).resolve()),
    ]  # fmt: skip


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
            capture_output=True,
            timeout=timeout,
            check=False,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},  # no proxies, no surprises
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaTimeout(f"ffmpeg took longer than {timeout:.0f} s") from exc


# --------------------------------------------------------------------------- inspection

_DURATION = re.compile(r"Duration: (?:(\d+):(\d{2}):(\d{2}(?:\.\d+)?)|N/A)")
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Video|Audio|Data|Subtitle|Attachment): (\w+)(.*)$", re.MULTILINE)
_SIZE = re.compile(r", (\d{1,6})x(\d{1,6})(?=[\s,\[]|$)")
_SAR = re.compile(r"SAR (\d+):(\d+)")
_FPS = re.compile(r", ([\d.]+)(k?) fps")
_ROTATION = re.compile(r"(?:display ?matrix): rotation of (-?[\d.]+) degrees", re.IGNORECASE)
_HDR_TRANSFERS = ("arib-std-b67", "smpte2084")


# What ffmpeg prints when it cannot write (strerror): the disk failed, not the video. Raised as the
# OSError it is, an outage (testimonials/outages.py): the asset keeps its attempts and is retried later.
_DISK_ERRORS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
}


def _disk_error(detail: str) -> OSError | None:
    for message, code in _DISK_ERRORS.items():
        if message in detail:
            return OSError(code, f"ffmpeg could not write its output: {message}")
    return None


def _damaged(detail: str = "") -> MediaRejected | OSError:
    disk = _disk_error(detail)
    if disk is not None:
        return disk
    if "moov atom not found" in detail:
        return MediaRejected("This video is incomplete: the upload may have been cut off.", code="incomplete")
    return MediaRejected("This video is damaged or in a format we cannot read.", code="damaged")


def _parse(stderr: str) -> dict:
    """The facts we need from `ffmpeg -i` output, or {} if there is no input section."""
    if "Input #0" not in stderr:
        return {}
    duration = None
    if match := _DURATION.search(stderr):
        if match.group(1) is not None:
            duration = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
    facts: dict = {"duration": duration, "video": None, "audio": None}
    for stream in _STREAM.finditer(stderr):
        kind, codec, rest = stream.groups()
        if kind == "Video" and facts["video"] is None and "(attached pic)" not in rest:
            facts["video"] = (codec, rest, stream.end())
        elif kind == "Audio" and facts["audio"] is None:
            facts["audio"] = codec
    return facts


def _measure_duration(path: Path, demuxer: str, timeout: float) -> float | None:
    """Duration by reading every packet without decoding (MediaRecorder WebM has none in its header)."""
    result = _run(
        [*_input_args(path, demuxer), "-map", "0:V:0", "-c", "copy", "-f", "null", "-progress", "pipe:1", "-"],
        timeout=timeout,
    )
    times = re.findall(rb"out_time_us=(\d+)", result.stdout)
    return int(times[-1]) / 1_000_000 if times and result.returncode == 0 else None


def _fmt_seconds(seconds: float) -> str:
    seconds = math.ceil(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def inspect_video(path: str | os.PathLike, *, max_seconds: float, timeout: float = PROBE_TIMEOUT) -> VideoInfo:
    """Read a local video's facts and refuse anything hostile, broken, too long or too large.

    `path` must be a local copy under a name the server chose. Raises MediaRejected (the file is
    the problem) or MediaTimeout.
    """
    path = Path(path)
    sniffed = sniff(path, expect="video")
    result = _run(_input_args(path, sniffed.demuxer), timeout=timeout)
    stderr = result.stderr.decode("utf-8", "replace")
    facts = _parse(stderr)
    if not facts:
        raise _damaged(stderr)
    if facts["video"] is None:
        raise MediaRejected("This file has no picture, only sound. Please send a video.", code="no_video")
    codec, details, end = facts["video"]
    if codec not in VIDEO_CODECS:
        raise MediaRejected(
            f"This video uses the {codec} format, which we do not accept. Phones and browsers record "
            "H.264, HEVC, VP8, VP9 or AV1: please send one of those.",
            code="unsupported_codec",
        )
    size = _SIZE.search(details)
    if not size or int(size.group(1)) < 2 or int(size.group(2)) < 2:
        raise _damaged()
    width, height = int(size.group(1)), int(size.group(2))
    if width * height > MAX_VIDEO_PIXELS or max(width, height) > MAX_VIDEO_SIDE:
        raise MediaRejected(
            f"This video is {width}x{height}; the largest we accept is 4K ({MAX_VIDEO_SIDE} pixels on a side).",
            code="too_many_pixels",
        )
    audio = facts["audio"]
    if audio is not None and audio not in AUDIO_CODECS:
        audio = None  # an exotic soundtrack is dropped rather than decoded
    # Side data (rotation) is printed under the stream, before the next one starts.
    next_stream = stderr.find("Stream #", end)
    rotation_match = _ROTATION.search(stderr[end : next_stream if next_stream != -1 else len(stderr)])
    rotation = round(float(rotation_match.group(1)) / 90) * 90 % 360 if rotation_match else 0
    fps_match = _FPS.search(details)
    fps = float(fps_match.group(1)) * (1000 if fps_match.group(2) else 1) if fps_match else None
    sar = _SAR.search(details)
    sample_aspect = int(sar.group(1)) / int(sar.group(2)) if sar and int(sar.group(1)) and int(sar.group(2)) else 1.0
    duration = facts["duration"]
    if duration is None or duration <= 0:
        duration = _measure_duration(path, sniffed.demuxer, timeout)
    if duration is None or duration <= 0:
        raise _damaged()
    if duration > max_seconds + DURATION_GRACE:
        raise MediaRejected(
            f"This video is {_fmt_seconds(duration)} long; the limit here is {_fmt_seconds(max_seconds)}.",
            code="too_long",
        )
    return VideoInfo(
        container=sniffed.format,
        demuxer=sniffed.demuxer,
        duration=duration,
        width=width,
        height=height,
        rotation=rotation,
        video_codec=codec,
        fps=fps,
        audio_codec=audio,
        hdr=any(transfer in details for transfer in _HDR_TRANSFERS),
        sample_aspect=min(max(sample_aspect, 0.25), 4.0),
    )


# --------------------------------------------------------------------------- transcoding


def transcode_args(src: str | os.PathLike, dst: str | os.PathLike, *, info: VideoInfo) -> list[str]:
    """ffmpeg arguments for the web rendition; the benchmark runs the same ones directly."""
    width, height = info.output_size
    filters = []
    if info.hdr:
        # iPhones record HLG HDR by default: tone-map to SDR or it looks grey and washed out.
        filters.append(
            "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
        )
    if info.fps and info.fps > MAX_FPS + 1:
        filters.append(f"fps={MAX_FPS}")
    # Rotation is applied by ffmpeg's autorotate before these filters, so sizes are display sizes.
    filters += [f"scale={width}:{height}", "setsar=1", "format=yuv420p"]
    audio = (
        ["-map", "0:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2", "-af", "aresample=async=1"]
        if info.has_audio
        else ["-an"]
    )
    return [
        *_input_args(src, info.demuxer),
        "-map", "0:V:0", *audio[:2],
        "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn",
        "-vf", ",".join(filters),
        # Variable frame rate (phones, MediaRecorder) keeps its timestamps: no duplicated frames.
        "-fps_mode", "vfr",
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-profile:v", "high", "-pix_fmt", "yuv420p",
        *audio[2:],
        "-t", f"{info.duration + DURATION_GRACE:.3f}",
        "-max_muxing_queue_size", "1024",
        "-movflags", "+faststart",
        "-f", "mp4", "-y", "file:" + str(Path(dst).resolve()),
    ]  # fmt: skip


def transcode_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    info: VideoInfo,
    progress_callback: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> TranscodeResult:
    """Make the H.264/AAC MP4 (yuv420p, fast start, at most 720p). Reports whole percents as it goes.

    Raises MediaRejected when the file turns out broken while decoding, MediaTimeout past `timeout`
    (default: 60 s plus 4 s per second of video).
    """
    timeout = timeout if timeout is not None else 60 + 4 * info.duration
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1"]
    args += transcode_args(src, dst, info=info)
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty broken input cannot deadlock us
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "")},
        )

        def _kill() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, _kill)
        watchdog.start()
        last = -1
        try:
            for line in process.stdout:
                if line.startswith(b"out_time_us=") and progress_callback and info.duration > 0:
                    try:
                        done = int(line.split(b"=", 1)[1]) / 1_000_000
                    except ValueError:
                        continue  # "N/A" before the first frame
                    percent = max(0, min(99, int(done * 100 / info.duration)))
                    if percent != last:
                        last = percent
                        progress_callback(percent)
            returncode = process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if timed_out.is_set():
            raise MediaTimeout(f"transcoding took longer than {timeout:.0f} s")
        errors.seek(0)
        stderr = errors.read(20_000).decode("utf-8", "replace")
    output = Path(dst)
    if returncode != 0 or not output.exists() or output.stat().st_size == 0:
        log.info("ffmpeg failed (%s): %s", returncode, stderr[-2000:])
        raise _damaged(stderr)
    produced = _output_duration(output)
    # A file cut off after its index plays as a stub: do not publish half a testimonial.
    if produced is None or produced < min(info.duration * 0.9, info.duration - 1.0):
        raise MediaRejected("This video is incomplete: the upload may have been cut off.", code="incomplete")
    if progress_callback:
        progress_callback(100)
    width, height = info.output_size
    return TranscodeResult(width=width, height=height, duration=produced, bytes=output.stat().st_size)


def _output_duration(path: Path) -> float | None:
    facts = _parse(_run(_input_args(path, "mov"), timeout=PROBE_TIMEOUT).stderr.decode("utf-8", "replace"))
    return facts.get("duration")


# --------------------------------------------------------------------------- poster


def _frame_at(video: Path, seconds: float, out: Path) -> bool:
    result = _run(
        [
            "-ss", f"{seconds:.3f}", *_input_args(video, "mov"),
            # The most typical frame of the next dozen, not whatever the seek lands on.
            "-vf", "thumbnail=n=12", "-frames:v", "1", "-update", "1", "-c:v", "png", "-f", "image2", "-y",
            "file:" + str(out.resolve()),
        ],
        timeout=PROBE_TIMEOUT,
    )  # fmt: skip
    if result.returncode != 0:
        disk = _disk_error(result.stderr.decode("utf-8", "replace"))
        if disk is not None:
            raise disk
    return result.returncode == 0 and out.exists() and out.stat().st_size > 0


def _looks_blank(path: Path) -> tuple[bool, float]:
    from PIL import Image, ImageStat

    with Image.open(path, formats=["PNG"]) as image:
        stat = ImageStat.Stat(image.convert("L").reduce(4))
    mean, spread = stat.mean[0], stat.stddev[0]
    # Black (fade-in, lens cap) or a flat colour (a title card) makes a poor poster.
    return mean < 20 or mean > 245 or spread < 6, spread


def make_poster(video: str | os.PathLike, *, duration: float, workdir: str | os.PathLike) -> ImageResult:
    """poster.webp and poster.jpg from a representative frame of the transcoded MP4 (not a black first frame)."""
    video, workdir = Path(video), Path(workdir)
    best: tuple[float, Path] | None = None
    for index, fraction in enumerate((0.25, 0.5, 0.1, 0.75)):
        frame = workdir / f"poster-{index}.png"
        if not _frame_at(video, max(0.0, duration * fraction), frame):
            continue
        blank, spread = _looks_blank(frame)
        if not blank:
            best = (spread, frame)
            break
        if best is None or spread > best[0]:
            best = (spread, frame)
    if best is None:
        raise MediaRejected("We could not take a picture from this video.", code="damaged")
    return make_image_renditions(best[1], kind="poster", name_prefix="poster")


# --------------------------------------------------------------------------- samples


def generate_sample_video(
    path: str | os.PathLike,
    *,
    seconds: float = 3,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    codec: str = "libx264",
    audio_codec: str | None = "aac",
    container: str = "mp4",
    extra: list[str] | None = None,
) -> Path:
    """A test-pattern clip with a tone, from the bundled ffmpeg: for the demo seeder, tests and benchmarks.

    `container` is an ffmpeg muxer (mp4, mov, webm); `codec`/`audio_codec` ffmpeg encoders
    (libx264, libx265, libvpx, libvpx-vp9 | aac, libopus); `extra` goes before the output.
    """
    path = Path(path)
    args = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio_codec:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", audio_codec]
    args += ["-c:v", codec, "-pix_fmt", "yuv420p"]
    if codec in ("libx264", "libx265"):
        args += ["-preset", "ultrafast"]
    if codec == "libx265":
        args += ["-tag:v", "hvc1", "-x265-params", "log-level=error"]
    if codec.startswith("libvpx"):
        args += ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]
    args += [*(extra or []), "-shortest", "-f", container, "-y", "file:" + str(path.resolve())]
    result = _run(args, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode("utf-8", "replace")[-1000:])
    return path
