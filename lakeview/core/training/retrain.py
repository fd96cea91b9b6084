"""Retraining from the catalog's labels: a quick head-only step on cached features, or a full fine-tune.

Each run makes a new model version, validated on a held-out share of the labelled photos chosen by
fingerprint (so a photo stays on its side from run to run). The new version becomes active only if its
error on that share is no worse than the active version's; then every photo it has not scored is re-scored.
Each step of a run is named (`RetrainStep`, through `on_step`) before its `progress(done, total)` counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Callable, Literal

import torch

from lakeview.core.catalog import Catalog
from lakeview.core.datasets.dataset import LabelledPhotos, Photo
from lakeview.core.training.features_on_disk import FeatureStore, features_for
from lakeview.core.photos.fingerprint import fingerprint
from lakeview.core.training.error_figures import error_text
from lakeview.core.training.evaluation import Interpretation, classify_labelled, interpretation_of
from lakeview.core.models.inference import top_classes
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.training.learner import Learner
from lakeview.core.training.library_dataset import DEFAULT_HOLDOUT_PCT, library_dataset
from lakeview.core.training.phases import make_learner, train
from lakeview.core.training.plan import TrainingPlan
from lakeview.core.models.versions import load_version, save_version
from lakeview.core.models.model_file import ModelMeta, SavedModel
from lakeview.core.models.network import build_network
from lakeview.core.threads import torch_threads

Kind = Literal["quick", "full"]


FULL_RETRAIN_EPOCHS = {"frozen_epochs": 2, "unfrozen_epochs": 3}
"""Fewer than a first training's: a full retrain starts from a trained model."""


def full_retrain_plan(**choices) -> TrainingPlan:
    """plan.py's recipe with a full retrain's epochs; `choices` override any of the plan's fields."""
    return TrainingPlan(**(FULL_RETRAIN_EPOCHS | choices))


@dataclass
class RetrainSettings:
    plan: TrainingPlan = field(default_factory=full_retrain_plan)
    """What a full retrain runs: the head, then the whole network. The model (arch, weights, size) is used only
    when there is no version yet; after that a retrain starts from the active version's."""
    quick_epochs: int = 8
    """A quick retrain trains the head alone this long, at the plan's head rate, on unaugmented stored features."""
    holdout_pct: float = DEFAULT_HOLDOUT_PCT

    def plan_for(self, kind: Kind) -> TrainingPlan:
        if kind == "quick":
            return replace(self.plan, frozen_epochs=self.quick_epochs, unfrozen_epochs=0, augment=False)
        return self.plan


class RetrainResult(Enum):
    PROMOTED = "promoted"
    """A new version, now active: every photo it had not scored was re-scored with it."""
    KEPT = "kept"
    """A new version, worse than the active one on the held-out photos: kept, not made active."""
    STOPPED = "stopped"
    """Stopped before a version was saved; the active model is unchanged."""
    TOO_FEW_CLASSES = "too few classes"
    """Nothing to learn yet: fewer than two classes have labelled photos."""


WHY_NO_VERSION = {
    RetrainResult.STOPPED: "cancelled; the active model is unchanged",
    RetrainResult.TOO_FEW_CLASSES: "needs labelled photos of at least two classes",
}


class RetrainStep(Enum):
    """The steps of a run, in the words the status bar shows before the step's counts."""
    NEAR_DUPLICATES = "finding near-duplicates"
    BODY_FEATURES = "body features"
    HEAD = "fitting the head"
    FINE_TUNE = "fine-tuning the whole network"
    CHECKING = "checking on held-out photos"
    RESCORING = "re-scoring"

    @property
    def counts(self) -> str:
        """What the step's `progress` counts: training batches while fitting, photos otherwise."""
        return "batches" if self in (RetrainStep.HEAD, RetrainStep.FINE_TUNE) else "photos"


StepFn = Callable[[RetrainStep], None]


def no_steps(step: RetrainStep) -> None:
    pass


@dataclass
class RetrainOutcome:
    kind: Kind
    result: RetrainResult
    version_id: str | None = None
    error_rate: float | None = None
    previous_error: float | None = None
    rescored: int = 0
    epochs: list[dict] = field(default_factory=list)
    holdout_photos: int = 0
    """How many held-out photos both error rates were measured on."""
    groups_kept: str = ""
    """"N near-duplicate groups (M photos) kept on one side of the split", or "" when not split by similarity."""

    @property
    def promoted(self) -> bool:
        return self.result is RetrainResult.PROMOTED

    @property
    def stopped(self) -> bool:
        return self.result is RetrainResult.STOPPED

    @property
    def message(self) -> str:
        """What the run did, for the user: whether the new version became active, its held-out error next to the
        previous one's and on how many photos; or why no version was made."""
        if self.result not in (RetrainResult.PROMOTED, RetrainResult.KEPT):
            return WHY_NO_VERSION.get(self.result, "")
        new = (f"new model: {error_text(self.error_rate, self.holdout_photos, 'held-out')}"
               if self.error_rate is not None else "new model: no held-out photos to measure it on yet")
        previous = "" if self.previous_error is None else f"{self.previous_error:.1%}"
        if self.result is RetrainResult.KEPT:
            return f"{new}; kept the active one at {previous}"
        if not previous:
            return f"{new}; now active"
        return f"{new}; now active (the previous one had {previous})"


def retrain(catalog_path: Path, kind: Kind = "quick", settings: RetrainSettings | None = None,
            progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
            on_step: StepFn = no_steps) -> RetrainOutcome:
    """One retraining run. Opens its own catalog connection, so it can run in a worker thread. `on_step` names
    each step as it starts; `progress` then counts through it (photos, or training batches)."""
    settings = settings or RetrainSettings()
    with Catalog(catalog_path) as catalog:
        return _Run(catalog, kind, settings, progress, should_stop, on_step).execute()


class _Run:
    def __init__(self, catalog: Catalog, kind: Kind, settings: RetrainSettings, progress: ProgressFn,
                 should_stop: ShouldStopFn, on_step: StepFn) -> None:
        self.catalog, self.kind, self.settings = catalog, kind, settings
        self.progress, self.should_stop, self.on_step = progress, should_stop, on_step

    def execute(self) -> RetrainOutcome:
        split_by_similarity = self.settings.plan.split_by_similarity
        if split_by_similarity:
            self.on_step(RetrainStep.NEAR_DUPLICATES)
        try:
            data, fingerprints = library_dataset(self.catalog, self.settings.holdout_pct, split_by_similarity,
                                                 self.progress, self.should_stop)
        except Stopped:
            return RetrainOutcome(self.kind, RetrainResult.STOPPED)
        classes, train, valid = data.classes, data.train, data.valid
        if len(classes) < 2:
            return RetrainOutcome(self.kind, RetrainResult.TOO_FEW_CLASSES)
        active = self.catalog.active_model()
        parent = load_version(active) if active else None
        plan = self.settings.plan_for(self.kind)
        run_id = self.catalog.start_training_run(
            self.kind, asdict(plan) | {"holdout_pct": self.settings.holdout_pct, "classes": classes})
        learner, body_id = self._learner(data, plan, parent)
        if not self._fit(learner, plan, body_id, fingerprints):
            self.catalog.finish_training_run(run_id, "cancelled", [])
            return RetrainOutcome(self.kind, RetrainResult.STOPPED)
        epochs = [e.to_dict() for e in learner.history]
        self.on_step(RetrainStep.CHECKING)
        checked = interpretation_of(learner, progress=self.progress, should_stop=self.should_stop)
        error_rate = checked.error_rate_or_none if checked is not None else None
        previous_error = self._parent_error(parent, body_id, learner, valid)
        promoted = previous_error is None or error_rate is None or error_rate <= previous_error
        result = RetrainResult.PROMOTED if promoted else RetrainResult.KEPT
        meta = self._meta(learner, body_id, active.id if active else None, error_rate, len(train), len(valid))
        version = save_version(self.catalog, learner.network, meta, self.kind, active=promoted)
        self.catalog.finish_training_run(run_id, result.value, epochs, version)
        rescored = 0
        if promoted:
            self.on_step(RetrainStep.RESCORING)
            rescored = rescore(self.catalog, SavedModel(learner.network.eval(), meta), progress=self.progress,
                               should_stop=self.should_stop)
        return RetrainOutcome(self.kind, result, version, error_rate, previous_error, rescored, epochs, len(valid),
                              "" if data.groups_kept is None else str(data.groups_kept))

    def _fit(self, learner: Learner, plan: TrainingPlan, body_id: str, fingerprints: dict[str, str]) -> bool:
        """Quick: the head on the stored body features. Full: the head, then the whole network. False if stopped."""
        if self.kind == "quick":
            self.on_step(RetrainStep.BODY_FEATURES)
            self._supply_features(learner, body_id, fingerprints)
            if self.should_stop():
                return False
        stopped = train(learner, plan, progress=self.progress, should_stop=self.should_stop,
                        on_phase=lambda unfrozen: self.on_step(RetrainStep.FINE_TUNE if unfrozen else RetrainStep.HEAD))
        return not (stopped or self.should_stop())

    def _learner(self, data: LabelledPhotos, plan: TrainingPlan, parent: SavedModel | None) -> tuple[Learner, str]:
        if parent is not None:
            plan = replace(plan, arch=parent.meta.arch, size=parent.meta.size)
            body, body_id = parent.network.body, _body_id(parent.meta)
        else:
            body = build_network(plan.arch, 2, plan.weights).body
            body_id = f"{plan.arch}:{_weights_id(plan.weights)}"
        return make_learner(data, plan, body=body), body_id if self.kind == "quick" else ""

    def _supply_features(self, learner: Learner, body_id: str, fingerprints: dict[str, str]) -> None:
        """Load the labelled photos' features from the store, computing (and storing) only the missing ones."""
        store = FeatureStore(self.catalog.folder / "features.sqlite")
        splits = {split: learner.data.split(split) for split in ("train", "valid")}
        body_model = SavedModel(learner.network, learner.meta())
        total, counted = sum(len(photos) for photos in splits.values()), 0
        try:
            for split, photos in splits.items():
                def progress(done: int, _: int, before: int = counted) -> None:
                    self.progress(before + done, total)

                features = features_for(store, body_id, body_model, [p.path for p in photos],
                                        [fingerprints[str(p.path)] for p in photos], self.should_stop, progress)
                counted += len(photos)
                keep = [i for i, f in enumerate(features) if f is not None]
                if keep:
                    learner.use_cached_features(split, torch.stack([features[i] for i in keep]), keep)
        finally:
            store.close()

    def _parent_error(self, parent: SavedModel | None, body_id: str, learner: Learner, valid: list[Photo]) -> float | None:
        """The active version's error on today's held-out photos (through the cached features if it shares the body)."""
        if parent is None or not valid:
            return None
        cached = learner.cached_features("valid")
        if body_id and body_id == _body_id(parent.meta) and cached is not None:
            features, keep = cached
            checked = Interpretation.of_labels(parent.classes, [valid[k].path for k in keep],
                                               _head_probabilities(parent, features), [valid[k].label for k in keep])
        else:
            checked, _ = classify_labelled(parent, valid, device=self.settings.plan.device, progress=self.progress,
                                           should_stop=self.should_stop, unknown_classes_are_wrong=True)
        return checked.error_rate_or_none if checked is not None else None

    def _meta(self, learner: Learner, body_id: str, parent_id: str | None, error_rate: float | None,
              n_train: int, n_valid: int) -> ModelMeta:
        meta = learner.meta(parent=parent_id, notes=f"{self.kind} retrain on {n_train} photos")
        meta.body_id = body_id
        meta.metrics = {"error_rate": error_rate, "holdout_photos": n_valid, "train_photos": n_train}
        return meta


def rescore(catalog: Catalog, model: SavedModel | None = None, progress: ProgressFn = no_progress,
            should_stop: ShouldStopFn = never_stop, everything: bool = False) -> int:
    """Predictions of `model` (default: the active version) for the photos on disk that it has not scored as they
    are now (every one with `everything`), through cached features."""
    if model is None:
        active = catalog.active_model()
        if active is None:
            return 0
        model = load_version(active)
    plan = catalog.classification_plan(model.meta.version_id, everything=everything, on_disk_only=True)
    photos = list(zip(plan.paths, plan.fingerprints))
    if not photos:
        return 0
    store = FeatureStore(catalog.folder / "features.sqlite")
    try:
        features = features_for(store, _body_id(model.meta), model, plan.paths, plan.fingerprints, should_stop,
                                progress)
    finally:
        store.close()
    kept = [(p, f) for (p, _), f in zip(photos, features) if f is not None]
    if not kept or should_stop():
        return 0
    rows = top_classes(_head_probabilities(model, torch.stack([f for _, f in kept])), model.classes)
    results = [(path, top) for (path, _), top in zip(kept, rows) if top is not None]
    return catalog.store_predictions(model.meta.version_id, results)


def _head_probabilities(model: SavedModel, features: torch.Tensor) -> torch.Tensor:
    """The model's class probabilities for pooled body features, running only its head."""
    device = next(model.network.parameters()).device
    with torch.inference_mode(), torch_threads(1):
        return model.network.eval().head(features.to(device)).float().softmax(1).cpu()


def _body_id(meta: ModelMeta) -> str:
    """Which body made the features a version's head reads (its own, when it was fine-tuned)."""
    return meta.body_id or meta.version_id


def _weights_id(weights: str) -> str:
    path = Path(weights)
    return f"file-{fingerprint(path)[:12]}" if path.is_file() else str(weights)
