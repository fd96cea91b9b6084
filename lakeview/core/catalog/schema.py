"""The catalog's schema, one migration per version; a database is brought up to date when it is opened."""

from __future__ import annotations

import sqlite3

# Version 1: photos, classes, labels, corrections, predictions, model versions.
# Version 2: the missing-on-disk flag for photos, training runs with their per-epoch metrics, and a
# prediction index for the grid's 'by predicted class, most confident first' order.
# Version 3: an index of the photos flagged missing, by fingerprint, so that finding a moved photo stays one
# lookup however many identical files the library holds. (Paths that are not valid UTF-8 are stored as BLOBs in
# photos.path, see lakeview.core.photos.file_names; that needed no change to the table.)
# Version 4: the fingerprint of the photo each prediction was made from, so that classifying again skips the
# photos whose prediction is from the same model and whose content has not changed since. Existing predictions
# take their photo's fingerprint as the catalog knows it: before version 4 a prediction was only ever replaced,
# never aged, so the catalog's own fingerprint is the best record there is of what it was made from, and leaving
# it NULL would make the first classification after the upgrade redo the whole library (hours at 100,000 photos
# on a CPU) for almost no photo that changed. `--all` (Classify All Again) redoes them all on purpose.
# Version 5: a summary of each label-history action (how many photos, how many per class, the deepest folder
# holding them all), written with it, so that the Edit menu and Ctrl+Z describe a 100,000-photo step, and tell
# whether it is on screen, without reading its rows. Older actions have none and are summed from their rows.
# Version 6: (the location hints' GPS columns; empty on this branch, filled in at merge.)
# Version 7: the latest similar-photo grouping: each grouped photo's group number and place in it (most central
# first), and one row saying what it was computed from (which body's features, the distance, the smallest size).
MIGRATIONS: dict[int, str] = {
    1: """
        CREATE TABLE photos (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            added TEXT NOT NULL
        );
        CREATE INDEX photos_fingerprint ON photos (fingerprint);
        CREATE TABLE classes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            colour TEXT NOT NULL,
            position INTEGER NOT NULL
        );
        CREATE TABLE labels (
            photo_id INTEGER PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
            class_id INTEGER REFERENCES classes (id),
            source TEXT NOT NULL CHECK (source IN ('imported', 'user', 'accepted')),
            time TEXT NOT NULL
        );
        CREATE INDEX labels_class ON labels (class_id);
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            action INTEGER NOT NULL,
            photo_id INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
            old_class_id INTEGER,
            old_source TEXT,
            new_class_id INTEGER,
            new_source TEXT,
            state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('done', 'undone', 'discarded')),
            time TEXT NOT NULL
        );
        CREATE INDEX corrections_action ON corrections (action, state);
        CREATE TABLE predictions (
            photo_id INTEGER PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            class_id INTEGER REFERENCES classes (id),
            confidence REAL NOT NULL,
            top TEXT NOT NULL,
            time TEXT NOT NULL
        );
        CREATE INDEX predictions_class ON predictions (class_id, confidence);
        CREATE INDEX predictions_confidence ON predictions (confidence);
        CREATE TABLE models (
            id TEXT PRIMARY KEY,
            file TEXT NOT NULL,
            arch TEXT NOT NULL,
            classes TEXT NOT NULL,
            parent TEXT,
            metrics TEXT NOT NULL,
            created TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0
        );
    """,
    2: """
        ALTER TABLE photos ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;
        DROP INDEX predictions_class;
        CREATE INDEX predictions_class ON predictions (class_id, confidence DESC);
        CREATE TABLE training_runs (
            id INTEGER PRIMARY KEY,
            model_id TEXT,
            kind TEXT NOT NULL,
            settings TEXT NOT NULL,
            epochs TEXT NOT NULL,
            started TEXT NOT NULL,
            finished TEXT,
            outcome TEXT NOT NULL
        );
    """,
    3: """
        CREATE INDEX photos_missing_fingerprint ON photos (fingerprint) WHERE missing = 1;
    """,
    4: """
        ALTER TABLE predictions ADD COLUMN fingerprint TEXT;
        UPDATE predictions SET fingerprint = (SELECT p.fingerprint FROM photos p WHERE p.id = predictions.photo_id);
    """,
    5: """
        CREATE TABLE actions (
            action INTEGER PRIMARY KEY,
            photos INTEGER NOT NULL,
            labelled TEXT NOT NULL,
            folder
        );
    """,
    6: "",
    7: """
        CREATE TABLE photo_groups (
            photo_id INTEGER PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
            group_number INTEGER NOT NULL,
            position INTEGER NOT NULL
        );
        CREATE INDEX photo_groups_number ON photo_groups (group_number, position);
        CREATE TABLE grouping (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            body_id TEXT NOT NULL,
            distance REAL NOT NULL,
            min_size INTEGER NOT NULL,
            photo_count INTEGER NOT NULL,
            group_count INTEGER NOT NULL,
            time TEXT NOT NULL
        );
    """,
}
LATEST = max(MIGRATIONS)


class SchemaError(RuntimeError):
    pass


def version_of(connection: sqlite3.Connection) -> int:
    return connection.execute("PRAGMA user_version").fetchone()[0]


def migrate(connection: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply the missing migrations, each in its own transaction with the version bump."""
    current = version_of(connection)
    if current > LATEST:
        raise SchemaError(f"this catalog was written by a newer LakeView (schema {current}, this one knows {LATEST})")
    for version in range(current + 1, target + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return version_of(connection)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
