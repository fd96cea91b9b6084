"""The classes: their colours, the digit that assigns each, how many photos carry it; add a class."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from lakeview.core.catalog.labels import ClassInfo


class ClassesPanel(QWidget):
    add_requested = Signal(str)
    assign_requested = Signal(int)
    """The 1-based number of the class whose row was activated."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setToolTip("Press 1-9 in the grid to give the selected photos a class")
        self.list.itemActivated.connect(lambda item: self.assign_requested.emit(self.list.row(item) + 1))
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
            self.list.addItem(item)

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
