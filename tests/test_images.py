"""Opening photos: every mode to RGB, EXIF orientation, reduced JPEG decode, bombs, damaged files, HEIC."""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from photo_tools import make_photo
from lakeview.core.photos import images
from lakeview.core.photos.files import WholeFormat, whole_jpeg_or_png
from lakeview.core.photos.images import ImageLoadError, open_image, read_size, to_rgb

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def close_to(pixel, expected, tol: int = 2) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, expected))


def marked_array(size=(80, 60)) -> np.ndarray:
    """Blue, with a red 10x10 block in the top-left corner, so orientation can be read back."""
    width, height = size
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:] = BLUE
    pixels[:10, :10] = RED
    return pixels


def red_centre(im: Image.Image) -> tuple[float, float]:
    """Where the red block ended up, as (x, y) of its centre."""
    pixels = np.asarray(im).astype(int)
    ys, xs = np.nonzero((pixels[:, :, 0] > 128) & (pixels[:, :, 2] < 128))
    return float(xs.mean()), float(ys.mean())


def with_orientation(path: Path, orientation: int, size=(80, 60), **save) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(marked_array(size)).save(path, exif=exif, **save)
    return path


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR (and its CRC) is patched to claim another size: a cheap decompression bomb."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def fail_if_decoded(monkeypatch) -> None:
    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# ---------------------------------------------------------------- ordinary photos


def test_rgb_jpeg_loads_as_rgb_with_its_colours(tmp_path):
    path = make_photo(tmp_path / "red.jpg", colour=(200, 40, 40), size=(80, 60))
    im = open_image(path)
    assert (im.mode, im.size) == ("RGB", (80, 60))
    mean = np.asarray(im).reshape(-1, 3).mean(0)
    assert close_to(mean, (200, 40, 40), tol=8)
    assert read_size(path) == (80, 60)


def test_string_paths_are_accepted(tmp_path):
    path = make_photo(tmp_path / "p.png", size=(12, 10))
    assert open_image(str(path)).size == (12, 10)
    assert read_size(str(path)) == (12, 10)


def test_to_rgb_returns_rgb_images_unchanged():
    im = Image.new("RGB", (3, 3), (1, 2, 3))
    assert to_rgb(im) is im


# ---------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize(
    "orientation, size, corner",
    [
        (1, (80, 60), (4.5, 4.5)),
        (2, (80, 60), (74.5, 4.5)),   # mirrored left-right
        (3, (80, 60), (74.5, 54.5)),  # upside down
        (4, (80, 60), (4.5, 54.5)),   # mirrored top-bottom
        (5, (60, 80), (4.5, 4.5)),    # transposed
        (6, (60, 80), (54.5, 4.5)),   # camera held rotated: top-left goes top-right
        (7, (60, 80), (54.5, 74.5)),
        (8, (60, 80), (4.5, 74.5)),   # top-left goes bottom-left
    ],
)
def test_exif_orientation_is_applied(tmp_path, orientation, size, corner):
    path = with_orientation(tmp_path / f"o{orientation}.png", orientation)
    im = open_image(path)
    assert (im.mode, im.size) == ("RGB", size)
    assert red_centre(im) == pytest.approx(corner, abs=0.01)


def test_exif_orientation_6_in_a_jpeg_puts_the_top_left_pixel_top_right(tmp_path):
    path = with_orientation(tmp_path / "phone.jpg", 6, quality=95)
    im = open_image(path)
    assert (im.mode, im.size) == ("RGB", (60, 80))
    assert close_to(im.getpixel((55, 4)), RED, tol=20)
    assert close_to(im.getpixel((4, 4)), BLUE, tol=20)
    assert read_size(path) == (80, 60), "read_size reports the stored (header) size"


@pytest.mark.parametrize("orientation", [0, 9])
def test_out_of_range_orientation_leaves_the_photo_as_stored(tmp_path, orientation):
    im = open_image(with_orientation(tmp_path / "odd.png", orientation))
    assert im.size == (80, 60)
    assert red_centre(im) == pytest.approx((4.5, 4.5))


def test_exif_orientation_is_applied_after_a_reduced_decode(tmp_path):
    path = with_orientation(tmp_path / "big.jpg", 6, size=(800, 600), quality=90)
    im = open_image(path, min_side=100)
    assert im.size == (150, 200)  # decoded at 1/4 (200x150), then turned upright
    x, y = red_centre(im)
    assert x > 140 and y < 10


# ---------------------------------------------------------------- modes


def la_image(grey: int, alpha: int) -> Image.Image:
    return Image.new("LA", (4, 4), (grey, alpha))


def rgba_image(colour, alpha: int) -> Image.Image:
    return Image.new("RGBA", (4, 4), (*colour, alpha))


def palette_image(transparent_index: int | None) -> Image.Image:
    im = Image.new("P", (4, 4), 0)
    im.putpalette([200, 40, 40, 40, 180, 60] + [0] * 762)
    im.putpixel((3, 3), 1)
    if transparent_index is not None:
        im.info["transparency"] = transparent_index
    return im


def i16_image(values) -> Image.Image:
    return Image.fromarray(np.array(values, dtype=np.uint16).reshape(1, -1))


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: Image.new("L", (4, 4), 100), (100, 100, 100)),
        (lambda: Image.new("1", (4, 4), 1), WHITE),
        (lambda: la_image(50, 255), (50, 50, 50)),
        (lambda: la_image(50, 0), WHITE),
        (lambda: la_image(0, 128), (127, 127, 127)),
        (lambda: Image.new("La", (4, 4), (0, 0)), WHITE),
        (lambda: rgba_image((10, 20, 30), 255), (10, 20, 30)),
        (lambda: rgba_image((10, 20, 30), 0), WHITE),
        (lambda: rgba_image((0, 0, 0), 128), (127, 127, 127)),
        (lambda: Image.new("PA", (4, 4), (0, 0)), WHITE),
        (lambda: palette_image(None), (200, 40, 40)),
        (lambda: palette_image(0), WHITE),
        (lambda: Image.new("CMYK", (4, 4), (0, 255, 255, 0)), RED),
        (lambda: Image.new("CMYK", (4, 4), (0, 0, 0, 255)), (0, 0, 0)),
        (lambda: Image.new("YCbCr", (4, 4), (255, 128, 128)), WHITE),
    ],
    ids=["L", "1", "LA-opaque", "LA-clear", "LA-half", "La-clear", "RGBA-opaque", "RGBA-clear", "RGBA-half",
         "PA-clear", "P", "P-transparent", "CMYK-red", "CMYK-black", "YCbCr"],
)
def test_every_mode_converts_to_rgb(make, expected):
    rgb = to_rgb(make())
    assert (rgb.mode, rgb.size) == ("RGB", (4, 4))
    assert close_to(rgb.getpixel((0, 0)), expected), rgb.getpixel((0, 0))


def test_palette_transparency_composites_to_white_and_keeps_opaque_colours():
    rgb = to_rgb(palette_image(0))
    assert rgb.getpixel((0, 0)) == WHITE
    assert rgb.getpixel((3, 3)) == (40, 180, 60)


@pytest.mark.parametrize("value, expected", [(65535, 255), (32768, 128), (0, 0), (257, 1), (200, 1)])
def test_16_bit_grey_maps_the_whole_range_onto_8_bits(value, expected):
    rgb = to_rgb(i16_image([value, 65535]))
    assert rgb.getpixel((0, 0)) == (expected,) * 3


def test_a_dark_16_bit_photo_stays_dark():
    # Every value is below 256; on a 16-bit scale that is nearly black, not full 8-bit brightness.
    rgb = to_rgb(i16_image([0, 100, 255]))
    assert [rgb.getpixel((x, 0))[0] for x in range(3)] == [0, 0, 1]


@pytest.mark.parametrize("mode", ["I;16B", "I;16L"])
def test_16_bit_byte_orders(mode):
    im = Image.frombytes(mode, (2, 1), struct.pack(">HH" if mode == "I;16B" else "<HH", 65535, 32768))
    rgb = to_rgb(im)
    assert [rgb.getpixel((x, 0)) for x in range(2)] == [WHITE, (128, 128, 128)]


def test_32_bit_and_float_images_are_scaled_to_8_bits():
    ints = to_rgb(Image.fromarray(np.array([[0, 70000, 140000]], dtype=np.int32)))
    assert [ints.getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]
    floats = to_rgb(Image.fromarray(np.array([[-1.0, 0.0, 1.0]], dtype=np.float32)))
    assert [floats.getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]


def test_cmyk_with_an_unusable_icc_profile_falls_back_to_plain_conversion():
    im = Image.new("CMYK", (4, 4), (0, 255, 255, 0))
    im.info["icc_profile"] = b"not a profile" * 20
    assert to_rgb(im).getpixel((0, 0)) == RED


@pytest.mark.parametrize(
    "name, make, expected",
    [
        ("grey.png", lambda: Image.new("L", (8, 6), 90), (90, 90, 90)),
        ("la.png", lambda: la_image(30, 0).resize((8, 6)), WHITE),
        ("rgba.png", lambda: rgba_image((10, 20, 30), 0).resize((8, 6)), WHITE),
        ("rgba.webp", lambda: rgba_image((10, 20, 30), 0).resize((8, 6)), WHITE),
        ("cmyk.jpg", lambda: Image.new("CMYK", (8, 6), (0, 255, 255, 0)), RED),
        ("cmyk.tif", lambda: Image.new("CMYK", (8, 6), (0, 255, 255, 0)), RED),
        ("i16.png", lambda: i16_image([32768] * 48).resize((8, 6)), (128, 128, 128)),
        ("i16.tif", lambda: i16_image([65535] * 48).resize((8, 6)), WHITE),
        ("bilevel.bmp", lambda: Image.new("1", (8, 6), 0), (0, 0, 0)),
    ],
)
def test_files_in_other_modes_load_as_rgb(tmp_path, name, make, expected):
    path = tmp_path / name
    make().save(path)
    im = open_image(path)
    assert (im.mode, im.size) == ("RGB", (8, 6))
    assert close_to(im.getpixel((0, 0)), expected, tol=4), im.getpixel((0, 0))


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_file_with_a_transparent_index_gives_white_without_a_warning(tmp_path, suffix):
    # filterwarnings = error: PIL's "Palette images with Transparency expressed in bytes" would fail this.
    path = tmp_path / f"pal{suffix}"
    palette_image(None).save(path, transparency=0)
    im = open_image(path)
    assert im.getpixel((0, 0)) == WHITE
    assert im.getpixel((3, 3)) == (40, 180, 60)


def test_png_with_per_entry_palette_alpha_composites_each_entry(tmp_path):
    path = tmp_path / "trns.png"
    im = palette_image(None)
    im.putpixel((1, 1), 2)
    im.putpalette([200, 40, 40, 40, 180, 60, 0, 0, 0] + [0] * 759)
    im.info["transparency"] = bytes([0, 255, 128])  # a tRNS chunk: clear, opaque, half
    im.save(path)
    rgb = open_image(path)
    assert rgb.getpixel((0, 0)) == WHITE
    assert rgb.getpixel((3, 3)) == (40, 180, 60)
    assert close_to(rgb.getpixel((1, 1)), (127, 127, 127))


# ---------------------------------------------------------------- reduced-size JPEG decode


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    Image.new("RGB", (4000, 3000), (30, 90, 160)).save(path, quality=60)
    return path


def test_a_large_jpeg_is_decoded_at_reduced_size(big_jpeg):
    im = open_image(big_jpeg, min_side=256)
    assert (im.mode, im.size) == ("RGB", (500, 375))  # the 1/8 DCT scale, both sides >= 256
    assert close_to(im.getpixel((250, 180)), (30, 90, 160), tol=6)


@pytest.mark.parametrize("min_side, size", [
    (None, (4000, 3000)), (0, (4000, 3000)), (375, (500, 375)), (376, (1000, 750)), (750, (1000, 750)),
    (751, (2000, 1500)), (1500, (2000, 1500)), (1501, (4000, 3000)), (5000, (4000, 3000)),
])
def test_the_decode_scale_keeps_both_sides_at_least_min_side(big_jpeg, min_side, size):
    assert open_image(big_jpeg, min_side=min_side).size == size


def test_a_multi_picture_jpeg_from_a_phone_is_also_decoded_small(tmp_path):
    path = tmp_path / "phone.jpg"
    first, second = Image.new("RGB", (2000, 1500), (200, 0, 0)), Image.new("RGB", (2000, 1500), (0, 0, 200))
    first.save(path, format="MPO", save_all=True, append_images=[second])
    with Image.open(path) as check:
        assert check.format == "MPO"
    im = open_image(path, min_side=200)
    assert im.size == (500, 375)
    assert close_to(im.getpixel((10, 10)), (200, 0, 0), tol=6)


@pytest.mark.parametrize("min_side, size", [(None, (400, 300)), (50, (67, 50)), (100, (134, 100)),
                                             (150, (200, 150)), (151, (400, 300)), (500, (400, 300))])
def test_other_formats_are_reduced_by_a_whole_factor_keeping_both_sides_at_least_min_side(tmp_path, min_side, size):
    path = make_photo(tmp_path / "p.png", size=(400, 300))
    assert open_image(path, min_side=min_side).size == size


@pytest.mark.parametrize("mode, value, expected", [("I;16", 25700, 100), ("1", 1, 255), ("P", 3, 3)])
def test_a_reduced_decode_keeps_the_colours_of_every_mode(tmp_path, mode, value, expected):
    path = tmp_path / "p.png"
    image = Image.new(mode, (400, 300), value)
    if mode == "P":
        image.putpalette([i for i in range(256) for _ in range(3)])
    image.save(path)
    im = open_image(path, min_side=50)
    assert (im.mode, im.size) == ("RGB", (67, 50))
    assert im.getpixel((30, 20)) == (expected,) * 3


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_exif_orientation_is_applied_after_a_reduced_decode_of_other_formats(tmp_path, suffix):
    path = with_orientation(tmp_path / f"turned{suffix}", 6, size=(400, 300))
    im = open_image(path, min_side=50)
    assert im.size == (50, 67)  # reduced by 6 (67x50), then turned upright
    x, y = red_centre(im)
    assert x > 45 and y < 3


def test_a_jpeg_named_png_still_gets_the_reduced_decode(tmp_path):
    path = tmp_path / "really_a_jpeg.png"
    Image.new("RGB", (800, 600), (9, 9, 9)).save(path, format="JPEG")
    assert open_image(path, min_side=100).size == (200, 150)


# ---------------------------------------------------------------- bombs and huge images


def test_a_decompression_bomb_is_refused_before_any_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(60000, 60000))
    assert read_size(path) == (60000, 60000)
    fail_if_decoded(monkeypatch)  # refused from the header alone (how fast: benchmarks/decode_speed.py)
    with pytest.raises(ImageLoadError) as caught:
        open_image(path)
    assert "too large" in caught.value.reason
    assert "60000x60000" in caught.value.reason and "3600 MP" in caught.value.reason
    assert caught.value.path == path


def test_a_gif_claiming_a_huge_screen_is_refused(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    Image.new("P", (1, 1)).save(buffer, "GIF")
    data = bytearray(buffer.getvalue())
    data[6:10] = struct.pack("<HH", 65535, 65535)
    path = tmp_path / "bomb.gif"
    path.write_bytes(bytes(data))
    fail_if_decoded(monkeypatch)
    with pytest.raises(ImageLoadError, match="too large"):
        open_image(path)


def test_max_pixels_is_a_per_call_limit(tmp_path):
    path = make_photo(tmp_path / "p.jpg", size=(100, 100))
    with pytest.raises(ImageLoadError, match="too large: 100x100 px"):
        open_image(path, max_pixels=9_999)
    assert open_image(path, max_pixels=10_000).size == (100, 100)


def test_check_pixel_count():
    images.check_pixel_count("x.jpg", (1000, 1000), max_pixels=1_000_000)
    with pytest.raises(ImageLoadError, match="too large"):
        images.check_pixel_count("x.jpg", (1001, 1000), max_pixels=1_000_000)


def test_photos_above_pils_own_bomb_limit_but_under_lakeviews_are_not_refused(tmp_path):
    # 100 MP is over PIL's default 89 MP warning threshold (an error under filterwarnings = error).
    path = tmp_path / "panorama.png"
    path.write_bytes(png_claiming(10_000, 10_000))
    assert read_size(path) == (10_000, 10_000)
    images.check_pixel_count(path, (10_000, 10_000))


# ---------------------------------------------------------------- damaged, empty, misnamed, unreadable


def test_a_truncated_jpeg_gives_a_clear_error(tmp_path, big_jpeg):
    data = big_jpeg.read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as caught:
        open_image(path)
    assert "corrupt or truncated" in caught.value.reason
    assert read_size(path) == (4000, 3000), "the header alone is intact"


def test_a_png_with_damaged_pixel_data_gives_a_clear_error(tmp_path):
    good = make_photo(tmp_path / "good.png", size=(40, 30)).read_bytes()
    start = good.index(b"IDAT") + 8
    damaged = good[:start] + bytes(200) + good[start + 200:]
    path = tmp_path / "damaged.png"
    path.write_bytes(damaged)
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        open_image(path)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.jpg", b"", "empty file (0 bytes)"),
        ("notes.jpg", b"these are my holiday notes\n" * 10, "not an image"),
        ("noise.png", bytes(range(256)) * 4, "not an image"),
        ("html.jpeg", b"<html><body>404 Not Found</body></html>", "not an image"),
        ("no_suffix", b"plain text", "'no extension'"),
    ],
)
def test_files_that_are_not_images_give_a_clear_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    for load in (open_image, read_size):
        with pytest.raises(ImageLoadError) as caught:
            load(path)
        assert reason in caught.value.reason
        assert caught.value.path == path
        assert str(caught.value) == f"{path}: {caught.value.reason}"


def test_a_png_named_jpg_just_works(tmp_path):
    path = tmp_path / "misnamed.jpg"
    Image.new("RGBA", (8, 6), (0, 0, 0, 0)).save(path, format="PNG")
    im = open_image(path, min_side=4)
    assert (im.mode, im.size) == ("RGB", (8, 6))
    assert im.getpixel((0, 0)) == WHITE


def test_a_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="file not found"):
        open_image(tmp_path / "gone.jpg")
    with pytest.raises(ImageLoadError, match="file not found"):
        read_size(tmp_path / "gone.jpg")


def test_a_folder_named_like_a_photo(tmp_path):
    folder = tmp_path / "IMG_0001.jpg"
    folder.mkdir()
    for load in (open_image, read_size):
        with pytest.raises(ImageLoadError, match="not a regular file"):
            load(folder)


def test_a_nul_byte_in_the_name_is_a_per_file_error(tmp_path):
    for load in (open_image, read_size):
        with pytest.raises(ImageLoadError, match="not a usable file name"):
            load(tmp_path / "bad\x00name.jpg")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="runs as root (or on Windows), where chmod 000 does not stop reading")
def test_an_unreadable_file_gives_permission_denied(tmp_path):
    path = make_photo(tmp_path / "locked.jpg", size=(8, 6))
    path.chmod(0)
    try:
        for load in (open_image, read_size):
            with pytest.raises(ImageLoadError, match="permission denied"):
                load(path)
    finally:
        path.chmod(0o644)


def test_a_photo_in_an_unreadable_folder_is_a_per_file_error(tmp_path, monkeypatch):
    # chmod cannot block root, so make stat() fail the way it does for a locked folder.
    path = make_photo(tmp_path / "locked" / "p.jpg", size=(8, 6))
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(ImageLoadError, match="permission denied"):
        open_image(path)


def test_errors_for_one_file_do_not_stop_the_next(tmp_path):
    good = make_photo(tmp_path / "good.jpg", size=(8, 6))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"junk")
    results = []
    for path in (bad, good, bad, good):
        try:
            results.append(open_image(path).size)
        except ImageLoadError as exc:
            results.append(exc.reason.split(",")[0])
    assert results == ["not an image", (8, 6), "not an image", (8, 6)]


# ---------------------------------------------------------------- HEIC / HEIF


@pytest.fixture(scope="module")
def heic_bytes() -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed")
    buffer = io.BytesIO()
    try:
        pillow_heif.from_pillow(Image.new("RGB", (64, 48), (200, 40, 40))).save(buffer, format="HEIF", quality=90)
    except Exception as exc:  # a pillow-heif build without an HEVC encoder
        pytest.skip(f"pillow-heif cannot encode HEIC here: {exc}")
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["IMG_0001.HEIC", "photo.heif", "from_messenger.jpg"])
def test_heic_photos_load_whatever_their_name(tmp_path, heic_bytes, name):
    path = tmp_path / name
    path.write_bytes(heic_bytes)
    im = open_image(path)
    assert (im.mode, im.size) == ("RGB", (64, 48))
    assert close_to(im.getpixel((32, 24)), (200, 40, 40), tol=10)
    assert read_size(path) == (64, 48)


def test_heif_supported_when_pillow_heif_is_installed(heic_bytes):
    assert images.heif_supported() is True


@pytest.fixture
def heif_opener_not_yet_registered(monkeypatch):
    """A fresh process: pillow-heif is installed, but nothing has registered its opener with PIL yet."""
    monkeypatch.setattr(images, "_heif_state", None)
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "HEIF"])
    monkeypatch.setattr(Image, "OPEN", {k: v for k, v in Image.OPEN.items() if k != "HEIF"})


@pytest.mark.parametrize("load", [open_image, read_size])
def test_a_heic_named_jpg_loads_even_as_the_first_photo_opened(tmp_path, heic_bytes, heif_opener_not_yet_registered,
                                                               load):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(heic_bytes)
    result = load(path)
    assert (result.size if isinstance(result, Image.Image) else result) == (64, 48)


@pytest.fixture
def without_pillow_heif(monkeypatch):
    """As if pillow-heif were not installed: the import fails and PIL has no HEIF opener."""
    monkeypatch.setattr(images, "_heif_state", None)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # makes `import pillow_heif` raise ImportError
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "HEIF"])
    monkeypatch.setattr(Image, "OPEN", {k: v for k, v in Image.OPEN.items() if k != "HEIF"})
    assert images.heif_supported() is False


@pytest.mark.parametrize("name", ["IMG_0001.HEIC", "photo.heif", "from_messenger.jpg"])
def test_without_pillow_heif_heic_photos_get_a_clear_message(tmp_path, heic_bytes, without_pillow_heif, name):
    path = tmp_path / name
    path.write_bytes(heic_bytes)
    for load in (open_image, read_size):
        with pytest.raises(ImageLoadError) as caught:
            load(path)
        assert "HEIC/HEIF photos need the pillow-heif package" in caught.value.reason


def test_without_pillow_heif_other_photos_still_load(tmp_path, without_pillow_heif):
    assert open_image(make_photo(tmp_path / "p.jpg", size=(8, 6))).size == (8, 6)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(20))  # an MP4 named .jpg is not a HEIC
    with pytest.raises(ImageLoadError, match="not an image"):
        open_image(junk)


def test_heif_state_patched_off_gives_the_message_for_heic_names(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "_heif_state", False)
    path = tmp_path / "x.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(20))
    with pytest.raises(ImageLoadError, match="pip install pillow-heif"):
        open_image(path)


# ---------------------------------------------------------------- whole JPEG and PNG files (the grid's fast path)

def test_whole_jpeg_and_png_files_are_told_by_their_bytes_not_their_names(tmp_path):
    assert whole_jpeg_or_png(make_photo(tmp_path / "a.jpg")) is WholeFormat.JPEG
    assert whole_jpeg_or_png(make_photo(tmp_path / "b.png")) is WholeFormat.PNG
    assert whole_jpeg_or_png(make_photo(tmp_path / "jpeg.png", fmt="JPEG")) is WholeFormat.JPEG
    assert whole_jpeg_or_png(make_photo(tmp_path / "c.gif")) is None


def test_a_jpeg_padded_after_its_end_marker_is_still_whole(tmp_path):
    photo = make_photo(tmp_path / "padded.jpg")
    photo.write_bytes(photo.read_bytes() + b"\0" * 2000)  # as some cameras write them
    assert whole_jpeg_or_png(photo) is WholeFormat.JPEG


@pytest.mark.parametrize("name", ["cut.jpg", "cut.png"])
def test_a_truncated_file_is_not_whole(tmp_path, name):
    photo = make_photo(tmp_path / name, size=(200, 150))
    photo.write_bytes(photo.read_bytes()[:-100])
    assert whole_jpeg_or_png(photo) is None


def test_what_is_not_a_readable_regular_file_is_not_whole(tmp_path):
    assert whole_jpeg_or_png(tmp_path / "missing.jpg") is None
    (tmp_path / "folder.jpg").mkdir()
    assert whole_jpeg_or_png(tmp_path / "folder.jpg") is None
    if hasattr(os, "mkfifo"):  # with no writer, an ordinary open would wait forever
        os.mkfifo(tmp_path / "pipe.jpg")
        assert whole_jpeg_or_png(tmp_path / "pipe.jpg") is None
