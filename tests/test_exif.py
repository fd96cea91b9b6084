"""What a photo's header says (core.photos.exif), with EXIF written by PIL; no Qt."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from lakeview.core.photos.exif import PhotoHeader, read_header

from photo_tools import make_photo


def exif_photo(path: Path, size=(120, 80), orientation: int = 1, fmt: str | None = None, **tags) -> Path:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for name, value in tags.items():
        (exif if name in ("Make", "Model", "DateTime") else sub)[ExifTags.Base[name]] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (20, 90, 200)).save(path, format=fmt, exif=exif)
    return path


def test_a_cameras_facts_in_reading_order(tmp_path):
    path = exif_photo(tmp_path / "dslr.jpg", Make="Canon", Model="Canon EOS R5", DateTimeOriginal="2023:07:14 09:12:33",
                      ExposureTime=IFDRational(1, 250), FNumber=IFDRational(28, 10), ISOSpeedRatings=400,
                      FocalLength=IFDRational(35, 1))
    assert read_header(path) == PhotoHeader((120, 80), [
        ("Camera", "Canon EOS R5"), ("Taken", datetime(2023, 7, 14, 9, 12, 33)), ("Exposure", "1/250 s"),
        ("Aperture", "f/2.8"), ("ISO", "400"), ("Focal length", "35 mm")])


def test_the_maker_is_not_said_twice_and_a_model_alone_is_the_camera(tmp_path):
    nikon = exif_photo(tmp_path / "nikon.jpg", Make="NIKON CORPORATION", Model="NIKON Z 6")
    assert read_header(nikon).facts == [("Camera", "NIKON Z 6")]
    phone = exif_photo(tmp_path / "phone.jpg", Make="Google", Model="Pixel 8")
    assert read_header(phone).facts == [("Camera", "Google Pixel 8")]
    padded = exif_photo(tmp_path / "padded.jpg", Model="  X100V\x00\x00")
    assert read_header(padded).facts == [("Camera", "X100V")]


def test_long_exposures_iso_lists_and_odd_numbers(tmp_path):
    path = exif_photo(tmp_path / "night.jpg", ExposureTime=IFDRational(25, 10), FNumber=IFDRational(1, 0),
                      ISOSpeedRatings=(3200, 6400), FocalLength=IFDRational(0, 1))
    assert read_header(path).facts == [("Exposure", "2.5 s"), ("ISO", "3200")]


def test_a_date_that_does_not_parse_is_kept_as_text_and_ifd0s_date_is_the_fallback(tmp_path):
    blank = exif_photo(tmp_path / "blank.jpg", DateTimeOriginal="0000:00:00 00:00:00")
    assert read_header(blank).facts == [("Taken", "0000:00:00 00:00:00")]
    fallback = exif_photo(tmp_path / "fallback.jpg", DateTime="2021:01:02 03:04:05")
    assert read_header(fallback).facts == [("Taken", datetime(2021, 1, 2, 3, 4, 5))]


def test_a_quarter_turned_photo_has_its_upright_size(tmp_path):
    assert read_header(exif_photo(tmp_path / "portrait.jpg", orientation=6)).size == (80, 120)
    assert read_header(exif_photo(tmp_path / "upside.jpg", orientation=3)).size == (120, 80)


def test_a_damaged_exif_block_keeps_the_size_and_says_nothing(tmp_path):
    garbage = tmp_path / "garbage.jpg"
    Image.new("RGB", (40, 30)).save(garbage, exif=b"Exif\x00\x00not a TIFF header")
    assert read_header(garbage) == PhotoHeader((40, 30), [])
    cut = tmp_path / "cut.jpg"
    Image.new("RGB", (40, 30)).save(cut, exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff")
    with pytest.warns(UserWarning, match="Corrupt EXIF"):  # PIL's own word for it; the app's log keeps it
        assert read_header(cut) == PhotoHeader((40, 30), [])


def test_a_file_that_is_not_a_photo_has_no_size(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert read_header(tmp_path / "notes.jpg") == PhotoHeader(None, [])
    assert read_header(tmp_path / "missing.jpg") == PhotoHeader(None, [])


def test_a_png_gives_its_size_without_reading_its_exif(tmp_path):
    png = exif_photo(tmp_path / "shot.png", size=(64, 48), fmt="PNG", Make="Canon", Model="EOS")
    assert read_header(png) == PhotoHeader((64, 48), [])
    assert read_header(make_photo(tmp_path / "plain.webp", size=(50, 20))) == PhotoHeader((50, 20), [])
