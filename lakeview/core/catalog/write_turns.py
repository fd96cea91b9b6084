"""One writer at a time for each catalog in this process, served in the order they asked.

Inside the app two kinds of writers change one library's catalog, each on its own connection: the GUI thread
(a label key press, undo, a class renamed) and the one running job (adding a folder, classifying, retraining).
Every write transaction of `Catalog` takes its catalog's turn here before `BEGIN IMMEDIATE` and gives it back
after COMMIT or ROLLBACK; writers waiting for a turn get it first come, first served. Jobs write in bounded
chunks (a batch of photos or predictions per transaction), so a label write waits for one chunk at most,
never for a whole job, and SQLite's busy timeout never decides who goes next inside the app: it only waits for
another process (a `lakeview catalog` command) holding the file. The one long transaction left is bringing in
a labelled dataset, all or nothing by design; its photos are read before it starts, so it holds only the
catalog's own work (about 3 s for 50,000 photos).

Why turns and not a single writer thread, nor the GUI connection as the only writer: every catalog method runs
on its caller's connection and has committed when it returns. Turns keep that (a label is on disk when the key
press is handled, so undo, the grid and a crash all see it), change no caller, and serve the CLI and tests as
they serve the app. A writer thread would turn each key press into a queued request whose errors arrive later;
handing a job's results to the GUI connection would put the job's writes on the GUI thread, the very work jobs
exist to keep off it.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class WriteTurns:
    """A first-come-first-served lock, reentrant for the thread that holds it (a transaction inside another)."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._waiting: deque[object] = deque()
        self._holder: int | None = None
        self._depth = 0

    @property
    def waiting(self) -> int:
        """How many writers are waiting for a turn now."""
        with self._condition:
            return len(self._waiting)

    @contextmanager
    def turn(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._condition:
            if self._holder == me:
                self._depth += 1
            else:
                ticket = object()
                self._waiting.append(ticket)
                try:
                    self._condition.wait_for(lambda: self._holder is None and self._waiting[0] is ticket)
                finally:
                    # Served, or interrupted while waiting (Ctrl+C): either way the ticket leaves the queue, and
                    # the next writer may now be first.
                    self._waiting.remove(ticket)
                    self._condition.notify_all()
                self._holder, self._depth = me, 1
        try:
            yield
        finally:
            with self._condition:
                self._depth -= 1
                if self._depth == 0:
                    self._holder = None
                    self._condition.notify_all()


_turns: dict[str, WriteTurns] = {}
_turns_lock = threading.Lock()


def write_turns(catalog_path: Path | str) -> WriteTurns:
    """The turns of the catalog file at `catalog_path`, shared by every connection to it in this process."""
    key = os.path.normcase(os.path.realpath(catalog_path))
    with _turns_lock:
        return _turns.setdefault(key, WriteTurns())
