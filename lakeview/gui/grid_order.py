"""The grid's order besides the filter's: Show ▸ Groups (the photos in view in similar-photo groups, each under
a header with its count) and Find similar (the photos nearest one photo, nearest first), with the way back (Esc,
the filter bar's Back, unchecking Show ▸ Groups) to the filter's order, keeping the current photo.

Find similar stacks on the groups: Back leaves it first, then the groups. Each mode keeps its order over the
photos the session shows: a photo the filter hides leaves it, and one it does not know joins the photos in no
group; opening another folder leaves both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from lakeview.gui.grid.group_rows import grouped_rows
from lakeview.gui.session_rows import ShownRows
from lakeview.gui.session_similar import DISTANCE_STEP, DISTANCES, LABELLING_DISTANCE
from lakeview.gui.worker import JobKind

if TYPE_CHECKING:
    from lakeview.gui.main_window import MainWindow

GROUPS_KEY = "Ctrl+G"
SIMILAR_KEY = "Ctrl+Shift+F"
SIMILAR_SHOWN = 200
"""Photos Find similar shows: the current one, then the nearest to it."""


@dataclass(frozen=True)
class Groups:
    """A grouping of the photos of `folder` (catalog ids, each group in display order) and what to say of it."""
    folder: Path | None
    groups: list[list[int]]
    description: str
    places: Sequence[str] = ()
    """Where each group was taken, named ("" where unknown)."""


@dataclass(frozen=True)
class Similar:
    """The photos nearest `name`'s photo, nearest first (itself first)."""
    folder: Path | None
    name: str
    ids: list[int]


class GridOrder(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.shown: ShownRows | None = None
        self.groups: Groups | None = None
        self.similar: Similar | None = None
        self.distance = LABELLING_DISTANCE
        """How far apart (cosine distance, on average) the photos of a group may be: Larger and Smaller groups."""
        window.filter_bar.back_requested.connect(self.back)
        grid = window.grid
        grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        grid.customContextMenuRequested.connect(self._context_menu)

    # --- menus --------------------------------------------------------------------------------------------
    def build_menu(self, menu: QMenu) -> None:
        """Show ▸ Groups (checkable), Find similar, Back."""
        window = self.window
        self.groups_action = QAction("&Groups of similar photos", window)
        self.groups_action.setCheckable(True)
        self.groups_action.setShortcut(QKeySequence(GROUPS_KEY))
        self.groups_action.setToolTip("The photos in view in groups of similar photos, each under a header with "
                                      "its count: select a header and press 1-9 to label the whole group")
        self.groups_action.toggled.connect(self._groups_toggled)
        self.similar_action = QAction("Find &similar photos", window)
        self.similar_action.setShortcut(QKeySequence(SIMILAR_KEY))
        self.similar_action.triggered.connect(lambda: self.find_similar())
        self.back_action = QAction("&Back to the filter's order", window)
        self.back_action.triggered.connect(self.back)
        self.larger_action = QAction("&Larger groups", window)
        self.larger_action.setToolTip("Group photos that are less alike: fewer, bigger groups")
        self.larger_action.triggered.connect(lambda: self.regroup(DISTANCE_STEP))
        self.smaller_action = QAction("S&maller groups", window)
        self.smaller_action.setToolTip("Group only photos that are more alike: more, smaller groups")
        self.smaller_action.triggered.connect(lambda: self.regroup(-DISTANCE_STEP))
        for action in (self.groups_action, self.larger_action, self.smaller_action, None, self.similar_action,
                       None, self.back_action):
            if action is None:
                menu.addSeparator()
                continue
            menu.addAction(action)
            window.addAction(action)
        menu.aboutToShow.connect(lambda: self.back_action.setEnabled(self.active))

    def _context_menu(self, position: QPoint) -> None:
        index = self.window.grid.indexAt(position)
        menu = QMenu(self.window.grid)
        similar = menu.addAction("Find similar photos", lambda: self.find_similar(index.row()))
        similar.setShortcut(QKeySequence(SIMILAR_KEY))
        similar.setEnabled(index.isValid() and self.window.model.header_at(index.row()) is None)
        menu.addAction(self.groups_action)
        if self.active:
            menu.addAction(self.back_action)
        self.context_menu = menu  # tests reach it
        menu.popup(self.window.grid.viewport().mapToGlobal(position))

    # --- what the grid shows ------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Whether the grid shows groups or similar photos rather than the filter's order."""
        return self.groups is not None or self.similar is not None

    def show(self, shown: ShownRows) -> None:
        """The session's rows, in the order of the mode on (a mode of another folder ends)."""
        self.shown = shown
        folder = self.session.folder
        if self.similar is not None and self.similar.folder != folder:
            self.similar = None
        if self.groups is not None and self.groups.folder != folder:
            self._set_groups(None)
        self._present()

    def _present(self) -> None:
        window, shown = self.window, self.shown
        if shown is None:
            return
        session = self.session
        if self.similar is not None:
            visible = set(shown.ids)
            ids = [photo_id for photo_id in self.similar.ids if photo_id in visible]
            window.model.set_ids(ids, session.rows_of_ids, None, session.photo_id)
            window.filter_bar.show_order(f"Similar to {self.similar.name}")
        elif self.groups is not None:
            ids, headers = grouped_rows(self.groups.groups, shown.ids, self.groups.places)
            window.model.set_ids(ids, session.rows_of_ids, None, session.photo_id, headers)
            window.filter_bar.show_order(f"Grouped: {self.groups.description}")
        else:
            window.model.set_ids(shown.ids, session.rows_of_ids, shown.row_index, session.photo_id)
            window.filter_bar.show_order(None)

    def back_on_esc(self) -> bool:
        """Esc: back from similar photos or groups, unless the job grouping them or indexing them runs (Esc
        stops that). False when the grid showed neither."""
        return self.session.job_kind not in (JobKind.GROUP_PHOTOS, JobKind.SIMILAR_INDEX) and self.back()

    def back(self) -> bool:
        """Leave Find similar, else the groups; False when the grid showed neither."""
        if self.similar is not None:
            self.similar = None
        elif self.groups is not None:
            self._set_groups(None)
        else:
            return False
        self._present()
        self.window.grid.setFocus()
        return True

    # --- groups -------------------------------------------------------------------------------------------
    def _groups_toggled(self, checked: bool) -> None:
        if not checked:
            if self.session.job_kind is JobKind.GROUP_PHOTOS:
                self.session.cancel_job()
            if self.groups is not None:
                self.similar = None
                self._set_groups(None)
                self._present()
            return
        if self.shown is None or not self.shown.ids:
            self._set_groups(None)
            self._tell("Show ▸ Groups: open a folder of photos first (Ctrl+O)")
            return
        self._group()

    def regroup(self, step: float) -> None:
        """Group again, photos `step` further apart (cosine distance) allowed in a group: their features are
        stored, so only the clustering runs."""
        low, high = DISTANCES
        self.distance = round(min(high, max(low, self.distance + step)), 2)
        if self.groups_action.isChecked():
            self._group()
        else:
            self.groups_action.setChecked(True)

    def _group(self) -> None:
        arch = self.window.training_panel.arch.currentData()
        if not self.session.group_photos(list(self.shown.ids), self.distance, arch,
                                         lambda result: self.show_groups(result.grouping.groups,
                                                                         result.grouping.describe(),
                                                                         result.places),
                                         self._not_grouped):
            self._set_groups(self.groups)  # another job runs (the status bar says so): as it was

    def show_groups(self, groups: Sequence[Sequence[int]], description: str, places: Sequence[str] = ()) -> None:
        """Show the photos in view in these groups (catalog ids, each in display order), named by the places they
        were taken where known."""
        self.similar = None
        self._set_groups(Groups(self.session.folder, [list(group) for group in groups], description, tuple(places)))
        self._present()
        grid = self.window.grid
        if not grid.currentIndex().isValid() and self.window.model.rowCount():
            grid.setCurrentIndex(self.window.model.index(0, 0))  # the first group's header: press a key
        grid.setFocus()

    def _not_grouped(self, message: str | None) -> None:
        self._set_groups(self.groups)  # the groups shown before, if any, stay
        if message:
            self._tell(message)

    def _set_groups(self, groups: Groups | None) -> None:
        self.groups = groups
        self.groups_action.blockSignals(True)
        self.groups_action.setChecked(groups is not None)
        self.groups_action.blockSignals(False)

    # --- find similar -------------------------------------------------------------------------------------
    def find_similar(self, row: int | None = None) -> None:
        """The photos in view nearest the current one (or the one at `row`), nearest first."""
        window = self.window
        row = window.grid.currentIndex().row() if row is None else row
        if row < 0 or window.model.header_at(row) is not None:
            self._tell("Find similar: select a photo first")
            return
        photo_id = window.model.ids()[row]
        name = window.model.entry_at(row).name
        ids = list(self.shown.ids) if self.shown is not None else []
        self.session.find_similar(photo_id, ids, SIMILAR_SHOWN - 1, window.training_panel.arch.currentData(),
                                  lambda nearest: self.show_similar(name, nearest), self._tell)

    def show_similar(self, name: str, nearest: list[int]) -> None:
        """Show these photos, nearest first (the photo they are near first), as the photos similar to `name`."""
        self.similar = Similar(self.session.folder, name, list(nearest))
        self._present()
        grid = self.window.grid
        if self.window.model.rowCount():
            grid.setCurrentIndex(self.window.model.index(0, 0))
        grid.scrollToTop()
        grid.setFocus()

    def _tell(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 10_000)
