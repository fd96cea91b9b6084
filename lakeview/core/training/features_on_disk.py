"""Body features kept on disk, so that retraining a head after a correction needs no pass through the body: the
store, and the features of a body for given photos, from the store or computed once and stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.models.model_file import SavedModel
from lakeview.core.training.features import extract_features


class FeatureStore:
    """Pooled body features per (body, image size, photo fingerprint), in their own SQLite file.

    They are a cache: losing the file costs one pass through the body, never a label.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS features (body_id TEXT NOT NULL, size INTEGER NOT NULL, "
            "fingerprint TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (body_id, size, fingerprint))")

    def get_many(self, body_id: str, size: int, fingerprints: Iterable[str]) -> dict[str, torch.Tensor]:
        wanted = list(dict.fromkeys(fingerprints))
        found: dict[str, torch.Tensor] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for fingerprint, blob in self._db.execute(
                    f"SELECT fingerprint, vector FROM features WHERE body_id = ? AND size = ? AND fingerprint IN ({marks})",
                    (body_id, size, *chunk)):
                found[fingerprint] = torch.from_numpy(np.frombuffer(blob, dtype=np.float32).copy())
        return found

    def put_many(self, body_id: str, size: int, items: Iterable[tuple[str, torch.Tensor]]) -> None:
        rows = [(body_id, size, fp, v.detach().to(torch.float32).cpu().numpy().tobytes()) for fp, v in items]
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def count(self, body_id: str | None = None) -> int:
        if body_id is None:
            return self._db.execute("SELECT COUNT(*) FROM features").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM features WHERE body_id = ?", (body_id,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "FeatureStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def features_for(store: FeatureStore, body_id: str, model: SavedModel, paths: list[Path], fingerprints: list[str],
                 should_stop: ShouldStopFn = never_stop, progress: ProgressFn = no_progress,
                 on_unreadable: Callable[[Path, str], None] | None = None) -> list[torch.Tensor | None]:
    """Features of `model`'s body (`body_id`) for each path (None for unreadable photos, each told to
    `on_unreadable` with why): from the store where it has them, else computed and stored. `progress` counts the
    photos whose features are known, the stored ones first."""
    size = model.meta.size
    known = store.get_many(body_id, size, fingerprints)
    missing = [(p, fp) for p, fp in zip(paths, fingerprints) if fp not in known]
    stored = len(paths) - len(missing)
    progress(stored, len(paths))
    if missing:
        fresh = []
        computed = extract_features(model, [p for p, _ in missing], should_stop=should_stop,
                                    progress=lambda done, _: progress(stored + done, len(paths)))
        # `computed` first in zip: the generator then runs to its end, and reports its last count.
        for (path, vector, reason), (_, fp) in zip(computed, missing):
            if vector is not None:
                known[fp] = vector
                fresh.append((fp, vector))
            elif on_unreadable is not None:
                on_unreadable(path, reason or "unreadable")
        store.put_many(body_id, size, fresh)
    return [known.get(fp) for fp in fingerprints]
