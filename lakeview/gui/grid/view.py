"""The thumbnail grid widget: a QListView in icon mode over a PhotoGridModel, tiles painted by PhotoDelegate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (QAbstractItemModel, QEvent, QItemSelection, QItemSelectionModel, QModelIndex,
                            QPersistentModelIndex, QPoint, Qt, QTimer, Signal)
from PySide6.QtGui import QPainter, QPalette, QRegion
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from lakeview.gui.grid.delegate import PhotoDelegate
from lakeview.gui.grid.model import DEFAULT_THUMBNAIL_PX, PhotoGridModel, Role
from lakeview.gui.grid.row_runs import ranges_union

MIN_SIZE, MAX_SIZE = 64, 512
LAYOUT_BATCH = 4_000
"""Tiles placed per pass of the event loop when the rows change (a few milliseconds each)."""
PLACE_PASSES = 200
"""Passes of the event loop that keeping the scroll place waits at most for its tile to be laid out."""


@dataclass
class _Place:
    """Where the user was before the rows were replaced: the photos' order then, the current photo's row, and
    the row and on-screen top of the photo that holds the scroll (the current one, else the first visible)."""

    identities: list[int] | list[str]
    current_row: int | None
    anchor_row: int | None
    anchor_top: int | None
    all_selected: bool


class PhotoGrid(QListView):
    """Icon-mode list of photo tiles; uniform sizes and batched layout keep 10,000 photos responsive.

    The model is asked for thumbnails of `thumbnail_size()` logical pixels times the screen's device pixel
    ratio, so they are crisp on high-DPI screens.
    """

    thumbnailSizeChanged = Signal(int)
    unassigned_digit = Signal(int)
    """A key 1-9 that no enabled Label action took (that class does not exist yet): the window says why."""

    def __init__(self, parent: QWidget | None = None, thumbnail_size: int = DEFAULT_THUMBNAIL_PX) -> None:
        super().__init__(parent)
        self._size = thumbnail_size
        self._delegate = PhotoDelegate(self, thumbnail_size)
        self.setItemDelegate(self._delegate)
        # List mode, wrapped left to right, lays tiles out like icon mode, but from uniform sizes alone: icon mode
        # keeps a geometry per item and walks them all on every change (seconds at 100,000 photos).
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setMovement(QListView.Movement.Static)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)  # hover highlight
        self.setSelectionRectVisible(True)
        self.setDragEnabled(False)
        self._place: _Place | None = None
        self.empty_text = "Open a folder (Ctrl+O)"
        """What the grid says while it shows no photo: why it is empty, and what to do."""
        self._update_steps()

    # --- thumbnail size ----------------------------------------------------------------------------------

    def thumbnail_size(self) -> int:
        return self._size

    def set_thumbnail_size(self, size: int) -> None:
        size = max(MIN_SIZE, min(MAX_SIZE, int(size)))
        if size == self._size:
            return
        self._size = size
        self._delegate.set_thumbnail_size(size)
        self._sync_model_px()
        self._update_steps()
        # The uniform item size is cached by the view: a fresh layout measures it again.
        self.setUniformItemSizes(False)
        self.setUniformItemSizes(True)
        self.scheduleDelayedItemsLayout()
        self.thumbnailSizeChanged.emit(size)

    def _update_steps(self) -> None:
        self.verticalScrollBar().setSingleStep(max(8, self._size // 4))

    def _sync_model_px(self) -> None:
        model = self.model()
        if isinstance(model, PhotoGridModel):
            model.set_thumbnail_px(round(self._size * self.devicePixelRatioF()))

    # --- model -------------------------------------------------------------------------------------------

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.photo_model()
        if old is not None:
            old.layoutAboutToBeChanged.disconnect(self._remember_place)
            old.layoutChanged.disconnect(self._restore_place)
            old.repaint_needed.disconnect(self._repaint)
        super().setModel(model)
        if isinstance(model, PhotoGridModel):  # after the selection model's own handlers, which keep the selection
            model.layoutAboutToBeChanged.connect(self._remember_place)
            model.layoutChanged.connect(self._restore_place)
            model.repaint_needed.connect(self._repaint)
            self.selectionModel().selectionChanged.connect(self._select_groups)
        self._sync_model_px()

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        """The viewport: Qt's own walks every index of the selection (select all over 100,000 photos stalled the
        window for seconds), and only the tiles on screen are repainted anyway."""
        return QRegion(self.viewport().rect()) if not selection.isEmpty() else QRegion()

    def _repaint(self) -> None:
        self.viewport().update()

    def _select_groups(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        """A group header stands for its group: selecting it (a click, the arrow keys, a range) selects the group's
        photos too, and taking it out of the selection (Ctrl+click) takes them out, all but the current photo.

        Only the last header of each range can have photos past it (the groups of the others end before the next
        header), so select all over thousands of groups looks at one header."""
        model, selection = self.photo_model(), self.selectionModel()
        if model is None or not model.header_rows():
            return
        current = self.currentIndex().row()
        for ranges, flag in ((deselected, QItemSelectionModel.SelectionFlag.Deselect),
                             (selected, QItemSelectionModel.SelectionFlag.Select)):
            for r in ranges:
                headers = model.headers_within(r.top(), r.bottom())
                if not headers:
                    continue
                _, last = model.group_span(headers[-1])
                if last <= r.bottom():
                    continue
                runs = [(r.bottom() + 1, last)]
                if flag == QItemSelectionModel.SelectionFlag.Deselect:
                    if selection.isSelected(model.index(headers[-1], 0)):
                        continue
                    if r.bottom() < current <= last:
                        runs = [(r.bottom() + 1, current - 1), (current + 1, last)]
                for start, end in runs:
                    if start <= end:
                        selection.select(QItemSelection(model.index(start, 0), model.index(end, 0)), flag)

    def photo_model(self) -> PhotoGridModel | None:
        model = self.model()
        return model if isinstance(model, PhotoGridModel) else None

    def selected_runs(self) -> list[tuple[int, int]]:
        """The selected rows as sorted, inclusive (first, last) runs, read from the selection's ranges (select
        all over 100,000 photos is one range, not 100,000 indexes)."""
        if self.selectionModel() is None:
            return []
        return ranges_union((r.top(), r.bottom()) for r in self.selectionModel().selection())

    def selected_paths(self) -> list[Path]:
        model = self.model()
        paths = (model.index(row, 0).data(Role.PathRole) for first, last in self.selected_runs()
                 for row in range(first, last + 1))
        return [path for path in paths if path is not None]  # a group header has none

    def current_path(self) -> Path | None:
        index = self.currentIndex()
        return index.data(Role.PathRole) if index.isValid() else None

    def scroll_to_path(self, path: Path | str) -> None:
        model = self.photo_model()
        if model is not None:
            index = model.index_of(path)
            if index.isValid():
                self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    # --- keeping the user's place when the rows are replaced ----------------------------------------------

    def _remember_place(self, *_) -> None:
        model = self.photo_model()
        current = self.currentIndex()
        anchor = current if current.isValid() else self._first_visible()
        top = self.visualRect(anchor).top() if anchor.isValid() else None
        self._place = _Place(model.identities(), current.row() if current.isValid() else None,
                             anchor.row() if anchor.isValid() else None, top, self._all_selected())

    def _restore_place(self, *_) -> None:
        """The selection model has kept the photos still shown selected, and the current one current. A current
        photo that is gone hands over to its nearest neighbour, and the scroll puts the photo it held (or that
        neighbour) where it was on screen."""
        place, self._place = self._place, None
        model = self.photo_model()
        if place is None or model is None:
            return
        if place.all_selected and model.rowCount() and not self._all_selected():
            # Qt drops a selection of every row (over 1,000 of them) when the row count changes; every photo
            # still shown was selected.
            self.selectionModel().select(QItemSelection(model.index(0, 0), model.index(model.rowCount() - 1, 0)),
                                         QItemSelectionModel.SelectionFlag.Select)
        if place.current_row is not None and not self.currentIndex().isValid():
            row = model.row_near(place.identities, place.current_row)
            if row is not None:
                keep = QItemSelectionModel.SelectionFlag.NoUpdate
                select = QItemSelectionModel.SelectionFlag.ClearAndSelect
                self.selectionModel().setCurrentIndex(model.index(row, 0),
                                                      keep if self.selectionModel().hasSelection() else select)
        row = model.row_near(place.identities, place.anchor_row) if place.anchor_row is not None else None
        if row is None or place.anchor_top is None:
            self.scrollToTop()
            return
        self.executeDelayedItemsLayout()  # the first batch of tiles now; the rest in later passes of the loop
        self._scroll_back(QPersistentModelIndex(model.index(row, 0)), place.anchor_top, PLACE_PASSES)

    def _scroll_back(self, photo: QPersistentModelIndex, top: int, passes: int) -> None:
        """Scroll so that `photo` is at `top` on screen, once the batched layout has placed it (a layout of
        100,000 tiles at once would stall the window)."""
        if not photo.isValid():
            return
        index = self.model().index(photo.row(), 0)
        if not self.rectForIndex(index).isValid() and passes > 0:
            QTimer.singleShot(0, self, lambda: self._scroll_back(photo, top, passes - 1))
            return
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + self.visualRect(index).top() - top)

    def _all_selected(self) -> bool:
        """Every row selected, as one range (what select all makes)."""
        model, selection = self.model(), self.selectionModel().selection()
        return (len(selection) == 1 and model.rowCount() > 0 and selection[0].top() == 0
                and selection[0].bottom() == model.rowCount() - 1)

    def _first_visible(self) -> QModelIndex:
        x = self.spacing() + 1
        for y in range(0, self.viewport().height(), max(1, self.spacing())):
            index = self.indexAt(QPoint(x, y))
            if index.isValid():
                return index
        return QModelIndex()

    # --- events ------------------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a screen of another density
            self._sync_model_px()

    def keyPressEvent(self, event) -> None:
        digit = event.text()
        if len(digit) == 1 and "1" <= digit <= "9" and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.unassigned_digit.emit(int(digit))  # not a jump to a file name starting with it
            event.accept()
            return
        super().keyPressEvent(event)
        # A key moves the current row, then selects the rows from the anchor to it: the second step takes back
        # the groups that the first one's header selected.
        self._select_groups(self.selectionModel().selection(), QItemSelection())

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:  # Ctrl+wheel zooms the thumbnails
            step = 16 if event.angleDelta().y() > 0 else -16
            self.set_thumbnail_size(self._size + step)
            event.accept()
            return
        super().wheelEvent(event)

    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self.viewport().update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            painter.setFont(font)
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()
