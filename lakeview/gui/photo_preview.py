"""Space in the grid: the current photo large, in a preview whose Left and Right step through the grid's photos
(group headers skipped), the grid's current photo following."""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt

from lakeview.gui.grid.model import PhotoGridModel
from lakeview.gui.grid.photo_entry import RowValues
from lakeview.gui.grid.view import PhotoGrid
from lakeview.gui.inspector import describe_label
from lakeview.gui.preview_dialog import PreviewDialog
from lakeview.gui.session import LibrarySession


def open_preview(grid: PhotoGrid, model: PhotoGridModel, session: LibrarySession) -> PreviewDialog | None:
    """Open the preview at the grid's current photo (at a header: its group's first photo); None when there is
    no photo to show."""
    current = grid.currentIndex().row()
    if current < 0:
        return None
    rows = model.photo_rows()
    start = bisect.bisect_left(rows, current)
    if start >= len(rows):
        return None
    dialog = PreviewDialog(RowValues(model, model.path_at, rows), start, grid.window(),
                           label_text=lambda path: describe_label(session.catalog.label_of(path)))
    dialog.current_changed.connect(lambda i: grid.setCurrentIndex(model.index(rows[i], 0)))
    session.labels_changed.connect(dialog.refresh)
    dialog.finished.connect(lambda _: (session.labels_changed.disconnect(dialog.refresh), dialog.shutdown()))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
