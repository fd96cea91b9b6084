"""Python's full garbage collection, run when the user has left the window alone rather than when it falls due.

A full collection holds every thread while it walks every object. Due automatically, it fell in the middle of
work: a worker listing 100,000 files set one off and the window stalled for 200 ms. So the app makes the young
collections only (they walk only the objects made since the last one, a few milliseconds) and makes the full one
here: after QUIET_MS without key presses, clicks or scrolling, with no job running.
"""

from __future__ import annotations

import gc
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from lakeview.gui.torch_warmup import INPUT_EVENTS

QUIET_MS = 5_000
YOUNG_ONLY = (700, 10, 1_000_000_000)
"""gc thresholds: Python's own for the two young generations, and a full collection never due by itself."""


class IdleCollector(QObject):
    """Runs `gc.collect()` after each quiet spell that follows input or a job's end, while `busy()` is false."""

    def __init__(self, parent: QObject, busy: Callable[[], bool], job_ended) -> None:
        super().__init__(parent)
        self._busy = busy
        self.collections = 0
        self._timer = QTimer(self, singleShot=True, interval=QUIET_MS)
        self._timer.timeout.connect(self._quiet)
        job_ended.connect(lambda *_: self._timer.start())
        QApplication.instance().installEventFilter(self)
        self._thresholds = gc.get_threshold()
        gc.set_threshold(*YOUNG_ONLY)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self._timer.start()
        elif event.type() == QEvent.Type.Close and watched is self.parent():
            self.stop()
        return False

    def _quiet(self) -> None:
        if self._busy():
            return  # the job's end starts the wait again
        gc.collect()
        self.collections += 1

    def stop(self) -> None:
        """The window closes: the collector's thresholds as they were."""
        self._timer.stop()
        QApplication.instance().removeEventFilter(self)
        gc.set_threshold(*self._thresholds)
