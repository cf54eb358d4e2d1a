"""The share image: a 1200x630 PNG social preview of one testimonial, drawn with Pillow. A pure library:
plain values in, PNG bytes out (the worker task in services.py feeds it and stores the result).

Hostile text is expected:
- long: wrapped to the width and cut after MAX_LINES with an ellipsis, at a smaller size past 160 characters;
- right to left (Arabic, Hebrew): shaped and ordered by Pillow's raqm layout (libraqm with FriBiDi,
  as Debian's Pillow wheel carries); without raqm, Pillow's basic layout draws the letters unjoined
  and in logical order, and `RTL_SHAPED` says so (docs/influence.md);
- emoji: DejaVu has no colour emoji and nothing outside the Basic Multilingual Plane, so those
  characters are left out, with the joiners and variation selectors of emoji sequences: a brand's
  image never shows a box where a glyph is missing (the public page shows the emoji), and never crashes;
- markup: drawn literally, as letters (nothing here interprets text).
Fonts come from the system (Debian's fonts-dejavu-core); nothing is downloaded.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
MAX_LINES = 5
ELLIPSIS = "…"
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")
RTL_SHAPED = features.check("raqm")
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")
# Zero-width joiner, variation selectors, skin-tone modifiers live on in emoji sequences only.
_INVISIBLE = re.compile("[\u200d\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ShareCard:
    quote: str
    name: str
    brand: str
    rating: int | None = None
    accent: str = "#4f46e5"
    logo: bytes | None = None  # an image file's bytes (the brand's re-encoded logo)


@lru_cache(maxsize=8)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    layout = ImageFont.Layout.RAQM if RTL_SHAPED else ImageFont.Layout.BASIC
    for folder in FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size, layout_engine=layout)
    # Pillow's own scalable font: Latin only, but the image still renders.
    return ImageFont.load_default(size)


def clean(text: str) -> str:
    """One paragraph of drawable text: whitespace folded, control characters and emoji joiners dropped,
    characters the font cannot have (emoji) left out."""
    text = _INVISIBLE.sub("", text or "")
    text = _ASTRAL.sub("", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n")
    return " ".join(text.split())


def is_rtl(text: str) -> bool:
    """The paragraph's direction, by its first strong character (Unicode's rule P2)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _length(face, text: str, direction: str) -> float:
    return face.getlength(text, direction=direction) if RTL_SHAPED else face.getlength(text)


def wrap(text: str, face, width: float, *, max_lines: int = MAX_LINES, direction: str = "ltr") -> list[str]:
    """Lines that fit `width`; past `max_lines` the last line ends with an ellipsis. A word longer than
    a line (a URL, a hostile run of letters) is split where it must."""
    lines: list[str] = []
    words = text.split(" ")
    current = ""
    truncated = False
    while words:
        word = words.pop(0)
        trial = f"{current} {word}" if current else word
        if _length(face, trial, direction) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
            current = ""
            words.insert(0, word)
        else:
            # A single word wider than the line: as many characters as fit.
            cut = max(1, _fit(word, face, width, direction))
            lines.append(word[:cut])
            if word[cut:]:
                words.insert(0, word[cut:])
        if len(lines) == max_lines:
            truncated = bool(current or words)
            break
    if current and len(lines) < max_lines:
        lines.append(current)
    if truncated and lines:
        last = lines[-1]
        while last and _length(face, last + ELLIPSIS, direction) > width:
            last = last[:-1]
        lines[-1] = last.rstrip(" ,.;:") + ELLIPSIS
    return lines


def _fit(word: str, face, width: float, direction: str) -> int:
    low, high = 0, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _length(face, word[:middle], direction) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    match = _HEX.match(hex_colour or "")
    value = match.group(1) if match else "4f46e5"
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _draw_text(draw, xy, text, face, fill, *, direction: str, anchor: str):
    if RTL_SHAPED:
        draw.text(xy, text, font=face, fill=fill, direction=direction, anchor=anchor)
    else:
        draw.text(xy, text, font=face, fill=fill, anchor=anchor)


def render(card: ShareCard) -> bytes:
    """The PNG bytes of the share image."""
    accent = _rgb(card.accent)
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 18), fill=accent)
    draw.rectangle((0, HEIGHT - 110, WIDTH, HEIGHT), fill=(247, 247, 250))

    quote = clean(card.quote)
    rtl = is_rtl(quote)
    direction = "rtl" if rtl else "ltr"
    size = 44 if len(quote) <= 160 else 36
    face = font(size)
    text_width = WIDTH - 2 * MARGIN
    lines = wrap(f"“{quote}”" if quote and not rtl else (f"”{quote}“" if quote else ""), face, text_width,
                 direction=direction)  # fmt: skip
    y = 70
    if card.rating:
        stars = max(0, min(int(card.rating), 5))
        star_face = font(40)
        text = "★" * stars + "☆" * (5 - stars)
        _draw_text(draw, (MARGIN, y), text, star_face, (245, 158, 11), direction="ltr", anchor="la")
        y += 64
    line_height = int(size * 1.35)
    x, anchor = (WIDTH - MARGIN, "ra") if rtl else (MARGIN, "la")
    for line in lines:
        _draw_text(draw, (x, y), line, face, (17, 24, 39), direction=direction, anchor=anchor)
        y += line_height

    name = clean(card.name) or "A customer"
    name_face = font(32, bold=True)
    name_dir = "rtl" if is_rtl(name) else "ltr"
    name_line = wrap(f"— {name}" if name_dir == "ltr" else f"{name} —", name_face, text_width * 0.6, max_lines=1,
                     direction=name_dir)  # fmt: skip
    _draw_text(draw, (MARGIN, HEIGHT - 55), name_line[0], name_face, (17, 24, 39), direction=name_dir, anchor="lm")

    brand_face = font(28, bold=True)
    right = WIDTH - MARGIN
    logo = _logo(card.logo)
    if logo is not None:
        image.paste(logo, (right - logo.width, HEIGHT - 55 - logo.height // 2), logo)
        right -= logo.width + 16
    brand = clean(card.brand)
    brand_dir = "rtl" if is_rtl(brand) else "ltr"
    brand_line = wrap(brand, brand_face, text_width * 0.35, max_lines=1, direction=brand_dir)
    if brand_line:
        _draw_text(draw, (right, HEIGHT - 55), brand_line[0], brand_face, accent, direction=brand_dir, anchor="rm")

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _logo(data: bytes | None) -> Image.Image | None:
    """The brand's logo scaled to 64 px high, or None when there is none or it cannot be read."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            logo = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    logo.thumbnail((240, 64))
    return logo
