"""Photos with EXIF GPS, written by PIL (Image.Exif with the GPS IFD), and positions a given distance apart."""

from __future__ import annotations

import math
import struct
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from photo_tools import make_photo

MORAINE_LAKE = (51.3217, -116.1860)
METRES_PER_DEGREE = 111_195.0  # of latitude, on the mean Earth radius


def dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(round(seconds * 10_000), 10_000)


def gps_ifd(latitude: float, longitude: float, altitude: float | None = None) -> dict:
    ifd = {1: "N" if latitude >= 0 else "S", 2: dms(latitude), 3: "E" if longitude >= 0 else "W", 4: dms(longitude)}
    if altitude is not None:
        ifd.update({5: b"\x01" if altitude < 0 else b"\x00", 6: IFDRational(round(abs(altitude) * 10), 10)})
    return ifd


def photo_with_gps_ifd(path: Path, ifd: dict, colour=(40, 60, 200), seed: int = 0) -> Path:
    make_photo(path, colour, seed=seed)
    exif = Image.Exif()
    exif.get_ifd(0x8825).update(ifd)
    with Image.open(path) as im:
        im.load()
        im.save(path, "JPEG", exif=exif)
    return path


def photo_at(path: Path, latitude: float, longitude: float, altitude: float | None = None, colour=(40, 60, 200),
             seed: int = 0) -> Path:
    return photo_with_gps_ifd(path, gps_ifd(latitude, longitude, altitude), colour, seed)


def moved(position: tuple[float, float], north_m: float, east_m: float = 0.0) -> tuple[float, float]:
    latitude, longitude = position
    return (latitude + north_m / METRES_PER_DEGREE,
            longitude + east_m / (METRES_PER_DEGREE * math.cos(math.radians(latitude))))


def exif_with_latitude(text: bytes | None) -> bytes:
    """An EXIF block (for PIL's exif=) written byte by byte: IFD0 points at a GPS IFD with LatitudeRef 'N',
    Latitude as ASCII `text` (as some tools write it, which PIL itself will not), or as 51/1, 0/1, 0/1 when
    `text` is None, LongitudeRef 'E' and Longitude 7/1, 0/1, 0/1."""
    gps = 8 + 2 + 12 + 4
    entries = 4
    data = gps + 2 + entries * 12 + 4
    latitude = text if text is not None else struct.pack("<6I", 51, 1, 0, 1, 0, 1)
    latitude_entry = (struct.pack("<HHII", 2, 2, len(text), data) if text is not None
                      else struct.pack("<HHII", 2, 5, 3, data))
    block = (b"II*\x00" + struct.pack("<I", 8)
             + struct.pack("<H", 1) + struct.pack("<HHII", 0x8825, 4, 1, gps) + struct.pack("<I", 0)
             + struct.pack("<H", entries)
             + struct.pack("<HHI2s2x", 1, 2, 2, b"N\x00")
             + latitude_entry
             + struct.pack("<HHI2s2x", 3, 2, 2, b"E\x00")
             + struct.pack("<HHII", 4, 5, 3, data + len(latitude))
             + struct.pack("<I", 0)
             + latitude + struct.pack("<6I", 7, 1, 0, 1, 0, 1))
    return b"Exif\x00\x00" + block
