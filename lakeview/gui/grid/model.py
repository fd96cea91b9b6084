"""The grid's item model: one light entry per photo (path, label, prediction, error), no pixmaps in rows.

Thumbnails are asked for lazily, the first time the view wants a row's picture (so only for rows it paints),
and come back through the loader; their arrival is announced in coalesced `dataChanged` ranges.
"""

from __future__ import annotations

import zlib
from enum import IntEnum
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QPixmap

from lakeview.core.catalog.labels import NONE_OF_THESE, PALETTE
from lakeview.core.catalog.photo_rows import PhotoRow
from lakeview.core.photos.file_names import readable_name, readable_path
from lakeview.gui.grid.thumbnail_loader import ThumbnailLoader

DEFAULT_THUMBNAIL_PX = 160
_USER = int(Qt.ItemDataRole.UserRole)
COALESCE_MS = 15
MAX_RANGES = 64  # past this many separate runs of rows, one dataChanged spans them all
MISSING_REASON = "file not found (the catalog flags this photo as missing)"
NONE_COLOUR = "#8c8c8c"


class Role(IntEnum):
    """Custom roles. The three the delegate reads (Entry, Thumbnail, Colour) never return None, so painting
    hands no empty QVariant through Qt (PySide6 6.12.0 mishandled None for those on Python < 3.12)."""

    PathRole = _USER + 1   # Path
    LabelRole = _USER + 2  # str | None: the assigned label (may be NONE_OF_THESE)
    LabelSourceRole = _USER + 3  # 'imported' | 'user' | 'accepted' | None
    PredictedRole = _USER + 4  # str | None
    ConfidenceRole = _USER + 5  # float in [0, 1] | None
    ErrorRole = _USER + 6  # str | None: why the photo cannot be shown
    ThumbnailRole = _USER + 7  # QPixmap, null until it has arrived (asking for it)
    ColourRole = _USER + 8  # QColor: of the label's class, else the prediction's; else invalid
    CorrectedRole = _USER + 9  # bool: a person set the label (source 'user')
    EntryRole = _USER + 10  # PhotoEntry, for the delegate (one call instead of eight)


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_THUMBNAIL_ROLES = [_DECORATION, int(Role.ThumbnailRole)]
_ERROR_ROLES = [_DECORATION, _TOOLTIP, int(Role.ThumbnailRole), int(Role.ErrorRole)]
_LABEL_ROLES = [_TOOLTIP, int(Role.LabelRole), int(Role.LabelSourceRole), int(Role.ColourRole),
                int(Role.CorrectedRole), int(Role.EntryRole)]
_PREDICTION_ROLES = [_TOOLTIP, int(Role.PredictedRole), int(Role.ConfidenceRole), int(Role.ColourRole),
                     int(Role.EntryRole)]


class PhotoEntry:
    """`key`: the path as Python names it (exact, also for names that are not UTF-8); `name`: the file name as
    text Qt can show (see lakeview.core.photos.file_names.readable_name)."""

    __slots__ = ("path", "key", "name", "label", "label_source", "predicted", "confidence", "error")

    def __init__(self, path: Path, label: str | None = None, label_source: str | None = None,
                 predicted: str | None = None, confidence: float | None = None, error: str | None = None) -> None:
        self.path = path
        self.key = str(path)
        self.name = readable_name(path.name)
        self.label = label
        self.label_source = label_source
        self.predicted = predicted
        self.confidence = confidence
        self.error = error

    @property
    def corrected(self) -> bool:
        return self.label is not None and self.label_source == "user"

    def __repr__(self) -> str:
        return f"PhotoEntry({self.key!r}, label={self.label!r}/{self.label_source}, " \
               f"predicted={self.predicted!r}@{self.confidence}, error={self.error!r})"


def ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive (first, last) runs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def fallback_colour(name: str) -> str:
    """A stable palette colour for a class the catalog has not given one."""
    if name == NONE_OF_THESE:
        return NONE_COLOUR
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


class PhotoGridModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None, loader: ThumbnailLoader | None = None,
                 thumbnail_px: int = DEFAULT_THUMBNAIL_PX) -> None:
        super().__init__(parent)
        self.loader = loader if loader is not None else ThumbnailLoader(self)
        self.loader.ready.connect(self._on_thumbnail)
        self.loader.failed.connect(self._on_failed)
        self._entries: list[PhotoEntry] = []
        self._rows: dict[str, int] | None = None  # path text -> row, built when first needed
        self._px = thumbnail_px
        self._colours: dict[str, QColor] = {}
        self._placeholder: QPixmap | None = None
        self._changed: set[int] = set()
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(COALESCE_MS)
        self._flush.timeout.connect(self._emit_changed)

    # --- filling -----------------------------------------------------------------------------------------

    def set_photos(self, paths: Iterable[Path]) -> None:
        self._replace([PhotoEntry(p if isinstance(p, Path) else Path(p)) for p in paths])  # no re-parsing

    def set_rows(self, rows: Iterable[PhotoRow]) -> None:
        self._replace([PhotoEntry(Path(r.path), r.label, r.label_source if r.label is not None else None,
                                  r.predicted, r.confidence, MISSING_REASON if r.missing else None) for r in rows])

    def _replace(self, entries: list[PhotoEntry]) -> None:
        """New rows, with each photo's identity kept by its path: a persistent index (the view's selection and
        current photo) follows its photo to its new row, or becomes invalid when the photo is no longer shown.

        A layout change rather than a reset, so views keep their selection, current index and scroll position;
        rows may come and go in it, as in QSortFilterProxyModel's re-filtering."""
        self.layoutAboutToBeChanged.emit()
        self.loader.clear()
        self._changed.clear()
        self._flush.stop()
        old = self._entries
        self._entries = entries
        self._rows = None
        moved = self.persistentIndexList()
        if moved:
            new_rows = [self.row_of(old[index.row()].key) if 0 <= index.row() < len(old) else None
                        for index in moved]
            self.changePersistentIndexList(moved, [self.index(row) if row is not None else QModelIndex()
                                                   for row in new_rows])
        self.layoutChanged.emit()
        if entries:  # a photo that stays may show a new label or prediction
            self.dataChanged.emit(self.index(0), self.index(len(entries) - 1))

    def remove_photos(self, paths: Iterable[Path]) -> None:
        """These photos leave the view (labelled, in a view of unlabelled ones), each run of rows removed in place:
        far cheaper than new rows for a large view, and views keep their selection and current photo."""
        rows = [row for row in (self.row_of(path) for path in paths) if row is not None]
        for first, last in reversed(ranges(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._entries[first:last + 1]
            self._rows = None
            self.endRemoveRows()

    def update_labels(self, mapping: dict[Path, tuple[str | None, str | None]]) -> None:
        """{path: (label, source)}; (None, None) removes the label. Unknown paths are ignored."""
        rows = []
        for path, (label, source) in mapping.items():
            row = self.row_of(path)
            if row is not None:
                entry = self._entries[row]
                entry.label, entry.label_source = label, (source if label is not None else None)
                rows.append(row)
        self._emit_rows(rows, _LABEL_ROLES)

    def update_predictions(self, mapping: dict[Path, tuple[str | None, float | None]]) -> None:
        """{path: (class, confidence)}; (None, None) removes the prediction. Unknown paths are ignored."""
        rows = []
        for path, (predicted, confidence) in mapping.items():
            row = self.row_of(path)
            if row is not None:
                entry = self._entries[row]
                entry.predicted = predicted
                entry.confidence = None if predicted is None or confidence is None else float(confidence)
                rows.append(row)
        self._emit_rows(rows, _PREDICTION_ROLES)

    def set_class_colours(self, colours: dict[str, str | QColor]) -> None:
        self._colours = {name: QColor(colour) for name, colour in colours.items()}
        if self._entries:
            self.dataChanged.emit(self.index(0), self.index(len(self._entries) - 1),
                                  [int(Role.ColourRole), int(Role.EntryRole)])

    def class_colour(self, name: str | None) -> QColor | None:
        if name is None:
            return None
        colour = self._colours.get(name)
        return colour if colour is not None else QColor(fallback_colour(name))

    # --- thumbnails --------------------------------------------------------------------------------------

    def thumbnail_px(self) -> int:
        return self._px

    def set_thumbnail_px(self, px: int) -> None:
        """Size of the thumbnails asked for, in device pixels (the view passes its size x devicePixelRatio)."""
        px = max(16, int(px))
        if px == self._px:
            return
        self._px = px
        self._placeholder = None
        self.loader.clear()
        if self._entries:
            self.dataChanged.emit(self.index(0), self.index(len(self._entries) - 1), _THUMBNAIL_ROLES)

    def thumbnail(self, row: int) -> QPixmap | None:
        """The row's thumbnail if it is in the memory cache, else None (and it is asked for)."""
        return self._thumbnail(self._entries[row])

    def _thumbnail(self, entry: PhotoEntry) -> QPixmap | None:
        if entry.error is not None:
            return None
        pixmap = self.loader.pixmap(entry.key, self._px)
        if pixmap is None:
            self.loader.request(entry.key, self._px)
        return pixmap

    def _placeholder_pixmap(self) -> QPixmap:
        if self._placeholder is None:
            self._placeholder = QPixmap(self._px, self._px)
            self._placeholder.fill(Qt.GlobalColor.transparent)
        return self._placeholder

    def _on_thumbnail(self, path: str, _image) -> None:
        row = self.row_of(path)
        if row is not None:
            self._changed.add(row)
            if not self._flush.isActive():
                self._flush.start()

    def _on_failed(self, path: str, reason: str) -> None:
        row = self.row_of(path)
        if row is not None:
            self._entries[row].error = reason
            self._changed.add(row)
            if not self._flush.isActive():
                self._flush.start()

    def _emit_changed(self) -> None:
        rows, self._changed = self._changed, set()
        self._emit_rows(rows, _ERROR_ROLES)

    def _emit_rows(self, rows: Iterable[int], roles: list[int]) -> None:
        runs = ranges(rows)
        if len(runs) > MAX_RANGES:  # a scattered mass update (a whole classification run): one signal
            runs = [(runs[0][0], runs[-1][1])]
        for first, last in runs:
            self.dataChanged.emit(self.index(first), self.index(last), roles)

    # --- lookups -----------------------------------------------------------------------------------------

    def path_at(self, row: int) -> Path:
        return self._entries[row].path

    def entry_at(self, row: int) -> PhotoEntry:
        return self._entries[row]

    def paths(self) -> list[Path]:
        return [e.path for e in self._entries]

    def keys(self) -> list[str]:
        """Each row's path as text, the identity a photo keeps when the rows are replaced."""
        return [e.key for e in self._entries]

    def row_of(self, path: Path | str) -> int | None:
        if self._rows is None:
            self._rows = {e.key: row for row, e in enumerate(self._entries)}
        return self._rows.get(str(path))

    def row_near(self, keys: list[str], row: int) -> int | None:
        """Where the photo at `row` of an earlier `keys()` is now, else its nearest neighbour there that is still
        shown (the next one first); None when none is."""
        for distance in range(max(row + 1, len(keys) - row)):
            for old in (row + distance, row - distance):
                if 0 <= old < len(keys):
                    found = self.row_of(keys[old])
                    if found is not None:
                        return found
        return None

    def index_of(self, path: Path | str) -> QModelIndex:
        row = self.row_of(path)
        return self.index(row) if row is not None else QModelIndex()

    # --- QAbstractListModel ------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY):
        if not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._entries):
            return None
        entry = self._entries[row]
        role = int(role)
        if role == Role.EntryRole:
            return entry
        if role == Role.ThumbnailRole:
            pixmap = self._thumbnail(entry)
            return pixmap if pixmap is not None else QPixmap()
        if role == _DISPLAY:
            return entry.name
        if role == _DECORATION:
            pixmap = self._thumbnail(entry)
            return pixmap if pixmap is not None else self._placeholder_pixmap()
        if role == _TOOLTIP:
            return self._tooltip(entry)
        if role == Role.PathRole:
            return entry.path
        if role == Role.LabelRole:
            return entry.label
        if role == Role.LabelSourceRole:
            return entry.label_source
        if role == Role.PredictedRole:
            return entry.predicted
        if role == Role.ConfidenceRole:
            return entry.confidence
        if role == Role.ErrorRole:
            return entry.error
        if role == Role.ColourRole:
            return self.class_colour(entry.label if entry.label is not None else entry.predicted) or QColor()
        if role == Role.CorrectedRole:
            return entry.corrected
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in Role:
            names[int(role)] = QByteArray(role.name[:-4].lower().encode())
        return names

    def _tooltip(self, entry: PhotoEntry) -> str:
        lines = [readable_path(entry.path)]
        if entry.label is not None:
            how = {"user": "set by you", "accepted": "prediction accepted", "imported": "imported"}
            lines.append(f"Label: {entry.label} ({how.get(entry.label_source or '', entry.label_source)})")
        if entry.predicted is not None:
            percent = f" ({entry.confidence:.0%})" if entry.confidence is not None else ""
            lines.append(f"Predicted: {entry.predicted}{percent}")
        if entry.error is not None:
            lines.append(f"Cannot show this photo: {entry.error}")
        return "\n".join(lines)

    def shutdown(self) -> None:
        """Stop thumbnail work and wait for the pool's threads (closing the window, tests)."""
        self._flush.stop()
        self.loader.shutdown()
