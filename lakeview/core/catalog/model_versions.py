"""Model versions (which one is active), training runs, and the predictions each version made."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from lakeview.core.catalog.errors import CatalogError
from lakeview.core.photos.file_names import absolute_path, path_to_db

PREDICTIONS_PER_TRANSACTION = 500


@dataclass(frozen=True)
class ModelVersion:
    id: str
    file: Path
    arch: str
    classes: list[str]
    parent: str | None
    metrics: dict[str, Any]
    created: str
    notes: str
    kind: str
    active: bool


class ModelRecords:
    # --- model versions -----------------------------------------------------------------------------------
    def add_model(self, version_id: str, file: Path | str, arch: str, classes: list[str], parent: str | None,
                  metrics: dict[str, Any], created: str, kind: str, notes: str = "", active: bool = False) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO models (id, file, arch, classes, parent, metrics, created, notes, kind, active) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (version_id, str(file), arch, json.dumps(classes), parent, json.dumps(metrics), created, notes, kind))
            if active:
                self._activate(db, version_id)

    def models(self) -> list[ModelVersion]:
        return [self._model(r) for r in self._db.execute("SELECT * FROM models ORDER BY created, rowid")]

    def model(self, version_id: str) -> ModelVersion:
        row = self._db.execute("SELECT * FROM models WHERE id = ?", (version_id,)).fetchone()
        if row is None:
            raise CatalogError(f"no model version {version_id}")
        return self._model(row)

    def active_model(self) -> ModelVersion | None:
        row = self._db.execute("SELECT * FROM models WHERE active = 1").fetchone()
        return self._model(row) if row else None

    def set_active(self, version_id: str) -> None:
        with self._transaction() as db:
            self._activate(db, version_id)

    def _activate(self, db, version_id: str) -> None:
        if db.execute("SELECT 1 FROM models WHERE id = ?", (version_id,)).fetchone() is None:
            raise CatalogError(f"no model version {version_id}")
        db.execute("UPDATE models SET active = (id = ?)", (version_id,))

    @staticmethod
    def _model(row) -> ModelVersion:
        return ModelVersion(row["id"], Path(row["file"]), row["arch"], json.loads(row["classes"]), row["parent"],
                            json.loads(row["metrics"]), row["created"], row["notes"], row["kind"], bool(row["active"]))

    # --- training runs ------------------------------------------------------------------------------------
    def start_training_run(self, kind: str, settings: dict[str, Any]) -> int:
        with self._transaction() as db:
            return db.execute(
                "INSERT INTO training_runs (kind, settings, epochs, started, outcome) VALUES (?, ?, '[]', ?, 'running')",
                (kind, json.dumps(settings), self._now())).lastrowid

    def finish_training_run(self, run_id: int, outcome: str, epochs: list[dict[str, Any]],
                            model_id: str | None = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE training_runs SET outcome = ?, epochs = ?, model_id = ?, finished = ? WHERE id = ?",
                       (outcome, json.dumps(epochs), model_id, self._now(), run_id))

    def training_runs(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM training_runs ORDER BY id").fetchall()
        return [dict(r, settings=json.loads(r["settings"]), epochs=json.loads(r["epochs"])) for r in rows]

    # --- predictions --------------------------------------------------------------------------------------
    def store_predictions(self, model_id: str, results: Iterable[tuple[Path | str, list[tuple[str, float]]]]) -> int:
        """Replace the predictions of the given photos with `model_id`'s (top-k, best first), each recorded as made
        on the photo's fingerprint as the catalog knows it; photos not in the catalog are left out. Committed
        PREDICTIONS_PER_TRANSACTION photos at a time, so that another writer (a label key press) waits for one
        chunk at most. Returns the photos whose prediction was stored."""
        rows = [(path_to_db(absolute_path(path)), top) for path, top in results if top]
        stored = 0
        for start in range(0, len(rows), PREDICTIONS_PER_TRANSACTION):
            stored += self._store_prediction_chunk(model_id, rows[start:start + PREDICTIONS_PER_TRANSACTION])
        return stored

    def _store_prediction_chunk(self, model_id: str, rows: list[tuple[Any, list[tuple[str, float]]]]) -> int:
        now = self._now()
        with self._transaction() as db:
            class_ids = {r["name"]: r["id"] for r in db.execute("SELECT id, name FROM classes")}
            photos = {r["path"]: (r["id"], r["fingerprint"]) for r in db.execute(
                f"SELECT id, path, fingerprint FROM photos WHERE path IN ({', '.join('?' * len(rows))})",
                [key for key, _ in rows])}
            values = [(*photos[key], model_id, class_ids.get(top[0][0]), float(top[0][1]), json.dumps(top), now)
                      for key, top in rows if key in photos]
            db.executemany(
                "INSERT INTO predictions (photo_id, fingerprint, model_id, class_id, confidence, top, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (photo_id) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, model_id = excluded.model_id, class_id = excluded.class_id, "
                "confidence = excluded.confidence, top = excluded.top, time = excluded.time", values)
        return len(values)

    def prediction_of(self, path: Path | str) -> tuple[str, list[tuple[str, float]]] | None:
        """(model version, top-k) for a photo, or None."""
        row = self._db.execute("SELECT pr.model_id, pr.top FROM predictions pr JOIN photos p ON p.id = pr.photo_id "
                               "WHERE p.path = ?", (path_to_db(absolute_path(path)),)).fetchone()
        if row is None:
            return None
        return row["model_id"], [(label, prob) for label, prob in json.loads(row["top"])]
