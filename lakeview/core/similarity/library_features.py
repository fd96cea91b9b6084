"""The body features of a library's photos, as one matrix: from the library's feature store, the missing ones
computed once (one pass through the body, with progress and stop) and stored for every later grouping, search,
retrain and re-scoring."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lakeview.core.catalog import Catalog
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.models.architectures import DEFAULT_ARCH
from lakeview.core.similarity.feature_body import IMAGENET, FeatureBody, feature_body

FEATURE_STORE = "features.sqlite"
"""The feature store's file in the library's folder (beside the catalog), as retraining names it."""


@dataclass
class LibraryFeatures:
    photo_ids: np.ndarray
    """Catalog ids of the photos that have features, ascending (int64)."""
    vectors: np.ndarray
    """One row of pooled body features per id (float32, as the body gave them)."""
    body_id: str
    described: str
    """Which body made them, in words: "the active model (3f2a1c9b0e12)", "ImageNet resnet34"."""
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    """(path, why) for each photo left out: not on disk, or unreadable."""
    computed: int = 0
    """How many photos went through the body this time (the rest came from the store)."""

    def __len__(self) -> int:
        return len(self.photo_ids)


def library_features(catalog: Catalog, photo_ids: Sequence[int] | None = None, arch: str = DEFAULT_ARCH,
                     weights: str | Path = IMAGENET, body: FeatureBody | None = None,
                     progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop) -> LibraryFeatures:
    """Features of every catalogued photo (or of `photo_ids`) from `body`, by default the active model's body, else
    `arch` with `weights` (see feature_body). A photo missing on disk keeps its stored features if the store has
    them. `progress` counts photos with known features, the stored ones first. Raises Stopped when `should_stop`
    says so (the features computed by then are stored)."""
    from lakeview.core.training.features_on_disk import FeatureStore, features_for

    body = body or feature_body(catalog, arch, weights)
    sources = catalog.photo_sources(photo_ids)
    skipped: list[tuple[Path, str]] = []
    stored_at_start: list[int] = []

    def counted(done: int, total: int) -> None:
        if not stored_at_start:
            stored_at_start.append(done)
        progress(done, total)

    store = FeatureStore(catalog.folder / FEATURE_STORE)
    try:
        known = store.get_many(body.body_id, body.model.meta.size, [s.fingerprint for s in sources if s.missing])
        for source in sources:
            if source.missing and source.fingerprint not in known:
                skipped.append((source.path, "not on disk"))
        wanted = [s for s in sources if not s.missing or s.fingerprint in known]
        vectors = features_for(store, body.body_id, body.model, [s.path for s in wanted],
                               [s.fingerprint for s in wanted], should_stop, counted,
                               on_unreadable=lambda path, why: skipped.append((path, why)))
    finally:
        store.close()
    if should_stop():
        raise Stopped()
    kept = [(s.id, v) for s, v in zip(wanted, vectors) if v is not None]
    ids = np.array([i for i, _ in kept], dtype=np.int64)
    matrix = (np.stack([v.numpy() for _, v in kept]).astype(np.float32, copy=False) if kept
              else np.zeros((0, 0), dtype=np.float32))
    computed = len(wanted) - (stored_at_start[0] if stored_at_start else len(wanted))
    return LibraryFeatures(ids, matrix, body.body_id, body.described, skipped, computed)
