"""The latest similar-photo grouping: each grouped photo's group number and place in it, and what the grouping was
computed from, so that a group number printed by one command means the same photos to the next."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from lakeview.core.catalog.errors import CatalogError
from lakeview.core.photos.file_names import path_from_db


@dataclass(frozen=True)
class GroupingRecord:
    """What the stored grouping was computed from, and when."""
    body_id: str
    """The body whose features were grouped (a model version's, or an ImageNet backbone's)."""
    distance: float
    min_size: int
    photo_count: int
    """How many photos were grouped (those in no group included)."""
    group_count: int
    time: str


@dataclass(frozen=True)
class PhotoSource:
    """A photo as the feature pass needs it."""
    id: int
    path: Path
    fingerprint: str
    missing: bool


class GroupRecords:
    def photo_sources(self, photo_ids: Sequence[int] | None = None) -> list[PhotoSource]:
        """Every catalogued photo (or those of `photo_ids` still in the catalog), by id."""
        if photo_ids is None:
            rows = self._db.execute("SELECT id, path, fingerprint, missing FROM photos ORDER BY id")
        else:
            rows = self._db.execute("SELECT id, path, fingerprint, missing FROM photos WHERE id IN "
                                    "(SELECT value FROM json_each(?)) ORDER BY id",
                                    (json.dumps([int(i) for i in photo_ids]),))
        return [PhotoSource(r[0], path_from_db(r[1]), r[2], bool(r[3])) for r in rows]

    def store_grouping(self, groups: Iterable[Sequence[int]], body_id: str, distance: float, min_size: int,
                       photos: int) -> None:
        """Replace the stored grouping: `groups[0]` becomes group 1, each group's photo ids in their order."""
        rows = [(int(photo), number, position) for number, members in enumerate(groups, 1)
                for position, photo in enumerate(members)]
        with self._transaction() as db:
            db.execute("DELETE FROM photo_groups")
            db.execute("DELETE FROM grouping")
            db.executemany("INSERT INTO photo_groups (photo_id, group_number, position) SELECT ?, ?, ? "
                           "WHERE EXISTS (SELECT 1 FROM photos WHERE id = ?)",
                           [(p, n, i, p) for p, n, i in rows])
            db.execute("INSERT INTO grouping (id, body_id, distance, min_size, photo_count, group_count, time) "
                       "VALUES (1, ?, ?, ?, ?, ?, ?)",
                       (body_id, float(distance), int(min_size), int(photos),
                        len({n for _, n, _ in rows}), self._now()))

    def grouping_record(self) -> GroupingRecord | None:
        """What the stored grouping was computed from; None before the first grouping."""
        row = self._db.execute(
            "SELECT body_id, distance, min_size, photo_count, group_count, time FROM grouping").fetchone()
        return GroupingRecord(*row) if row else None

    def photo_groups(self) -> dict[int, int]:
        """Photo id -> group number of the stored grouping (photos in no group are absent)."""
        return dict(self._db.execute("SELECT photo_id, group_number FROM photo_groups").fetchall())

    def group_photo_ids(self, number: int) -> list[int]:
        """The photo ids of stored group `number`, most central first (its photos deleted since are gone)."""
        rows = self._db.execute("SELECT photo_id FROM photo_groups WHERE group_number = ? ORDER BY position",
                                (int(number),)).fetchall()
        return [r[0] for r in rows]

    def label_group(self, number: int, label: str | None, source: str = "user") -> int | None:
        """Label every photo of stored group `number` as one undoable action (see `set_labels_of_ids`); None when
        no label changed. Raises CatalogError for a group the stored grouping does not have."""
        ids = self.group_photo_ids(number)
        if not ids:
            record = self.grouping_record()
            known = (f"the latest grouping has groups 1 to {record.group_count}" if record and record.group_count
                     else "there is no grouping yet")
            raise CatalogError(f"no group {number}: {known}")
        return self.set_labels_of_ids(ids, label, source)
