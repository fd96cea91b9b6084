"""The one way the app runs long work: a worker object on its own QThread, speaking only through signals.

A job is a plain function `job(progress, should_stop, emit_partial) -> result` (core functions already take
`progress` and `should_stop`). The worker turns its calls into signals, so the GUI thread never waits.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from lakeview.core.jobs import Stopped
from lakeview.core.torch_import import import_torch

PROGRESS_INTERVAL_S = 0.05
"""A job's progress reaches the GUI at most this often (and always at its start and end)."""
RUNNING_THREADS: dict[QThread, "Worker"] = {}
"""Jobs not yet finished, thread to worker. Holding them here keeps both alive whoever started them;
tests check it is empty when they end."""

Job = Callable[[Callable[[int, int], None], Callable[[], bool], Callable[[Any], None]], Any]


class Ending(Enum):
    """How a job ended: the worker's finished, failed or cancelled signal."""
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(Enum):
    """Which of the library's jobs it is, for code to tell them apart; its name is what the user reads."""
    OPEN_FOLDER = "open folder"
    CLASSIFY = "classify"
    TRAINING = "training"
    FIND_LR = "find learning rate"
    RETRAIN = "retrain"
    FULL_RETRAIN = "full retrain"
    MEASURE = "measure the model"
    PREDICT_FOLDER = "predict a test folder"
    PLACE = "place into class folders"
    UNDO_PLACEMENT = "undo placement"
    GROUP_PHOTOS = "group similar photos"
    SIMILAR_INDEX = "index for find similar"


@dataclass(frozen=True)
class JobEnd:
    """A job of the library ended: which (its kind, and its name as shown), how, and what the status bar says
    about it besides its name (a finished job's summary, possibly empty; a failure's reason)."""
    kind: JobKind
    name: str
    ending: Ending
    message: str = ""


class Worker(QObject):
    progress = Signal(int, int)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, job: Job, name: str = "job", needs_torch: bool = True) -> None:
        super().__init__()
        self.job = job
        self.name = name
        self.needs_torch = needs_torch
        self._stop = threading.Event()
        self._progress_sent = 0.0
        self._total_sent = -1

    def cancel(self) -> None:
        """Thread-safe: the job sees it at its next `should_stop()` check (within one batch)."""
        self._stop.set()

    @property
    def cancelling(self) -> bool:
        return self._stop.is_set()

    def _report_progress(self, done: int, total: int) -> None:
        """At most one progress signal per PROGRESS_INTERVAL_S, besides the first and last of each count (a new
        total starts one): a job that counts 100,000 photos one by one would queue 100,000 updates of the status
        bar on the GUI thread."""
        now = time.monotonic()
        if now - self._progress_sent >= PROGRESS_INTERVAL_S or done >= total or total != self._total_sent:
            self._progress_sent, self._total_sent = now, total
            self.progress.emit(done, total)

    @Slot()
    def run(self) -> None:
        try:
            if self.needs_torch:
                import_torch()
            result = self.job(self._report_progress, self._stop.is_set, self.partial.emit)
        except Stopped:
            self.cancelled.emit()
            return
        except Exception as exc:  # every failure of a job reaches the GUI as a message, never a silent thread death
            if self._stop.is_set():
                self.cancelled.emit()
                return
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.failed.emit(f"{self.name} failed: {detail}")
            return
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.finished.emit(result)


class _Relay(QObject):
    """Lives in the owner's (GUI) thread, so the worker's signals reach the callbacks queued, on that thread;
    a plain Python callable connected directly would run on the worker's thread."""

    def __init__(self, owner: QObject, callbacks: dict[str, Callable | None]) -> None:
        super().__init__(owner)
        self._callbacks = callbacks

    def _call(self, name: str, *args) -> None:
        callback = self._callbacks.get(name)
        if callback is not None:
            callback(*args)

    @Slot(int, int)
    def progress(self, done: int, total: int) -> None:
        self._call("progress", done, total)

    @Slot(object)
    def partial(self, value: object) -> None:
        self._call("partial", value)

    @Slot(object)
    def finished(self, value: object) -> None:
        self._call("finished", value)
        self.deleteLater()

    @Slot(str)
    def failed(self, message: str) -> None:
        self._call("failed", message)
        self.deleteLater()

    @Slot()
    def cancelled(self) -> None:
        self._call("cancelled")
        self.deleteLater()


def wait_for_all(milliseconds: int = 30_000) -> bool:
    """Block until every job thread has finished (at shutdown, after cancelling them)."""
    return all(thread.wait(milliseconds) for thread in list(RUNNING_THREADS))


def start_worker(owner: QObject, job: Job, name: str = "job", *, on_progress=None, on_partial=None, on_finished=None,
                 on_failed=None, on_cancelled=None, needs_torch: bool = True) -> tuple[QThread, Worker]:
    """Run `job` in a Worker on a new QThread. The callbacks run on the owner's thread, connected before the
    thread starts. The thread deletes itself when the job ends; the worker is Python's, freed when the last
    reference goes (RUNNING_THREADS holds one until the thread has finished). A `deleteLater` on the worker
    would free it in its own thread, racing any reference the GUI thread drops, and crash now and then."""
    thread = QThread()  # no parent: RUNNING_THREADS keeps it alive until it has finished, whatever owns the job
    thread.setObjectName(f"lakeview-{name}")
    worker = Worker(job, name, needs_torch)
    worker.moveToThread(thread)
    relay = _Relay(owner, {"progress": on_progress, "partial": on_partial, "finished": on_finished,
                           "failed": on_failed, "cancelled": on_cancelled})
    worker.progress.connect(relay.progress)
    worker.partial.connect(relay.partial)
    worker.finished.connect(relay.finished)
    worker.failed.connect(relay.failed)
    worker.cancelled.connect(relay.cancelled)
    thread.started.connect(worker.run)
    for signal in (worker.finished, worker.failed, worker.cancelled):
        # Direct: QThread.quit is thread-safe, and a queued quit would wait for the owner's event loop.
        signal.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(lambda: RUNNING_THREADS.pop(thread, None))
    thread.finished.connect(thread.deleteLater)
    RUNNING_THREADS[thread] = worker
    thread.start()
    return thread, worker
