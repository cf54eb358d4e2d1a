"""What a file really is, from its first bytes, never from its name or the browser's claim.

Cheap enough to run while the customer waits: it reads 64 bytes, and for photos only the image
header (no pixels are decoded), so a 65-byte "20000x20000" PNG is refused at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from testimonials.media.errors import MediaRejected

ACCEPTED_SUMMARY = "Please send a JPEG, PNG or WebP photo, or an MP4, MOV or WebM video."
# What a field expecting one kind accepts: a photo field never suggests a video format.
EXPECTED_SUMMARY = {
    "image": "Please send a JPEG, PNG or WebP photo.",
    "video": "Please send an MP4, MOV or WebM video.",
}

# ISO-BMFF major brands that are pictures or sound, not video.
_IMAGE_BRANDS = {brand.encode() for brand in "heic heix hevc hevx heim heis hevm hevs mif1 msf1 avif avis".split()}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
# QuickTime files from old cameras may start with one of these atoms instead of "ftyp".
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image" or "video"
    format: str  # jpeg, png, webp | mp4, mov, webm, matroska
    content_type: str
    extension: str
    # ffmpeg demuxer forced for videos, so probing can never pick a playlist or concat reader.
    demuxer: str = ""
    width: int | None = None  # images only: from the header, before any decoding
    height: int | None = None


_IMAGES = {
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
    "webp": ("image/webp", ".webp"),
}


def _read_head(source: str | os.PathLike | IO[bytes], size: int = 64) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            return fh.read(size)
    position = source.tell()
    try:
        source.seek(0)
        return source.read(size)
    finally:
        source.seek(position)


def _refuse_text(head: bytes) -> None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"#extm3u"):
        raise MediaRejected("This file is a streaming playlist, not a video. " + ACCEPTED_SUMMARY, code="playlist")
    if text.startswith(b"ffconcat"):
        raise MediaRejected("This file is a list of other files, not a video. " + ACCEPTED_SUMMARY, code="playlist")
    if text.startswith(b"<"):
        if b"<svg" in text or text.startswith(b"<?xml"):
            raise MediaRejected("SVG images are not accepted. " + ACCEPTED_SUMMARY, code="svg")
        raise MediaRejected("This file is a web page, not a photo or video. " + ACCEPTED_SUMMARY, code="html")


def _video(head: bytes) -> Sniffed | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            raise MediaRejected(
                "HEIC/HEIF and AVIF photos are not accepted yet. On an iPhone, choose Settings > Camera > "
                "Formats > Most Compatible, or send a JPEG, PNG or WebP photo.",
                code="heic",
            )
        if brand in _AUDIO_BRANDS:
            raise MediaRejected("This is a sound recording without a picture. " + ACCEPTED_SUMMARY, code="no_video")
        if brand == b"qt  ":
            return Sniffed("video", "mov", "video/quicktime", ".mov", demuxer="mov")
        return Sniffed("video", "mp4", "video/mp4", ".mp4", demuxer="mov")
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS:
        return Sniffed("video", "mov", "video/quicktime", ".mov", demuxer="mov")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The EBML header names its DocType within the first few dozen bytes.
        if b"webm" in head:
            return Sniffed("video", "webm", "video/webm", ".webm", demuxer="matroska")
        return Sniffed("video", "matroska", "video/x-matroska", ".mkv", demuxer="matroska")
    return None


def _image_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        raise MediaRejected("GIF images are not accepted. " + ACCEPTED_SUMMARY, code="unsupported")
    return None


def sniff(source: str | Path | IO[bytes], *, expect: str | None = None) -> Sniffed:
    """Identify a photo or video by content; raise MediaRejected for anything else.

    `expect` ("image" or "video") refuses a real file of the other kind with a clear reason.
    A file object is read from its start and left at the position it had.
    """
    try:
        return _sniff(source, expect=expect)
    except MediaRejected as refused:
        if expect in EXPECTED_SUMMARY and ACCEPTED_SUMMARY in refused.reason:
            reason = refused.reason.replace(ACCEPTED_SUMMARY, EXPECTED_SUMMARY[expect])
            raise MediaRejected(reason, code=refused.code, field=refused.field) from None
        raise


def _sniff(source: str | Path | IO[bytes], *, expect: str | None) -> Sniffed:
    head = _read_head(source)
    if not head:
        raise MediaRejected("The file is empty.", code="empty")
    found: Sniffed | None = None
    image_format = _image_format(head)
    if image_format:
        from testimonials.media.images import read_image_header  # images imports nothing from here

        width, height = read_image_header(source, image_format)
        content_type, extension = _IMAGES[image_format]
        found = Sniffed("image", image_format, content_type, extension, width=width, height=height)
    else:
        found = _video(head)
    if found is None:
        _refuse_text(head)
        raise MediaRejected("We could not recognise this file. " + ACCEPTED_SUMMARY, code="unsupported")
    if expect and found.kind != expect:
        found_kind, wanted = ("photo", "a video") if found.kind == "image" else ("video", "a photo")
        raise MediaRejected(f"This file is a {found_kind}; please send {wanted} here.", code="wrong_kind")
    return found
