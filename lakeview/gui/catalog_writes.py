"""The user's changes to the catalog (labels, undo, a class renamed), written in the order they were made.

A change to a few photos is written at once on the GUI thread's connection, as before: a key press is on disk
when it is handled. A change to many photos (select all, then a key: 100,000 labels are about a second of SQLite)
runs in a worker with its own connection, so the window keeps answering; while one is queued or running, every
later change queues behind it, so they still reach the catalog in the user's order and the GUI thread never
waits for a write turn.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QObject

from lakeview.core.catalog import Catalog
from lakeview.gui.worker import start_worker

LARGE_WRITE = 2_000
"""Photos from which a change is written in a worker rather than on the GUI thread."""

Write = Callable[[Catalog], Any]


class CatalogWrites:
    def __init__(self, owner: QObject, catalog: Catalog) -> None:
        self._owner = owner
        self._catalog = catalog
        self._queue: deque[tuple[Write, Callable[[Any], None], Callable[[str], None]]] = deque()
        self._running: tuple | None = None
        self._finished = False

    @property
    def pending(self) -> int:
        """Changes queued or being written in the worker."""
        return len(self._queue) + (self._running is not None)

    def run(self, write: Write, done: Callable[[Any], None], failed: Callable[[str], None], large: bool) -> bool:
        """Write now (True: `done` has been called) or queue it behind the changes before it (False: `done` or
        `failed` is called on the GUI thread once it is written)."""
        if not large and not self.pending:
            done(write(self._catalog))
            return True
        self._queue.append((write, done, failed))
        self._start_next()
        return False

    def _start_next(self) -> None:
        if self._running is not None or not self._queue:
            return
        write, done, failed = self._queue.popleft()
        path = self._catalog.path

        def job(progress, should_stop, emit_partial):
            with Catalog(path) as catalog:
                return write(catalog)

        def finished(result) -> None:
            if self._finished:  # the session has closed: what the write did is on disk, nobody to tell
                return
            self._running = None
            try:
                done(result)
            finally:
                self._start_next()

        def went_wrong(message: str) -> None:
            if self._finished:
                return
            self._running = None
            try:
                failed(message)
            finally:
                self._start_next()

        self._running = start_worker(self._owner, job, "catalog write", on_finished=finished, on_failed=went_wrong,
                                     on_cancelled=lambda: went_wrong("cancelled"), needs_torch=False)

    def finish(self) -> None:
        """Write everything still queued before the catalog closes (the running one first, then the rest here)."""
        self._finished = True
        if self._running is not None:
            self._running[0].wait()
        self._running = None
        while self._queue:
            write, _, _ = self._queue.popleft()
            write(self._catalog)
