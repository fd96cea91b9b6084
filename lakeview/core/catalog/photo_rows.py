"""Photos in the catalog: adding, rescanning (missing photos flagged, moved ones reattached), counting."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

from lakeview.core.photos.file_names import PathInDb, absolute_path, path_from_db, path_to_db
from lakeview.core.photos.files import NotAPhoto, iter_image_files, not_a_file_reason
from lakeview.core.photos.fingerprint import PhotoFile, read_photo_file
from lakeview.core.photos.gps import read_gps
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

BATCH = 500


@dataclass
class AddReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    """Photos already recorded with the same size and modification time: not read again."""
    reattached: list[tuple[Path, Path]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


@dataclass
class RescanReport:
    missing: list[Path] = field(default_factory=list)
    reattached: list[tuple[Path, Path]] = field(default_factory=list)
    found_again: list[Path] = field(default_factory=list)
    added: int = 0


def read_photo(path: Path | str, failed: list[tuple[Path, str]]) -> PhotoFile | None:
    """The photo's size, time, fingerprint and GPS position, or None with the reason appended to `failed`."""
    path = absolute_path(path)
    try:
        path_to_db(path)
        photo = read_photo_file(path)
        return replace(photo, gps=read_gps(path))
    except NotAPhoto as exc:
        failed.append((path, exc.reason))
    except OSError as exc:
        failed.append((path, not_a_file_reason(path) or exc.strerror or str(exc)))
    except ValueError as exc:  # a NUL byte, or a str that no file system could have named
        failed.append((path, f"not a usable file name ({exc})"))
    return None


def read_photos(paths: Sequence[Path | str], progress: ProgressFn = no_progress,
                should_stop: ShouldStopFn = never_stop) -> tuple[list[PhotoFile], list[tuple[Path, str]]]:
    """Read the photos (the slow part of adding them) without touching the catalog: the photos, and the paths
    left out with the reason. Raises Stopped when asked to stop."""
    photos: list[PhotoFile] = []
    failed: list[tuple[Path, str]] = []
    for done, path in enumerate(paths, 1):
        if should_stop():
            raise Stopped()
        photo = read_photo(path, failed)
        if photo is not None:
            photos.append(photo)
        progress(done, len(paths))
    return photos, failed


class _MissingPhotos:
    """Photos flagged missing, by fingerprint, for reattaching moved ones. Among identical files the one with the
    same file name is taken first (a renamed folder), then one from the same folder (a renamed file), then the
    oldest: identical copies keep their own rows, labels and history. Each take is amortised O(1)."""

    def __init__(self) -> None:
        self._lists: dict[tuple, list[tuple[int, PathInDb]]] = {}
        self._taken: set[int] = set()
        self._loaded: set[str] = set()

    def load(self, db, fingerprints: Iterable[str], known_ids: Iterable[int]) -> None:
        """Fetch the missing rows with these fingerprints, each fingerprint once per add (so a library of
        identical files is read once, not once per batch); rows whose own path is back (`known_ids`) are no
        longer missing and match nothing."""
        self._taken.update(known_ids)
        wanted = sorted(set(fingerprints) - self._loaded)
        self._loaded.update(wanted)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for r in db.execute(f"SELECT id, path, fingerprint FROM photos INDEXED BY photos_missing_fingerprint "
                                f"WHERE missing = 1 AND fingerprint IN ({', '.join('?' * len(chunk))}) "
                                "ORDER BY id DESC", chunk):
                self.add(r["id"], r["path"], r["fingerprint"])

    def add(self, row_id: int, value: PathInDb, fingerprint: str) -> None:
        """Rows in descending id order: the oldest is taken first."""
        path = path_from_db(value)
        for key in ((fingerprint, "name", path.name), (fingerprint, "folder", path.parent), (fingerprint,)):
            self._lists.setdefault(key, []).append((row_id, value))

    def match(self, photos: Sequence[PhotoFile], keys: Sequence[PathInDb],
              known: Iterable[PathInDb]) -> dict[int, tuple[int, PathInDb]]:
        """{index in `photos`: the missing row it is}: every same-name match first, then same-folder, then any.
        Paths the catalog knows, and a path's repeats in the batch, match nothing."""
        seen = set(known)
        new = [index for index, key in enumerate(keys) if not (key in seen or seen.add(key))]
        found: dict[int, tuple[int, PathInDb]] = {}
        for level in range(3):
            for index in new:
                photo = photos[index]
                if index in found:
                    continue
                path = Path(photo.path)
                key = ((photo.fingerprint, "name", path.name), (photo.fingerprint, "folder", path.parent),
                       (photo.fingerprint,))[level]
                candidates = self._lists.get(key, [])
                while candidates:
                    row_id, value = candidates.pop()
                    if row_id not in self._taken:
                        self._taken.add(row_id)
                        found[index] = row_id, value
                        break
        return found


class PhotoRecords:
    def add_photos(self, paths: Iterable[Path | str], progress: ProgressFn = no_progress,
                   should_stop: ShouldStopFn = never_stop, total: int | None = None) -> AddReport:
        """Record photos (size, mtime, fingerprint), committed a batch at a time: after a stop the batches
        recorded so far stay. A new path whose content matches a photo flagged missing is that photo moved: the
        row, with its labels, follows it. Anything but a regular image file is listed in `failed` with the
        reason, and the rest of the batch goes on."""
        report = AddReport()
        gone = _MissingPhotos()
        pending: list[PhotoFile] = []
        done = 0
        for path in paths:
            if should_stop():
                raise Stopped()
            photo = read_photo(path, report.failed)
            if photo is not None:
                pending.append(photo)
            done += 1
            if len(pending) >= BATCH:
                with self._transaction() as db:
                    self._record_batch(db, pending, report, gone)
                pending.clear()
            progress(done, total or done)
        if pending:
            with self._transaction() as db:
                self._record_batch(db, pending, report, gone)
        return report

    def record_photos(self, photos: Sequence[PhotoFile], progress: ProgressFn = no_progress,
                      should_stop: ShouldStopFn = never_stop) -> AddReport:
        """Record photos already read (see `read_photos`) in one transaction: all of them or, after a stop or an
        error, none. Inside `all_or_nothing` it is part of that larger transaction."""
        report = AddReport()
        gone = _MissingPhotos()
        with self._transaction() as db:
            for start in range(0, len(photos), BATCH):
                if should_stop():
                    raise Stopped()
                self._record_batch(db, photos[start:start + BATCH], report, gone)
                progress(min(start + BATCH, len(photos)), len(photos))
        return report

    def _record_batch(self, db, photos: Sequence[PhotoFile], report: AddReport, gone: _MissingPhotos) -> None:
        """Indexed queries for the whole batch (which paths are known; the missing photos with fingerprints not
        seen before in this add), then the writes; the cost per photo does not grow with the library."""
        keys = [path_to_db(photo.path) for photo in photos]
        known = {r["path"]: r["id"] for r in db.execute(
            f"SELECT id, path FROM photos WHERE path IN ({', '.join('?' * len(keys))})", keys)}
        known_ids = set(known.values())
        gone.load(db, (photo.fingerprint for photo in photos), known_ids)  # back at its own path: updated
        updates, moves, inserts = [], [], []
        new_keys: set[PathInDb] = set()
        now = self._now()
        matches = gone.match(photos, keys, known)
        for index, (photo, key) in enumerate(zip(photos, keys)):
            gps = (photo.gps.latitude, photo.gps.longitude, photo.gps.altitude) if photo.gps else (None, None, None)
            if key in known:
                updates.append((photo.size, photo.mtime_ns, photo.fingerprint, *gps, known[key]))
                report.updated += 1
            elif key in new_keys:  # the same path twice in one batch: recorded once
                report.updated += 1
            elif index in matches:
                row_id, old = matches.pop(index)
                moves.append((key, photo.size, photo.mtime_ns, *gps, row_id))
                new_keys.add(key)
                report.reattached.append((path_from_db(old), photo.path))
            else:
                inserts.append((key, photo.size, photo.mtime_ns, photo.fingerprint, *gps, now))
                new_keys.add(key)
                report.added += 1
        gps = "latitude = ?, longitude = ?, altitude = ?, gps_read = 1"
        db.executemany(f"UPDATE photos SET size = ?, mtime_ns = ?, fingerprint = ?, {gps}, missing = 0 WHERE id = ?",
                       updates)
        db.executemany(f"UPDATE photos SET path = ?, size = ?, mtime_ns = ?, {gps}, missing = 0 WHERE id = ?", moves)
        db.executemany("INSERT INTO photos (path, size, mtime_ns, fingerprint, latitude, longitude, altitude, gps_read, "
                       "added) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)", inserts)

    def add_folder(self, folder: Path | str, recursive: bool = True, progress: ProgressFn = no_progress,
                   should_stop: ShouldStopFn = never_stop) -> AddReport:
        """Record the folder's photos. A photo the catalog has at the same path, size and modification time is
        not read again (opening a catalogued folder of 100,000 photos costs a stat each, not 100,000 reads)."""
        errors: list[tuple[Path, str]] = []
        paths = list(iter_image_files(Path(folder), recursive, errors))
        known = self._files_known_under(Path(folder))
        changed = [path for path in paths if not self._unchanged(path, known)]
        report = self.add_photos(changed, progress, should_stop, total=len(changed))
        report.unchanged = len(paths) - len(changed)
        self.read_unread_gps(Path(folder), recursive, progress, should_stop)
        report.failed.extend(errors)
        return report

    def _files_known_under(self, folder: Path) -> dict[PathInDb, tuple[int, int]]:
        """{path: (size, mtime_ns)} of the photos recorded under `folder` and not flagged missing."""
        sql, args = self._grid_sql("p.path, p.size, p.mtime_ns", folder=folder, on_disk=True)
        return {r[0]: (r[1], r[2]) for r in self._db.execute(sql, args)}

    @staticmethod
    def _unchanged(path: Path, known: dict[PathInDb, tuple[int, int]]) -> bool:
        try:
            recorded = known.get(path_to_db(absolute_path(path)))
            if recorded is None:
                return False
            info = os.stat(path)
        except (OSError, ValueError):
            return False
        return stat.S_ISREG(info.st_mode) and (info.st_size, info.st_mtime_ns) == recorded

    def rescan(self, folders: Iterable[Path | str] | None = None, progress: ProgressFn = no_progress,
               should_stop: ShouldStopFn = never_stop) -> RescanReport:
        """Flag photos gone from disk (their labels stay), then look through `folders` (default: the folders
        the catalog's photos live in) for new files, reattaching moved photos by fingerprint."""
        report = RescanReport()
        rows = [(r["id"], path_from_db(r["path"]), r["missing"])
                for r in self._db.execute("SELECT id, path, missing FROM photos")]
        gone, back = [], []
        for row_id, path, missing in rows:
            exists = os.path.isfile(path)
            if not exists and not missing:
                gone.append(row_id)
                report.missing.append(path)
            elif exists and missing:
                back.append(row_id)
                report.found_again.append(path)
        with self._transaction() as db:
            db.executemany("UPDATE photos SET missing = 1 WHERE id = ?", [(i,) for i in gone])
            db.executemany("UPDATE photos SET missing = 0 WHERE id = ?", [(i,) for i in back])
        search = [Path(f) for f in folders] if folders is not None else sorted({path.parent for _, path, _ in rows})
        known = {path for _, path, _ in rows}
        candidates = []
        for folder in search:
            if folder.is_dir():
                candidates += [p for p in iter_image_files(folder, recursive=True) if absolute_path(p) not in known]
        added = self.add_photos(candidates, progress, should_stop, total=len(candidates))
        report.reattached = added.reattached
        report.added = added.added
        moved = {old for old, _ in added.reattached}
        report.missing = [p for p in report.missing if p not in moved]
        return report

    def record_moves(self, moves: Iterable[tuple[Path | str, Path | str]]) -> int:
        """Photos LakeView itself moved (old path, new path): each row, with its labels, predictions and history,
        follows its photo. A new path the catalog already knows is left alone. Committed BATCH moves at a time
        (each one recorded is true on disk already). Returns the rows moved."""
        pairs = [(path_to_db(absolute_path(old)), path_to_db(absolute_path(new))) for old, new in moves]
        moved = 0
        for start in range(0, len(pairs), BATCH):
            with self._transaction() as db:
                for old, new in pairs[start:start + BATCH]:
                    moved += db.execute(
                        "UPDATE photos SET path = ?, missing = 0 WHERE path = ? AND NOT EXISTS "
                        "(SELECT 1 FROM photos WHERE path = ?)", (new, old, new)).rowcount
        return moved

    def photo_id(self, path: Path | str) -> int | None:
        row = self._db.execute("SELECT id FROM photos WHERE path = ?", (path_to_db(absolute_path(path)),)).fetchone()
        return row["id"] if row else None

    def photos_on_disk(self) -> list[tuple[Path, str]]:
        """(path, fingerprint) of every photo not flagged missing, by path."""
        rows = self._db.execute("SELECT path, fingerprint FROM photos WHERE missing = 0 ORDER BY path")
        return [(path_from_db(r[0]), r[1]) for r in rows]

    def photo_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]

    def prediction_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
