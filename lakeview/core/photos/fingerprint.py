"""A photo's content fingerprint: cheap to compute, stable across renames and moves. Only regular files are read:
a named pipe would block the reader forever and a device never ends."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lakeview.core.photos.files import NotAPhoto, kind_reason, looks_like_image, open_regular
from lakeview.core.photos.gps import GpsPosition

SAMPLE = 64 * 1024


@dataclass(frozen=True)
class PhotoFile:
    path: Path
    size: int
    mtime_ns: int
    fingerprint: str
    gps: GpsPosition | None = None
    """Where it was taken, when the caller read that too (see photo_rows.read_photo)."""


def fingerprint(path: Path | str) -> str:
    """BLAKE2b of the size, the first and the last 64 KiB. A camera's JPEGs differ in both ends (EXIF time,
    entropy-coded data), so this tells photos apart while reading at most 128 KiB of a 10 MB file.
    Raises NotAPhoto for anything but a regular file (without blocking on a FIFO), OSError when unreadable."""
    with open_regular_file(path) as handle:
        return _digest(handle, os.fstat(handle.fileno()).st_size)


def read_photo_file(path: Path | str) -> PhotoFile:
    """Size, modification time and fingerprint of a regular file whose header is an image's; raises NotAPhoto
    (with the reason) for a folder, a FIFO, a device, a link to one of those, or a file that is not an image."""
    with open_regular_file(path) as handle:
        info = os.fstat(handle.fileno())
        head = handle.read(SAMPLE)
        digest = _digest(handle, info.st_size, head)
    if info.st_size == 0:
        raise NotAPhoto(path, "empty file (0 bytes)")
    if not looks_like_image(head[:16]):
        raise NotAPhoto(path, "not an image file (its first bytes are not those of a photo format)")
    return PhotoFile(Path(path), info.st_size, info.st_mtime_ns, digest)


def open_regular_file(path: Path | str) -> BinaryIO:
    """Open for reading only if it is a regular file. The mode is checked before opening (a device is never
    opened) and again on the open descriptor (the name may have been replaced in between); the open itself does
    not wait for a FIFO's writer."""
    info = os.stat(path)
    reason = kind_reason(info.st_mode, os.path.islink(path))
    if reason:
        raise NotAPhoto(path, reason)
    return open_regular(path, lambda mode: NotAPhoto(path, kind_reason(mode) or "not a regular file"))


def _digest(handle: BinaryIO, size: int, head: bytes | None = None) -> str:
    """`head`: the first SAMPLE bytes when the caller has read them already."""
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    digest.update(handle.read(SAMPLE) if head is None else head)
    if size > 2 * SAMPLE:
        handle.seek(size - SAMPLE)
    digest.update(handle.read(SAMPLE))
    return digest.hexdigest()
