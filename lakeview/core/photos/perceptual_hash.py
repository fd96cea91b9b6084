"""A photo's perceptual hash (ImageHash's pHash of the upright photo, decoded small) and its EXIF capture time,
kept per photo fingerprint in a small SQLite cache under `cache_dir()`, so hashing the same photos again decodes
nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

import imagehash

from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.paths import cache_dir
from lakeview.core.photos.exif import read_header
from lakeview.core.photos.files import NotAPhoto
from lakeview.core.photos.fingerprint import fingerprint
from lakeview.core.photos.images import ImageLoadError, open_image

DECODE_SIDE = 64
"""pHash reads a 32x32 grey image: a JPEG decoded at its smallest DCT scale above this is plenty."""
CACHE_NAME = "photo_hashes.sqlite"
_SIGN = 1 << 63


@dataclass(frozen=True)
class PhotoHash:
    phash: int
    """The 64-bit pHash as an unsigned integer."""
    taken: float | None = None
    """EXIF capture time (camera clock, seconds), or None when the photo does not say."""


@dataclass
class HashPass:
    hashes: list[PhotoHash | None]
    """One per photo, in the order asked; None for a photo that could not be read."""
    unreadable: dict[str, str]
    """Why each photo that could not be hashed could not, by path."""
    decoded: int = 0
    """How many photos were decoded (the others came from the cache)."""


def photo_hash(path: Path | str) -> PhotoHash:
    """The photo's pHash, upright (EXIF orientation applied), and its capture time; raises ImageLoadError."""
    image = open_image(path, min_side=DECODE_SIDE)
    value = int(str(imagehash.phash(image)), 16)
    taken = dict(read_header(path).facts).get("Taken")
    return PhotoHash(value, taken.timestamp() if isinstance(taken, datetime) else None)


class HashCache:
    """pHash and capture time per photo fingerprint; a cache: losing the file costs one decode per photo."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir() / CACHE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS hashes (fingerprint TEXT PRIMARY KEY, phash INTEGER NOT NULL, "
                         "taken REAL)")

    def get_many(self, fingerprints: Iterable[str]) -> dict[str, PhotoHash]:
        wanted = list(dict.fromkeys(fingerprints))
        found: dict[str, PhotoHash] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._db.execute(f"SELECT fingerprint, phash, taken FROM hashes WHERE fingerprint IN "
                                    f"({','.join('?' * len(chunk))})", chunk)
            found.update({fp: PhotoHash(value % (1 << 64), taken) for fp, value, taken in rows})
        return found

    def put_many(self, hashes: dict[str, PhotoHash]) -> None:
        rows = [(fp, (h.phash ^ _SIGN) - _SIGN, h.taken) for fp, h in hashes.items()]  # SQLite's are signed
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def hash_photos(paths: Sequence[Path | str], fingerprints: Sequence[str | None] | None = None,
                cache: HashCache | None = None, progress: ProgressFn = no_progress,
                should_stop: ShouldStopFn = never_stop) -> HashPass:
    """The hash of each photo: from the cache by fingerprint (computed here where not given), else decoded and
    stored; `progress` counts the photos, those found in the cache first. A photo that cannot be read is given
    its reason and the pass goes on; raises Stopped when asked."""
    own_cache = cache is None
    cache = cache or HashCache()
    try:
        return _hash_photos(list(paths), fingerprints, cache, progress, should_stop)
    finally:
        if own_cache:
            cache.close()


def _hash_photos(paths: list[Path | str], fingerprints: Sequence[str | None] | None, cache: HashCache,
                 progress: ProgressFn, should_stop: ShouldStopFn) -> HashPass:
    unreadable: dict[str, str] = {}
    prints: list[str | None] = list(fingerprints) if fingerprints is not None else [None] * len(paths)
    for i, path in enumerate(paths):
        if prints[i] is None:
            if should_stop():
                raise Stopped()
            try:
                prints[i] = fingerprint(path)
            except NotAPhoto as exc:
                unreadable[str(path)] = exc.reason
            except (OSError, ValueError) as exc:  # ValueError: a name the system cannot look up (a NUL byte)
                unreadable[str(path)] = f"cannot read the file ({getattr(exc, 'strerror', None) or exc})"
    known = cache.get_many(fp for fp in prints if fp is not None)
    result = HashPass([known.get(fp) if fp is not None else None for fp in prints], unreadable)
    todo = [i for i, fp in enumerate(prints) if fp is not None and fp not in known]
    fresh: dict[str, PhotoHash] = {}
    before, total = len(paths) - len(todo), len(paths)
    progress(before, total)
    for done, i in enumerate(todo, before + 1):
        if should_stop():
            cache.put_many(fresh)
            raise Stopped()
        try:
            result.hashes[i] = fresh[prints[i]] = photo_hash(paths[i])
        except ImageLoadError as exc:
            unreadable[str(paths[i])] = exc.reason
        result.decoded += 1
        if len(fresh) >= 256:
            cache.put_many(fresh)
            fresh = {}
        if done % 16 == 0 or done == total:
            progress(done, total)
    cache.put_many(fresh)
    if not todo:
        progress(total, total)
    return result
