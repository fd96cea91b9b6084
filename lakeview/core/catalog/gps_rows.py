"""Where the catalog's photos were taken: the GPS positions recorded with them, reading them for photos recorded
before the catalog kept them, and the positions with each photo's label and prediction, for location hints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

from lakeview.core.catalog.labels import NONE_OF_THESE
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.photos.file_names import PathInDb, absolute_path, path_from_db, path_to_db
from lakeview.core.photos.gps import GpsPosition, read_gps

GPS_BATCH = 500


@dataclass(frozen=True)
class PlacedPhoto:
    """A photo with a GPS position, its label (None: unlabelled; NONE_OF_THESE stays as it is) and its
    prediction's top classes ([] without one). The path and the top classes may be given as the catalog stores
    them (its path value, the JSON text): they are turned into a Path and a list when first read, since a
    library's hints need neither for most of its photos."""
    id: int
    stored_path: PathInDb | Path
    latitude: float
    longitude: float
    label: str | None
    stored_top: str | list | None

    @cached_property
    def path(self) -> Path:
        return self.stored_path if isinstance(self.stored_path, Path) else path_from_db(self.stored_path)

    @cached_property
    def top(self) -> list[tuple[str, float]]:
        top = json.loads(self.stored_top) if isinstance(self.stored_top, str) else self.stored_top or []
        return [(name, prob) for name, prob in top]


class GpsRecords:
    def gps_of(self, path: Path | str) -> GpsPosition | None:
        """The recorded position of a photo; None when it has none, or it is not in the catalog."""
        row = self._db.execute("SELECT latitude, longitude, altitude FROM photos WHERE path = ?",
                               (path_to_db(absolute_path(path)),)).fetchone()
        if row is None or row[0] is None or row[1] is None:
            return None
        return GpsPosition(row[0], row[1], row[2])

    def has_positions(self) -> bool:
        """Whether any photo has a GPS position (one index lookup)."""
        return self._db.execute("SELECT 1 FROM photos INDEXED BY photos_gps WHERE latitude IS NOT NULL "
                                "LIMIT 1").fetchone() is not None

    def positions_of_ids(self, photo_ids: Iterable[int]) -> dict[int, tuple[float, float]]:
        """{photo id: (latitude, longitude)} of those of these photos that have a GPS position."""
        rows = self._db.execute(
            "SELECT id, latitude, longitude FROM photos WHERE id IN (SELECT value FROM json_each(?)) "
            "AND latitude IS NOT NULL AND longitude IS NOT NULL", (json.dumps([int(i) for i in photo_ids]),))
        return {r[0]: (r[1], r[2]) for r in rows}

    def gps_unread_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM photos WHERE gps_read = 0").fetchone()[0]

    def read_unread_gps(self, folder: Path | str | None = None, recursive: bool = True,
                        progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop) -> int:
        """Read the GPS of the photos (in `folder`, else all) recorded before the catalog kept it: their header
        only, not their fingerprint. Committed GPS_BATCH photos at a time; returns how many were read."""
        if folder is None:
            rows = self._db.execute("SELECT id, path FROM photos WHERE gps_read = 0 AND missing = 0").fetchall()
        else:
            sql, args = self._grid_sql("p.id, p.path, p.gps_read", folder=folder, recursive=recursive, on_disk=True)
            rows = [r for r in self._db.execute(sql, args) if not r[2]]
        for start in range(0, len(rows), GPS_BATCH):
            found = []
            for row_id, value, *_ in rows[start:start + GPS_BATCH]:
                if should_stop():
                    raise Stopped()
                gps = read_gps(path_from_db(value))
                found.append((*((gps.latitude, gps.longitude, gps.altitude) if gps else (None, None, None)), row_id))
            with self._transaction() as db:
                db.executemany("UPDATE photos SET latitude = ?, longitude = ?, altitude = ?, gps_read = 1 "
                               "WHERE id = ?", found)
            progress(min(start + GPS_BATCH, len(rows)), len(rows))
        return len(rows)

    def placed_photos(self) -> list[PlacedPhoto]:
        """Every photo on disk with a GPS position, with its label and the active prediction's top classes."""
        rows = self._db.execute(
            "SELECT p.id, p.path, p.latitude, p.longitude, l.photo_id AS labelled, c.name AS label, pr.top "
            "FROM photos p INDEXED BY photos_gps LEFT JOIN labels l ON l.photo_id = p.id "
            "LEFT JOIN classes c ON c.id = l.class_id LEFT JOIN predictions pr ON pr.photo_id = p.id "
            "WHERE p.latitude IS NOT NULL AND p.longitude IS NOT NULL AND p.missing = 0 ORDER BY p.id")
        return [PlacedPhoto(r[0], r[1], r[2], r[3], (r[5] if r[5] is not None else NONE_OF_THESE) if r[4] else None,
                            r[6]) for r in rows]

    def held_out_placed(self, model_id: str, cut: str | None) -> list[int]:
        """Ids of the photos on disk with a GPS position, labelled with a class, whose prediction is `model_id`'s
        and whose fingerprint's first 8 hex digits sort before `cut` (None: any fingerprint): the labelled photos
        on the hold-out side of that model's split (see core/location/place_weight.py)."""
        rows = self._db.execute(
            "SELECT p.id FROM photos p JOIN labels l ON l.photo_id = p.id JOIN predictions pr ON pr.photo_id = p.id "
            "WHERE l.class_id IS NOT NULL AND pr.model_id = ? AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL "
            "AND p.missing = 0 AND (? IS NULL OR substr(p.fingerprint, 1, 8) < ?) ORDER BY p.id", (model_id, cut, cut))
        return [r[0] for r in rows]
