"""Is this file a LakeView catalog that may be opened for writing? Decided read-only, before anything is written.

A LakeView catalog is an SQLite database with `user_version` >= 1 and the `photos` table (catalogs made since
this check also carry LakeView's application id in their header). A missing file, an empty file or an empty
SQLite database becomes a new catalog. Anything else is refused and left byte-for-byte as it was.
"""

from __future__ import annotations

import enum
import os
import stat
from pathlib import Path

from lakeview.core.catalog.connection import connect
from lakeview.core.catalog.errors import CatalogDamaged, CatalogTooNew, CatalogUnavailable, NotACatalog, translate
from lakeview.core.catalog.schema import LATEST
from lakeview.core.photos.files import file_kind

SQLITE_MAGIC = b"SQLite format 3\x00"
APPLICATION_ID = 0x4C6B5677
"""'LkVw', at offset 68 of the SQLite header: `PRAGMA application_id` of every catalog LakeView creates."""
PHOTO_COLUMNS = {"id", "path", "size", "mtime_ns", "fingerprint", "added"}
QUICK_CHECK_LINES = 3


class FileState(enum.Enum):
    NEW = "new"
    """Missing, empty, or an empty SQLite database: LakeView creates its tables there."""
    CATALOG = "catalog"


def examine(path: Path, verify: bool = False) -> FileState:
    """Raise the CatalogUnavailable subclass that stops `path` from being opened for writing, changing nothing.
    `verify` also runs SQLite's quick check of every page (about 0.1 s per 100,000 photos)."""
    try:
        refuse_special_file(path)
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return FileState.NEW
    except OSError as exc:
        raise translate(exc, path) or NotACatalog(path, exc.strerror or str(exc)) from None
    if not header:
        return FileState.NEW
    refuse_foreign_header(path, header, truncated=CatalogDamaged)
    try:
        return _examine_database(path, verify)
    except NotACatalog:
        if _catalog_without_its_wal(path):
            wal = Path(f"{path}-wal")
            raise CatalogUnavailable(path, f"the catalog {path} cannot be opened: the file beside it, {wal}, is "
                                           "the write-ahead log of another database, which would overwrite the "
                                           f"catalog; move {wal.name} out of that folder and retry (LakeView left "
                                           "both files untouched)") from None
        raise


def refuse_foreign_header(path: Path, header: bytes, truncated: type[CatalogUnavailable]) -> None:
    """Raise NotACatalog unless the file's first bytes are an SQLite header of no other application's;
    `truncated` for a file cut short inside its header."""
    if not header.startswith(SQLITE_MAGIC):
        if SQLITE_MAGIC.startswith(header):
            raise truncated(path, f"truncated to {len(header)} bytes")
        raise NotACatalog(path, "it is not an SQLite database")
    application_id = int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0
    if application_id not in (0, APPLICATION_ID):
        raise NotACatalog(path, f"it belongs to another application (SQLite application id {application_id:#010x})")


def _catalog_without_its_wal(path: Path) -> bool:
    """True when the file alone, its -wal file ignored, is a LakeView catalog."""
    import sqlite3

    if not Path(f"{path}-wal").exists():
        return False
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            columns = {row[1] for row in db.execute("PRAGMA table_info(photos)")}
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return 1 <= version <= LATEST and PHOTO_COLUMNS <= columns


def _examine_database(path: Path, verify: bool) -> FileState:
    db = connect(path, read_only=True)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()]
        if version == 0 and not tables:
            return FileState.NEW
        if version < 0:
            raise CatalogDamaged(path, f"its schema version reads {version}, which no LakeView writes")
        if version > LATEST:
            raise CatalogTooNew(path, version, LATEST)
        photo_columns = ({row[1] for row in db.execute("PRAGMA table_info(photos)").fetchall()}
                         if "photos" in tables else set())
        if version == 0 or not PHOTO_COLUMNS <= photo_columns:
            shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
            raise NotACatalog(path, f"an SQLite database with the tables {shown}" if tables
                              else "an SQLite database with a version but no tables")
        if verify:
            problems = [row[0] for row in db.execute(f"PRAGMA quick_check({QUICK_CHECK_LINES})").fetchall()]
            if problems != ["ok"]:
                found = [line for p in problems for line in p.splitlines() if not line.startswith("*** in database")]
                raise CatalogDamaged(path, "SQLite's check found: " + "; ".join(found))
        return FileState.CATALOG
    finally:
        db.close()


def refuse_special_file(path: Path) -> None:
    """NotACatalog for a folder, a FIFO (reading it would wait forever), a device or a socket;
    FileNotFoundError when nothing is there."""
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise NotACatalog(path, "it is a folder")
    if not stat.S_ISREG(mode):
        raise NotACatalog(path, f"it is {file_kind(mode)}")


def verify_catalog(path: Path | str) -> FileState:
    """`examine` with the quick check: raises when the catalog is not one to open; writes nothing."""
    return examine(Path(path), verify=True)
