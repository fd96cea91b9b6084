"""Which photos the grid shows: the catalog query for the open folder (or chosen photos) and filters, its ids
queried off the GUI thread once the library is large, and pages of rows for the grid model.

A mixin of LibrarySession: `rows_ready` and `said` are the session's signals, declared there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from lakeview.core.catalog import Catalog
from lakeview.core.catalog.grid_queries import PhotoRow
from lakeview.gui.worker import start_worker

QUERY_ON_GUI_THREAD = 5_000
"""Up to this many photos in the catalog, the grid's ids are queried on the GUI thread (a few milliseconds, and the
grid changes in the same event); beyond, in a worker."""


@dataclass(frozen=True)
class ShownRows:
    """The catalog ids of the photos the grid shows, in order; {id: row}; the open folder's photos whatever the
    filter (0 with none open)."""
    ids: list[int]
    row_index: dict[int, int]
    folder_total: int


class SessionRows:
    def grid_query(self) -> dict[str, Any] | None:
        """The catalog query (`Catalog.query_ids` arguments) for what the grid shows; None with nothing open."""
        if self.only is not None:
            return dict(paths=self.only[1], **self.filters)
        if self.folder is None:
            return None
        return dict(folder=self.folder, **self.filters)

    def rows(self) -> list[PhotoRow]:
        """Every row the grid shows, read at once (for a few photos; the grid itself reads pages of them)."""
        query = self.grid_query()
        return self.catalog.query(**query) if query is not None else []

    def rows_of_ids(self, photo_ids: Sequence[int]) -> dict[int, PhotoRow]:
        """A page of the grid's rows (the grid model's fetcher); none once the session has closed (a view may
        still paint while the window closes)."""
        return {} if self._closed else self.catalog.rows_of_ids(photo_ids)

    def photo_id(self, path: Path) -> int | None:
        """The catalog id of a photo (the grid model's finder); None once the session has closed."""
        return None if self._closed else self.catalog.photo_id(path)

    def load_rows(self) -> None:
        """Query which photos the grid shows; `rows_ready` brings them, at once for a small library, else from a
        worker (only the latest query's answer arrives)."""
        self._rows_asked += 1
        asked, query, folder = self._rows_asked, self.grid_query(), self.folder
        if query is None:
            self._rows_arrived(asked, ShownRows([], {}, 0))
            return
        whole_folder = self.only is None and not self.filters
        by_place, radius_km = self.place_order, self.places.radius_km

        def shown(catalog: Catalog) -> ShownRows:
            ids = catalog.query_ids(**query)
            if by_place:  # the hints of the whole library: always in the worker below
                from lakeview.core.location.library_hints import library_hints

                ids = library_hints(catalog, radius_km).by_disagreement(ids)
            total = len(ids) if whole_folder else catalog.count_photos(folder=folder) if folder is not None else 0
            return ShownRows(ids, {photo_id: row for row, photo_id in enumerate(ids)}, total)

        if self.catalog.photo_count() <= QUERY_ON_GUI_THREAD and not by_place:
            self._rows_arrived(asked, shown(self.catalog))
            return
        catalog_path = self.catalog.path

        def job(progress, should_stop, emit_partial):
            with Catalog(catalog_path) as catalog:
                return shown(catalog)

        start_worker(self, job, "grid rows", on_finished=lambda rows: self._rows_arrived(asked, rows),
                     on_failed=lambda message: self.said.emit(message), needs_torch=False)

    @property
    def rows_pending(self) -> bool:
        """Whether the grid's rows are being queried (their answer has not arrived yet)."""
        return self._rows_answered != self._rows_asked

    def _rows_arrived(self, asked: int, shown: ShownRows) -> None:
        if asked == self._rows_asked and not self._closed:
            self._rows_answered = asked
            self.folder_total = shown.folder_total
            self.rows_ready.emit(shown)
