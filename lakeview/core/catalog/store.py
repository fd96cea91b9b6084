"""Opening a catalog: the connection, its settings and transactions; the record mixins do the rest."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from lakeview.core.catalog.classes import ClassRecords
from lakeview.core.catalog.classification_plan import PlanRecords
from lakeview.core.catalog.connection import connect
from lakeview.core.catalog.grid_queries import GridQueries
from lakeview.core.catalog.errors import CatalogDamaged, CatalogError, CatalogFolderUnwritable, translate
from lakeview.core.catalog.identity import APPLICATION_ID, FileState, examine
from lakeview.core.catalog.labels import NONE_OF_THESE, Label, LabelRecords
from lakeview.core.catalog.model_versions import ModelRecords
from lakeview.core.catalog.photo_groups import GroupRecords
from lakeview.core.catalog.photo_rows import PhotoRecords
from lakeview.core.catalog.schema import LATEST, SchemaError, migrate, version_of
from lakeview.core.catalog.write_turns import write_turns
from lakeview.core.paths import data_dir

CATALOG_ENV = "LAKEVIEW_CATALOG"


def default_catalog_path(library: str = "default") -> Path:
    """`$LAKEVIEW_CATALOG`, else `<user data folder>/libraries/<library>/catalog.sqlite`."""
    override = os.environ.get(CATALOG_ENV)
    if override:
        return Path(override)
    return data_dir() / "libraries" / library / "catalog.sqlite"


class Catalog(PhotoRecords, GridQueries, ClassRecords, LabelRecords, ModelRecords, PlanRecords, GroupRecords):
    """One library's catalog. Use from one thread; every change is committed before the method returns.

    Each write transaction waits for its turn among this process's writers to the same file (see write_turns):
    methods that write many rows commit them a bounded chunk at a time."""

    def __init__(self, path: Path | str | None = None, migrate_to: int = LATEST, verify: bool = False) -> None:
        """Open (or create) the catalog. Raises a CatalogUnavailable subclass, before writing anything, for a
        file that is not a LakeView catalog, is newer than this LakeView, or (with `verify`: SQLite's quick
        check of every page) is damaged."""
        self.path = Path(path) if path is not None else default_catalog_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise translate(exc, self.path) or CatalogFolderUnwritable(self.path, self.path.parent, str(exc)) from None
        state = examine(self.path, verify)
        self._turns = write_turns(self.path)
        self._db = connect(self.path)
        try:
            with self._turns.turn():
                if state is FileState.NEW:
                    self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
                self._db.execute("PRAGMA foreign_keys = ON")
                migrate(self._db, migrate_to)
        except SchemaError as exc:
            self._db.close()
            raise CatalogError(str(exc)) from None
        except sqlite3.Error as exc:  # the tables do not match the version it claims (a hand-edited catalog)
            version = version_of(self._db)
            self._db.close()
            raise CatalogDamaged(self.path, f"its tables do not match its schema version {version}: {exc}") from None
        except BaseException:
            self._db.close()
            raise

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def schema_version(self) -> int:
        return version_of(self._db)

    def integrity_check(self) -> list[str]:
        """SQLite's own check; ['ok'] when all is well."""
        return [row[0] for row in self._db.execute("PRAGMA integrity_check")]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        """Several changes as one: every catalog method called in the block joins one transaction, committed
        when the block ends, or rolled back whole (an error, a stop, Ctrl+C)."""
        with self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: all of the block is on disk when it ends, or none of it. Inside another
        transaction it is a savepoint of that one (undone alone on an error, committed with the outer one)."""
        if self._db.in_transaction:
            self._db.execute("SAVEPOINT nested")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK TO nested")
                    self._db.execute("RELEASE nested")
                raise
            self._db.execute("RELEASE nested")
            return
        with self._turns.turn():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite has already rolled back after a full disk or an I/O error
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def _now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


__all__ = ["Catalog", "CatalogError", "Label", "NONE_OF_THESE", "default_catalog_path"]
