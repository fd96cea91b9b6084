"""Classifying a library: a model version's predictions for the catalog's photos, stored a batch at a time.

The app's Classify and `lakeview catalog classify` both run `classify_library`. Torch is imported when it runs,
so the catalog package stays importable without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from lakeview.core.catalog.store import Catalog
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.photos.files import not_a_file_reason

PREDICTION_BATCH = 32
"""Photos per batch through the network and per stored batch: how often predictions reach the catalog (and the
grid), and how soon a stop is seen."""

TopK = list[tuple[str, float]]
BatchFn = Callable[[list[tuple[Path, TopK]]], None]


class NoModel(Exception):
    """The library has no active model version (and none was named)."""


@dataclass
class LibraryClassification:
    model_version: str
    classified: int = 0
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    """Photos on disk that could not be decoded, with why."""
    missing: list[tuple[Path, str]] = field(default_factory=list)
    """Photos of the catalog that are not a readable file on disk (moved, deleted, a folder now), with why."""
    stopped: bool = False
    """Stopped before every photo was done: the batches stored before the stop stay."""


def classify_library(catalog: Catalog, *, folder: Path | str | None = None, paths: Sequence[Path] | None = None,
                     version: str | None = None, device: str | None = None, progress: ProgressFn = no_progress,
                     should_stop: ShouldStopFn = never_stop, on_batch: BatchFn | None = None,
                     batch_size: int = PREDICTION_BATCH) -> LibraryClassification:
    """Predict `paths` (default: the catalog's photos under `folder`, or all of them) with model `version`
    (default: the active one) and store the predictions, committed `batch_size` photos at a time; `on_batch`
    receives each stored batch as [(path, top-k)]. Raises NoModel when there is no model to use."""
    from lakeview.core.models.inference import Prediction, classify_files
    from lakeview.core.models.versions import load_version

    chosen = catalog.model(version) if version is not None else catalog.active_model()
    if chosen is None:
        raise NoModel("the library has no model yet")
    model = load_version(chosen)
    summary = LibraryClassification(chosen.id)
    candidates = list(paths) if paths is not None else [row.path for row in catalog.query(folder=folder)]
    targets = []
    for path in candidates:
        reason = not_a_file_reason(path)
        if reason is None:
            targets.append(path)
        else:
            summary.missing.append((path, reason))
    batch: list[tuple[Path, TopK]] = []

    def store() -> None:
        summary.classified += catalog.store_predictions(chosen.id, batch)
        if on_batch is not None:
            on_batch(list(batch))
        batch.clear()

    answered = 0
    for result in classify_files(model, targets, batch_size=batch_size, device=device, total=len(targets),
                                 progress=progress, should_stop=should_stop):
        answered += 1
        if isinstance(result, Prediction):
            batch.append((result.path, result.top))
        else:
            summary.unreadable.append((result.path, result.reason))
        if len(batch) >= batch_size:
            store()
    if batch:
        store()
    summary.stopped = answered < len(targets)
    return summary
