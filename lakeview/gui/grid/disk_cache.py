"""Thumbnails on disk, under `cache_dir()/thumbnails`, keyed by the photo's absolute path, byte size, mtime
and the thumbnail size, so an edited or replaced photo gets a new thumbnail and reopening a folder is instant.

Called from the thumbnail pool's threads: everything here is reentrant (QImage, not QPixmap).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from lakeview.core.paths import cache_dir

QUALITY = 88


class DiskCache:
    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir() / "thumbnails"
        self._folders: set[Path] = set()  # shard folders known to exist

    @staticmethod
    def key(path: Path | str, size: int, mtime_ns: int, px: int) -> str:
        absolute = os.fsencode(os.path.abspath(path))
        return hashlib.sha1(b"%s\0%d\0%d\0%d" % (absolute, size, mtime_ns, px)).hexdigest()

    def file_for(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.jpg"

    def load(self, key: str) -> QImage | None:
        """The cached thumbnail, or None when there is none (or it is unreadable: it is then remade)."""
        file = self.file_for(key)
        if not file.is_file():
            return None
        image = QImage(str(file), "JPG")
        return None if image.isNull() else image

    def store(self, key: str, image: QImage) -> None:
        """Write atomically: encoded in memory, written to a temporary file in the same folder, then
        `os.replace`d. No fsync: a thumbnail lost or torn by a power cut reads back as null and is made again.
        Raises OSError."""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        saved = image.save(buffer, "JPG", QUALITY)
        buffer.close()
        if not saved:
            raise OSError(f"cannot encode the thumbnail {key}")
        file = self.file_for(key)
        folder = file.parent
        if folder not in self._folders:  # creating files is the slow part on some disks: no needless mkdir
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        temporary = folder / f".{key}.{threading.get_ident()}.tmp"
        try:
            with open(temporary, "wb") as out:
                out.write(data.data())
            os.replace(temporary, file)
        except FileNotFoundError:  # the cache was emptied meanwhile
            self._folders.discard(folder)
            raise
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise

    def size_bytes(self) -> int:
        total = 0
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                try:
                    total += os.path.getsize(os.path.join(root, name))
                except OSError:
                    pass
        return total

    def prune(self, max_bytes: int) -> int:
        """Delete the least recently written thumbnails until the cache fits `max_bytes`; returns how many
        were deleted. Meant for an idle moment or start-up, not the GUI thread's busy path."""
        entries = []
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                full = os.path.join(root, name)
                try:
                    stat = os.stat(full)
                except OSError:
                    continue
                entries.append((stat.st_mtime_ns, stat.st_size, full))
        total = sum(size for _, size, _ in entries)
        deleted = 0
        for _, size, full in sorted(entries):
            if total <= max_bytes:
                break
            try:
                os.unlink(full)
            except OSError:
                continue
            total -= size
            deleted += 1
        return deleted
