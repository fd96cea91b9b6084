"""EXIF blocks for tests, written byte by byte where PIL cannot write them (an embedded thumbnail)."""

from __future__ import annotations

import struct


def exif_with_thumbnail(thumbnail: bytes, orientation: int) -> bytes:
    """A little-endian EXIF block: IFD0 with the orientation, IFD1 pointing at an embedded JPEG."""
    ifd0, ifd1 = 8, 8 + 2 + 12 + 4
    data = ifd1 + 2 + 2 * 12 + 4
    return (b"Exif\x00\x00II*\x00" + struct.pack("<I", ifd0)
            + struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", ifd1)
            + struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, data)
            + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack("<I", 0)
            + thumbnail)
