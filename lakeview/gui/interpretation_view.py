"""The Results tab: how the model does on the validation photos. A confusion-matrix heat map whose cells show
their photos in the grid, the most confused pairs, and the top losses captioned as fast.ai's plot_top_losses
(prediction / actual / loss / probability of the actual class); a tile's menu fixes its label, and the tile then
shows the new one. When another model becomes active, the headline says these results are of an older one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QListView, QListWidget,
                               QListWidgetItem, QMenu, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from lakeview.core.catalog import NONE_OF_THESE
from lakeview.gui.grid.thumbnail_loader import ThumbnailLoader

if TYPE_CHECKING:  # torch comes with these; the window must open before it loads
    from lakeview.core.training.evaluation import Interpretation, TopLoss

TOP_LOSSES = 16
TILE = 150
PATH_ROLE = Qt.ItemDataRole.UserRole
CELL_ROLE = Qt.ItemDataRole.UserRole + 1
LABEL_ROLE = Qt.ItemDataRole.UserRole + 2
"""A top-loss tile's photo's label now (its actual class when measured, or what the user fixed it to)."""
MEASURED_ROLE = Qt.ItemDataRole.UserRole + 3
"""A top-loss tile's caption and label as measured, to come back to when an undo restores that label."""


def _caption(text: str) -> QLabel:
    """A heading that wraps rather than hold the tab wider than a small screen."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class InterpretationView(QWidget):
    photos_chosen = Signal(str, object)
    """(what they are, [paths]): a confusion-matrix cell, a most-confused pair, or one top-loss photo."""
    relabel_requested = Signal(object, str)
    """(path, label) chosen from a top-loss tile's menu; label may be NONE_OF_THESE."""
    evaluate_requested = Signal()

    def __init__(self, parent: QWidget | None = None, thumbnails: ThumbnailLoader | None = None) -> None:
        super().__init__(parent)
        self.interpretation: Interpretation | None = None
        self.version_id: str | None = None
        """The model version these results are of, when known."""
        self.thumbnails = thumbnails or ThumbnailLoader(self)
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self.headline = QLabel("Train a model (the Train tab) to see how it does on the validation photos, or "
                               "measure the active model on your held-out labelled photos.")
        self.headline.setWordWrap(True)
        self.older_note = QLabel()
        """Shown while these results are of a model that is no longer the active one."""
        self.older_note.setWordWrap(True)
        self.older_note.hide()
        self.evaluate_button = QPushButton("Measure the active model")
        self.evaluate_button.setToolTip("Classify the fifth of your labelled photos that retraining never learns "
                                        "from, and compare")
        self.evaluate_button.clicked.connect(self.evaluate_requested)
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix.setToolTip("Rows: actual class · columns: predicted class. Click a cell to see its photos.")
        self.matrix.cellClicked.connect(self.choose_cell)
        self.matrix.setTabKeyNavigation(False)  # Tab goes on to the lists; arrows move between cells
        self.matrix.installEventFilter(self)
        self.confused = QListWidget()
        self.confused.itemClicked.connect(self._confused_clicked)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(TILE, TILE))
        self.gallery.setGridSize(QSize(TILE + 24, TILE + 56))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setToolTip("The photos the model got most wrong. Click one to fix its label.")
        self.gallery.itemClicked.connect(lambda item: self.show_tile_menu(item, self.gallery.visualItemRect(item).center()))
        self.gallery.installEventFilter(self)
        self.confused.installEventFilter(self)
        self._classes: list[str] = []

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(_caption("<b>Confusion matrix</b> (rows: actual, columns: predicted)"))
        left_layout.addWidget(self.matrix, 3)
        left_layout.addWidget(_caption("<b>Most confused</b> (actual → predicted)"))
        left_layout.addWidget(self.confused, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(_caption("<b>Top losses</b>: prediction / actual / loss / probability of the actual class"))
        right_layout.addWidget(self.gallery)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        top.addWidget(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.older_note)
        layout.addWidget(splitter, 1)
        for before, after in zip(self._tab_chain(), self._tab_chain()[1:]):
            QWidget.setTabOrder(before, after)

    def _tab_chain(self) -> list[QWidget]:
        return [self.evaluate_button, self.matrix, self.confused, self.gallery]

    def set_classes(self, classes: list[str]) -> None:
        """The classes a tile's menu offers (the library's, which may be more than the model's)."""
        self._classes = list(classes)

    def show_interpretation(self, interpretation: Interpretation | None, title: str = "",
                            version_id: str | None = None) -> None:
        self.interpretation, self.version_id = interpretation, version_id
        self.older_note.hide()
        self.matrix.clear()
        self.confused.clear()
        self.gallery.clear()
        if interpretation is None or not len(interpretation.paths):
            self.headline.setText("No validation photos to measure the model on.")
            self.matrix.setRowCount(0)
            self.matrix.setColumnCount(0)
            return
        n = len(interpretation.paths)
        wrong = round(interpretation.error_rate * n)
        self.headline.setText(f"<b>{title}</b> error rate <b>{interpretation.error_rate:.1%}</b>: {wrong} of {n} "
                              "validation photos wrong." if title else
                              f"Error rate <b>{interpretation.error_rate:.1%}</b>: {wrong} of {n} validation photos wrong.")
        self._fill_matrix(interpretation)
        for actual, predicted, count in interpretation.most_confused():
            item = QListWidgetItem(f"{actual} → {predicted}: {count} photo{'s' if count > 1 else ''}")
            item.setData(CELL_ROLE, (actual, predicted))
            self.confused.addItem(item)
        if not self.confused.count():
            self.confused.addItem("Nothing confused: every validation photo is right.")
        for loss in interpretation.top_losses(TOP_LOSSES):
            self._add_tile(loss)

    def follow_active(self, active_id: str | None) -> None:
        """The active model changed (a retrain, a model file): say plainly when these results are of another."""
        older = self.interpretation is not None and self.version_id is not None and active_id != self.version_id
        now = f"the active model is now {active_id[:8]}" if active_id else "there is no active model now"
        self.older_note.setText(f"<b>Older results</b>, of model {(self.version_id or '')[:8]}; {now}. Press "
                                "“Measure the active model” for its own.")
        self.older_note.setVisible(older)

    def labels_changed(self, changes: dict) -> None:
        """{path: (label, source)}: a top-loss tile whose photo was relabelled shows its new label."""
        changed = {str(path): label for path, (label, _source) in changes.items()}
        for row in range(self.gallery.count()):
            item = self.gallery.item(row)
            path = item.data(PATH_ROLE)
            if path in changed and changed[path] != item.data(LABEL_ROLE):
                item.setData(LABEL_ROLE, changed[path])
                caption, measured = item.data(MEASURED_ROLE)
                predicted = caption.split(" / ", 1)[0]
                item.setText(caption if changed[path] == measured else
                             f"{predicted} / {changed[path] or 'unlabelled'}\nlabel fixed")

    def _fill_matrix(self, interpretation: Interpretation) -> None:
        classes, matrix = interpretation.classes, interpretation.confusion_matrix()
        accuracy = interpretation.accuracy_per_class()
        self.matrix.setRowCount(len(classes))
        self.matrix.setColumnCount(len(classes))
        self.matrix.setHorizontalHeaderLabels(classes)
        self.matrix.setVerticalHeaderLabels(classes)
        palette = self.palette()
        hot = palette.color(QPalette.ColorRole.Highlight)
        for a, row in enumerate(matrix):
            total = sum(row)
            header = self.matrix.verticalHeaderItem(a)
            header.setToolTip(f"{classes[a]}: {'-' if accuracy[classes[a]] is None else f'{accuracy[classes[a]]:.0%}'} right")
            for p, count in enumerate(row):
                share = count / total if total else 0.0
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                colour = QColor(hot)
                colour.setAlphaF(0.08 + 0.92 * share if count else 0.0)
                item.setBackground(colour)
                if share > 0.5:
                    item.setForeground(palette.color(QPalette.ColorRole.HighlightedText))
                item.setToolTip(f"actual {classes[a]}, predicted {classes[p]}: {count} photo(s), {share:.0%} of the row")
                item.setData(CELL_ROLE, (classes[a], classes[p]))
                self.matrix.setItem(a, p, item)

    def _add_tile(self, loss: TopLoss) -> None:
        item = QListWidgetItem(f"{loss.predicted} / {loss.actual}\n{loss.loss:.2f} / {loss.prob_actual:.2f}")
        item.setData(PATH_ROLE, str(loss.path))
        item.setData(LABEL_ROLE, loss.actual)
        item.setData(MEASURED_ROLE, (item.text(), loss.actual))
        item.setToolTip(f"{loss.path}\npredicted {loss.predicted} ({loss.prob_predicted:.0%}), actually {loss.actual} "
                        f"({loss.prob_actual:.0%}), loss {loss.loss:.2f}")
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        placeholder = QPixmap(TILE, TILE)
        placeholder.fill(self.palette().color(QPalette.ColorRole.AlternateBase))
        item.setIcon(QIcon(placeholder))
        self.gallery.addItem(item)
        self.thumbnails.request(loss.path, TILE)
        pixmap = self.thumbnails.pixmap(loss.path, TILE)
        if pixmap is not None:
            item.setIcon(QIcon(pixmap))

    def _thumbnail_ready(self, path: str, _image) -> None:
        pixmap = self.thumbnails.pixmap(path, TILE)
        if pixmap is None:
            return
        for row in range(self.gallery.count()):
            item = self.gallery.item(row)
            if item.data(PATH_ROLE) == path:
                item.setIcon(QIcon(pixmap))

    # --- interaction --------------------------------------------------------------------------------------
    def choose_cell(self, row: int, column: int) -> None:
        item = self.matrix.item(row, column)
        if item is None or self.interpretation is None:
            return
        self._choose_pair(*item.data(CELL_ROLE))

    def _confused_clicked(self, item: QListWidgetItem) -> None:
        pair = item.data(CELL_ROLE)
        if pair:
            self._choose_pair(*pair)

    def _choose_pair(self, actual: str, predicted: str) -> None:
        from lakeview.core.training.evaluation import paths_of

        if self.interpretation is not None:
            self.photos_chosen.emit(f"actual {actual}, predicted {predicted}",
                                    paths_of(self.interpretation, actual, predicted))

    def tile_menu(self, item: QListWidgetItem) -> QMenu:
        path = Path(item.data(PATH_ROLE))
        menu = QMenu(self)
        menu.addSection(path.name)
        current = item.data(LABEL_ROLE)
        for name in self._classes or (self.interpretation.classes if self.interpretation else []):
            action = QAction(f"Label as {name}", menu)
            action.setCheckable(True)
            action.setChecked(name == current)
            action.triggered.connect(lambda checked=False, n=name: self.relabel_requested.emit(path, n))
            menu.addAction(action)
        none = QAction("None of these", menu)
        none.setCheckable(True)
        none.setChecked(current == NONE_OF_THESE)
        none.triggered.connect(lambda checked=False: self.relabel_requested.emit(path, NONE_OF_THESE))
        menu.addAction(none)
        menu.addSeparator()
        show = QAction("Show in the grid", menu)
        show.triggered.connect(lambda checked=False: self.photos_chosen.emit(path.name, [path]))
        menu.addAction(show)
        return menu

    def show_tile_menu(self, item: QListWidgetItem, where: QPoint) -> None:
        menu = self.tile_menu(item)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(self.gallery.viewport().mapToGlobal(where))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The keyboard does what a click does: Enter or Space on a matrix cell or a most-confused pair shows its
        photos; Enter, Space or the Menu key on a top-loss tile opens its label menu."""
        if event.type() != QEvent.Type.KeyPress or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return super().eventFilter(watched, event)
        key = event.key()
        opens = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)
        if watched is self.matrix and opens and self.matrix.currentItem() is not None:
            self.choose_cell(self.matrix.currentRow(), self.matrix.currentColumn())
            return True
        if watched is self.confused and opens and self.confused.currentItem() is not None:
            self._confused_clicked(self.confused.currentItem())
            return True
        if watched is self.gallery and (opens or key == Qt.Key.Key_Menu) and self.gallery.currentItem() is not None:
            item = self.gallery.currentItem()
            self.show_tile_menu(item, self.gallery.visualItemRect(item).center())
            return True
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        """The heat map's colours come from the palette: repaint them when the system switches light/dark."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.interpretation is not None:
            self._fill_matrix(self.interpretation)

    def shutdown(self) -> None:
        self.thumbnails.shutdown()
