"""The thumbnail grid's queries: which photos a folder and filters list, in which order, a page at a time."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from lakeview.core.catalog.labels import NONE_OF_THESE
from lakeview.core.photos.file_names import absolute_path, is_text, path_from_db, path_to_db

# Each order is one an index serves, so that the grid's first page needs no full sort. The two orders by
# prediction list the photos that have one (the review queue is about predictions).
ORDERS = {
    "path": "p.path",
    "confidence": "pr.confidence, p.id",
    "predicted": "pr.class_id, pr.confidence DESC",
}
PREDICTION_ORDERS = ("confidence", "predicted")
REVIEW_QUEUE = {"order": "confidence", "unlabelled": True}
"""The grid query for the photos that need a person's look: predicted, not yet labelled, least confident first. A
photo that gets a label leaves it."""


@dataclass(frozen=True)
class PhotoRow:
    id: int
    path: Path
    missing: bool
    label: str | None
    label_source: str | None
    predicted: str | None
    confidence: float | None


class GridQueries:
    def query(self, *, limit: int | None = None, offset: int = 0, **filters) -> list[PhotoRow]:
        """The rows the thumbnail grid shows, filtered and sorted in SQL. Filters: see `_grid_sql`."""
        sql, args = self._grid_sql(
            "p.id, p.path, p.missing, l.photo_id AS labelled, lc.name AS label, l.source, pc.name AS predicted, "
            "pr.confidence", **filters)
        return [self._photo_row(r)
                for r in self._db.execute(sql + " LIMIT ? OFFSET ?", (*args, -1 if limit is None else limit, offset))]

    def count_photos(self, **filters) -> int:
        """How many photos a grid query lists (filters: see `_grid_sql`)."""
        sql, args = self._grid_sql("p.id", **filters)
        return self._db.execute(f"SELECT COUNT(*) FROM ({sql})", args).fetchone()[0]

    def action_paths_outside(self, action: int, **shown) -> list[Path]:
        """The photos a label-history action changed that a grid query (`shown`: a folder, or chosen paths) does
        not list; every one of them with no query."""
        inside, args = self._grid_sql("p.id", **shown) if shown else ("SELECT NULL WHERE 0", [])
        rows = self._db.execute(f"SELECT p.path FROM corrections c JOIN photos p ON p.id = c.photo_id "
                                f"WHERE c.action = ? AND p.id NOT IN ({inside}) ORDER BY c.id", (action, *args))
        return [path_from_db(r[0]) for r in rows]

    def rows_of_ids(self, photo_ids: Sequence[int]) -> dict[int, PhotoRow]:
        """{id: row} for these photos (a page of the grid); ids no longer in the catalog are left out."""
        rows = self._db.execute(
            "SELECT p.id, p.path, p.missing, l.photo_id AS labelled, lc.name AS label, l.source, pc.name AS predicted, "
            "pr.confidence FROM photos p LEFT JOIN predictions pr ON pr.photo_id = p.id "
            "LEFT JOIN labels l ON l.photo_id = p.id LEFT JOIN classes lc ON lc.id = l.class_id "
            "LEFT JOIN classes pc ON pc.id = pr.class_id WHERE p.id IN (SELECT value FROM json_each(?))",
            (json.dumps([int(i) for i in photo_ids]),))
        return {r["id"]: self._photo_row(r) for r in rows}

    @staticmethod
    def _photo_row(r) -> PhotoRow:
        return PhotoRow(r["id"], path_from_db(r["path"]), bool(r["missing"]),
                        (r["label"] if r["label"] is not None else NONE_OF_THESE) if r["labelled"] else None,
                        r["source"], r["predicted"], r["confidence"])

    def query_ids(self, *, limit: int | None = None, offset: int = 0, **filters) -> list[int]:
        """Only the ids, in order: what a lazy grid model fetches, a page at a time."""
        sql, args = self._grid_sql("p.id", **filters)
        cursor = self._db.cursor()
        cursor.row_factory = None
        return [r[0] for r in cursor.execute(sql + " LIMIT ? OFFSET ?", (*args, -1 if limit is None else limit, offset))]

    def _grid_sql(self, select: str, *, folder: Path | str | None = None, recursive: bool = True,
                  predicted: str | None = None, assigned: str | None = None, unlabelled: bool = False,
                  corrected: bool = False, disagreements: bool = False, search: str | None = None,
                  paths: Iterable[Path | str] | None = None, order: str = "path",
                  on_disk: bool = False) -> tuple[str, list]:
        where, args = ["1 = 1"], []
        if on_disk:
            where.append("p.missing = 0")
        if paths is not None:
            # Text paths travel as one JSON array; the few that are bytes (not UTF-8) as parameters.
            keys = [path_to_db(absolute_path(path)) for path in paths]
            raw = [key for key in keys if isinstance(key, bytes)]
            where.append("(p.path IN (SELECT value FROM json_each(?))"
                         + (f" OR p.path IN ({', '.join('?' * len(raw))})" if raw else "") + ")")
            args += [json.dumps([key for key in keys if isinstance(key, str)]), *raw]
        if folder is not None:
            # Ranges on the path index: everything under `folder/`, stored as text and stored as bytes (names
            # that are not UTF-8). A range that holds nothing is left out: one range is read in index order, so
            # the first page of a huge folder needs no sort.
            prefix = str(absolute_path(folder)).rstrip(os.sep) + os.sep
            ranges = [(start, start[:-1] + (chr(ord(os.sep) + 1) if isinstance(start, str) else bytes([start[-1] + 1])))
                      for start in ([prefix] if is_text(prefix) else []) + [os.fsencode(prefix)]]
            if len(ranges) == 2 and self._db.execute("SELECT 1 FROM photos WHERE path >= ? AND path < ? LIMIT 1",
                                                     ranges[1]).fetchone() is None:
                ranges.pop()
            terms = []
            for start, end in ranges:
                terms.append("(p.path >= ? AND p.path < ?"
                             + ("" if recursive else " AND instr(substr(p.path, ?), ?) = 0") + ")")
                args += [start, end]
                if not recursive:  # substr and instr count characters in text, bytes in a BLOB
                    args += [len(start) + 1, start[-1:]]
            where.append(" OR ".join(terms) if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
        if predicted is not None:
            where.append("pr.class_id = (SELECT id FROM classes WHERE name = ?)")
            args.append(predicted)
        if assigned == NONE_OF_THESE:
            where.append("l.photo_id IS NOT NULL AND l.class_id IS NULL")
        elif assigned is not None:
            where.append("l.class_id = (SELECT id FROM classes WHERE name = ?)")
            args.append(assigned)
        if unlabelled:
            where.append("l.photo_id IS NULL")
        if corrected:
            where.append("l.source = 'user'")
        if disagreements:
            where.append("l.photo_id IS NOT NULL AND pr.photo_id IS NOT NULL AND l.class_id IS NOT pr.class_id")
        if search:
            where.append("p.path LIKE ? ESCAPE '\\'")
            args.append("%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
        source = ("predictions pr JOIN photos p ON p.id = pr.photo_id" if order in PREDICTION_ORDERS or predicted
                  else "photos p LEFT JOIN predictions pr ON pr.photo_id = p.id")
        sql = f"""
            SELECT {select}
            FROM {source}
            LEFT JOIN labels l ON l.photo_id = p.id
            LEFT JOIN classes lc ON lc.id = l.class_id
            LEFT JOIN classes pc ON pc.id = pr.class_id
            WHERE {' AND '.join(where)}
            ORDER BY {ORDERS[order]}"""
        return sql, args
