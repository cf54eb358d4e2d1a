"""The share image renderer, with hostile text: long, right to left, emoji and markup."""

import io

import pytest
from PIL import Image

from testimonials.influence import share_image
from testimonials.influence.share_image import ELLIPSIS, ShareCard, clean, font, is_rtl, render, wrap


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_it_renders_a_1200_by_630_png_in_the_brand_colour():
    png = render(
        ShareCard(quote="Setup took ten minutes.", name="Ada Lovelace", brand="Acme", rating=4, accent="#ff0000")
    )
    image = _open(png)
    assert image.format == "PNG" and image.size == (1200, 630)
    assert image.convert("RGB").getpixel((600, 5)) == (255, 0, 0)  # the accent band


def test_it_wraps_a_long_quote_and_ends_it_with_an_ellipsis():
    face = font(36)
    lines = wrap(" ".join(["word"] * 500), face, 1040, max_lines=5)
    assert len(lines) == 5
    assert lines[-1].endswith(ELLIPSIS)
    assert all(face.getlength(line) <= 1040 for line in lines)
    _open(render(ShareCard(quote="x" * 5000, name="N" * 300, brand="B" * 300)))  # one endless word, no crash


def test_it_splits_a_word_wider_than_a_line():
    lines = wrap("a" * 400, font(44), 300, max_lines=100)
    assert "".join(lines) == "a" * 400 and len(lines) > 1


@pytest.mark.parametrize(
    "text",
    ["هذا المنتج رائع، ساعدنا على الإطلاق في أسبوع واحد فقط", "המוצר הזה מעולה, עזר לנו להשיק תוך שבוע"],
)
def test_it_renders_right_to_left_text_right_aligned(text):
    assert is_rtl(text)
    image = _open(render(ShareCard(quote=text, name="سارة", brand="Acme")))
    # Right-aligned: ink near the right margin of the first text line, none at the left margin.
    grey = image.convert("L")
    row = range(72, 128)  # the first line (no stars)
    right_ink = sum(1 for x in range(1000, 1120) for y in row if grey.getpixel((x, y)) < 128)
    left_ink = sum(1 for x in range(80, 200) for y in row if grey.getpixel((x, y)) < 128)
    assert right_ink > 0 and right_ink > left_ink


def test_it_shapes_arabic_when_raqm_is_there():
    if not share_image.RTL_SHAPED:
        pytest.skip("Pillow without raqm: Arabic is drawn unjoined (docs/influence.md)")
    face = font(44)
    # Joined (shaped) Arabic is narrower than its letters drawn apart in their isolated forms.
    word = "مرحبا"
    assert face.getlength(word, direction="rtl") < sum(face.getlength(ch, direction="rtl") for ch in word)


def test_it_leaves_out_emoji_it_cannot_draw_rather_than_boxes_and_never_crashes():
    text = "Love it 😍👍🏽 👨‍👩‍👧 ❤️ 10/10"
    cleaned = clean(text)
    assert cleaned == "Love it ❤ 10/10"  # U+2764 is in DejaVu; the rest has no glyph there
    _open(render(ShareCard(quote=text, name="🦄 Unicorn", brand="🚀", rating=5)))


def test_it_draws_markup_as_letters():
    text = "<script>alert(1)</script> <b>bold</b> &amp;"
    lines = wrap(clean(text), font(44), 1040)
    assert " ".join(lines) == text
    _open(render(ShareCard(quote=text, name="<i>Eve</i>", brand="<Acme>")))


def test_it_survives_a_broken_logo_and_control_characters():
    png = render(ShareCard(quote="ok\x00\x07 fine", name="A", brand="B", logo=b"not an image"))
    assert _open(png).size == (1200, 630)
    assert clean("ok\x00\x07 fine") == "ok fine"
