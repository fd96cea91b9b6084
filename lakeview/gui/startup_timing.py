"""How long the window took to appear: `LAKEVIEW_REPORT_STARTUP=1` prints it once the window is on screen, then quits.

The clock starts at `$LAKEVIEW_LAUNCH_TIME` (a `time.time()` taken by whoever launched the process, as the
benchmark does), else at the process's start time from /proc, else when this module was first imported.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

REPORT_ENV = "LAKEVIEW_REPORT_STARTUP"
LAUNCH_TIME_ENV = "LAKEVIEW_LAUNCH_TIME"
_IMPORTED = time.time()


def seconds_since_launch() -> float:
    launched = os.environ.get(LAUNCH_TIME_ENV)
    if launched:
        return time.time() - float(launched)
    from_proc = _seconds_since_process_start()
    return from_proc if from_proc is not None else time.time() - _IMPORTED


def _seconds_since_process_start() -> float | None:
    """Linux: the system's uptime now minus the process's start time (both since boot, 10 ms resolution)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as uptime:
            now = float(uptime.read().split()[0])
        return now - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start time in clock ticks
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _ExposeWatcher(QObject):
    def __init__(self, window: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._callback = callback
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Expose and watched.isExposed():
            self.fire()
        return False

    def fire(self) -> None:
        if not self._done:
            self._done = True
            QTimer.singleShot(0, self._callback)  # after the expose has been painted


def when_shown(window: QWidget, callback: Callable[[], None]) -> None:
    """Call `callback` once the (already shown) window is exposed and painted."""
    watcher = _ExposeWatcher(window, callback)
    handle = window.windowHandle()
    if handle is None or handle.isExposed():
        watcher.fire()
    else:
        handle.installEventFilter(watcher)


def report_startup_if_asked(window: QWidget, quit: Callable[[], None]) -> None:
    """Call right after `window.show()`."""
    if not os.environ.get(REPORT_ENV):
        return
    torch_first = "torch" in sys.modules

    def report() -> None:
        print(f"LakeView window shown {seconds_since_launch():.3f} s after launch; torch imported before the "
              f"window: {torch_first}", flush=True)
        quit()

    when_shown(window, report)
