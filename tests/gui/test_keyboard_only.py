"""Each tab with the keyboard alone: Alt+1-3 picks the tab, Tab walks its controls in order, and Enter, Space
and the Menu key do what a click does (a confusion cell shows its photos, a top-loss tile opens its menu)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu

from lakeview.core.catalog import NONE_OF_THESE
from tests.gui.test_training_panel import run_job, tiny_settings

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights")

TRAIN_FORM = ["source", "folder_edit", "choose_folder_button", "valid_pct", "split_by_similarity", "counts", "arch",
              "weights", "size", "batch_size", "flip", "pace", "frozen_epochs", "unfrozen_epochs", "lr", "unfrozen_lr",
              "find_lr_button", "train_button"]
"""The Train tab's controls top to bottom, as a user reads them (Stop is disabled while nothing runs)."""


def focus():
    return QApplication.focusWidget()


def tab_until(qtbot, window, widget, presses: int = 30) -> list:
    """Press Tab until `widget` has the focus; the widgets the focus went through, in order."""
    walked = []
    for _ in range(presses):
        if focus() is widget:
            return walked
        qtbot.keyClick(focus() or window, Qt.Key.Key_Tab)
        walked.append(focus())
    raise AssertionError(f"{presses} Tabs never reached {widget!r}; they went through {walked}")


def menu_shown():
    popup = QApplication.activePopupWidget()
    return popup if isinstance(popup, QMenu) and popup.isVisible() else None


def test_tab_walks_the_train_form_in_order_and_reaches_train(qtbot, window, colour_folders):
    panel = window.training_panel
    panel.set_folder(colour_folders)  # every field enabled, the counts table filled
    qtbot.waitUntil(lambda: panel.counts.rowCount() == 2, timeout=10_000)
    window.resize(1024, 700)  # a small screen: the form scrolls, and follows the focus
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is panel
    tab_until(qtbot, window, panel.source)

    walked = tab_until(qtbot, window, panel.train_button)

    expected = [getattr(panel, name) for name in TRAIN_FORM]
    assert walked == expected[1:], [type(w).__name__ for w in walked]
    qtbot.waitUntil(lambda: not panel.train_button.visibleRegion().isEmpty(), timeout=2_000)
    qtbot.keyClick(panel.counts, Qt.Key.Key_Tab)  # the table keeps no Tab: its arrows move, Tab goes on
    assert focus() is not panel.counts


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")  # offscreen popups
def test_the_results_tab_works_from_the_keyboard(qtbot, window, colour_folders):
    tiny_settings(window.training_panel, colour_folders)
    run_job(qtbot, window, window.training_panel.start_training)
    results = window.results
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is results
    window.resize(1024, 700)
    window.grab().save("/tmp/lakeview-1024x700-results-trained.png")

    # Tab to the matrix, arrows to a right answer's cell, Enter: the grid shows that cell's photos
    tab_until(qtbot, window, results.matrix)
    matrix = results.matrix
    row = 0 if int(matrix.item(0, 0).text()) else 1
    qtbot.keyClick(matrix, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(row):
        qtbot.keyClick(matrix, Qt.Key.Key_Down)
        qtbot.keyClick(matrix, Qt.Key.Key_Right)
    assert (matrix.currentRow(), matrix.currentColumn()) == (row, row)
    qtbot.keyClick(matrix, Qt.Key.Key_Return)
    assert window.tabs.currentWidget() is window.grid and window.grid.hasFocus()
    actual = matrix.verticalHeaderItem(row).text()
    assert window.model.rowCount() == int(matrix.item(row, row).text()) > 0
    assert all(window.model.path_at(r).parent.name == actual for r in range(window.model.rowCount()))

    # Space does the same, on the other diagonal cell
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    matrix.setFocus()
    other = 1 - row
    matrix.setCurrentCell(other, other)
    qtbot.keyClick(matrix, Qt.Key.Key_Space)
    assert window.model.rowCount() == int(matrix.item(other, other).text())

    # Tab goes on from the matrix to the most-confused list and the top-loss gallery
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    matrix.setFocus()
    walked = tab_until(qtbot, window, results.gallery)
    assert walked == [results.confused, results.gallery]
    gallery = results.gallery
    assert gallery.currentItem() is not None

    # Enter on a tile opens its label menu; Escape closes it
    qtbot.keyClick(gallery, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: menu_shown() is not None, timeout=2_000)
    qtbot.keyClick(menu_shown(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: menu_shown() is None, timeout=2_000)

    # the Menu key opens it too, and the keys pick "None of these"
    qtbot.keyClick(gallery, Qt.Key.Key_Right)
    item = gallery.currentItem()
    path = item.data(Qt.ItemDataRole.UserRole)
    qtbot.keyClick(gallery, Qt.Key.Key_Menu)
    qtbot.waitUntil(lambda: menu_shown() is not None, timeout=2_000)
    menu = menu_shown()
    while menu.activeAction() is None or menu.activeAction().text() != "None of these":
        qtbot.keyClick(menu, Qt.Key.Key_Down)
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.catalog.label_of(path).label == NONE_OF_THESE, timeout=2_000)
    assert window.session.catalog.label_of(path).source == "user"


def test_the_photos_tab_is_reached_and_left_from_the_keyboard(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.training_panel
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.grid
    tab_until(qtbot, window, window.grid)
