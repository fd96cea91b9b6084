"""Unexpected errors, in a slot or in a plain thread, are logged and shown on the GUI thread; the app goes on."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QTimer, Signal, qCritical
from PySide6.QtWidgets import QApplication, QMessageBox

from lakeview.gui import crash_reports


class _Button(QObject):
    clicked = Signal()


@pytest.fixture
def shown(monkeypatch, tmp_path):
    """Install the reporter with the log in tmp_path; yields the dialogs it asked for, as (thread, summary, path)."""
    monkeypatch.setenv("LAKEVIEW_LOG_DIR", str(tmp_path / "logs"))
    calls = []

    def record(parent, summary, path):
        calls.append((threading.current_thread(), summary, path))

    monkeypatch.setattr(crash_reports, "show_crash_dialog", record)
    reporter = crash_reports.install(QApplication.instance())
    yield calls
    reporter.uninstall()
    reporter.deleteLater()


def _log(tmp_path) -> str:
    return (tmp_path / "logs" / "lakeview.log").read_text(encoding="utf-8")


def test_an_exception_in_a_slot_is_logged_and_shown(qtbot, shown, tmp_path):
    button = _Button()

    def broken_slot():
        raise ValueError("the slot broke")

    button.clicked.connect(broken_slot)
    button.clicked.emit()
    qtbot.waitUntil(lambda: len(shown) == 1)

    thread, summary, path = shown[0]
    assert thread is threading.main_thread()
    assert "ValueError: the slot broke" in summary and "main thread" in summary
    assert path == tmp_path / "logs" / "lakeview.log"
    log = _log(tmp_path)
    assert "unhandled ValueError in the main thread" in log
    assert "in broken_slot" in log and 'raise ValueError("the slot broke")' in log

    survived = []
    QTimer.singleShot(0, lambda: survived.append(True))
    qtbot.waitUntil(lambda: survived == [True])


def test_an_exception_in_a_plain_thread_is_shown_on_the_gui_thread(qtbot, shown, tmp_path):
    def broken_work():
        raise RuntimeError("the worker broke")

    worker = threading.Thread(target=broken_work, name="loader")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(shown) == 1)

    thread, summary, _ = shown[0]
    assert thread is threading.main_thread()
    assert "RuntimeError: the worker broke" in summary and "thread loader" in summary
    assert "unhandled RuntimeError in thread loader" in _log(tmp_path) and "in broken_work" in _log(tmp_path)


def test_a_repeating_error_opens_one_dialog_at_a_time(qtbot, monkeypatch, tmp_path):
    monkeypatch.setenv("LAKEVIEW_LOG_DIR", str(tmp_path / "logs"))
    reporter = crash_reports.install(QApplication.instance())
    try:
        for n in range(3):
            reporter.crashed.emit(f"error {n}", str(tmp_path / "logs" / "lakeview.log"))
        qtbot.waitUntil(lambda: len(reporter.reports) == 3)
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        assert len(boxes) == 1
        assert "error 0" in boxes[0].text() and boxes[0].informativeText().endswith("lakeview.log")
        assert not boxes[0].isModal()
        boxes[0].close()
        reporter.crashed.emit("error 3", str(tmp_path / "logs" / "lakeview.log"))
        qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() and "error 3" in w.text()
                                    for w in QApplication.topLevelWidgets()))
    finally:
        reporter.uninstall()
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox):
                widget.close()


@pytest.mark.qt_log_ignore("the plugin could not load")
def test_qt_critical_messages_are_logged(qtbot, shown, tmp_path):
    qCritical("the plugin could not load")  # a critical Qt message, as Qt's own code would send
    assert "Qt critical message" in _log(tmp_path) and "the plugin could not load" in _log(tmp_path)
    assert shown == []
