"""Retraining from the catalog's labels: a quick head-only step on cached features, or a full fine-tune.

Each run makes a new model version, validated on a held-out share of the labelled photos chosen by
fingerprint (so a photo stays on its side from run to run). The new version becomes active only if its
error on that share is no worse than the active version's; then every photo is re-scored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch

from lakeview.core.catalog import Catalog
from lakeview.core.datasets.dataset import LabelledPhotos, Photo
from lakeview.core.training.feature_store import FeatureStore
from lakeview.core.photos.fingerprint import fingerprint
from lakeview.core.training.features import extract_features
from lakeview.core.models.inference import classify_files
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.training.learner import Learner
from lakeview.core.training.library_dataset import library_dataset
from lakeview.core.training.versions import load_version, save_version
from lakeview.core.models.model_file import ModelMeta, SavedModel
from lakeview.core.models.network import build_network
from lakeview.core.threads import torch_threads
from lakeview.core.models.transforms import NO_AUGMENTATION, Augmentation

Kind = Literal["quick", "full"]


@dataclass
class RetrainSettings:
    arch: str = "resnet34"
    weights: str = "imagenet"
    size: int = 224
    head: str = "linear"
    flip: bool = True
    quick_epochs: int = 8
    quick_lr: float = 3e-3
    full_frozen_epochs: int = 2
    full_unfrozen_epochs: int = 3
    full_lr: float = 1e-4
    holdout_pct: float = 0.2
    batch_size: int = 16
    seed: int = 42
    device: str | None = None


@dataclass
class RetrainOutcome:
    kind: Kind
    version_id: str | None = None
    promoted: bool = False
    error_rate: float | None = None
    previous_error: float | None = None
    stopped: bool = False
    rescored: int = 0
    message: str = ""
    epochs: list[dict] = field(default_factory=list)


def retrain(catalog_path: Path, kind: Kind = "quick", settings: RetrainSettings | None = None,
            progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop) -> RetrainOutcome:
    """One retraining run. Opens its own catalog connection, so it can run in a worker thread."""
    settings = settings or RetrainSettings()
    with Catalog(catalog_path) as catalog:
        return _Run(catalog, kind, settings, progress, should_stop).execute()


class _Run:
    def __init__(self, catalog: Catalog, kind: Kind, settings: RetrainSettings, progress: ProgressFn,
                 should_stop: ShouldStopFn) -> None:
        self.catalog, self.kind, self.settings = catalog, kind, settings
        self.progress, self.should_stop = progress, should_stop
        self.outcome = RetrainOutcome(kind)
        self.saved_meta: ModelMeta | None = None

    def execute(self) -> RetrainOutcome:
        data, fingerprints = library_dataset(self.catalog, self.settings.holdout_pct)
        classes, train, valid = data.classes, data.train, data.valid
        if len(classes) < 2:
            self.outcome.message = "needs labelled photos of at least two classes"
            return self.outcome
        active = self.catalog.active_model()
        parent = load_version(active) if active else None
        run_id = self.catalog.start_training_run(self.kind, asdict(self.settings) | {"classes": classes})
        learner, body_id = self._learner(data, parent)
        if self.kind == "quick":
            self._supply_features(learner, body_id, fingerprints)
            if self.should_stop():
                return self._cancelled(run_id)
            result = learner.fit_one_cycle(self.settings.quick_epochs, self.settings.quick_lr,
                                           progress=self.progress, should_stop=self.should_stop)
        else:
            result = learner.fit_one_cycle(self.settings.full_frozen_epochs, self.settings.quick_lr,
                                           progress=self.progress, should_stop=self.should_stop)
            if not result.stopped:
                learner.unfreeze()
                lr = self.settings.full_lr
                result = learner.fit_one_cycle(self.settings.full_unfrozen_epochs, slice(lr / 10, lr),
                                               progress=self.progress, should_stop=self.should_stop)
        if result.stopped or self.should_stop():
            return self._cancelled(run_id)
        self.outcome.epochs = [e.to_dict() for e in learner.history]
        new_probs = learner.predict("valid")
        self.outcome.error_rate = _error(new_probs.probs, new_probs.targets) if len(valid) else None
        self.outcome.previous_error = self._parent_error(parent, body_id, learner, valid)
        self.outcome.promoted = (self.outcome.previous_error is None or self.outcome.error_rate is None
                                 or self.outcome.error_rate <= self.outcome.previous_error)
        version = self._save(learner, body_id, active.id if active else None, len(train), len(valid))
        self.catalog.finish_training_run(run_id, "promoted" if self.outcome.promoted else "kept", self.outcome.epochs,
                                         version)
        if self.outcome.promoted:
            saved = SavedModel(learner.network.eval(), self.saved_meta)
            self.outcome.rescored = rescore(self.catalog, saved, progress=self.progress, should_stop=self.should_stop)
        return self.outcome

    def _learner(self, data: LabelledPhotos, parent: SavedModel | None) -> tuple[Learner, str]:
        s = self.settings
        if parent is not None:
            arch, size, body = parent.meta.arch, parent.meta.size, parent.network.body
            body_id = parent.meta.body_id or parent.meta.version_id
        else:
            arch, size = s.arch, s.size
            body = build_network(arch, 2, s.weights).body
            body_id = f"{arch}:{_weights_id(s.weights)}"
        augmentation = NO_AUGMENTATION if self.kind == "quick" else Augmentation(flip=s.flip)
        learner = Learner(data, arch=arch, size=size, batch_size=s.batch_size, augmentation=augmentation,
                          device=s.device, seed=s.seed, head=s.head, body=body)
        return learner, body_id if self.kind == "quick" else ""

    def _supply_features(self, learner: Learner, body_id: str, fingerprints: dict[str, str]) -> None:
        """Load the labelled photos' features from the store, computing (and storing) only the missing ones."""
        store = FeatureStore(self.catalog.folder / "features.sqlite")
        try:
            for split in ("train", "valid"):
                photos = learner.data.split(split)
                features = features_for(store, body_id, learner, [p.path for p in photos],
                                        [fingerprints[str(p.path)] for p in photos], self.should_stop)
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
        if body_id and body_id == (parent.meta.body_id or parent.meta.version_id) and cached is not None:
            features, keep = cached
            with torch.inference_mode(), torch_threads(1):
                predicted = parent.network.eval().head(features.to(learner.device)).argmax(1).tolist()
            wrong = sum(parent.classes[i] != valid[k].label for i, k in zip(predicted, keep))
            return wrong / len(keep) if keep else None
        wrong = total = 0
        for photo, result in zip(valid, classify_files(parent, [p.path for p in valid], device=self.settings.device,
                                                         should_stop=self.should_stop)):
            if hasattr(result, "label"):
                total += 1
                wrong += result.label != photo.label
        return wrong / total if total else None

    def _save(self, learner: Learner, body_id: str, parent_id: str | None, n_train: int, n_valid: int) -> str:
        meta = learner.meta(parent=parent_id, notes=f"{self.kind} retrain on {n_train} photos")
        meta.body_id = body_id
        meta.metrics = {"error_rate": self.outcome.error_rate, "holdout_photos": n_valid, "train_photos": n_train}
        version = save_version(self.catalog, learner.network, meta, self.kind, active=self.outcome.promoted)
        self.saved_meta = meta
        self.outcome.version_id = version
        return version

    def _cancelled(self, run_id: int) -> RetrainOutcome:
        self.catalog.finish_training_run(run_id, "cancelled", [])
        self.outcome.stopped = True
        self.outcome.message = "cancelled; the active model is unchanged"
        return self.outcome


def features_for(store: FeatureStore, body_id: str, learner_or_model, paths: list[Path], fingerprints: list[str],
                 should_stop: ShouldStopFn = never_stop) -> list[torch.Tensor | None]:
    """Features for each path (None for unreadable photos), from the store where it has them."""
    size = learner_or_model.size if hasattr(learner_or_model, "size") else learner_or_model.meta.size
    known = store.get_many(body_id, size, fingerprints)
    missing = [(p, fp) for p, fp in zip(paths, fingerprints) if fp not in known]
    if missing:
        model = _as_saved_model(learner_or_model)
        fresh = []
        for (path, fp), (_, vector, _) in zip(missing, extract_features(model, [p for p, _ in missing],
                                                                         should_stop=should_stop)):
            if vector is not None:
                known[fp] = vector
                fresh.append((fp, vector))
        store.put_many(body_id, size, fresh)
    return [known.get(fp) for fp in fingerprints]


def rescore(catalog: Catalog, model: SavedModel | None = None, progress: ProgressFn = no_progress,
            should_stop: ShouldStopFn = never_stop) -> int:
    """Predictions of `model` (default: the active version) for every photo on disk, through cached features."""
    if model is None:
        active = catalog.active_model()
        if active is None:
            return 0
        model = load_version(active)
    photos = catalog.photos_on_disk()
    store = FeatureStore(catalog.folder / "features.sqlite")
    try:
        features = features_for(store, model.meta.body_id or model.meta.version_id, model,
                                [p for p, _ in photos], [fp for _, fp in photos], should_stop)
    finally:
        store.close()
    kept = [(p, f) for (p, _), f in zip(photos, features) if f is not None]
    if not kept or should_stop():
        return 0
    device = next(model.network.parameters()).device
    with torch.inference_mode(), torch_threads(1):
        probs = model.network.eval().head(torch.stack([f for _, f in kept]).to(device)).float().softmax(1).cpu()
    values, indices = probs.topk(min(3, len(model.classes)), dim=1)
    results = [(path, [(model.classes[i], float(v)) for v, i in zip(vals, idxs)])
               for (path, _), vals, idxs in zip(kept, values.tolist(), indices.tolist())]
    progress(len(results), len(results))
    return catalog.store_predictions(model.meta.version_id, results)


def _as_saved_model(learner_or_model) -> SavedModel:
    if isinstance(learner_or_model, SavedModel):
        return learner_or_model
    learner = learner_or_model
    return SavedModel(learner.network, learner.meta())


def _error(probs: torch.Tensor, targets: torch.Tensor) -> float | None:
    known = targets >= 0
    if not known.any():
        return None
    return (probs[known].argmax(1) != targets[known]).float().mean().item()


def _weights_id(weights: str) -> str:
    path = Path(weights)
    return f"file-{fingerprint(path)[:12]}" if path.is_file() else str(weights)
