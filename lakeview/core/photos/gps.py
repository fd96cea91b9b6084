"""Where a photo was taken, from its EXIF GPS block: latitude and longitude in degrees (north and east positive),
and altitude in metres where present. Anything a camera or a tool may get wrong (a missing N/S/E/W, a zero
denominator, 95 degrees north, a string where a rational belongs, two numbers instead of three, NaN) means
"no position", never an error."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image

from lakeview.core.photos.images import HEIF_SUFFIXES, heif_supported

_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)
_GPS = ExifTags.GPS
MAX_ALTITUDE_M = 100_000.0
"""Higher than this (or deeper than minus this) is not a photo taken on or near the Earth."""


@dataclass(frozen=True)
class GpsPosition:
    latitude: float
    longitude: float
    altitude: float | None = None
    """Metres above sea level (negative below), or None when the photo does not say."""

    def text(self) -> str:
        """'51.4254° N, 116.1773° W, 1,750 m'"""
        where = (f"{abs(self.latitude):.4f}° {'N' if self.latitude >= 0 else 'S'}, "
                 f"{abs(self.longitude):.4f}° {'E' if self.longitude >= 0 else 'W'}")
        return where if self.altitude is None else f"{where}, {self.altitude:,.0f} m"


def read_gps(path: Path | str) -> GpsPosition | None:
    """The position in the photo's EXIF, or None (no GPS, a damaged header, a format without EXIF)."""
    path = Path(path)
    if path.suffix.lower() in HEIF_SUFFIXES and not heif_supported():
        return None
    try:
        with Image.open(path) as im:
            if im.format not in {"JPEG", "MPO", "TIFF", "WEBP", "HEIF", "AVIF"}:
                return None
            return gps_of(im.getexif())
    except _HEADER_ERRORS:
        return None


def gps_of(exif: Image.Exif) -> GpsPosition | None:
    """The position that the GPS IFD of `exif` gives, or None."""
    try:
        ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except _HEADER_ERRORS:
        return None
    if not isinstance(ifd, dict) or not ifd:
        return None
    latitude = _signed(ifd.get(_GPS.GPSLatitude), ifd.get(_GPS.GPSLatitudeRef), "N", "S", 90.0)
    longitude = _signed(ifd.get(_GPS.GPSLongitude), ifd.get(_GPS.GPSLongitudeRef), "E", "W", 180.0)
    if latitude is None or longitude is None:
        return None
    return GpsPosition(latitude, longitude, _altitude(ifd.get(_GPS.GPSAltitude), ifd.get(_GPS.GPSAltitudeRef)))


def _signed(value, ref, positive: str, negative: str, limit: float) -> float | None:
    """Degrees, minutes, seconds and a hemisphere letter as signed degrees; None for anything malformed. A
    missing hemisphere is not guessed: a photo placed in the wrong hemisphere misleads more than none."""
    ref = _ref(ref)
    if ref not in (positive, negative):
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        return None
    parts = [_rational(part) for part in value]
    if any(part is None or part < 0 for part in parts):
        return None
    degrees, minutes, seconds = parts
    if minutes >= 60 or seconds >= 60:
        return None
    total = degrees + minutes / 60 + seconds / 3600
    if total > limit:
        return None
    return -total if ref == negative else total


def _altitude(value, ref) -> float | None:
    metres = _rational(value)
    if metres is None or metres > MAX_ALTITUDE_M:
        return None
    below = _ref(ref)
    if below not in ("", "\x00", "\x01", "0", "1"):
        return None
    return -metres if below in ("\x01", "1") else metres


def _ref(value) -> str:
    """A reference tag as text: 'N', 'S', 'E', 'W', or the altitude's byte (PIL gives b'\\x00' or 0)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return str(value)
    if not isinstance(value, str):
        return ""
    value = value.strip(" ").rstrip("\x00") or value[:1]
    return value.upper()


def _rational(value) -> float | None:
    """A finite, non-negative number from an IFDRational, an int, a float or a (numerator, denominator) pair;
    None for a string, a zero denominator, NaN or infinity."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        numerator, denominator = value
        if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value) or denominator == 0:
            return None
        value = numerator / denominator
    if isinstance(value, (str, bytes, bool)) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) and number >= 0 else None
