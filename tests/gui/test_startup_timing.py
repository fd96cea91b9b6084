"""The start-up clock behind LAKEVIEW_REPORT_STARTUP and benchmarks/startup_time.py."""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QWidget

from lakeview.gui import startup_timing


def test_the_launchers_timestamp_is_the_start(monkeypatch):
    monkeypatch.setenv("LAKEVIEW_LAUNCH_TIME", "1000.25")
    monkeypatch.setattr(startup_timing, "time", SimpleNamespace(time=lambda: 1005.5))
    assert startup_timing.seconds_since_launch() == 5.25


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="the process start time comes from Linux's /proc")
def test_without_it_the_process_start_time_is_used(monkeypatch):
    monkeypatch.delenv("LAKEVIEW_LAUNCH_TIME", raising=False)
    elapsed = startup_timing.seconds_since_launch()
    # The process started before this module was imported (10 ms clock ticks).
    assert time.time() - startup_timing._IMPORTED - 0.02 <= elapsed < 24 * 3600


def test_without_either_the_clock_starts_when_the_module_was_imported(monkeypatch):
    monkeypatch.delenv("LAKEVIEW_LAUNCH_TIME", raising=False)
    monkeypatch.setattr(startup_timing, "_seconds_since_process_start", lambda: None)
    monkeypatch.setattr(startup_timing, "time", SimpleNamespace(time=lambda: startup_timing._IMPORTED + 2.5))
    assert startup_timing.seconds_since_launch() == 2.5


def test_the_report_comes_once_the_window_is_shown(qtbot, monkeypatch, capsys):
    monkeypatch.setenv("LAKEVIEW_REPORT_STARTUP", "1")
    monkeypatch.setenv("LAKEVIEW_LAUNCH_TIME", repr(time.time()))
    window = QWidget()
    qtbot.addWidget(window)
    quits = []
    window.show()
    startup_timing.report_startup_if_asked(window, quit=lambda: quits.append(window.isVisible()))
    qtbot.waitUntil(lambda: quits == [True])
    line = capsys.readouterr().out
    assert line.startswith("LakeView window shown ") and line.endswith(
        f"torch imported before the window: {'torch' in sys.modules}\n")
