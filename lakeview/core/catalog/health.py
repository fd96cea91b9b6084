"""`catalog check`: is every page readable and every reference whole? Read-only; changes nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from lakeview.core.catalog.connection import connect
from lakeview.core.catalog.errors import CatalogDamaged, CatalogUnavailable
from lakeview.core.catalog.identity import FileState, examine
from lakeview.core.catalog.schema import migrate

PROBLEM_LINES = 20


@dataclass
class Health:
    photos: int = 0
    labels: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def schema_differences(db: sqlite3.Connection) -> list[str]:
    """How the catalog's tables differ from those its schema version should have (tables of its own that
    a user added are left alone)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    expected = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(expected, version)
        wanted = _tables(expected)
    finally:
        expected.close()
    found = _tables(db)
    problems = []
    for table, columns in wanted.items():
        if table not in found:
            problems.append(f"the {table} table of schema version {version} is missing")
            continue
        for column in sorted(columns - found[table]):
            problems.append(f"the {table} table lacks its {column} column (schema version {version})")
        for column in sorted(found[table] - columns):
            problems.append(f"the {table} table has a {column} column that schema version {version} does not have")
    return problems


def _tables(db: sqlite3.Connection) -> dict[str, set[str]]:
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                          "AND name NOT LIKE 'sqlite_%'").fetchall()]
    return {name: {row[1] for row in db.execute(f'PRAGMA table_info("{name}")').fetchall()} for name in names}


def check_catalog(path: Path | str) -> Health:
    """SQLite's integrity check and the foreign-key check. Raises NotACatalog, CatalogTooNew or
    CatalogDamaged (when not even the check can read it); a missing catalog is reported as such."""
    path = Path(path)
    if examine(path) is FileState.NEW:
        if not path.exists():
            raise CatalogUnavailable(path, f"there is no catalog at {path}")
        return Health()
    db = connect(path, read_only=True)
    try:
        health = Health()
        try:
            problems = [row[0] for row in db.execute(f"PRAGMA integrity_check({PROBLEM_LINES})").fetchall()]
            if problems != ["ok"]:
                health.problems.extend(problems)
            health.problems.extend(schema_differences(db))
            for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall()[:PROBLEM_LINES]:
                health.problems.append(f"{table} row {rowid} refers to a {parent} row that is not there")
            health.photos = db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
            health.labels = db.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
        except CatalogDamaged as exc:
            health.problems.append(exc.detail)
        except sqlite3.DatabaseError as exc:  # a row iterated past a damaged page
            health.problems.append(str(exc))
        return health
    finally:
        db.close()
