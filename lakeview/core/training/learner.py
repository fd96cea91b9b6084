"""The learner: what freezing trains, one-cycle fitting with discriminative learning rates, prediction, export.

While the body is frozen, the head trains on body features computed once: of each photo as it is, or, with
augmentation, of a few augmented views of each photo (`views`), one picked at random per photo and epoch."""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import OneCycleLR

from lakeview.core.models.architectures import DEFAULT_ARCH, get_architecture
from lakeview.core.models.photo_tensors import PhotoTensors, make_loader
from lakeview.core.datasets.dataset import LabelledPhotos, Photo
from lakeview.core.models.device import autocast_dtype, pick_device
from lakeview.core.models.head import DEFAULT_HEAD, DEFAULT_HIDDEN, make_classifier
from lakeview.core.training.evaluation import interpretation_of
from lakeview.core.training.best_epoch import BestEpoch, EarlyStopping, why_end
from lakeview.core.training.features_in_memory import FeatureCache
from lakeview.core.training.learner_features import BodyFeatures
from lakeview.core.training.learner_team import TeamWork
from lakeview.core.training.fit_records import EpochStats, FitResult
from lakeview.core.training.plan import LearningRate, spread_learning_rates
from lakeview.core.distributed import ShardedShuffle, Team
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.models.model_file import ModelMeta, SavedModel, save_model
from lakeview.core.models.network import IMAGENET, build_network, memory_format
from lakeview.core.threads import torch_threads
from lakeview.core.training.stop_points import stop_points
from lakeview.core.models.transforms import Augmentation, decode_side, train_transform

EpochCallback = Callable[["EpochStats"], None]


@dataclass
class Predictions:
    photos: list[Photo]
    probs: torch.Tensor
    targets: torch.Tensor
    failures: dict[str, str]


class Learner(TeamWork, BodyFeatures):
    """A network, the photos it learns from, and how it trains (fast.ai's Learner, for single-label photos)."""

    def __init__(
        self,
        data: LabelledPhotos,
        arch: str = DEFAULT_ARCH,
        weights: str | Path = IMAGENET,
        size: int = 224,
        batch_size: int = 16,
        augmentation: Augmentation = Augmentation(),
        device: str | torch.device | None = None,
        seed: int | None = 42,
        workers: int = 0,
        weight_decay: float = 1e-2,
        head: str = DEFAULT_HEAD,
        hidden: int = DEFAULT_HIDDEN,
        dropout: float | None = None,
        train_bn_stats: bool = False,
        body: nn.Module | None = None,
        views: int = 0,
        weights_progress: ProgressFn = no_progress,
        should_stop: ShouldStopFn = never_stop,
        team: Team | None = None,
    ) -> None:
        self.team = team
        """The torchrun ranks this learner trains with (None: this process alone). See `_agreed`."""
        if seed is not None:
            torch.manual_seed(seed)
        self.data = data
        self.arch = get_architecture(arch)
        self.size = size
        self.batch_size = batch_size
        self.augmentation = augmentation
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.seed = seed
        self.workers = workers
        self.weight_decay = weight_decay
        self.head, self.hidden, self.dropout = head, hidden, dropout
        if body is not None:
            self.network = make_classifier(body, self.arch.features, len(data.classes), head, hidden, dropout)
        else:
            self.network = build_network(self.arch, len(data.classes), weights, head, hidden, dropout,
                                         weights_progress, should_stop)
        self.memory_format = memory_format(self.arch)
        self.network.to(self.device, memory_format=self.memory_format)
        self.history: list[EpochStats] = []
        self.failures: dict[str, str] = {}
        self._amp_dtype = autocast_dtype(self.device)
        self._scaler = torch.amp.GradScaler("cuda") if self._amp_dtype == torch.float16 else None
        self.feature_cache = FeatureCache()
        self.views = views
        self.body_rate: float | None = None
        """Photos per second through the body in inference mode, as last measured by a feature pass."""
        self.kept: EpochStats | None = None
        """The epoch whose weights the network holds, when a fit put back an earlier epoch's."""
        self._fits = 0
        self._ddp: DistributedDataParallel | None = None
        self.train_bn_stats = train_bn_stats
        self.frozen = True
        self.train_bn = False
        self.freeze()

    # --- freezing -----------------------------------------------------------------------------------------
    def freeze(self, train_bn: bool = False) -> None:
        """Train the head only (and the body's BatchNorm weights too, with `train_bn`)."""
        self.frozen, self.train_bn = True, train_bn
        for module in self.network.body.modules():
            is_bn = isinstance(module, nn.modules.batchnorm._BatchNorm)
            for param in module.parameters(recurse=False):
                param.requires_grad_(is_bn and train_bn)
        for param in self.network.head.parameters():
            param.requires_grad_(True)

    def unfreeze(self) -> None:
        self.frozen = False
        for param in self.network.parameters():
            param.requires_grad_(True)

    # --- training -----------------------------------------------------------------------------------------
    def fit_one_cycle(
        self,
        epochs: int,
        lr_max: LearningRate = 1e-3,
        progress: ProgressFn = no_progress,
        should_stop: ShouldStopFn = never_stop,
        on_epoch: EpochCallback | None = None,
        early_stopping: EarlyStopping | None = None,
        baseline: EpochStats | None = None,
    ) -> FitResult:
        """One-cycle schedule (torch's OneCycleLR) over `epochs`; `should_stop` is checked before every batch and
        before each stage of the body within it.

        With `early_stopping`, the fit ends once the validation error stops improving or time runs out, and the
        network is left with the best epoch's weights (`baseline`: how it did before this fit, whose weights count
        as an epoch). Progress counts the batches, after the photos of the feature pass when one is needed."""
        result = FitResult()
        cached = self.uses_feature_cache
        passes = 0
        if cached:
            splits = (self.cached_train_split, "valid")
            passes = self.pending_feature_passes(splits)
            expected = passes + epochs * math.ceil(len(self.data.train) / self.batch_size)
            self.ensure_features(splits, lambda done, _: progress(done, expected), should_stop)
            if self._agreed(should_stop):
                result.stopped = True
                return result
        best = BestEpoch(self.network, baseline) if early_stopping is not None else None
        optimizer = self.make_optimizer(lr_max)
        peak_lr = max(g["lr"] for g in optimizer.param_groups)
        steps_per_epoch = self._steps_per_epoch(cached)
        total = epochs * steps_per_epoch
        # OneCycleLR needs a few steps in each phase; a tiny set simply ends its cycle early.
        schedule_steps = max(total, 8)
        scheduler = OneCycleLR(
            optimizer,
            max_lr=[g["lr"] for g in optimizer.param_groups],
            total_steps=schedule_steps,
            pct_start=max(0.25, 2 / schedule_steps),
            div_factor=25.0,
            final_div_factor=1e5,
        )
        if cached:
            views = f"{self.views} cached view{'' if self.views == 1 else 's'}"
            phase = f"frozen ({views})" if self.augmentation.enabled else "head (cached features)"
        else:
            phase = "frozen" if self.frozen else "unfrozen"
        done = 0
        # With a team, a stop is agreed before each batch (every rank steps alike), never inside one.
        inner_stop = should_stop if self.team is None else never_stop
        with torch_threads(1) if cached else nullcontext(), self._data_parallel(cached):
            for epoch in range(epochs):
                started = time.perf_counter()
                losses: list[torch.Tensor] = []
                self.set_train_mode(cached)
                for inputs, targets in self.epoch_batches(cached, epoch):
                    stop, unusable = self._batch_check(should_stop, len(targets))
                    if stop:
                        result.stopped = True
                        break
                    if unusable:
                        continue
                    try:
                        with stop_points(self.network, inner_stop):
                            losses.append(self.train_step(inputs, targets, optimizer, cached))
                    except Stopped:  # inside the batch: the optimizer has not stepped
                        optimizer.zero_grad(set_to_none=True)
                        result.stopped = True
                        break
                    scheduler.step()
                    done += 1
                    progress(passes + done, passes + total)
                if not cached and (not self.frozen or self.train_bn or self.train_bn_stats):
                    self.feature_cache.body_changed()
                if result.stopped:
                    break
                train_loss = float(sum(losses) / max(len(losses), 1))
                if self.team is not None and not cached:  # each rank's loss is of its share of each batch
                    train_loss = self.team.mean(train_loss)
                valid_loss, error_rate = self._validate()
                stats = EpochStats(
                    epoch=len(self.history) + 1,
                    phase=phase,
                    train_loss=train_loss,
                    valid_loss=valid_loss,
                    error_rate=error_rate,
                    seconds=time.perf_counter() - started,
                    lr_max=peak_lr,
                )
                self.history.append(stats)
                result.epochs.append(stats)
                self.kept = None
                if on_epoch is not None:
                    on_epoch(stats)
                if best is not None:
                    best.offer(stats)
                    result.ended = why_end(best, early_stopping, stats.seconds, epochs - epoch - 1)
                    if self.team is not None:  # the clock differs between ranks; rank 0's decision holds
                        result.ended = self.team.leaders(result.ended)
                    if result.ended is not None:
                        break
        if best is not None and not result.stopped:
            result.kept = self.kept = best.restore()
            if result.kept is not None:
                self.feature_cache.body_changed()
        result.failures = dict(self.failures)
        return result

    # --- training steps (fit_one_cycle's, and the LR finder's) -------------------------------------------------
    def make_optimizer(self, lr: LearningRate) -> torch.optim.Optimizer:
        """AdamW over the layer groups; each optimizer starts a new fit, whose shuffles differ from the last's."""
        self._fits += 1
        return torch.optim.AdamW(self._param_groups(lr), betas=(0.9, 0.99), weight_decay=self.weight_decay)

    def _param_groups(self, lr_max: LearningRate) -> list[dict]:
        """Three layer groups (early body, late body, head) with learning rates spread geometrically."""
        children = list(self.network.body.children())
        split = self.arch.split_at if len(children) > self.arch.split_at else len(children) // 2
        early = [p for m in children[:split] for p in m.parameters() if p.requires_grad]
        late = [p for m in children[split:] for p in m.parameters() if p.requires_grad]
        head = [p for p in self.network.head.parameters() if p.requires_grad]
        rates = spread_learning_rates(lr_max, 3)
        return [{"params": ps, "lr": lr} for ps, lr in zip((early, late, head), rates) if ps]

    def _steps_per_epoch(self, cached: bool) -> int:
        n = len(self.feature_cache.fresh(self.cached_train_split).targets) if cached else len(self.data.train)
        if n == 0:
            raise ValueError("there are no training photos")
        if self.team is not None and not cached:
            share = ShardedShuffle(range(n), self.team, torch.Generator(), self._drop_last(n)).num_samples
            batch = self.rank_batch_size
            return share // batch if self._drop_last(n) else math.ceil(share / batch)
        return n // self.batch_size if self._drop_last(n) else math.ceil(n / self.batch_size)

    def _drop_last(self, n: int) -> bool:
        """Drop a ragged last batch when there are enough photos: BatchNorm learns badly from tiny batches."""
        return n >= 2 * self.batch_size

    def epoch_batches(self, cached: bool, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled (inputs, targets) on the device: cached body features, or augmented photos."""
        seed = None if self.seed is None else (self.seed * 1000 + self._fits * 100 + epoch) % (1 << 63)
        if cached:
            cache = self.feature_cache.fresh(self.cached_train_split)
            features, targets = cache.features, cache.targets
            generator = torch.Generator()
            if seed is not None:
                generator.manual_seed(seed)
            order = torch.randperm(len(targets), generator=generator)
            if features.dim() == 3:  # augmented views: one of each photo's, picked at random
                features = features[torch.randint(len(features), (len(targets),), generator=generator),
                                    torch.arange(len(targets))]
            usable = len(order) - (len(order) % self.batch_size if self._drop_last(len(order)) else 0)
            for start in range(0, usable, self.batch_size):
                index = order[start:start + self.batch_size]
                if len(index) >= 2:
                    yield features[index].to(self.device, non_blocking=True), targets[index].to(self.device, non_blocking=True)
            return
        dataset = PhotoTensors(self.data.train, self.data.classes,
                               train_transform(self.size, self.augmentation), decode_side(self.size))
        drop_last = self._drop_last(len(dataset))
        sampler = None if self.team is None else (
            lambda generator: ShardedShuffle(dataset, self.team, generator, drop_last))
        loader = make_loader(dataset, self.rank_batch_size, shuffle=True, workers=self.workers, seed=seed,
                             pin_memory=self.device.type == "cuda", drop_last=drop_last, sampler=sampler)
        for batch in loader:
            self._record_failures(dataset, batch.failures)
            if len(batch) >= 2 or self.team is not None:  # a team decides together (_batch_check)
                yield self._to_device(batch.images), batch.targets.to(self.device, non_blocking=True)

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor, optimizer: torch.optim.Optimizer,
                   cached: bool) -> torch.Tensor:
        """One optimizer step on a batch (through the head only, for cached features); returns its loss, detached,
        on the device. Reading it makes the host wait for the GPU, so fit_one_cycle reads the epoch's sum once."""
        with self._autocast():
            logits = self.network.head(inputs) if cached else (self._ddp or self.network)(inputs)
            loss = F.cross_entropy(logits.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            self._scaler.step(optimizer)
            self._scaler.update()
        else:
            loss.backward()
            optimizer.step()
        return loss.detach()

    def set_train_mode(self, cached: bool) -> None:
        """Dropout on; the body's BatchNorm statistics stay as learnt on ImageNet unless `train_bn_stats`.

        Re-estimating them from batches of 16 of a few hundred photos cost 6 to 10 points of validation
        error on hymenoptera (benchmarks/head_choice.py), so they stay frozen by default.
        """
        self.network.train()
        if cached or (self.frozen and not self.train_bn):
            self.network.body.eval()
        elif not self.train_bn_stats:
            for module in self.network.body.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()

    def _validate(self) -> tuple[float | None, float | None]:
        """Mean loss and error rate on the labelled validation photos; (None, None) without any."""
        seen = interpretation_of(self)
        figures = (None, None) if seen is None or not len(seen.targets) else (seen.losses.mean().item(), seen.error_rate)
        # Every rank saw all the validation photos (gathered), but rank 0's figures decide, bit for bit.
        return figures if self.team is None else self.team.leaders(figures)

    # --- prediction ---------------------------------------------------------------------------------------
    def predict(self, split: str = "valid", progress: ProgressFn = no_progress,
                should_stop: ShouldStopFn = never_stop) -> Predictions:
        """Probabilities for a split with the deterministic (validation) transform."""
        photos = self.data.split(split)
        self.network.eval()
        if self.uses_feature_cache or self.feature_cache.fresh(split) is not None:
            self.ensure_features((split,), progress, should_stop)
            cache = self.feature_cache.fresh(split) or self._no_features(self.head_width())
            with torch.inference_mode(), self._autocast(), torch_threads(1):
                probs = torch.cat([self.network.head(cache.features[i:i + 256].to(self.device)).float().softmax(1).cpu()
                                   for i in range(0, len(cache.targets), 256)]) if len(cache.targets) else torch.empty(0, len(self.data.classes))
            return Predictions([photos[i] for i in cache.kept], probs, cache.targets, self._failures_of(photos))
        logits = self._run_body(photos, with_head=True, progress=progress, should_stop=should_stop)
        return Predictions([photos[i] for i in logits.kept], logits.features.softmax(1), logits.targets,
                           self._failures_of(photos))

    # --- helpers ------------------------------------------------------------------------------------------
    def _to_device(self, images: torch.Tensor) -> torch.Tensor:
        return images.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)

    def _autocast(self):
        if self._amp_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._amp_dtype)

    def _record_failures(self, dataset: PhotoTensors, failures: list[tuple[int, str]]) -> None:
        for index, reason in failures:
            self.failures[dataset.paths[index]] = reason

    def _failures_of(self, photos: list[Photo]) -> dict[str, str]:
        paths = {str(p.path) for p in photos}
        return {p: r for p, r in self.failures.items() if p in paths}

    # --- saving -------------------------------------------------------------------------------------------
    def meta(self, parent: str | None = None, notes: str = "") -> ModelMeta:
        metrics = {}
        current = self.kept or (self.history[-1] if self.history else None)
        if current is not None and current.error_rate is not None:
            metrics = {"error_rate": current.error_rate, "valid_loss": current.valid_loss}
            if self.kept is not None:
                metrics["kept_epoch"] = self.kept.epoch
        return ModelMeta(
            arch=self.arch.name,
            classes=list(self.data.classes),
            size=self.size,
            head=self.head,
            hidden=self.hidden,
            dropout=self.dropout,
            flip=self.augmentation.flip,
            history=[h.to_dict() for h in self.history],
            metrics=metrics,
            parent=parent,
            notes=notes,
        )

    def export(self, path: Path | str, parent: str | None = None, notes: str = "") -> SavedModel:
        meta = self.meta(parent, notes)
        save_model(path, self.network, meta)
        return SavedModel(self.network, meta)

