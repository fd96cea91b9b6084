"""The count of the grid model's rows, as the source model behind its proxy (see RowCount)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex


class RowCount(QAbstractListModel):
    """The model's rows, counted: the source of PhotoGridModel's proxy, so that views ask C++ for the row count.
    A list view asks it about every row on each layout and select all (QAbstractItemModel.index checks it), and
    a Python rowCount made that seconds at 100,000 photos; QSortFilterProxyModel keeps the count in C++."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.count = 0

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.count

    def data(self, index, role: int = 0):
        return None

    def replace(self, count: int, swap: Callable[[], None], new_row: Callable[[int], int | None]) -> None:
        """A new count, the rows' data swapped by `swap` once views have noted the old rows; each persistent
        index moves to `new_row(old row)` (None: its photo is gone)."""
        self.layoutAboutToBeChanged.emit()
        swap()
        old_count, self.count = self.count, count
        moved = self.persistentIndexList()
        if moved:
            rows = [new_row(index.row()) if 0 <= index.row() < old_count else None for index in moved]
            self.changePersistentIndexList(moved, [self.index(row, 0) if row is not None else QModelIndex()
                                                   for row in rows])
        self.layoutChanged.emit()
