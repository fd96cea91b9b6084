"""The status-bar label that counts the photos the grid shows and how many of them are selected."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from lakeview.gui.grid.view import PhotoGrid


class PhotoCountLabel(QLabel):
    """ "60 photos, 3 selected", following the grid's rows and selection."""

    def __init__(self, grid: PhotoGrid) -> None:
        super().__init__()
        self.grid = grid
        model = grid.model()
        grid.selectionModel().selectionChanged.connect(lambda *_: self.refresh())
        for change in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            change.connect(lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        model, runs = self.grid.model(), self.grid.selected_runs()
        shown = model.rowCount() - len(model.header_rows())  # a group's header is no photo
        selected = sum(last - first + 1 - len(model.headers_within(first, last)) for first, last in runs)
        text = f"{shown:,} photo{'s' if shown != 1 else ''}"
        self.setText(f"{text}, {selected:,} selected" if selected else text)
