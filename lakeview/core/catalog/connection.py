"""The catalog's SQLite connection: SQLite's errors about the file come out as the catalog's error types.

Statements, `executemany`, commits and the cursor's fetch methods translate; iterating a cursor row by row
does not (a Python `__next__` would slow every large query), so the CLI and the app translate once more at
their edges.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from lakeview.core.catalog.errors import translate

TIMEOUT_ENV = "LAKEVIEW_CATALOG_TIMEOUT"
DEFAULT_TIMEOUT = 30.0


def busy_timeout() -> float:
    """Seconds to wait for another connection's write lock: `$LAKEVIEW_CATALOG_TIMEOUT`, else 30."""
    try:
        seconds = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return seconds if 0 <= seconds < float("inf") else DEFAULT_TIMEOUT


class CatalogCursor(sqlite3.Cursor):
    def execute(self, *args):
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            _raise_translated(self.connection, exc)

    def executemany(self, *args):
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as exc:
            _raise_translated(self.connection, exc)

    def fetchone(self):
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            _raise_translated(self.connection, exc)

    def fetchmany(self, *args):
        try:
            return super().fetchmany(*args)
        except sqlite3.DatabaseError as exc:
            _raise_translated(self.connection, exc)

    def fetchall(self):
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            _raise_translated(self.connection, exc)


class CatalogConnection(sqlite3.Connection):
    catalog_path: Path
    catalog_timeout: float

    def cursor(self, factory=CatalogCursor):
        return super().cursor(factory)

    def execute(self, *args):
        return self.cursor().execute(*args)

    def executemany(self, *args):
        return self.cursor().executemany(*args)

    def executescript(self, script):
        try:
            return super().executescript(script)
        except sqlite3.DatabaseError as exc:
            _raise_translated(self, exc)

    def commit(self):
        try:
            return super().commit()
        except sqlite3.DatabaseError as exc:
            _raise_translated(self, exc)


def _raise_translated(connection: CatalogConnection, exc: sqlite3.Error):
    translated = translate(exc, connection.catalog_path, connection.catalog_timeout)
    try:
        if translated is None:
            raise exc
        raise translated from exc
    finally:
        # No reference cycle through this frame: the cursors in the traceback are freed with the exception,
        # so that closing the connection really closes it (and checkpoints its WAL).
        del exc, translated


def read_only_uri(path: Path) -> str:
    """A URI that opens `path` without writing or creating anything beside it: with no `-wal` file nobody has
    it open in WAL mode, so it is read as an immutable file (no `-shm`, no locks)."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    return uri if Path(f"{path}-wal").exists() else uri + "&immutable=1"


def connect(path: Path, read_only: bool = False) -> CatalogConnection:
    """A connection whose errors about the file are the catalog's types (`read_only`: never writes)."""
    timeout = busy_timeout()
    target = read_only_uri(path) if read_only else str(path)
    try:
        db = sqlite3.connect(target, uri=read_only, isolation_level=None, timeout=timeout,
                             check_same_thread=True, factory=CatalogConnection)
    except sqlite3.Error as exc:
        translated = translate(exc, path, timeout)
        if translated is None:
            raise
        raise translated from None
    db.catalog_path, db.catalog_timeout = path, timeout
    db.row_factory = sqlite3.Row
    return db
