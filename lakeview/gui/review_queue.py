"""Labelling as a queue (Lobe's play mode, digiKam's confirm flow): after a number key, Delete or Enter the grid
moves on to the next photo that has no label yet, unless the user chose to stay; and a view that lists only
unlabelled photos (the review queue) lets the photos that got a label go."""

from __future__ import annotations

import itertools
from typing import Callable, Sequence

from PySide6.QtCore import QItemSelectionModel, QSettings
from PySide6.QtWidgets import QAbstractItemView

from lakeview.gui.catalog_writes import LARGE_WRITE
from lakeview.gui.grid.photo_entry import RowValues
from lakeview.gui.grid.view import PhotoGrid

MOVE_ON_KEY = "labelling/move_to_next"


LOOK_AHEAD = 5_000
"""Rows looked through for the next photo without a label (each read from the catalog a page at a time)."""


def next_to_review(labelled: Sequence[bool], after: int, limit: int | None = None) -> int | None:
    """The first row after `after` whose photo has no label (`labelled[row]` is False), else the first such row
    before it, from the top; None when every photo has one (or none of the first `limit` rows looked at)."""
    order = itertools.chain(range(after + 1, len(labelled)), range(0, min(after + 1, len(labelled))))
    for row in itertools.islice(order, limit):
        if not labelled[row]:
            return row
    return None


def why_a_number_cannot_label(number: int, classes: Sequence[str], selected: bool, photos_shown: bool) -> str | None:
    """What the status bar says when number key `number` cannot label anything; None when it can."""
    if not classes:
        return "Add a class in the Classes panel first (type a name, press Enter)"
    keys = f"1-{min(len(classes), 9)}" if len(classes) > 1 else "1"
    if number > len(classes):
        listed = ", ".join(f"{n} {name}" for n, name in enumerate(classes[:9], 1))
        return f"There is no class {number}: press {keys} ({listed}), or add a class in the Classes panel"
    if not photos_shown:
        return "Open a folder of photos first (Ctrl+O)"
    if not selected:
        return f"Select a photo first (click it, or move with the arrow keys), then press {keys}"
    return None


class ReviewQueue:
    """Moves the grid on after labelling. `hides_labelled()` says whether the view's filter leaves labelled photos
    out; `tell(text)` puts a sentence in the status bar."""

    def __init__(self, grid: PhotoGrid, settings: QSettings, hides_labelled: Callable[[], bool],
                 tell: Callable[[str], None]) -> None:
        self.grid = grid
        self.settings = settings
        self.hides_labelled = hides_labelled
        self.tell = tell

    @property
    def move_on(self) -> bool:
        return self.settings.value(MOVE_ON_KEY, True, type=bool)

    def set_move_on(self, on: bool) -> None:
        self.settings.setValue(MOVE_ON_KEY, bool(on))

    def after_labelling(self) -> None:
        """Called once the selected photos were given labels. Nothing moves when none of them has one (the key
        changed nothing: an Enter on photos without a prediction)."""
        model, selection = self.grid.photo_model(), self.grid.selectionModel()
        runs = self.grid.selected_runs()
        if model is None or not runs or sum(last - first + 1 for first, last in runs) >= LARGE_WRITE:
            return  # a bulk change is written in a worker; the grid follows it when it is done
        rows = [row for first, last in runs for row in range(first, last + 1)]
        labelled = [row for row in rows if model.has_label(row)]  # a group's header: once all its photos have one
        if not labelled:
            return
        if self.move_on:
            target = next_to_review(RowValues(model, model.has_label), rows[-1], LOOK_AHEAD)
            if target is None:
                self.tell("Every photo shown has a label" if model.rowCount() <= LOOK_AHEAD else
                          f"None of the next {LOOK_AHEAD:,} photos is without a label")
            else:
                self.grid.setCurrentIndex(model.index(target, 0))  # selects it alone, as a click does
        if self.hides_labelled():
            # The next photo slides into the place of the one that left, as in a queue.
            model.remove_rows(labelled)
            current = self.grid.currentIndex()
            if current.isValid() and not selection.hasSelection():  # a number key has something to label
                selection.select(current, QItemSelectionModel.SelectionFlag.Select)
        if self.grid.currentIndex().isValid():
            self.grid.scrollTo(self.grid.currentIndex(), QAbstractItemView.ScrollHint.EnsureVisible)
