"""The classes: their colours, the digit that assigns each, how many photos carry it; add, rename, recolour
and remove them (right-click, or the buttons)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QColorDialog, QHBoxLayout, QInputDialog, QLineEdit, QListWidget, QListWidgetItem, QMenu,
                               QPushButton, QVBoxLayout, QWidget)

from lakeview.core.catalog.labels import ClassInfo


class ClassesPanel(QWidget):
    add_requested = Signal(str)
    assign_requested = Signal(int)
    """The 1-based number of the class whose row was activated."""
    rename_requested = Signal(str, str)
    colour_requested = Signal(str, str)
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setToolTip("Press 1-9 in the grid to give the selected photos a class; right-click to rename, "
                             "recolour or remove one")
        self.list.itemActivated.connect(lambda item: self.assign_requested.emit(self.list.row(item) + 1))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_menu)
        self.name = QLineEdit()
        self.name.setPlaceholderText("New class, e.g. Moraine Lake")
        self.name.returnPressed.connect(self._add)
        add = QPushButton("Add")
        add.clicked.connect(self._add)
        row = QHBoxLayout()
        row.addWidget(self.name)
        row.addWidget(add)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(row)

    def set_classes(self, classes: list[ClassInfo]) -> None:
        self.list.clear()
        for number, info in enumerate(classes, 1):
            key = f"{number}  " if number <= 9 else "    "
            item = QListWidgetItem(self._swatch(info.colour), f"{key}{info.name}    ({info.labelled})")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            item.setData(Qt.ItemDataRole.UserRole + 1, info.colour)
            self.list.addItem(item)

    def class_menu(self, item: QListWidgetItem) -> QMenu:
        name, colour = item.data(Qt.ItemDataRole.UserRole), item.data(Qt.ItemDataRole.UserRole + 1)
        menu = QMenu(self)
        for text, slot in (("Rename…", lambda: self._rename(name)), ("Change colour…", lambda: self._recolour(name, colour)),
                           ("Remove", lambda: self.remove_requested.emit(name))):
            action = QAction(text, menu)
            action.triggered.connect(lambda checked=False, slot=slot: slot())
            menu.addAction(action)
        return menu

    def _show_menu(self, where: QPoint) -> None:
        item = self.list.itemAt(where)
        if item is not None:
            menu = self.class_menu(item)
            menu.aboutToHide.connect(menu.deleteLater)
            menu.popup(self.list.viewport().mapToGlobal(where))

    @classmethod
    def ask_name(cls, parent: QWidget, old: str) -> str | None:
        """The rename dialog (tests replace this)."""
        name, ok = QInputDialog.getText(parent, "Rename class", f"New name for '{old}':", text=old)
        return name.strip() if ok and name.strip() else None

    @classmethod
    def ask_colour(cls, parent: QWidget, colour: str) -> str | None:
        chosen = QColorDialog.getColor(QColor(colour), parent, "Class colour")
        return chosen.name() if chosen.isValid() else None

    def _rename(self, name: str) -> None:
        new = self.ask_name(self, name)
        if new and new != name:
            self.rename_requested.emit(name, new)

    def _recolour(self, name: str, colour: str) -> None:
        new = self.ask_colour(self, colour)
        if new:
            self.colour_requested.emit(name, new)

    def _add(self) -> None:
        name = self.name.text().strip()
        if name:
            self.add_requested.emit(name)
            self.name.clear()

    @staticmethod
    def _swatch(colour: str) -> QIcon:
        pixmap = QPixmap(14, 14)
        pixmap.fill(QColor(colour))
        return QIcon(pixmap)
