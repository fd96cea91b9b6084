"""The grid's item model: a list of catalog ids, and a light entry (path, label, prediction, error) for the rows
the view has asked about, no pixmaps in rows.

Over a library (the Anki browser's model) the model holds only the ids of the photos shown, in order; rows are
fetched from the catalog a page at a time as the view paints them, and a bounded number stay cached, so a
100,000-photo folder costs a list of ints and the pages on screen. `set_photos`/`set_rows` fill it with entries
made up front instead (a few photos: tests, the test-folder view).

Thumbnails are asked for lazily, the first time the view wants a row's picture (so only for rows it paints),
and come back through the loader; their arrival is announced in coalesced `dataChanged` ranges.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Sequence

from PySide6.QtCore import (QByteArray, QModelIndex, QObject, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt, QTimer, Signal)
from PySide6.QtGui import QColor, QPixmap

from lakeview.core.catalog.grid_queries import PhotoRow
from lakeview.gui.grid.group_rows import GroupHeader, GroupHeaderRows
from lakeview.gui.grid.roles import (_DECORATION, _DISPLAY, _ENTRY_FIELDS, _ERROR_ROLES, _LABEL_ROLES,
                                     _PREDICTION_ROLES, _TOOLTIP, Role)
from lakeview.gui.grid.row_count import RowCount
from lakeview.gui.grid.photo_entry import GONE_REASON, PhotoEntry, entry_of, fallback_colour, tooltip_of
from lakeview.gui.grid.row_runs import ranges
from lakeview.gui.grid.thumbnail_loader import ThumbnailLoader

DEFAULT_THUMBNAIL_PX = 160
COALESCE_MS = 15
MAX_RANGES = 64  # past this many separate runs of rows, views repaint instead
PAGE = 128
"""Rows fetched from the catalog at once, around the one the view asked for."""
CACHED_ROWS = 4 * 1024
"""Entries kept of the rows fetched (the most recently used): a few screens' worth."""

RowsFetcher = Callable[[Sequence[int]], dict[int, PhotoRow]]
"""{id: row} for these catalog ids (ids no longer in the catalog are left out)."""


class PhotoGridModel(GroupHeaderRows, QSortFilterProxyModel):
    """The rows are those of a `RowCount` behind this proxy (which neither sorts nor filters); the data of each
    row is served here, by row. Rows of negative id are group headers (see group_rows)."""

    repaint_needed = Signal()
    """Every row may show something new (its catalog row, a class colour): views repaint what they show. A
    dataChanged over 100,000 rows makes a list view walk them all."""

    def __init__(self, parent: QObject | None = None, loader: ThumbnailLoader | None = None,
                 thumbnail_px: int = DEFAULT_THUMBNAIL_PX) -> None:
        super().__init__(parent)
        self.setDynamicSortFilter(False)
        self._count = RowCount(self)
        self.setSourceModel(self._count)
        self.loader = loader if loader is not None else ThumbnailLoader(self)
        self.loader.ready.connect(self._on_thumbnail)
        self.loader.failed.connect(self._on_failed)
        self._ids: list[int] = []
        self._row_index: dict[int, int] | None = None  # id -> row, built when first needed
        self._entries: OrderedDict[int, PhotoEntry] = OrderedDict()  # id -> entry, least recently used first
        self._key_ids: dict[str, int] = {}  # path text -> id, for the entries held
        self._headers: dict[int, GroupHeader] = {}  # negative id -> the header shown in that row
        self._fetch: RowsFetcher | None = None  # None: every row's entry is held (set_photos, set_rows)
        self._find: Callable[[Path], int | None] | None = None
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
        self._find = None
        entries = [PhotoEntry(p if isinstance(p, Path) else Path(p)) for p in paths]  # no re-parsing
        self._replace(list(range(len(entries))), None, entries)

    def set_rows(self, rows: Iterable[PhotoRow]) -> None:
        rows = list(rows)
        self._find = None
        self._replace([r.id for r in rows], None, [entry_of(r) for r in rows])

    def set_ids(self, ids: list[int], fetch: RowsFetcher, row_index: dict[int, int] | None = None,
                find: Callable[[Path], int | None] | None = None,
                headers: dict[int, GroupHeader] | None = None) -> None:
        """Show these catalog photos, in this order; `fetch` reads rows of them as the view needs them, and
        `find` gives a path's catalog id (for `row_of` a photo not yet read). `row_index` ({id: row}) may come
        with them, built where the ids were queried. `headers` are the group headers among the ids."""
        self._find = find
        self._replace(ids, fetch, [], row_index, headers)

    def _replace(self, ids: list[int], fetch: RowsFetcher | None, entries: list[PhotoEntry],
                 row_index: dict[int, int] | None = None, headers: dict[int, GroupHeader] | None = None) -> None:
        """New rows, with each photo's identity kept by its id: a persistent index (the view's selection and
        current photo) follows its photo to its new row, or becomes invalid when the photo is no longer shown.

        A layout change rather than a reset, so views keep their selection, current index and scroll position;
        rows may come and go in it, as in QSortFilterProxyModel's re-filtering."""
        self.loader.clear()
        self._changed.clear()
        self._flush.stop()
        old_ids, old_entries = self._ids, self._entries

        def swap() -> None:
            self._ids = ids
            self._row_index = row_index
            self._headers, self._header_rows = headers or {}, None
            self._fetch = fetch
            self._entries = OrderedDict(zip(ids, entries))
            self._key_ids = {entry.key: photo_id for photo_id, entry in self._entries.items()}

        self._count.replace(len(ids), swap, lambda row: self._row_for(old_ids[row], old_entries))
        self.repaint_needed.emit()  # a photo that stays may show a new label or prediction

    def refetch(self, ids: Iterable[int] | None = None) -> None:
        """The catalog changed these photos (None: any of them): their rows are read again when next shown."""
        if self._fetch is None or not self._ids:
            return
        if ids is None:
            self._entries.clear()
            self._key_ids.clear()
        else:
            for photo_id in ids:
                entry = self._entries.pop(photo_id, None)
                if entry is not None:
                    self._key_ids.pop(entry.key, None)
        self.repaint_needed.emit()

    def remove_photos(self, paths: Iterable[Path]) -> None:
        """These photos leave the view (labelled, in a view of unlabelled ones), each run of rows removed in place:
        far cheaper than new rows for a large view, and views keep their selection and current photo."""
        self.remove_rows([row for row in (self.row_of(path) for path in paths) if row is not None])

    def remove_rows(self, rows: Iterable[int]) -> None:
        """Take rows out, the others keeping their order, selection and current photo: one layout change (behind
        the proxy, a removal would be announced after the rows had already gone)."""
        gone = sorted(set(row for row in rows if 0 <= row < len(self._ids)))
        if not gone:
            return
        gone_set = set(gone)
        kept = [photo_id for row, photo_id in enumerate(self._ids) if row not in gone_set]

        def swap() -> None:
            for row in gone:
                entry = self._entries.pop(self._ids[row], None)
                if entry is not None:
                    self._key_ids.pop(entry.key, None)
            self._ids = kept
            self._row_index = self._header_rows = None

        self._count.replace(len(kept), swap,
                            lambda row: None if row in gone_set else row - bisect.bisect_left(gone, row))

    def update_labels(self, mapping: dict[Path, tuple[str | None, str | None]]) -> None:
        """{path: (label, source)}; (None, None) removes the label. Paths not held are ignored (their rows are
        read from the catalog when shown)."""
        rows = []
        for path, (label, source) in mapping.items():
            entry, row = self._held(path)
            if entry is not None:
                entry.label, entry.label_source = label, (source if label is not None else None)
                rows.append(row)
        self._emit_rows(rows, _LABEL_ROLES)

    def update_predictions(self, mapping: dict[Path, tuple[str | None, float | None]]) -> None:
        """{path: (class, confidence)}; (None, None) removes the prediction. Paths not held are ignored."""
        rows = []
        for path, (predicted, confidence) in mapping.items():
            entry, row = self._held(path)
            if entry is not None:
                entry.predicted = predicted
                entry.confidence = None if predicted is None or confidence is None else float(confidence)
                rows.append(row)
        self._emit_rows(rows, _PREDICTION_ROLES)

    def _row_for(self, old_id: int, old_entries: dict[int, PhotoEntry]) -> int | None:
        """Where a photo of the rows before a replacement is now: by id over the catalog, by path for rows that
        were given (their ids are only row numbers)."""
        if self._fetch is not None:
            return self.row_of_id(old_id)
        entry = old_entries.get(old_id)
        return self.row_of(entry.key) if entry is not None else None

    def _held(self, path: Path | str) -> tuple[PhotoEntry | None, int | None]:
        photo_id = self._key_ids.get(str(path))
        row = self.row_of_id(photo_id) if photo_id is not None else None
        return (self._entries[photo_id], row) if row is not None else (None, None)

    def set_class_colours(self, colours: dict[str, str | QColor]) -> None:
        self._colours = {name: QColor(colour) for name, colour in colours.items()}
        self.repaint_needed.emit()

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
        self.repaint_needed.emit()

    def thumbnail(self, row: int) -> QPixmap | None:
        """The row's thumbnail if it is in the memory cache, else None (and it is asked for)."""
        return self._thumbnail(self.entry_at(row))

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
        entry, row = self._held(path)
        if entry is not None:
            entry.error = reason
            self._changed.add(row)
            if not self._flush.isActive():
                self._flush.start()

    def _emit_changed(self) -> None:
        rows, self._changed = self._changed, set()
        self._emit_rows(rows, _ERROR_ROLES)

    def _emit_rows(self, rows: Iterable[int], roles: list[int]) -> None:
        runs = ranges(rows)
        if len(runs) > MAX_RANGES:  # a scattered mass update (a whole classification run): a repaint
            self.repaint_needed.emit()
            return
        for first, last in runs:
            self.dataChanged.emit(self.index(first, 0), self.index(last, 0), roles)

    # --- lookups -----------------------------------------------------------------------------------------

    def path_at(self, row: int) -> Path:
        return self.entry_at(row).path

    def entry_at(self, row: int) -> PhotoEntry:
        """The row's entry, read from the catalog (with its page) when it is not held."""
        photo_id = self._ids[row]
        entry = self._entries.get(photo_id)
        if entry is None and photo_id < 0:
            return self._headers[photo_id]
        if entry is None:
            self._fetch_page(row)
            entry = self._entries.get(photo_id)
            if entry is None:  # gone from the catalog since the ids were read
                entry = PhotoEntry(Path(f"(photo {photo_id})"), error=GONE_REASON)
        elif self._fetch is not None:
            self._entries.move_to_end(photo_id)
        return entry

    def _fetch_page(self, row: int) -> None:
        start = row - row % PAGE
        wanted = [i for i in self._ids[start:start + PAGE] if i >= 0 and i not in self._entries]
        for photo_id, photo in self._fetch(wanted).items():
            entry = entry_of(photo)
            self._entries[photo_id] = entry
            self._key_ids[entry.key] = photo_id
        while len(self._entries) > max(CACHED_ROWS, PAGE):
            _, entry = self._entries.popitem(last=False)
            self._key_ids.pop(entry.key, None)

    def ids(self) -> list[int]:
        """The catalog ids of the rows, in order (the model's own list: do not change it)."""
        return self._ids

    def ids_in(self, runs: Iterable[tuple[int, int]]) -> list[int]:
        """The photos' ids of inclusive runs of rows (a selection's ranges), without reading any row (headers
        are left out)."""
        return [photo_id for first, last in runs for photo_id in self._ids[first:last + 1] if photo_id >= 0]

    def paths(self) -> list[Path]:
        """Every row's path (reads every row: for a few photos)."""
        return [self.path_at(row) for row in range(len(self._ids))]

    def keys(self) -> list[str]:
        """Each row's path as text (reads every row: for a few photos)."""
        return [self.entry_at(row).key for row in range(len(self._ids))]

    def row_of(self, path: Path | str) -> int | None:
        """The photo's row, None when it is not shown."""
        photo_id = self._key_ids.get(str(path))
        if photo_id is None and self._fetch is not None and self._find is not None:
            photo_id = self._find(Path(path))
        return self.row_of_id(photo_id) if photo_id is not None else None

    def row_of_id(self, photo_id: int) -> int | None:
        if self._row_index is None:
            self._row_index = {i: row for row, i in enumerate(self._ids)}
        return self._row_index.get(photo_id)

    def identities(self) -> list[int] | list[str]:
        """What identifies each row's photo across replacements: its id over the catalog (no row is read), its
        path for rows that were given."""
        return self._ids if self._fetch is not None else self.keys()

    def row_near(self, identities: list[int] | list[str], row: int) -> int | None:
        """Where the photo at `row` of an earlier `identities()` is now, else its nearest neighbour there that is
        still shown (the next one first); None when none is."""
        for distance in range(max(row + 1, len(identities) - row)):
            for old in (row + distance, row - distance):
                if 0 <= old < len(identities):
                    identity = identities[old]
                    found = self.row_of(identity) if isinstance(identity, str) else self.row_of_id(identity)
                    if found is not None:
                        return found
        return None

    def index_of(self, path: Path | str) -> QModelIndex:
        row = self.row_of(path)
        return self.index(row, 0) if row is not None else QModelIndex()

    # --- the item model ----------------------------------------------------------------------------------

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY):
        if not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._ids):
            return None
        entry = self.entry_at(row)
        role = int(role)
        if isinstance(entry, GroupHeader):
            return entry.value(role)
        if role in _ENTRY_FIELDS:
            return getattr(entry, _ENTRY_FIELDS[role])
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
            return tooltip_of(entry)
        if role == Role.ColourRole:
            return self.class_colour(entry.label if entry.label is not None else entry.predicted) or QColor()
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in Role:
            names[int(role)] = QByteArray(role.name[:-4].lower().encode())
        return names

    def shutdown(self) -> None:
        """Stop thumbnail work and wait for the pool's threads (closing the window, tests)."""
        self._flush.stop()
        self.loader.shutdown()
