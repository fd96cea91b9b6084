"""Training from the app on a library's labels or a labelled folder, ending in a new active model version.

A labelled folder is brought into the library first. The result comes with how it does on the validation photos.
Runs in a worker; tells its caller what happens through `events` (DataReady, a weights download's progress, each
phases.EpochReport)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lakeview.core.catalog import Catalog
from lakeview.core.datasets.dataset import DatasetError, LabelledPhotos
from lakeview.core.datasets.importers import from_folder
from lakeview.core.training.evaluation import Interpretation, classify_labelled, interpretation_of
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.training.learner import Learner
from lakeview.core.training.library_dataset import import_labelled, library_dataset
from lakeview.core.models.versions import load_version, save_version
from lakeview.core.training.lr_finder import LRFinderResult, lr_find
from lakeview.core.training.phases import make_learner, train
from lakeview.core.training.plan import LabelledFolder, TrainingPlan
from lakeview.core.models.weights import WeightsUnavailable

Events = Callable[[object], None]


Source = LabelledFolder | None
"""None: the photos labelled in this library."""


@dataclass(frozen=True)
class DataReady:
    classes: list[str]
    counts: dict[str, dict[str, int]]
    """Photos per class for each split."""
    skipped: list[tuple[str, str]]
    groups_kept: str = ""
    """"48 near-duplicate groups (212 photos) kept on one side of the split", or "" when the split was not grouped."""


@dataclass(frozen=True)
class WeightsProgress:
    done: int
    total: int


@dataclass(frozen=True)
class NeedsWeights:
    """The pretrained weights could not be had (offline, a bad file): the user picks a file or starts from scratch."""
    message: str


@dataclass
class TrainedVersion:
    version_id: str
    error_rate: float | None
    interpretation: Interpretation | None
    epochs: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    unreadable: dict[str, str] = field(default_factory=dict)


def load_training_data(catalog_path: Path, source: Source, progress: ProgressFn = no_progress,
                       should_stop: ShouldStopFn = never_stop, split_by_similarity: bool = True) -> LabelledPhotos:
    """The labelled photos to train on. A labelled folder's photos and labels join the library (the user's own
    labels win), so its photos can be shown, filtered and corrected like any other. With `split_by_similarity`,
    near-duplicate groups are kept on one side of the split (`data.groups_kept` says how many)."""
    if source is None:
        with Catalog(catalog_path) as catalog:
            data, _ = library_dataset(catalog, split_by_similarity=split_by_similarity, progress=progress,
                                      should_stop=should_stop)
        if len(data.classes) < 2:
            raise DatasetError("label photos of at least two classes first (keys 1-9 in the grid), "
                               "or train on a labelled folder")
        return data
    data = from_folder(source.folder, valid_pct=source.valid_pct, seed=source.seed,
                       progress=progress, should_stop=should_stop, split_by_similarity=split_by_similarity)
    with Catalog(catalog_path) as catalog:
        import_labelled(catalog, data, should_stop=should_stop)
    return data


def _prepare(catalog_path: Path, source: Source, plan: TrainingPlan, progress: ProgressFn, should_stop: ShouldStopFn,
             events: Events) -> Learner | NeedsWeights | None:
    """The learner, or what stands in its way: the weights (NeedsWeights), or a stop (None)."""
    try:
        data = load_training_data(catalog_path, source, progress, should_stop, plan.split_by_similarity)
        events(DataReady(list(data.classes), data.counts(), [(s.where, s.reason) for s in data.skipped],
                         "" if data.groups_kept is None else str(data.groups_kept)))
        return make_learner(data, plan, lambda done, total: events(WeightsProgress(done, total)), should_stop)
    except WeightsUnavailable as exc:
        return NeedsWeights(exc.reason)  # the app gives its own advice, not the command line's
    except Stopped:
        return None


def train_in_library(catalog_path: Path, source: Source, plan: TrainingPlan, progress: ProgressFn = no_progress,
                     should_stop: ShouldStopFn = never_stop, events: Events = lambda event: None
                     ) -> TrainedVersion | NeedsWeights | None:
    """Train by `plan`; the result becomes the library's active model. None when stopped (nothing is saved)."""
    plan.check()
    started = time.perf_counter()
    learner = _prepare(catalog_path, source, plan, progress, should_stop, events)
    if not isinstance(learner, Learner):
        return learner
    if train(learner, plan, progress, should_stop, on_epoch=events, on_phase_end=events):
        return None
    interpretation = interpretation_of(learner, should_stop=should_stop)
    if should_stop():
        return None
    where = "this library's labels" if source is None else str(source.folder)
    meta = learner.meta(notes=f"trained in the app on {where}")
    error = interpretation.error_rate if interpretation is not None else None
    meta.metrics = {"error_rate": error, "train_photos": len(learner.data.train),
                    "valid_photos": len(learner.data.valid)}
    epochs = [e.to_dict() for e in learner.history]
    with Catalog(catalog_path) as catalog:
        run = catalog.start_training_run("trained", {"plan": vars(plan), "source": where})
        version = save_version(catalog, learner.network, meta, "trained", active=True)
        catalog.finish_training_run(run, "promoted", epochs, version)
    return TrainedVersion(version, error, interpretation, epochs, time.perf_counter() - started, dict(learner.failures))


def find_lr_in_library(catalog_path: Path, source: Source, plan: TrainingPlan, unfrozen: bool = False,
                       progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
                       events: Events = lambda event: None, iterations: int = 100) -> LRFinderResult | NeedsWeights | None:
    learner = _prepare(catalog_path, source, plan, progress, should_stop, events)
    if not isinstance(learner, Learner):
        return learner
    if unfrozen:
        learner.unfreeze()
    result = lr_find(learner, num_it=iterations, progress=progress, should_stop=should_stop)
    return None if result.stopped else result


def evaluate_active(catalog_path: Path, progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
                    split_by_similarity: bool = True) -> tuple[str, Interpretation] | None:
    """How the library's active model does on the held-out share of the labelled photos (the photos retraining
    never learns from): (version id, interpretation), or None without a model or held-out photos."""
    with Catalog(catalog_path) as catalog:
        active = catalog.active_model()
        data, _ = library_dataset(catalog, split_by_similarity=split_by_similarity, progress=progress,
                                  should_stop=should_stop)
    if active is None or not data.valid:
        return None
    model = load_version(active)
    photos = [p for p in data.valid if p.label in model.classes]
    interpretation, _ = classify_labelled(model, photos, progress=progress, should_stop=should_stop)
    if should_stop() or interpretation is None:
        return None
    return active.id, interpretation


__all__ = ["DataReady", "NeedsWeights", "Source", "TrainedVersion", "WeightsProgress", "evaluate_active",
           "find_lr_in_library", "load_training_data", "train_in_library"]
