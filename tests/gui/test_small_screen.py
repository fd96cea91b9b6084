"""The window on a small laptop (1024×700): it fits, on each tab and with the Test-folder dock shown, its status
bar (progress and Cancel) stays in view, and every dock keeps room to be used."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QDockWidget

from tests.photo_tools import make_photo

SMALL = QSize(1024, 700)
USABLE = QSize(110, 80)
"""The least a dock's contents may shrink to: a few rows of a list, a button, a short value."""


def fit(qtbot, window) -> None:
    window.resize(SMALL)
    qtbot.waitUntil(lambda: window.width() <= SMALL.width() and window.height() <= SMALL.height(), timeout=2_000)


def in_window(window, widget) -> bool:
    """Visible and wholly inside the window."""
    if not widget.isVisible():
        return False
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return window.rect().contains(rect)


def assert_fits(window, tab: str) -> None:
    assert window.size().boundedTo(SMALL) == window.size(), f"{tab}: the window is {window.size().toTuple()}"
    assert in_window(window, window.statusBar()), tab
    docks = [dock for dock in window.findChildren(QDockWidget) if dock.isVisible()]
    assert docks, tab
    for dock in docks:
        size = dock.widget().size()
        assert size.width() >= USABLE.width() and size.height() >= USABLE.height(), \
            f"{tab}: the {dock.windowTitle()} dock's contents are {size.toTuple()}"
        assert in_window(window, dock), f"{tab}: the {dock.windowTitle()} dock is cut off"


@pytest.mark.parametrize("test_folder_dock", [False, True], ids=["docks", "with-test-folder-dock"])
def test_the_window_fits_1024_by_700_on_every_tab(qtbot, window, test_folder_dock):
    if test_folder_dock:
        window.predict_folder_dock.show()
    window.job_status.start("Classify")  # a running job: its progress bar and Cancel must be in view
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        fit(qtbot, window)
        tab = window.tabs.tabText(index)
        assert_fits(window, tab)
        assert in_window(window, window.job_status.bar) and in_window(window, window.job_status.cancel_button), tab
        window.grab().save(f"/tmp/lakeview-1024x700-{tab.lower()}{'-test-folder' if test_folder_dock else ''}.png")


def test_the_inspector_shows_whole_values_at_1024_by_700(qtbot, window, tmp_path):
    """A narrow inspector puts a value under its caption instead of shortening it to "…" beside it."""
    make_photo(tmp_path / "photos" / "lake_louise_at_dawn.jpg")
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(tmp_path / "photos")
    fit(qtbot, window)
    window.grid.setCurrentIndex(window.model.index(0, 0))
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.stack.currentWidget() is inspector.details, timeout=10_000)
    form = inspector.file_form
    values = [form.itemAt(row, form.ItemRole.FieldRole).widget() for row in range(form.rowCount())]
    assert values[0].text() == "lake_louise_at_dawn.jpg"
    assert form.rowWrapPolicy() == form.RowWrapPolicy.WrapAllRows
    for value in values:
        if value is not values[1]:  # the folder: a path may be longer than any dock
            qtbot.waitUntil(lambda: value.width() >= value.fontMetrics().horizontalAdvance(value.text()),
                            timeout=2_000)
    assert values[1].toolTip() == str(tmp_path / "photos"), "an elided folder keeps its whole path in the tooltip"
    window.grab().save("/tmp/lakeview-1024x700-inspector.png")


def test_a_long_job_step_leaves_the_progress_bar_and_cancel_in_view(qtbot, window):
    fit(qtbot, window)
    window.device_label.setText("device: " + "a very long accelerator name " * 6)
    window.job_status.start("Retrain")
    window.job_status.show_step("fitting the head on the body features of every labelled photo " * 3)
    window.job_status.update_progress(3, 10)
    fit(qtbot, window)
    assert window.size().boundedTo(SMALL) == window.size()
    assert in_window(window, window.job_status.bar) and in_window(window, window.job_status.cancel_button)
    assert window.job_status.label.toolTip().startswith("Retrain: fitting")
