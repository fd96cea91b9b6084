"""Undo and redo in the window act where the user sees them: a step that would change photos outside what the grid
shows (another folder, or no folder open) is named and asked about first, and the photos a step changed are selected
afterwards. A photo of the open folder that a filter hides (a labelled photo gone from the review queue) counts as
on screen: the undo brings it back into view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QAbstractItemView, QMessageBox, QWidget

from lakeview.core.catalog.labels import HistoryStep, photo_count
from lakeview.core.photos.file_names import shown_path
from lakeview.gui.grid.row_runs import ranges

if TYPE_CHECKING:
    from lakeview.gui.main_window import MainWindow


class OffScreenChange:
    @classmethod
    def ask(cls, parent: QWidget, title: str, text: str) -> bool:
        """Yes or No, No by default (tests replace this)."""
        answer = QMessageBox.question(parent, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


def off_screen_question(verb: str, step: HistoryStep, elsewhere: Sequence[Path]) -> str:
    """E.g. 'Undo "2 photos labelled bees"? It changes 2 photos that are not on screen, in /home/me/holiday.'"""
    folders = sorted({path.parent for path in elsewhere})
    where = shown_path(folders[0]) + (f" and {len(folders) - 1} other folder{'s' if len(folders) > 2 else ''}"
                                      if len(folders) > 1 else "")
    are = "is" if len(elsewhere) == 1 else "are"
    return (f"{verb} \u201c{step.describe()}\u201d?\n\n"
            f"It changes {photo_count(len(elsewhere))} that {are} not on screen, in {where}.")


def step_back(window: MainWindow, redo: bool) -> None:
    """Ctrl+Z or Ctrl+Shift+Z. While a change is still being written, the step to undo may be that one: the undo
    queues behind it."""
    session = window.session
    if session.writes.pending:
        session.replay_when_written(redo)
    elif redo:
        step_history(window, session.next_redo(), session.redo, "Redo")
    else:
        step_history(window, session.next_undo(), session.undo, "Undo")


def step_history(window: MainWindow, step: HistoryStep | None,
                 replay: Callable[[HistoryStep], HistoryStep | None], verb: str) -> None:
    """Undo or redo `step` (the session's replay says what it did in the status bar)."""
    if step is None:
        window.statusBar().showMessage(f"Nothing to {verb.lower()}", 3_000)
        return
    model, session = window.model, window.session
    if step.detailed:
        hidden = [change.path for change in step.changes if model.row_of_id(change.photo_id) is None]
        elsewhere = [path for path in hidden if not session.shows(path)]
    else:  # a bulk step: which of its photos lie outside what the grid shows is asked of the catalog
        hidden, elsewhere = [], session.step_photos_elsewhere(step)
    if elsewhere and not OffScreenChange.ask(window, f"{verb} label", off_screen_question(verb, step, elsewhere)):
        window.statusBar().showMessage(f"{verb}: nothing changed", 5_000)
        return
    if replay(step) is not None:
        if len(hidden) > len(elsewhere):  # the filter may show them again now
            session.refresh_rows()
        select_ids(window, [change.photo_id for change in step.changes])


def select_ids(window: MainWindow, photo_ids: list[int]) -> None:
    """Select the photos of `photo_ids` that are on screen, the first of them current and scrolled to."""
    model, grid = window.model, window.grid
    rows = [row for row in map(model.row_of_id, photo_ids) if row is not None]
    if not rows:
        return
    selection = QItemSelection()
    for first, last in ranges(rows):
        selection.select(model.index(first, 0), model.index(last, 0))
    selection_model = grid.selectionModel()
    selection_model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    selection_model.setCurrentIndex(model.index(min(rows), 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    grid.scrollTo(model.index(min(rows), 0), QAbstractItemView.ScrollHint.PositionAtCenter)
