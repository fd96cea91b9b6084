"""Thumbnails made with PIL (core.photos.thumbnails): the embedded EXIF thumbnail when it serves, else a reduced
decode; no Qt."""

from __future__ import annotations

import io

from PIL import Image

from lakeview.core.photos.thumbnails import embedded_thumbnail, make_thumbnail

from exif_tools import exif_with_thumbnail


def test_the_embedded_exif_thumbnail_is_used_when_big_enough_and_turned_upright(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (20, 20, 230)).save(buffer, "JPEG")
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (640, 480), (230, 20, 20)).save(path, "JPEG", exif=exif_with_thumbnail(buffer.getvalue(), 6))
    small = make_thumbnail(path, 128)
    assert small.size == (96, 128), "orientation 6 turns the landscape thumbnail upright"
    assert small.getpixel((48, 64))[2] > 200, "the blue embedded thumbnail, not the red photo"
    large = make_thumbnail(path, 320)
    assert large.size == (240, 320)
    assert large.getpixel((120, 160))[0] > 200, "too small an embedded thumbnail: the photo is decoded"


def test_a_letterboxed_exif_thumbnail_is_not_used(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (20, 20, 230)).save(buffer, "JPEG")
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (640, 360), (230, 20, 20)).save(path, "JPEG", exif=exif_with_thumbnail(buffer.getvalue(), 1))
    assert embedded_thumbnail(path, 128) is None
    assert make_thumbnail(path, 128).size == (128, 72)


def test_a_small_photo_is_never_enlarged_and_a_png_has_no_embedded_thumbnail(tmp_path):
    path = tmp_path / "icon.png"
    Image.new("RGBA", (40, 20), (255, 0, 0, 0)).save(path)
    assert embedded_thumbnail(path, 16) is None
    image = make_thumbnail(path, 160)
    assert image.size == (40, 20) and image.mode == "RGB" and image.getpixel((5, 5)) == (255, 255, 255)


def test_a_damaged_or_oversized_embedded_thumbnail_falls_back_to_the_photo(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (20, 20, 230)).save(buffer, "JPEG")
    cut = tmp_path / "cut.jpg"
    Image.new("RGB", (640, 480), (230, 20, 20)).save(cut, "JPEG", exif=exif_with_thumbnail(buffer.getvalue()[:200], 1))
    assert embedded_thumbnail(cut, 128) is None
    assert make_thumbnail(cut, 128).getpixel((64, 48))[0] > 200, "the red photo, decoded"
    crafted = tmp_path / "crafted.jpg"  # an embedded thumbnail bigger than the photo it belongs to
    Image.new("RGB", (64, 48), (230, 20, 20)).save(crafted, "JPEG", exif=exif_with_thumbnail(buffer.getvalue(), 1))
    assert embedded_thumbnail(crafted, 32) is None
    assert make_thumbnail(crafted, 32).size == (32, 24)
