"""Photos in the catalog: adding, rescanning (missing photos flagged, moved ones reattached), grid queries."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from lakeview.core.catalog.labels import NONE_OF_THESE
from lakeview.core.files import iter_image_files
from lakeview.core.fingerprint import fingerprint
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

BATCH = 500
# Each order is one an index serves, so that the grid's first page needs no full sort. The two orders by
# prediction list the photos that have one (the review queue is about predictions).
ORDERS = {
    "path": "p.path",
    "confidence": "pr.confidence, p.id",
    "predicted": "pr.class_id, pr.confidence DESC",
}
PREDICTION_ORDERS = ("confidence", "predicted")


@dataclass(frozen=True)
class PhotoRow:
    id: int
    path: Path
    missing: bool
    label: str | None
    label_source: str | None
    predicted: str | None
    confidence: float | None


@dataclass
class AddReport:
    added: int = 0
    updated: int = 0
    reattached: list[tuple[Path, Path]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


@dataclass
class RescanReport:
    missing: list[Path] = field(default_factory=list)
    reattached: list[tuple[Path, Path]] = field(default_factory=list)
    found_again: list[Path] = field(default_factory=list)
    added: int = 0


class PhotoRecords:
    def add_photos(self, paths: Iterable[Path | str], progress: ProgressFn = no_progress,
                   should_stop: ShouldStopFn = never_stop, total: int | None = None) -> AddReport:
        """Record photos (size, mtime, fingerprint). A new path whose content matches a photo flagged missing
        is that photo moved: the row, with its labels, follows it."""
        report = AddReport()
        pending: list[tuple[Path, int, int, str]] = []
        done = 0
        for path in paths:
            if should_stop():
                raise Stopped()
            path = Path(path).absolute()
            try:
                stat = path.stat()
                pending.append((path, stat.st_size, stat.st_mtime_ns, fingerprint(path)))
            except OSError as exc:
                report.failed.append((path, exc.strerror or str(exc)))
            done += 1
            if len(pending) >= BATCH:
                self._record_photos(pending, report)
                pending.clear()
            progress(done, total or done)
        self._record_photos(pending, report)
        return report

    def _record_photos(self, rows: list[tuple[Path, int, int, str]], report: AddReport) -> None:
        if not rows:
            return
        now = self._now()
        with self._transaction() as db:
            for path, size, mtime_ns, print_ in rows:
                known = db.execute("SELECT id, fingerprint FROM photos WHERE path = ?", (str(path),)).fetchone()
                if known is not None:
                    db.execute("UPDATE photos SET size = ?, mtime_ns = ?, fingerprint = ?, missing = 0 WHERE id = ?",
                               (size, mtime_ns, print_, known["id"]))
                    report.updated += 1
                    continue
                moved = db.execute("SELECT id, path FROM photos WHERE fingerprint = ? AND missing = 1 LIMIT 1",
                                   (print_,)).fetchone()
                if moved is not None:
                    db.execute("UPDATE photos SET path = ?, size = ?, mtime_ns = ?, missing = 0 WHERE id = ?",
                               (str(path), size, mtime_ns, moved["id"]))
                    report.reattached.append((Path(moved["path"]), path))
                    continue
                db.execute("INSERT INTO photos (path, size, mtime_ns, fingerprint, added) VALUES (?, ?, ?, ?, ?)",
                           (str(path), size, mtime_ns, print_, now))
                report.added += 1

    def add_folder(self, folder: Path | str, recursive: bool = True, progress: ProgressFn = no_progress,
                   should_stop: ShouldStopFn = never_stop) -> AddReport:
        errors: list[tuple[Path, str]] = []
        paths = list(iter_image_files(Path(folder), recursive, errors))
        report = self.add_photos(paths, progress, should_stop, total=len(paths))
        report.failed.extend(errors)
        return report

    def rescan(self, folders: Iterable[Path | str] | None = None, progress: ProgressFn = no_progress,
               should_stop: ShouldStopFn = never_stop) -> RescanReport:
        """Flag photos gone from disk (their labels stay), then look through `folders` (default: the folders
        the catalog's photos live in) for new files, reattaching moved photos by fingerprint."""
        report = RescanReport()
        rows = self._db.execute("SELECT id, path, missing FROM photos").fetchall()
        gone, back = [], []
        for row in rows:
            exists = os.path.isfile(row["path"])
            if not exists and not row["missing"]:
                gone.append(row["id"])
                report.missing.append(Path(row["path"]))
            elif exists and row["missing"]:
                back.append(row["id"])
                report.found_again.append(Path(row["path"]))
        with self._transaction() as db:
            db.executemany("UPDATE photos SET missing = 1 WHERE id = ?", [(i,) for i in gone])
            db.executemany("UPDATE photos SET missing = 0 WHERE id = ?", [(i,) for i in back])
        search = [Path(f) for f in folders] if folders is not None else sorted({Path(r["path"]).parent for r in rows})
        known = {r["path"] for r in rows}
        candidates = []
        for folder in search:
            if folder.is_dir():
                candidates += [p for p in iter_image_files(folder, recursive=True) if str(p.absolute()) not in known]
        added = self.add_photos(candidates, progress, should_stop, total=len(candidates))
        report.reattached = added.reattached
        report.added = added.added
        report.missing = [p for p in report.missing if p not in {old for old, _ in added.reattached}]
        return report

    def record_moves(self, moves: Iterable[tuple[Path | str, Path | str]]) -> int:
        """Photos LakeView itself moved (old path, new path): each row, with its labels, predictions and history,
        follows its photo. A new path the catalog already knows is left alone. Returns the rows moved."""
        moved = 0
        with self._transaction() as db:
            for old, new in moves:
                old, new = str(Path(old).absolute()), str(Path(new).absolute())
                moved += db.execute(
                    "UPDATE photos SET path = ?, missing = 0 WHERE path = ? AND NOT EXISTS "
                    "(SELECT 1 FROM photos WHERE path = ?)", (new, old, new)).rowcount
        return moved

    def photo_id(self, path: Path | str) -> int | None:
        row = self._db.execute("SELECT id FROM photos WHERE path = ?", (str(Path(path).absolute()),)).fetchone()
        return row["id"] if row else None

    def photos_on_disk(self) -> list[tuple[Path, str]]:
        """(path, fingerprint) of every photo not flagged missing, by path."""
        rows = self._db.execute("SELECT path, fingerprint FROM photos WHERE missing = 0 ORDER BY path")
        return [(Path(r[0]), r[1]) for r in rows]

    def photo_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]

    def query(self, *, limit: int | None = None, offset: int = 0, **filters) -> list[PhotoRow]:
        """The rows the thumbnail grid shows, filtered and sorted in SQL. Filters: see `_grid_sql`."""
        sql, args = self._grid_sql(
            "p.id, p.path, p.missing, l.photo_id AS labelled, lc.name AS label, l.source, pc.name AS predicted, "
            "pr.confidence", **filters)
        return [
            PhotoRow(r["id"], Path(r["path"]), bool(r["missing"]),
                     (r["label"] if r["label"] is not None else NONE_OF_THESE) if r["labelled"] else None,
                     r["source"], r["predicted"], r["confidence"])
            for r in self._db.execute(sql + " LIMIT ? OFFSET ?", (*args, -1 if limit is None else limit, offset))
        ]

    def query_ids(self, *, limit: int | None = None, offset: int = 0, **filters) -> list[int]:
        """Only the ids, in order: what a lazy grid model fetches, a page at a time."""
        sql, args = self._grid_sql("p.id", **filters)
        cursor = self._db.cursor()
        cursor.row_factory = None
        return [r[0] for r in cursor.execute(sql + " LIMIT ? OFFSET ?", (*args, -1 if limit is None else limit, offset))]

    @staticmethod
    def _grid_sql(select: str, *, folder: Path | str | None = None, recursive: bool = True,
                  predicted: str | None = None, assigned: str | None = None, unlabelled: bool = False,
                  corrected: bool = False, disagreements: bool = False, search: str | None = None,
                  paths: Iterable[Path | str] | None = None, order: str = "path") -> tuple[str, list]:
        where, args = ["1 = 1"], []
        if paths is not None:
            where.append("p.path IN (SELECT value FROM json_each(?))")
            args.append(json.dumps([str(Path(path).absolute()) for path in paths]))
        if folder is not None:
            # A range on the path index: everything under `folder/`.
            prefix = str(Path(folder).absolute()).rstrip(os.sep) + os.sep
            where.append("p.path >= ? AND p.path < ?")
            args += [prefix, prefix[:-1] + chr(ord(os.sep) + 1)]
            if not recursive:
                where.append("instr(substr(p.path, ?), ?) = 0")
                args += [len(prefix) + 1, os.sep]
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
