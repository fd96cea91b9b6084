"""The main window's menus and their keys: every command of the window, with the shortcuts the grid answers to
only while it has the focus (digits, Space, Enter, Delete, Backspace)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from lakeview.core.placement.last_placement import last_placement

if TYPE_CHECKING:
    from lakeview.gui.main_window import MainWindow

GRID_ONLY = Qt.ShortcutContext.WidgetWithChildrenShortcut


@dataclass
class WindowActions:
    assign: list[QAction]
    """Class 1 to 9, in the Label menu; their text names the class."""
    undo: QAction
    redo: QAction
    undo_placement: QAction


def build_menus(window: MainWindow) -> WindowActions:
    session, menus = window.session, window.menuBar()

    def add(menu: QMenu, text: str, slot: Callable, shortcut=None, context=Qt.ShortcutContext.WindowShortcut) -> QAction:
        action = QAction(text, window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(context)
        action.triggered.connect(slot)
        menu.addAction(action)
        (window.grid if context == GRID_ONLY else window).addAction(action)
        return action

    file_menu = menus.addMenu("&File")
    add(file_menu, "&Open folder…", window.choose_folder, QKeySequence.StandardKey.Open)
    add(file_menu, "Use a &model file…", window.choose_model, "Ctrl+M")
    file_menu.addSeparator()
    add(file_menu, "&Copy or move into class folders…", window.place_photos, "Ctrl+Shift+E")
    undo_placement = add(file_menu, "U&ndo last copy or move", window.undo_placement)
    file_menu.aboutToShow.connect(
        lambda: undo_placement.setEnabled(last_placement(session.catalog.folder) is not None))
    file_menu.addSeparator()
    add(file_menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    edit = menus.addMenu("&Edit")
    undo = add(edit, "&Undo label", window.undo, QKeySequence.StandardKey.Undo)
    redo = add(edit, "&Redo label", window.redo, "Ctrl+Shift+Z")

    def name_the_steps() -> None:
        """The menu says what Undo and Redo would change (they stay enabled: a shortcut of a disabled action
        would not answer once the menu closes)."""
        for action, verb, step in ((undo, "&Undo", session.next_undo()), (redo, "&Redo", session.next_redo())):
            action.setText(f"{verb}: {step.describe()}" if step is not None else f"{verb} label")

    edit.aboutToShow.connect(name_the_steps)

    label = menus.addMenu("&Label")
    assign = [add(label, f"Class {number}", lambda checked=False, n=number: window.assign_number(n), str(number),
                  GRID_ONLY)
              for number in range(1, 10)]
    label.addSeparator()
    add(label, "&Preview photo", window.preview, Qt.Key.Key_Space, GRID_ONLY)
    add(label, "&Accept prediction", window.accept, Qt.Key.Key_Return, GRID_ONLY)
    add(label, "&None of these", window.none_of_these, QKeySequence.StandardKey.Delete, GRID_ONLY)
    add(label, "&Clear label", lambda: session.assign(window.selected_paths(), None), "Backspace", GRID_ONLY)

    window.grid_order.build_menu(menus.addMenu("&Show"))

    view = menus.addMenu("&View")
    for number, name in enumerate(("&Photos", "&Train", "R&esults"), 1):
        add(view, name, lambda checked=False, n=number: window.tabs.setCurrentIndex(n - 1), f"Alt+{number}")
    add(view, "Show the &whole folder", session.show_folder, "Ctrl+Shift+A")

    model = menus.addMenu("&Model")
    add(model, "&Train a model…", lambda: window.tabs.setCurrentWidget(window.training_panel), "Ctrl+Shift+N")
    add(model, "&Find learning rate", lambda: window.on_train_tab(window.training_panel.find_learning_rate), "Ctrl+L")
    add(model, "&Classify folder", session.classify, "Ctrl+R")
    add(model, "Classify &All Again", lambda: session.classify(everything=True))
    add(model, "&Predict a test folder…", window.predict_test_folder, "Ctrl+Shift+R")
    add(model, "&Retrain on my labels", lambda: session.retrain("quick"), "Ctrl+T")
    add(model, "&Full retrain (slow)", lambda: session.retrain("full"), "Ctrl+Shift+T")
    # Esc: back from similar photos or groups to the filter's order, else stop the running job.
    add(model, "Ca&ncel job", lambda: window.grid_order.back_on_esc() or window.cancel_job(), "Esc")

    help_menu = menus.addMenu("&Help")
    add(help_menu, "&Welcome…", window.show_welcome)
    add(help_menu, "&About LakeView", window.about)
    return WindowActions(assign, undo, redo, undo_placement)
