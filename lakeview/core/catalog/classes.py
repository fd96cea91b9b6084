"""The library's classes: their names, colours and order, and how many photos each labels."""

from __future__ import annotations

import json
from typing import Iterable

from lakeview.core.catalog.labels import NONE_OF_THESE, PALETTE, ClassInfo
from lakeview.core.photos.file_names import readable_name


class ClassRecords:
    def classes(self) -> list[ClassInfo]:
        rows = self._db.execute(
            "SELECT c.name, c.colour, c.position, (SELECT COUNT(*) FROM labels l WHERE l.class_id = c.id) AS n "
            "FROM classes c ORDER BY c.position").fetchall()
        return [ClassInfo(r["name"], r["colour"], r["position"], r["n"]) for r in rows]

    def class_colours(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._db.execute("SELECT name, colour FROM classes ORDER BY position")}

    def class_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM classes ORDER BY position")]

    def add_class(self, name: str, colour: str | None = None) -> None:
        name = self._valid_class_name(name)
        with self._transaction() as db:
            self._insert_class(db, name, colour)

    def ensure_classes(self, names: Iterable[str]) -> None:
        with self._transaction() as db:
            known = {r[0] for r in db.execute("SELECT name FROM classes")}
            for name in map(readable_name, names):
                if name not in known and name != NONE_OF_THESE:
                    name = self._valid_class_name(name)
                    if name not in known:
                        self._insert_class(db, name, None)
                        known.add(name)

    def rename_class(self, old: str, new: str) -> None:
        old, new = readable_name(old), self._valid_class_name(new)
        with self._transaction() as db:
            self._check_rename(db, old, new)
            db.execute("UPDATE classes SET name = ? WHERE name = ?", (new, old))
            # Predictions keep their top-k by name, and models know their classes by name: both follow, in SQL
            # (a Python loop over 100,000 predictions took a second).
            db.execute("""
                UPDATE predictions SET top = (
                    SELECT json_group_array(json_array(
                        CASE WHEN json_extract(e.value, '$[0]') = :old THEN :new ELSE json_extract(e.value, '$[0]') END,
                        json_extract(e.value, '$[1]')))
                    FROM json_each(predictions.top) e)
                WHERE EXISTS (SELECT 1 FROM json_each(predictions.top) e WHERE json_extract(e.value, '$[0]') = :old)""",
                       {"old": old, "new": new})
            for row in db.execute("SELECT id, classes FROM models").fetchall():
                classes = json.loads(row["classes"])
                if old in classes:
                    db.execute("UPDATE models SET classes = ? WHERE id = ?",
                               (json.dumps([new if name == old else name for name in classes]), row["id"]))

    def check_class_rename(self, old: str, new: str) -> None:
        """Raise CatalogError, as `rename_class` would, when `old` cannot become `new`; change nothing."""
        self._check_rename(self._db, readable_name(old), self._valid_class_name(new))

    def _check_rename(self, db, old: str, new: str) -> None:
        if db.execute("SELECT 1 FROM classes WHERE name = ?", (new,)).fetchone():
            raise self._error(f"there is already a class named '{new}'")
        if not db.execute("SELECT 1 FROM classes WHERE name = ?", (old,)).fetchone():
            raise self._error(f"no class named '{old}'")

    def set_class_colour(self, name: str, colour: str) -> None:
        name = readable_name(name)
        with self._transaction() as db:
            if db.execute("UPDATE classes SET colour = ? WHERE name = ?", (colour, name)).rowcount == 0:
                raise self._error(f"no class named '{name}'")

    def remove_class(self, name: str) -> None:
        """Only a class no photo is labelled with can go; its stale predictions go with it."""
        name = readable_name(name)
        with self._transaction() as db:
            row = db.execute("SELECT id FROM classes WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise self._error(f"no class named '{name}'")
            used = db.execute("SELECT COUNT(*) FROM labels WHERE class_id = ?", (row["id"],)).fetchone()[0]
            if used:
                raise self._error(f"{used} photo(s) are labelled '{name}'; relabel them before removing the class")
            db.execute("DELETE FROM predictions WHERE class_id = ?", (row["id"],))
            self._forget_history_of(db, row["id"])
            db.execute("DELETE FROM classes WHERE id = ?", (row["id"],))

    @staticmethod
    def _forget_history_of(db, class_id: int) -> None:
        """Undo and redo cannot bring back a removed class (a step would turn its photos into "none of these"):
        they stop at the steps that mention it, and the steps beyond those on either stack go with them."""
        mentions = "(old_class_id = :id OR new_class_id = :id)"
        db.execute(f"UPDATE corrections SET state = 'discarded' WHERE state = 'done' AND action <= "
                   f"(SELECT MAX(action) FROM corrections WHERE state = 'done' AND {mentions})", {"id": class_id})
        db.execute(f"UPDATE corrections SET state = 'discarded' WHERE state = 'undone' AND action >= "
                   f"(SELECT MIN(action) FROM corrections WHERE state = 'undone' AND {mentions})", {"id": class_id})
        db.execute("UPDATE corrections SET old_class_id = NULL WHERE old_class_id = ?", (class_id,))
        db.execute("UPDATE corrections SET new_class_id = NULL WHERE new_class_id = ?", (class_id,))

    def _insert_class(self, db, name: str, colour: str | None) -> None:
        if db.execute("SELECT 1 FROM classes WHERE name = ?", (name,)).fetchone():
            raise self._error(f"there is already a class named '{name}'")
        position = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM classes").fetchone()[0]
        db.execute("INSERT INTO classes (name, colour, position) VALUES (?, ?, ?)",
                   (name, colour or PALETTE[position % len(PALETTE)], position))

    def _valid_class_name(self, name: str) -> str:
        """Class names are text: a folder's name that is not UTF-8 becomes its readable form (see file_names)."""
        name = readable_name(name).strip()
        if not name or name == NONE_OF_THESE:
            raise self._error(f"'{name}' cannot be a class name")
        return name
