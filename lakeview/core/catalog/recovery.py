"""Recovering a damaged catalog: every row that can still be read is copied into a fresh catalog.

The salvage reads each table by ranges of rowids; a range that fails is halved until the rows around the
damaged pages are read one by one, so a broken page costs only its own rows. Rows the fresh catalog refuses
(a label whose photo was lost) are dropped and counted. The damaged file is never deleted: it is moved aside
as `catalog.sqlite.damaged-<time>` (with its `-wal` and `-shm` files), or left in place with `into`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lakeview.core.catalog.connection import read_only_uri
from lakeview.core.catalog.errors import CatalogError, CatalogTooNew, CatalogUnavailable, NotACatalog
from lakeview.core.catalog.identity import APPLICATION_ID, PHOTO_COLUMNS, refuse_foreign_header, refuse_special_file
from lakeview.core.catalog.schema import LATEST
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

# Parents before the rows that refer to them, so that a row whose parent was lost is refused and counted.
TABLE_ORDER = ("photos", "classes", "models", "training_runs", "labels", "predictions", "corrections", "actions",
               "photo_groups", "grouping")
CHUNK = 1000
GIVE_UP_AFTER = 100
"""Chunks in a row with nothing readable, past the last row read, when the table's last rowid is unknown."""
SIDE_FILES = ("-wal", "-shm")


class CatalogUnrecoverable(CatalogUnavailable):
    """Not even the list of tables can be read: there is nothing to copy."""

    def __init__(self, path: Path | str, detail: str) -> None:
        self.detail = detail
        super().__init__(path, f"nothing can be recovered from the catalog {path} ({detail}); it was left as it is")


@dataclass
class TableRecovery:
    copied: int = 0
    dropped: int = 0
    """Read, but refused by the fresh catalog (the photo or class it refers to was lost)."""
    unreadable: bool = False
    """Some of its pages could not be read."""


@dataclass
class RecoveryReport:
    recovered: Path
    """The fresh catalog."""
    damaged: Path
    """Where the damaged catalog is now."""
    tables: dict[str, TableRecovery] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(not t.unreadable and not t.dropped for t in self.tables.values())


def aside_name(path: Path, what: str = "damaged") -> Path:
    """`catalog.sqlite.damaged-20261130-011500`: beside the catalog, never an existing name."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, n = path.with_name(f"{path.name}.{what}-{stamp}"), 1
    while candidate.exists() or any(Path(f"{candidate}{s}").exists() for s in SIDE_FILES):
        n += 1
        candidate = path.with_name(f"{path.name}.{what}-{stamp}-{n}")
    return candidate


def move_aside(path: Path | str, what: str = "damaged") -> Path:
    """Rename the catalog (and its -wal and -shm files) out of the way; returns its new name. Deletes nothing."""
    path = Path(path)
    target = aside_name(path, what)
    _rename_with_side_files(path, target)
    return target


def _rename_with_side_files(path: Path, target: Path) -> None:
    os.rename(path, target)
    for suffix in SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.rename(side, f"{target}{suffix}")


def recover_catalog(path: Path | str, into: Path | str | None = None, progress: ProgressFn = no_progress,
                    should_stop: ShouldStopFn = never_stop) -> RecoveryReport:
    """Copy every readable row of the catalog at `path` into a fresh catalog.

    Without `into`, the fresh catalog takes the catalog's place and the damaged one is moved aside; with
    `into` (a new file), the damaged catalog stays where it is. Refuses, changing nothing, a file that is
    not a LakeView catalog or is newer than this LakeView.
    """
    from lakeview.core.catalog.store import Catalog

    path = Path(path)
    source = _open_damaged(path)
    try:
        tables = _tables_to_copy(source, path)
        target = Path(into) if into is not None else aside_name(path, "recovering")
        if into is not None and (target.exists() or target.is_symlink()):
            raise CatalogError(f"{target} already exists; choose a new file for the recovered catalog")
        try:
            with Catalog(target) as fresh:
                report_tables = _copy(source, fresh._db, tables, progress, should_stop)
                fresh._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException:
            for leftover in (target, *(Path(f"{target}{s}") for s in SIDE_FILES)):
                leftover.unlink(missing_ok=True)
            raise
    finally:
        source.close()
    if into is not None:
        return RecoveryReport(target, path, report_tables)
    moved = move_aside(path)
    _rename_with_side_files(target, path)
    return RecoveryReport(path, moved, report_tables)


def check_recoverable(path: Path | str) -> None:
    """Raise what `recover_catalog` would refuse (not a catalog, newer, nothing readable); changes nothing."""
    source = _open_damaged(Path(path))
    try:
        _tables_to_copy(source, Path(path))
    finally:
        source.close()


def _open_damaged(path: Path) -> sqlite3.Connection:
    try:
        refuse_special_file(path)
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        raise CatalogUnavailable(path, f"there is no catalog at {path}") from None
    except OSError as exc:
        raise CatalogUnrecoverable(path, exc.strerror or str(exc)) from None
    if not header:
        raise CatalogUnrecoverable(path, "the file is empty")
    refuse_foreign_header(path, header, truncated=CatalogUnrecoverable)
    try:
        source = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise CatalogUnrecoverable(path, str(exc)) from None
    # Lets SQLite read a file shorter than its header says (truncated) instead of refusing all of it;
    # a read-only connection cannot write the schema all the same.
    source.execute("PRAGMA writable_schema = ON")
    return source


def _tables_to_copy(source: sqlite3.Connection, path: Path) -> dict[str, list[str]]:
    """{table: columns to read}, the tables the damaged catalog has, in TABLE_ORDER."""
    try:
        version = source.execute("PRAGMA user_version").fetchone()[0]
        application_id = source.execute("PRAGMA application_id").fetchone()[0]
        names = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {name: [row[1] for row in source.execute(f'PRAGMA table_info("{name}")')]
                   for name in TABLE_ORDER if name in names}
    except sqlite3.DatabaseError as exc:
        raise CatalogUnrecoverable(path, f"{exc}: not even its list of tables can be read") from None
    if version > LATEST:
        raise CatalogTooNew(path, version, LATEST)
    if application_id != APPLICATION_ID and not PHOTO_COLUMNS <= set(columns.get("photos", ())):
        raise NotACatalog(path, "it has no LakeView photos table")
    return columns


def _copy(source: sqlite3.Connection, fresh: sqlite3.Connection, tables: dict[str, list[str]],
          progress: ProgressFn, should_stop: ShouldStopFn) -> dict[str, TableRecovery]:
    report: dict[str, TableRecovery] = {}
    bounds = {name: _rowid_bounds(source, name) for name in tables}
    total = sum((hi - lo + 1) if hi is not None else CHUNK for lo, hi in bounds.values())
    done = 0
    fresh.execute("BEGIN IMMEDIATE")
    try:
        for name, columns in tables.items():
            wanted = [c for c in columns if c in _columns(fresh, name)]
            outcome = report[name] = TableRecovery()
            insert = f'INSERT INTO "{name}" ({", ".join(wanted)}) VALUES ({", ".join("?" * len(wanted))})'
            select = f'SELECT {", ".join(wanted)} FROM "{name}" WHERE rowid BETWEEN ? AND ? ORDER BY rowid'
            lo, hi = bounds[name]
            start, empty_run = lo, 0
            while (start <= hi) if hi is not None else (empty_run < GIVE_UP_AFTER):
                if should_stop():
                    raise Stopped()
                end = start + CHUNK - 1 if hi is None else min(start + CHUNK - 1, hi)
                rows = _read_range(source, select, start, end, outcome)
                empty_run = 0 if rows else empty_run + 1
                _insert(fresh, insert, rows, outcome)
                done += end - start + 1
                progress(min(done, total), total)
                start = end + 1
        fresh.execute("COMMIT")
    except BaseException:
        fresh.execute("ROLLBACK")
        raise
    return report


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}


def _rowid_bounds(source: sqlite3.Connection, table: str) -> tuple[int, int | None]:
    """(first rowid, last rowid); the last is None when the pages that hold it are damaged."""
    try:
        lo, hi = source.execute(f'SELECT min(rowid), max(rowid) FROM "{table}"').fetchone()
        return (lo, hi) if lo is not None else (1, 0)
    except sqlite3.DatabaseError:
        pass
    try:
        lo = source.execute(f'SELECT min(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.DatabaseError:
        lo = None
    return (lo if lo is not None else 1), None


def _read_range(source: sqlite3.Connection, select: str, start: int, end: int,
                outcome: TableRecovery) -> list[tuple]:
    try:
        if start == end:  # an equality seek: a range scan would step on to the next (perhaps damaged) page
            return source.execute(select.replace("BETWEEN ? AND ?", "= ?"), (start,)).fetchall()
        return source.execute(select, (start, end)).fetchall()
    except sqlite3.DatabaseError:
        if start == end:
            outcome.unreadable = True
            return []
    middle = (start + end) // 2
    return (_read_range(source, select, start, middle, outcome)
            + _read_range(source, select, middle + 1, end, outcome))


def _insert(fresh: sqlite3.Connection, insert: str, rows: list[tuple], outcome: TableRecovery) -> None:
    for row in rows:
        try:
            fresh.execute(insert, row)  # a refused row undoes only its own statement, not the transaction
            outcome.copied += 1
        except sqlite3.IntegrityError:
            outcome.dropped += 1
