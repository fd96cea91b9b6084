"""The full garbage collection waits for a quiet moment with no job running (a due one stalled the window)."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from lakeview.gui import idle_collector
from lakeview.gui.idle_collector import YOUNG_ONLY, IdleCollector


class Jobs(QObject):
    ended = Signal(object)


def test_collects_when_quiet_and_idle_waits_for_a_job_and_input_and_gives_back_the_thresholds(qtbot, monkeypatch):
    monkeypatch.setattr(idle_collector, "QUIET_MS", 50)
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *args: collected.append(1) or 0)
    before = gc.get_threshold()
    window, jobs, busy = QWidget(), Jobs(), [True]
    qtbot.addWidget(window)
    window.show()
    collector = IdleCollector(window, lambda: busy[0], jobs.ended)
    assert gc.get_threshold() == YOUNG_ONLY, "no full collection falls due by itself"

    qtbot.wait(200)
    assert collected == [], "a job runs"
    busy[0] = False
    jobs.ended.emit(None)
    qtbot.waitUntil(lambda: collected == [1], timeout=2_000)

    qtbot.keyClick(window, Qt.Key.Key_A)  # input starts the quiet spell again
    qtbot.waitUntil(lambda: collected == [1, 1], timeout=2_000)
    assert collector.collections == 2

    window.close()
    assert gc.get_threshold() == (700, 10, 10) == before
