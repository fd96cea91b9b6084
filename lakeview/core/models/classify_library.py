"""Classifying a library: a model version's predictions for the catalog's photos, stored a batch at a time.

The app's Classify and `lakeview catalog classify` both run `classify_library`. A photo that already has a
prediction from the model version used, made on its content as it is now (by fingerprint), is left alone unless
everything is asked for: a classification killed half-way resumes where it stopped. Torch is imported when it
runs, so the catalog package stays importable without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from lakeview.core.catalog.classification_plan import ClassificationPlan
from lakeview.core.catalog.model_versions import ModelVersion
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
    plan: ClassificationPlan | None = None
    """What was asked and what of it had to be done (the rest had this model's prediction already)."""


def chosen_version(catalog: Catalog, version: str | None = None) -> ModelVersion:
    """Model `version`, default the active one. Raises NoModel when there is none."""
    chosen = catalog.model(version) if version is not None else catalog.active_model()
    if chosen is None:
        raise NoModel("the library has no model yet")
    return chosen


def plan_library(catalog: Catalog, *, folder: Path | str | None = None, paths: Sequence[Path] | None = None,
                 filters: dict | None = None, version: str | None = None,
                 everything: bool = False) -> ClassificationPlan:
    """The photos that classifying `paths` (default: the catalog's photos under `folder` as the grid `filters`
    pick them, or all of them) with `version` (default: the active one) has to do: with `everything`, all of
    them; else those that have no prediction from that version made on their current content. Paths the catalog
    does not know are left out. Raises NoModel when there is no model to use."""
    chosen = chosen_version(catalog, version)
    where = dict(filters or {})
    if paths is not None:
        where["paths"] = list(paths)
    else:
        where["folder"] = folder
    return catalog.classification_plan(chosen.id, everything=everything, **where)


def classify_library(catalog: Catalog, *, folder: Path | str | None = None, paths: Sequence[Path] | None = None,
                     filters: dict | None = None, version: str | None = None, everything: bool = False,
                     plan: ClassificationPlan | None = None, device: str | None = None,
                     progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
                     on_batch: BatchFn | None = None, batch_size: int = PREDICTION_BATCH) -> LibraryClassification:
    """Predict the photos of `plan` (default: `plan_library` of the same arguments: the photos asked for that
    model `version` has not classified as they are now, or all of them with `everything`) and store the
    predictions, committed `batch_size` photos at a time, so that a run killed half-way leaves its batches and
    the next one does only the rest; `on_batch` receives each stored batch as [(path, top-k)].
    Raises NoModel when there is no model to use."""
    from lakeview.core.models.inference import Prediction, classify_files
    from lakeview.core.models.versions import load_version

    if plan is None:
        plan = plan_library(catalog, folder=folder, paths=paths, filters=filters, version=version,
                            everything=everything)
    chosen = catalog.model(plan.model_id)
    summary = LibraryClassification(chosen.id, plan=plan)
    if not plan.paths:
        return summary
    model = load_version(chosen)
    targets = []
    for path in plan.paths:
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
