"""Importing torch ahead of the first job, at a moment when it competes with nothing.

The import holds Python's interpreter lock for a few tenths of a second at a time while it loads torch's
libraries (about 0.6 s of stalls in all), so the GUI thread stalls with it; and it slows a folder being
fingerprinted beside it. So it waits until the user has left the window alone for a moment and no job is
running; a job that needs torch meanwhile imports it itself.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

QUIET_MS = 2_000
INPUT_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel})


class QuietStart(QObject):
    """Calls `start` once, after QUIET_MS without key presses, clicks or scrolling, and with `busy()` false
    (checked again when `job_ended` fires)."""

    def __init__(self, parent: QObject, busy: Callable[[], bool], job_ended, start: Callable[[], None]) -> None:
        super().__init__(parent)
        self._busy, self._start = busy, start
        self.started = False
        self._timer = QTimer(self, singleShot=True, interval=QUIET_MS)
        self._timer.timeout.connect(self._quiet)
        self._job_ended = job_ended
        job_ended.connect(self._restart)
        QApplication.instance().installEventFilter(self)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS and not self.started:
            self._timer.start()
        return False

    def _restart(self, *_) -> None:
        if not self.started:
            self._timer.start()

    def _quiet(self) -> None:
        if self.started or self._busy():
            return  # a running job: its end restarts the wait
        self.started = True
        QApplication.instance().removeEventFilter(self)
        self._job_ended.disconnect(self._restart)
        self._start()
