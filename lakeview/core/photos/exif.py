"""What a photo's header says, read without decoding its pixels: its upright size and the EXIF facts a person
looks for (camera, when it was taken, exposure, aperture, ISO, focal length, where it was taken)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import ExifTags, Image

from lakeview.core.photos.gps import gps_of
from lakeview.core.photos.images import HEIF_SUFFIXES, heif_supported

UPRIGHT_SWAPPED = {5, 6, 7, 8}  # EXIF orientations that turn the stored image a quarter turn
EXIF_DATE = "%Y:%m:%d %H:%M:%S"
EXIF_IN_HEADER = {"JPEG", "MPO", "TIFF", "WEBP", "HEIF", "AVIF"}
# What PIL raises for a damaged header.
_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)


@dataclass(frozen=True)
class PhotoHeader:
    size: tuple[int, int] | None
    """(width, height) as the photo is shown, upright; None when the header cannot be read."""
    facts: list[tuple[str, str | datetime]] = field(default_factory=list)
    """(caption, value) for each EXIF fact present, in reading order; 'Taken' is a datetime when it parses."""


def read_header(path: Path | str) -> PhotoHeader:
    """The photo's upright size and EXIF facts; a damaged header gives no size and no facts."""
    path = Path(path)
    if path.suffix.lower() in HEIF_SUFFIXES:
        heif_supported()
    try:
        with Image.open(path) as im:
            width, height = im.size
            if im.format not in EXIF_IN_HEADER:  # Pillow finds a PNG's EXIF by reading the whole file
                return PhotoHeader((width, height))
            exif = im.getexif()
            sub = exif.get_ifd(ExifTags.IFD.Exif)
    except _HEADER_ERRORS:
        return PhotoHeader(None)
    if exif.get(ExifTags.Base.Orientation) in UPRIGHT_SWAPPED:
        width, height = height, width
    return PhotoHeader((width, height), exif_facts(exif, sub))


def exif_facts(ifd0: Image.Exif, sub: dict) -> list[tuple[str, str | datetime]]:
    make, model = _text(ifd0.get(ExifTags.Base.Make)), _text(ifd0.get(ExifTags.Base.Model))
    brand = make.split()[0].lower() if make else ""  # "NIKON CORPORATION" + "NIKON Z 6" is a "NIKON Z 6"
    camera = model if brand and model.lower().startswith(brand) else f"{make} {model}".strip()
    taken = _text(sub.get(ExifTags.Base.DateTimeOriginal)) or _text(ifd0.get(ExifTags.Base.DateTime))
    exposure = _number(sub.get(ExifTags.Base.ExposureTime))
    aperture = _number(sub.get(ExifTags.Base.FNumber))
    iso = sub.get(ExifTags.Base.ISOSpeedRatings)
    iso = _number(iso[0] if isinstance(iso, tuple) and iso else iso)
    focal = _number(sub.get(ExifTags.Base.FocalLength))
    position = gps_of(ifd0)
    facts: list[tuple[str, str | datetime]] = [
        ("Camera", camera),
        ("Taken", _exif_date(taken) if taken else ""),
        ("Exposure", "" if exposure is None else
         f"1/{round(1 / exposure)} s" if exposure < 1 else f"{exposure:g} s"),
        ("Aperture", "" if aperture is None else f"f/{round(aperture, 1):g}"),
        ("ISO", "" if iso is None else f"{iso:g}"),
        ("Focal length", "" if focal is None else f"{round(focal, 1):g} mm"),
        ("Position", "" if position is None else position.text()),
    ]
    return [(caption, value) for caption, value in facts if value]


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip("\x00 ").strip() if isinstance(value, str) else ""


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _exif_date(text: str) -> str | datetime:
    try:
        return datetime.strptime(text, EXIF_DATE)
    except ValueError:
        return text
