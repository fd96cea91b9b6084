"""`catalog check`: is every page readable and every reference whole? Read-only; changes nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from lakeview.core.catalog.connection import connect
from lakeview.core.catalog.errors import CatalogDamaged, CatalogUnavailable
from lakeview.core.catalog.identity import FileState, examine

PROBLEM_LINES = 20


@dataclass
class Health:
    photos: int = 0
    labels: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


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
