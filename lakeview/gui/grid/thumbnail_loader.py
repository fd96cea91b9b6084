"""Thumbnails made off the GUI thread: a private QThreadPool whose workers take jobs from one queue, read the
disk cache or decode the photo, and hand back a QImage; the GUI thread turns it into a QPixmap and keeps it
in a bounded memory cache.

The queue serves the newest requests first, in the order they were asked within one pass of the event loop:
the view asks for what it paints, so the screen the user is looking at fills top to bottom before the rows
scrolled past. A row painted again is asked again, which moves it up.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from lakeview.core.photos.images import ImageLoadError
from lakeview.gui.grid import qimages
from lakeview.gui.grid.disk_cache import DiskCache
from lakeview.gui.grid.memory_cache import DEFAULT_BUDGET, PixmapCache

MAX_PENDING = 4096
IDLE_THREAD_MS = 3000

Key = tuple[str, int]  # (path as text, size in device pixels)


class _Relay(QObject):
    """Carries results from the pool's threads to the GUI thread (queued). It has no parent and the workers
    hold it, so it outlives a loader deleted while a job is running."""

    done = Signal(object, int, QImage)  # object: a path str may hold surrogate escapes, which a QString drops
    failed = Signal(object, int, str)


class _Jobs:
    """The queue, shared by the loader and its workers under one lock: batches of keys, newest batch first,
    each batch first-in first-out."""

    def __init__(self, max_workers: int) -> None:
        self.lock = threading.Lock()
        self.batches: dict[int, OrderedDict[Key, None]] = {}
        self.where: dict[Key, int] = {}
        self.running: set[Key] = set()
        self.batch = 0
        self.workers = 0
        self.max_workers = max_workers

    def add(self, key: Key, new_batch: bool) -> bool:
        """Queue (or move up) a job; True when one more worker should start. Call with the lock held."""
        if key in self.running:
            return False
        if new_batch or self.batch not in self.batches:
            self.batch += 1
            self.batches[self.batch] = OrderedDict()
        old = self.where.get(key)
        if old is not None and old != self.batch:
            del self.batches[old][key]
        self.batches[self.batch][key] = None
        self.where[key] = self.batch
        if len(self.where) > MAX_PENDING:
            self._drop_oldest()
        if self.workers < self.max_workers:
            self.workers += 1
            return True
        return False

    def take(self) -> Key | None:
        """The next job, or None, in which case the calling worker has retired. Takes the lock."""
        with self.lock:
            while self.batches:
                newest = next(reversed(self.batches))
                queue = self.batches[newest]
                if queue:
                    key, _ = queue.popitem(last=False)
                    del self.where[key]
                    self.running.add(key)
                    return key
                del self.batches[newest]
            self.workers -= 1
            return None

    def finish(self, key: Key) -> None:
        with self.lock:
            self.running.discard(key)

    def clear(self) -> None:
        with self.lock:
            self.batches.clear()
            self.where.clear()

    def _drop_oldest(self) -> None:
        for batch, queue in list(self.batches.items()):
            if queue:
                key, _ = queue.popitem(last=False)
                del self.where[key]
                return
            if batch != self.batch:
                del self.batches[batch]

    def __len__(self) -> int:
        with self.lock:
            return len(self.where)


def produce(path: str, px: int, disk: DiskCache) -> QImage:
    """Read the disk cache or make (and store) the thumbnail. Raises ImageLoadError. Any thread."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        key = None  # the decoder reports the reason
    else:
        key = disk.key(path, stat.st_size, stat.st_mtime_ns, px)
        cached = disk.load(key)
        if cached is not None:
            return cached
    image = qimages.make_qimage(path, px)  # looked up here, so that tests can replace it
    if key is not None:
        try:
            disk.store(key, image)
        except OSError:
            pass  # a read-only or full cache folder costs speed next time, nothing else
    return image


# The workers keep the GUI thread's priority on purpose: no nice, no QThread.LowPriority. They run Python between
# decodes, so they take the GIL, and a low-priority worker that the OS preempts while it holds the GIL keeps the
# GUI thread waiting until it gets a core again: a priority inversion. With the workers at nice 10, classifying
# 500 photos on a busy 2-core machine (torch and its decoders on both cores) stalled the event loop for 70-190 ms,
# 1 to 37 times a run, each time in _on_done: QPixmap.fromImage releases the GIL and the GUI thread then sat
# blocked (not on a CPU, not waiting for one) for 60-110 ms. At normal priority: longest 33-45 ms in most runs
# (benchmarks/gui_stall.py). The decoding itself runs in Qt's C++ without the GIL.


class _Worker(QRunnable):
    def __init__(self, jobs: _Jobs, relay: _Relay, disk: DiskCache) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.jobs, self.relay, self.disk = jobs, relay, disk

    def run(self) -> None:
        while (key := self.jobs.take()) is not None:
            path, px = key
            try:
                image = produce(path, px, self.disk)
            except ImageLoadError as exc:
                self.relay.failed.emit(path, px, exc.reason)
            except Exception as exc:  # noqa: BLE001 - a worker must not die silently; the tile shows why
                self.relay.failed.emit(path, px, f"cannot make a thumbnail ({type(exc).__name__}: {exc})")
            else:
                self.relay.done.emit(path, px, image)
            finally:
                self.jobs.finish(key)


class ThumbnailLoader(QObject):
    """Asynchronous thumbnails with a memory cache (QPixmap, bounded) and a disk cache (JPEG files).

    `request()` returns at once; `ready(path, image)` or `failed(path, reason)` follows on the GUI thread, and
    after `ready` the pixmap is in `pixmap(path, size)`. `path` is always `str(Path)`.
    """

    ready = Signal(object, QImage)  # object: the path str exactly (see _Relay)
    failed = Signal(object, str)

    def __init__(self, parent: QObject | None = None, *, disk_cache: DiskCache | None = None,
                 memory_budget: int = DEFAULT_BUDGET, threads: int | None = None) -> None:
        super().__init__(parent)
        threads = threads or max(1, QThread.idealThreadCount())
        self.disk = disk_cache if disk_cache is not None else DiskCache()
        self.memory = PixmapCache(memory_budget)
        self._jobs = _Jobs(threads)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pool.setExpiryTimeout(IDLE_THREAD_MS)
        self._relay = _Relay()
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._batch_open = False

    def pixmap(self, path: Path | str, size: int) -> QPixmap | None:
        return self.memory.get((str(path), size))

    def request(self, path: Path | str, size: int) -> None:
        key = (str(path), size)
        if key in self.memory:
            return
        with self._jobs.lock:
            start = self._jobs.add(key, new_batch=not self._batch_open)
        if not self._batch_open:
            self._batch_open = True
            QTimer.singleShot(0, self, self._close_batch)
        if start:
            self._pool.start(_Worker(self._jobs, self._relay, self.disk))

    def clear(self) -> None:
        """Drop queued work (the folder changed); jobs already running finish and are cached."""
        self._jobs.clear()

    def pending(self) -> int:
        return len(self._jobs)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the queue is empty and the pool's threads have exited (tests, shutdown)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        self.clear()
        self.wait()

    def _close_batch(self) -> None:
        self._batch_open = False

    def _on_done(self, path: str, size: int, image: QImage) -> None:
        self.memory.put((path, size), QPixmap.fromImage(image))
        self.ready.emit(path, image)

    def _on_failed(self, path: str, size: int, reason: str) -> None:
        self.failed.emit(path, reason)
