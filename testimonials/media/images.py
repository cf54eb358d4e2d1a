"""Photos and avatars (Pillow): any accepted upload becomes clean, re-encoded WebP and JPEG renditions.

Validation is not sanitising: a PNG with HTML appended passes `verify()`. So every rendition is
a fresh encode of decoded pixels, with orientation applied and no metadata (EXIF, GPS, XMP, ICC)
carried over. Originals are never served.
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from testimonials.media.errors import MediaRejected

# Only these decoders may ever run on customer files (Pillow otherwise tries ~40 formats).
ACCEPTED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
# Our own limit, below Pillow's warning threshold (89 M): covers 48-50 MP phone cameras. A decoded
# 50 MP image is ~150 MB of RGB; JPEGs are decoded at a reduced scale (draft) well below that.
MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_SIDE = 16_384

# Rendition boxes (width, height) in CSS-pixel-doubled sizes the widgets and admin use:
# avatar: 192x192 square crop (shown at 32-96 px); card: fits 640x800 (walls, carousels, admin
# previews); full: fits 1600x1600 (lightbox). Never upscaled.
SIZES: dict[str, tuple[int, int]] = {
    "avatar": (192, 192),
    "card": (640, 800),
    "full": (1600, 1600),
    "logo": (640, 240),  # a brand's or form's logo, shown 40-48 px high
}
RENDITIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    "photo": ("card", "full"),
    "avatar": ("avatar",),
    "poster": ("full",),  # renamed "poster" by the video pipeline
    "logo": ("logo",),
}
JPEG_QUALITY = 82
WEBP_QUALITY = 80

_SRGB = ImageCms.createProfile("sRGB")
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}


@dataclass(frozen=True)
class Rendition:
    name: str  # "card.webp"
    format: str  # "webp" or "jpeg"
    content_type: str
    width: int
    height: int
    content: bytes

    @property
    def bytes(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ImageResult:
    width: int  # of the original, as displayed (orientation applied)
    height: int
    format: str  # detected source format: jpeg, png, webp
    renditions: list[Rendition]


Source = str | os.PathLike | IO[bytes]


def _open(source: Source) -> Image.Image:
    """Open the header only, refusing anything but accepted formats and oversized images."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=ACCEPTED_IMAGE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard fired while reading the header; its message holds the pixel count.
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise MediaRejected(
            _too_big_reason(pixels=int(pixels.group(1)) if pixels else 0), code="too_many_pixels"
        ) from exc
    except UnidentifiedImageError as exc:
        raise MediaRejected("This file is not a JPEG, PNG or WebP photo.", code="unsupported") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaRejected("This photo is damaged or incomplete.", code="damaged") from exc
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        # Close only what we opened: closing the image closes a file object handed in too (the
        # customer's upload), and the caller reading it again raised "I/O operation on closed file".
        if isinstance(source, str | os.PathLike):
            image.close()
        raise MediaRejected(_too_big_reason(pixels=width * height), code="too_many_pixels")
    return image


def _too_big_reason(*, pixels: int = 0) -> str:
    size = f" ({math.ceil(pixels / 1_000_000)} megapixels)" if pixels else ""
    return (
        f"This photo is too large{size}. The limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels "
        f"and {MAX_IMAGE_SIDE} pixels on a side."
    )


def read_image_header(source: Source, expected_format: str | None = None) -> tuple[int, int]:
    """Width and height from the header, without decoding pixels; raises MediaRejected. Cheap."""
    position = None if isinstance(source, str | os.PathLike) else source.tell()
    try:
        if position is not None:
            source.seek(0)
        image = _open(source)
        if expected_format and image.format.lower() != expected_format:
            raise MediaRejected("This file is not a JPEG, PNG or WebP photo.", code="unsupported")
        size = image.size
        if isinstance(source, str | os.PathLike):
            image.close()
        return size
    finally:
        if position is not None:
            source.seek(position)


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB pixels so dropping the colour profile does not shift colours (iPhone P3)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    target = "RGBA" if has_alpha else "RGB"
    if image.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        image = image.convert(target)
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, profile, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile is not worth refusing the photo for
    return image.convert(target) if image.mode != target else image


def _clean(image: Image.Image) -> Image.Image:
    """A copy with no metadata at all: encoders must find nothing to carry over."""
    clean = image.copy()
    clean.info = {}
    return clean


def _encode(image: Image.Image, name: str) -> list[Rendition]:
    out = []
    webp = io.BytesIO()
    image.save(webp, "WEBP", quality=WEBP_QUALITY, method=4, exif=b"", xmp=b"")
    out.append(Rendition(f"{name}.webp", "webp", "image/webp", *image.size, webp.getvalue()))
    flat = image
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
    jpeg = io.BytesIO()
    flat.save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, exif=b"")
    out.append(Rendition(f"{name}.jpg", "jpeg", "image/jpeg", *image.size, jpeg.getvalue()))
    return out


def _decode_box(size: tuple[int, int], largest: tuple[int, int], names: tuple[str, ...], orientation: int):
    """The box, in stored (unrotated) pixels, that the largest rendition needs from the decoder."""
    if names == ("avatar",):
        # A square crop needs the short side to cover the box, not the long side to fit in it.
        short = min(size)
        return max(1, size[0] * largest[0] // short), max(1, size[1] * largest[1] // short)
    box = (largest[1], largest[0]) if orientation in _ROTATING_ORIENTATIONS else largest
    # What the rendition will really be (fitted), so draft() may pick a 1/2..1/8 scale that still covers it.
    return _fit(size, box)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - malformed EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _load(image: Image.Image) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except Image.DecompressionBombWarning as exc:
        raise MediaRejected(_too_big_reason(pixels=image.width * image.height), code="too_many_pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise MediaRejected("This photo is damaged or incomplete.", code="damaged") from exc


def make_image_renditions(source: Source, *, kind: str, name_prefix: str = "", use_draft: bool = True) -> ImageResult:
    """Decode once, then encode each rendition of `kind` ("photo", "avatar", "poster") as WebP and JPEG.

    Raises MediaRejected for anything that is not a clean, decodable JPEG/PNG/WebP within limits.
    `use_draft=False` decodes JPEGs at full size (only the benchmark wants that).
    """
    names = RENDITIONS_BY_KIND[kind]
    image = _open(source)
    try:
        source_format = image.format.lower()
        original_size = image.size  # draft() below changes image.size
        icc = image.info.get("icc_profile")
        largest = max((SIZES[n] for n in names), key=lambda box: box[0] * box[1])
        if source_format == "jpeg" and use_draft:
            # EXIF sits in a header segment: read orientation, then let libjpeg decode at 1/2..1/8
            # scale. Shrink before transposing: exif_transpose() first forces a full-size decode.
            orientation = _orientation(image)
            image.draft("RGB", _decode_box(image.size, largest, names, orientation))
        _load(image)
        if source_format != "jpeg" or not use_draft:
            orientation = _orientation(image)
        rotates = orientation in _ROTATING_ORIENTATIONS
        stored_box = _decode_box(image.size, largest, names, orientation)
        base = (
            image.copy()
            if image.size == _fit(image.size, stored_box)
            else image.resize(_fit(image.size, stored_box), Image.Resampling.LANCZOS, reducing_gap=3.0)
        )
    finally:
        image.close()
    if orientation != 1:
        method = {
            2: Image.Transpose.FLIP_LEFT_RIGHT,
            3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270,
            7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90,
        }.get(orientation)
        if method is not None:
            base = base.transpose(method)
    base = _to_srgb(base, icc)
    renditions: list[Rendition] = []
    for name in names:
        box = SIZES[name]
        if name == "avatar":
            derived = ImageOps.fit(base, box, Image.Resampling.LANCZOS) if base.size != box else base
        else:
            target = _fit(base.size, box)
            derived = base if target == base.size else base.resize(target, Image.Resampling.LANCZOS)
        renditions.extend(_encode(_clean(derived), name_prefix or name))
    width, height = (original_size[1], original_size[0]) if rotates else original_size
    return ImageResult(width, height, source_format, renditions)
