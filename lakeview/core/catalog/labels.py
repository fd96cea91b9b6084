"""Classes, labels and the correction history (undo and redo survive a restart: they live in the database)."""

from __future__ import annotations

import json
import os

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lakeview.core.catalog.errors import CatalogError
from lakeview.core.photos.file_names import absolute_path, path_from_db, path_to_db, readable_name, shown_path

NONE_OF_THESE = "(none of these)"
SOURCES = ("imported", "user", "accepted")
# Distinct colours for class badges (Tableau 10), then repeated with other shades by the GUI if needed.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


@dataclass(frozen=True)
class Label:
    label: str
    source: str
    time: str


@dataclass(frozen=True)
class ClassInfo:
    name: str
    colour: str
    position: int
    labelled: int


@dataclass(frozen=True)
class LabelChange:
    path: Path
    before: str | None
    after: str | None
    """A class name, NONE_OF_THESE, or None for no label."""
    photo_id: int = 0


STEP_DETAIL = 1_000
"""A history step lists its changes photo by photo up to this many photos; a larger one (select all, then a
key) is told by its counts, and its photos are asked for by id when needed."""


@dataclass(frozen=True)
class HistoryStep:
    """One user action in the label history (one key press, however many photos) and what it changed."""
    action: int
    changes: tuple[LabelChange, ...]
    """Photo by photo, for a step of up to STEP_DETAIL photos; empty for a larger one."""
    count: int = -1
    """How many photos it changed (the length of `changes` when that lists them all)."""
    labelled: tuple[tuple[str, int], ...] = ()
    """(class, photos) that the step labelled, most first; from `changes` when that lists them all."""
    folder: Path | None = None
    """The deepest folder holding all its photos, when known (a large step's)."""

    def __post_init__(self) -> None:
        if self.count < 0:
            object.__setattr__(self, "count", len(self.changes))
        if not self.labelled and self.changes:
            counts = Counter(change.after for change in self.changes if change.after is not None)
            object.__setattr__(self, "labelled", tuple(counts.most_common()))

    @property
    def paths(self) -> list[Path]:
        return [change.path for change in self.changes]

    @property
    def detailed(self) -> bool:
        """Whether `changes` lists every photo."""
        return len(self.changes) == self.count

    def describe(self) -> str:
        """What the action did, e.g. "2 photos labelled bees" or "3 photos labelled (2 bees, 1 wasps)"."""
        labelled = sum(count for _, count in self.labelled)
        cleared = self.count - labelled
        parts = []
        if len(self.labelled) == 1:
            [(name, count)] = self.labelled
            parts.append(f"{photo_count(count)} labelled {name}")
        elif self.labelled:
            parts.append(f"{photo_count(labelled)} labelled ("
                         + ", ".join(f"{count} {name}" for name, count in self.labelled) + ")")
        if cleared:
            parts.append(f"{photo_count(cleared)} unlabelled")
        return "; ".join(parts)


@dataclass(frozen=True)
class AcceptOutcome:
    """What accepting predictions did: how many photos took their prediction, and how many were left alone."""
    accepted: int
    already_labelled: int
    without_prediction: int
    action: int | None
    """The history action (None when no label changed)."""

    def __bool__(self) -> bool:
        """True when a label changed (as the session's label methods answer)."""
        return self.action is not None

    def describe(self) -> str:
        """E.g. "2 accepted, 1 already labelled"."""
        parts = [f"{self.accepted} accepted"]
        if self.already_labelled:
            parts.append(f"{self.already_labelled} already labelled")
        if self.without_prediction:
            parts.append(f"{self.without_prediction} without a prediction")
        return ", ".join(parts)


def photo_count(count: int) -> str:
    return f"{count} photo" if count == 1 else f"{count} photos"


class LabelRecords:
    # --- labels -------------------------------------------------------------------------------------------
    def set_labels(self, paths: Iterable[Path | str], label: str | None, source: str = "user",
                   undoable: bool = True) -> int | None:
        """Label photos (None removes the label) as one undoable action; returns its id, None if nothing changed.

        The change and its history row are committed together before this returns. With `undoable=False` (a
        labelled dataset brought in) the change is in the history but not on the undo stack, and leaves the
        user's redo alone.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        with self._transaction() as db:
            class_id = self._class_id(db, label)
            ids = [self._photo_id(db, path) for path in paths]
            return self._record(db, ids, class_id, None if label is None else source, undoable)

    def set_labels_of_ids(self, photo_ids: Iterable[int], label: str | None, source: str = "user") -> int | None:
        """`set_labels` for photos named by catalog id (what the grid holds): a few SQL statements whatever their
        number, so 100,000 photos are one action in well under a second. Ids no longer in the catalog are left
        out."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        with self._transaction() as db:
            class_id = self._class_id(db, label)
            return self._record(db, photo_ids, class_id, None if label is None else source, undoable=True)

    def accept_predictions(self, paths: Iterable[Path | str]) -> AcceptOutcome:
        """Each photo's predicted class becomes its label (source 'accepted'), all as one undoable action.

        A photo the user labelled, or one imported with its label, keeps it: accepting never overwrites the
        user's work (the next retrain would learn the prediction instead). A label accepted earlier follows the
        newer prediction.
        """
        with self._transaction() as db:
            return self._accept(db, [self._photo_id(db, path) for path in paths])

    def accept_predictions_of_ids(self, photo_ids: Iterable[int]) -> AcceptOutcome:
        with self._transaction() as db:
            return self._accept(db, photo_ids)

    def _accept(self, db, photo_ids: Iterable[int]) -> AcceptOutcome:
        self._choose(db, photo_ids)
        kept = ("l.photo_id IS NOT NULL AND (l.source IN ('user', 'imported') "
                "OR pr.photo_id IS NOT NULL AND l.class_id IS pr.class_id)")
        already, unpredicted = db.execute(f"""
            SELECT COALESCE(SUM(CASE WHEN {kept} THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN NOT ({kept}) AND pr.class_id IS NULL THEN 1 ELSE 0 END), 0)
            FROM temp.chosen c LEFT JOIN labels l ON l.photo_id = c.photo_id
            LEFT JOIN predictions pr ON pr.photo_id = c.photo_id""").fetchone()
        db.execute(f"""
            DELETE FROM temp.chosen WHERE photo_id IN (
                SELECT c.photo_id FROM temp.chosen c LEFT JOIN labels l ON l.photo_id = c.photo_id
                LEFT JOIN predictions pr ON pr.photo_id = c.photo_id WHERE {kept} OR pr.class_id IS NULL)""")
        db.execute("UPDATE temp.chosen SET class_id = (SELECT class_id FROM predictions WHERE photo_id = chosen.photo_id), "
                   "source = 'accepted'")
        action = self._record_chosen(db, undoable=True)
        accepted = db.execute("SELECT COUNT(*) FROM corrections WHERE action = ?", (action,)).fetchone()[0] if action else 0
        return AcceptOutcome(accepted, already, unpredicted, action)

    @staticmethod
    def _choose(db, photo_ids: Iterable[int], class_id: int | None = None, source: str | None = None) -> None:
        """The photos an action is about, in a temporary table (photo id, the class and source they get); ids not
        in the catalog are left out, a repeated id counts once."""
        db.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (photo_id INTEGER PRIMARY KEY, position INTEGER, "
                   "class_id INTEGER, source TEXT)")
        db.execute("DELETE FROM temp.chosen")
        db.execute("INSERT OR IGNORE INTO temp.chosen (photo_id, position, class_id, source) "
                   "SELECT p.id, j.key, ?, ? FROM json_each(?) j JOIN photos p ON p.id = j.value ORDER BY j.key",
                   (class_id, source, json.dumps([int(i) for i in photo_ids])))

    def _record(self, db, photo_ids: Iterable[int], class_id: int | None, source: str | None,
                undoable: bool) -> int | None:
        """Give the photos (class id, source) labels as one action, with their history; None if nothing changed.
        A None source removes the label; a None class with a source is "none of these"."""
        self._choose(db, photo_ids, class_id, source)
        return self._record_chosen(db, undoable)

    def _record_chosen(self, db, undoable: bool) -> int | None:
        action = db.execute("SELECT COALESCE(MAX(action) + 1, 1) FROM corrections").fetchone()[0]
        now = self._now()
        changed = db.execute("""
            INSERT INTO corrections (action, photo_id, old_class_id, old_source, new_class_id, new_source, time, state)
            SELECT ?, c.photo_id, l.class_id, l.source, c.class_id, c.source, ?, ?
            FROM temp.chosen c LEFT JOIN labels l ON l.photo_id = c.photo_id
            WHERE l.photo_id IS NULL AND c.source IS NOT NULL
               OR l.photo_id IS NOT NULL AND (l.class_id IS NOT c.class_id OR l.source IS NOT c.source)
            ORDER BY c.position""", (action, now, "done" if undoable else "discarded")).rowcount
        if not changed:
            return None
        self._write_labels(db, action, "new", now)
        self._summarise(db, action, changed)
        if undoable:
            db.execute("UPDATE corrections SET state = 'discarded' WHERE state = 'undone'")
        return action

    def label_of(self, path: Path | str) -> Label | None:
        row = self._db.execute(
            "SELECT c.name, l.source, l.time FROM labels l JOIN photos p ON p.id = l.photo_id "
            "LEFT JOIN classes c ON c.id = l.class_id WHERE p.path = ?",
            (path_to_db(absolute_path(path)),)).fetchone()
        if row is None:
            return None
        return Label(row["name"] if row["name"] is not None else NONE_OF_THESE, row["source"], row["time"])

    def labelled_photos(self, include_missing: bool = False) -> list[tuple[Path, str, str, str]]:
        """(path, label, source, fingerprint) of every labelled photo, by path."""
        rows = self._db.execute(
            "SELECT p.path, c.name, l.source, p.fingerprint FROM labels l JOIN photos p ON p.id = l.photo_id "
            "LEFT JOIN classes c ON c.id = l.class_id " + ("" if include_missing else "WHERE p.missing = 0 ")
            + "ORDER BY p.path").fetchall()
        return [(path_from_db(r[0]), r[1] if r[1] is not None else NONE_OF_THESE, r[2], r[3]) for r in rows]

    def label_counts_by_side(self, cut: str | None) -> list[tuple[str, bool, int]]:
        """(class, held out, photos) for the labelled photos on disk, "none of these" left out; a photo is held out
        when the first 8 hex digits of its fingerprint sort before `cut` (None: every photo is)."""
        rows = self._db.execute(
            "SELECT c.name, (? IS NULL OR substr(p.fingerprint, 1, 8) < ?) AS held, COUNT(*) FROM labels l "
            "JOIN photos p ON p.id = l.photo_id JOIN classes c ON c.id = l.class_id WHERE p.missing = 0 "
            "GROUP BY c.id, held", (cut, cut))
        return [(r[0], bool(r[1]), r[2]) for r in rows]

    def label_counts(self) -> dict[tuple[str, str], int]:
        """Photos per (label, source)."""
        rows = self._db.execute(
            "SELECT COALESCE(c.name, ?) AS label, l.source, COUNT(*) FROM labels l "
            "LEFT JOIN classes c ON c.id = l.class_id GROUP BY label, l.source", (NONE_OF_THESE,)).fetchall()
        return {(r[0], r[1]): r[2] for r in rows}

    # --- undo / redo --------------------------------------------------------------------------------------
    def can_undo(self) -> bool:
        return self._db.execute("SELECT 1 FROM corrections WHERE state = 'done' LIMIT 1").fetchone() is not None

    def can_redo(self) -> bool:
        return self._db.execute("SELECT 1 FROM corrections WHERE state = 'undone' LIMIT 1").fetchone() is not None

    def next_undo(self) -> HistoryStep | None:
        """The action an undo would reverse, and what it changed (nothing is changed here)."""
        return self._step(self._db.execute("SELECT MAX(action) FROM corrections WHERE state = 'done'").fetchone()[0])

    def next_redo(self) -> HistoryStep | None:
        return self._step(self._db.execute("SELECT MIN(action) FROM corrections WHERE state = 'undone'").fetchone()[0])

    def undo(self, action: int | None = None) -> list[Path]:
        """Reverse the latest action (only if it is `action`, when given); returns the photos it touched (empty
        when there is nothing to undo)."""
        return self._paths_of(self.undo_ids(action))

    def redo(self, action: int | None = None) -> list[Path]:
        return self._paths_of(self.redo_ids(action))

    def undo_ids(self, action: int | None = None) -> list[int]:
        """`undo`, answering the ids of the photos it touched: one statement per table, whatever their number."""
        with self._transaction() as db:
            row = db.execute("SELECT MAX(action) FROM corrections WHERE state = 'done'").fetchone()
            if row[0] is None or action not in (None, row[0]):
                return []
            return self._replay(db, row[0], backwards=True)

    def redo_ids(self, action: int | None = None) -> list[int]:
        with self._transaction() as db:
            row = db.execute("SELECT MIN(action) FROM corrections WHERE state = 'undone'").fetchone()
            if row[0] is None or action not in (None, row[0]):
                return []
            return self._replay(db, row[0], backwards=False)

    def _paths_of(self, photo_ids: list[int]) -> list[Path]:
        if not photo_ids:
            return []
        rows = self._db.execute("SELECT id, path FROM photos WHERE id IN (SELECT value FROM json_each(?))",
                                (json.dumps(photo_ids),)).fetchall()
        paths = {r["id"]: path_from_db(r["path"]) for r in rows}
        return [paths[i] for i in photo_ids if i in paths]

    def _step(self, action: int | None) -> HistoryStep | None:
        if action is None:
            return None
        summary = self._db.execute("SELECT photos, labelled, folder FROM actions WHERE action = ?", (action,)).fetchone()
        count = summary["photos"] if summary is not None else self._db.execute(
            "SELECT COUNT(*) FROM corrections WHERE action = ?", (action,)).fetchone()[0]
        if count > STEP_DETAIL:
            names = {r["id"]: r["name"] for r in self._db.execute("SELECT id, name FROM classes")}
            if summary is not None:
                labelled = [(names.get(class_id, NONE_OF_THESE), n) for class_id, n in json.loads(summary["labelled"])]
                folder = path_from_db(summary["folder"]) if summary["folder"] is not None else None
            else:
                labelled = [(names.get(class_id, NONE_OF_THESE), n) for class_id, n in self._labelled(self._db, action)]
                folder = None
            return HistoryStep(action, (), count, tuple(labelled), folder)
        rows = self._db.execute(
            "SELECT p.id, p.path, c.old_source, c.new_source, o.name AS old_name, n.name AS new_name FROM corrections c "
            "JOIN photos p ON p.id = c.photo_id LEFT JOIN classes o ON o.id = c.old_class_id "
            "LEFT JOIN classes n ON n.id = c.new_class_id WHERE c.action = ? ORDER BY c.id", (action,)).fetchall()

        def shown(name: str | None, source: str | None) -> str | None:
            return None if source is None else name if name is not None else NONE_OF_THESE

        return HistoryStep(action, tuple(LabelChange(path_from_db(r["path"]), shown(r["old_name"], r["old_source"]),
                                                     shown(r["new_name"], r["new_source"]), r["id"]) for r in rows))

    def step_photo_ids(self, action: int) -> list[int]:
        """The photos a history action changed, by id, in the order it changed them."""
        return [r[0] for r in self._db.execute("SELECT photo_id FROM corrections WHERE action = ? ORDER BY id",
                                               (action,))]

    def _replay(self, db, action: int, backwards: bool) -> list[int]:
        self._write_labels(db, action, "old" if backwards else "new", self._now())
        db.execute("UPDATE corrections SET state = ? WHERE action = ?", ("undone" if backwards else "done", action))
        photo_ids = self.step_photo_ids(action)
        return photo_ids[::-1] if backwards else photo_ids

    # --- helpers ------------------------------------------------------------------------------------------
    def _photo_id(self, db, path: Path | str) -> int:
        photo = db.execute("SELECT id FROM photos WHERE path = ?", (path_to_db(absolute_path(path)),)).fetchone()
        if photo is None:
            raise self._error(f"{path} is not in the catalog")
        return photo["id"]

    @staticmethod
    def _summarise(db, action: int, photos: int) -> None:
        """The action's summary (see schema version 5): its photos, [class id (None: none of these), photos] most
        first, and the deepest folder that holds them all (None when their paths are stored in both forms)."""
        labelled = LabelRecords._labelled(db, action)
        first, last = db.execute("SELECT MIN(p.path), MAX(p.path) FROM corrections c JOIN photos p ON p.id = c.photo_id "
                                 "WHERE c.action = ?", (action,)).fetchone()
        folder = None
        if first is not None and type(first) is type(last):
            folder = os.path.commonpath([os.path.dirname(first), os.path.dirname(last)])
        db.execute("INSERT OR REPLACE INTO actions (action, photos, labelled, folder) VALUES (?, ?, ?, ?)",
                   (action, photos, json.dumps(labelled), folder))

    @staticmethod
    def _labelled(db, action: int) -> list[tuple[int | None, int]]:
        """(class id, photos) that history `action` labelled, most first (None: "none of these")."""
        return [(r[0], r[1]) for r in db.execute(
            "SELECT new_class_id, COUNT(*) AS n FROM corrections WHERE action = ? AND new_source IS NOT NULL "
            "GROUP BY new_class_id ORDER BY n DESC, MIN(id)", (action,))]

    @staticmethod
    def _write_labels(db, action: int, side: str, now: str) -> None:
        """Set each photo of history `action` to its label on `side` ("old": before it, "new": after it)."""
        db.execute(f"DELETE FROM labels WHERE photo_id IN (SELECT photo_id FROM corrections WHERE action = ? "
                   f"AND {side}_source IS NULL)", (action,))
        db.execute(f"INSERT INTO labels (photo_id, class_id, source, time) SELECT photo_id, {side}_class_id, "
                   f"{side}_source, ? FROM corrections WHERE action = ? AND {side}_source IS NOT NULL "
                   "ON CONFLICT (photo_id) DO UPDATE SET class_id = excluded.class_id, source = excluded.source, "
                   "time = excluded.time", (now, action))

    def _class_id(self, db, label: str | None) -> int | None:
        if label is None or label == NONE_OF_THESE:
            return None
        label = readable_name(label)
        row = db.execute("SELECT id FROM classes WHERE name = ?", (label,)).fetchone()
        if row is None:
            names = [r[0] for r in db.execute("SELECT name FROM classes ORDER BY position, id")]
            shown = ", ".join(f"'{shown_path(n)}'" for n in names[:10]) + (f" and {len(names) - 10} more"
                                                                             if len(names) > 10 else "")
            known = f"the classes are {shown}" if names else "there are no classes yet"
            raise self._error(f"no class named '{label}' ({known}); add it in the app's Classes panel, or import a "
                              "folder with a sub-folder of that name (lakeview catalog import)")
        return row["id"]

    @staticmethod
    def _error(message: str) -> Exception:
        return CatalogError(message)
