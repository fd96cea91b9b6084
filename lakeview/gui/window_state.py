"""The main window's size, dock layout and splitter positions, kept in the settings from one run to the next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray

if TYPE_CHECKING:
    from lakeview.gui.main_window import MainWindow

DEFAULT_SIZE = (1280, 800)


def _splitters(window: MainWindow) -> dict:
    return {"splitters/train": window.training_panel.splitter, "splitters/results": window.results.splitter}


def restore_window_state(window: MainWindow) -> None:
    settings = window.settings
    geometry, state = settings.value("geometry"), settings.value("window_state")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(*DEFAULT_SIZE)
    if isinstance(state, QByteArray):
        window.restoreState(state)
    for key, splitter in _splitters(window).items():
        saved = settings.value(key)
        if isinstance(saved, QByteArray):
            splitter.restoreState(saved)


def save_window_state(window: MainWindow) -> None:
    settings = window.settings
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("window_state", window.saveState())
    for key, splitter in _splitters(window).items():
        settings.setValue(key, splitter.saveState())
