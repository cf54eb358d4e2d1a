"""Photos and avatars: hostile files refused with a reason, good ones re-encoded clean."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from testimonials.media import images
from testimonials.media.errors import MediaRejected
from testimonials.media.images import make_image_renditions
from tests.media import corpus


def _decode(rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.content))
    image.load()
    return image


def test_it_refuses_a_65_byte_png_declaring_20000x20000_without_decoding_it(monkeypatch):
    bomb = corpus.png_bomb()
    assert len(bomb) == 65

    def never_decode(self):
        raise AssertionError("the bomb's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never_decode)
    with pytest.raises(MediaRejected) as refused:
        make_image_renditions(io.BytesIO(bomb), kind="photo")
    assert refused.value.code == "too_many_pixels"
    assert refused.value.reason.startswith("This photo is too large (400 megapixels). The limit is 50 megapixels")


def test_it_turns_pillows_decompression_bomb_warning_into_a_refusal(monkeypatch):
    # Even if our own limit were raised past Pillow's, Pillow's warning must refuse, not just warn.
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 10**10)
    monkeypatch.setattr(images, "MAX_IMAGE_SIDE", 10**6)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(MediaRejected) as refused:
        make_image_renditions(io.BytesIO(corpus.photo((40, 30))), kind="photo")
    assert refused.value.code == "too_many_pixels"


def test_it_reencodes_a_png_with_html_appended_into_clean_images():
    polyglot = corpus.png_with_html()
    assert b"<script>" in polyglot

    result = make_image_renditions(io.BytesIO(polyglot), kind="photo")

    assert {r.name for r in result.renditions} == {"card.webp", "card.jpg", "full.webp", "full.jpg"}
    for rendition in result.renditions:
        assert b"<script" not in rendition.content and b"<html" not in rendition.content
        assert _decode(rendition).format == rendition.format.upper()
    # The JPEG ends at its end-of-image marker: nothing rides along after the picture.
    assert next(r for r in result.renditions if r.name == "card.jpg").content.endswith(b"\xff\xd9")


@pytest.mark.parametrize(
    ("content", "code"),
    [(corpus.SVG, "svg"), (corpus.HTML, "html"), (b"", "empty"), (b"GIF89a\x01\x00\x01\x00", "unsupported")],
    ids=["svg", "html-named-photo-jpg", "zero-bytes", "gif"],
)
def test_it_refuses_files_that_are_not_accepted_photos(tmp_path, content, code):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(MediaRejected) as refused:
        make_image_renditions(path, kind="photo")
    assert refused.value.reason
    # The sniffer used by the upload form gives the same answer as the pipeline.
    from testimonials.media.sniff import sniff

    with pytest.raises(MediaRejected) as sniffed:
        sniff(path)
    assert sniffed.value.code == code


def test_it_refuses_a_truncated_jpeg_as_damaged():
    whole = corpus.photo((900, 700), "JPEG", quality=90)
    with pytest.raises(MediaRejected) as refused:
        make_image_renditions(io.BytesIO(whole[: len(whole) // 2]), kind="photo")
    assert refused.value.code == "damaged"
    assert "damaged or incomplete" in refused.value.reason


def test_it_drops_gps_exif_and_xmp_after_applying_orientation():
    original = corpus.jpeg_with_gps_and_rotation()
    with Image.open(io.BytesIO(original)) as source:
        assert source.getexif().get_ifd(0x8825)  # the test photo really carries GPS
        assert source.size == (400, 200)

    result = make_image_renditions(io.BytesIO(original), kind="photo")

    assert (result.width, result.height) == (200, 400)
    for rendition in result.renditions:
        image = _decode(rendition)
        assert image.size == (200, 400)  # portrait, as the phone showed it
        assert not image.getexif()  # no EXIF at all: no GPS, no orientation, no serial
        assert "xmp" not in image.info and "icc_profile" not in image.info
        for marker in (b"Exif", b"SERIAL-123456", b"Secret Photographer", b"xmpmeta", b"ICC_PROFILE"):
            assert marker not in rendition.content
        # The blue quarter was top-left as stored; turned 90 degrees clockwise it is top-right.
        rgb = image.convert("RGB")
        assert rgb.getpixel((150, 50))[2] > 150 and rgb.getpixel((50, 50))[0] > 150


def test_it_makes_webp_and_jpeg_at_each_size_without_upscaling():
    big = make_image_renditions(io.BytesIO(corpus.photo((3000, 2000), "JPEG")), kind="photo")
    sizes = {r.name: (r.width, r.height) for r in big.renditions}
    assert sizes == {
        "card.webp": (640, 427),
        "card.jpg": (640, 427),
        "full.webp": (1600, 1067),
        "full.jpg": (1600, 1067),
    }
    assert all(r.bytes == len(r.content) > 0 for r in big.renditions)

    small = make_image_renditions(io.BytesIO(corpus.photo((300, 200), "WEBP")), kind="photo")
    assert {(r.width, r.height) for r in small.renditions} == {(300, 200)}


def test_it_crops_avatars_to_a_square():
    result = make_image_renditions(io.BytesIO(corpus.photo((1200, 800), "JPEG")), kind="avatar")
    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("avatar.webp", 192, 192),
        ("avatar.jpg", 192, 192),
    ]


def test_it_keeps_transparency_in_webp_and_flattens_it_on_white_in_jpeg():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    renditions = {r.name: r for r in make_image_renditions(io.BytesIO(out.getvalue()), kind="photo").renditions}
    assert _decode(renditions["card.webp"]).convert("RGBA").getpixel((5, 5))[3] == 0
    assert _decode(renditions["card.jpg"]).convert("RGB").getpixel((5, 5)) == (255, 255, 255)
