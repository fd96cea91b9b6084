"""The learner's body features: which splits it caches, the passes of photos (or of augmented views of the
training photos) through the body that fill the cache, and the features supplied from the feature store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

import torch

from lakeview.core.datasets.dataset import Photo
from lakeview.core.jobs import ProgressFn, ShouldStopFn
from lakeview.core.models.head import pooled_width
from lakeview.core.models.photo_tensors import PhotoTensors
from lakeview.core.models.transforms import decode_side, train_transform, valid_transform
from lakeview.core.training.features import body_pass
from lakeview.core.training.features_in_memory import SplitFeatures

if TYPE_CHECKING:
    from lakeview.core.distributed import Team
    from lakeview.core.training.features_in_memory import FeatureCache

TRAIN_VIEWS = "train views"
"""The feature cache's name for the augmented views of the training photos (rows: view, photo, feature)."""


class BodyFeatures:
    """Part of Learner: its feature cache and the body passes that fill it (uses the learner's data, network,
    device, size, augmentation, views, seed, batch size and workers)."""

    feature_cache: FeatureCache
    body_rate: float | None
    team: Team | None

    @property
    def uses_feature_cache(self) -> bool:
        """With the body fully frozen, its outputs never change: compute them once (of `views` augmented views of
        each training photo when augmenting, of the photos as they are when not)."""
        return self.frozen and not self.train_bn and (not self.augmentation.enabled or self.views > 0)

    @property
    def cached_train_split(self) -> str:
        """The feature cache's name for what the frozen phase trains on."""
        return TRAIN_VIEWS if self.augmentation.enabled else "train"

    def use_cached_features(self, split: str, features: torch.Tensor, keep: list[int]) -> None:
        """Supply pooled body features computed earlier (e.g. kept on disk) for `split`'s photos at indices `keep`."""
        photos = self.data.split(split)
        lookup = {name: i for i, name in enumerate(self.data.classes)}
        targets = torch.tensor([lookup.get(photos[i].label, -1) for i in keep], dtype=torch.long)
        self.feature_cache.put(split, SplitFeatures(features, targets, list(keep)))

    def cached_features(self, split: str) -> tuple[torch.Tensor, list[int]] | None:
        """(features, photo indices) cached for `split` with the current body, if any."""
        cache = self.feature_cache.fresh(split)
        return None if cache is None else (cache.features, cache.kept)

    def head_width(self) -> int:
        """How many pooled features the head takes."""
        return pooled_width(self.head, self.arch.features)

    def ensure_features(self, splits: Sequence[str], progress: ProgressFn, should_stop: ShouldStopFn) -> None:
        """Compute the features of each split not cached with the body as it is; progress counts photo passes over
        all of them (a training photo once per view)."""
        missing = [split for split in splits if self.feature_cache.fresh(split) is None]
        passes = [(split, view) for split in missing for view in range(self._views_of(split))]
        total = self.pending_feature_passes(missing)
        done, started, views = 0, time.perf_counter(), []
        self.network.eval()
        for split, view in passes:
            photos = self.data.split(self._photos_split(split))
            features = self._run_body(photos, with_head=False, should_stop=should_stop, view=view if split == TRAIN_VIEWS else None,
                                      progress=lambda n, _, before=done: progress(before + n, total))
            done += len(photos)
            if should_stop() if self.team is None else self.team.any(should_stop())[0]:
                return
            if split != TRAIN_VIEWS:
                self.feature_cache.put(split, features)
                continue
            views.append(features)
            if len(views) == self.views:
                self.feature_cache.put(split, stack_views(views))
        if done:
            self.body_rate = done / max(time.perf_counter() - started, 1e-6)

    def pending_feature_passes(self, splits: Sequence[str]) -> int:
        """Photo passes through the body that ensure_features(splits) would make now."""
        return sum(len(self.data.split(self._photos_split(split))) * self._views_of(split)
                   for split in splits if self.feature_cache.fresh(split) is None)

    def _views_of(self, split: str) -> int:
        return self.views if split == TRAIN_VIEWS else 1

    @staticmethod
    def _photos_split(split: str) -> str:
        return "train" if split == TRAIN_VIEWS else split

    def _run_body(self, photos: list[Photo], with_head: bool, progress: ProgressFn,
                  should_stop: ShouldStopFn, view: int | None = None) -> SplitFeatures:
        """Pooled body features (or logits, `with_head`) for photos, in order, leaving out unreadable ones: of the
        photos as validated (`view` None), or of their augmented view number `view`, the same for a given seed.

        With a team, each rank runs its contiguous share of the photos and every rank gets all of them back, in
        order (and every rank's failures): each rank then holds what one process alone would have computed, but
        for the augmented views, whose random draws differ by rank."""
        if self.team is None:
            return self._run_body_here(photos, with_head, progress, should_stop, view)
        share = self.team.shard(len(photos))
        whole = len(photos)
        scaled = (lambda n, _: progress(min(whole, n * self.team.size), whole)) if len(share) else progress
        features = self._run_body_here(photos[share.start:share.stop], with_head, scaled, should_stop, view,
                                       rank=self.team.rank)
        parts = self.team.gather([(features.features, features.targets, [share.start + i for i in features.kept],
                                   {p: r for p, r in self.failures.items()})])
        for *_, failures in parts:
            self.failures.update(failures)
        parts = [part for part in parts if part[2]]
        if not parts:
            return self._no_features(len(self.data.classes) if with_head else self.head_width())
        return SplitFeatures(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]),
                             [i for p in parts for i in p[2]])

    def _run_body_here(self, photos: list[Photo], with_head: bool, progress: ProgressFn, should_stop: ShouldStopFn,
                       view: int | None, rank: int = 0) -> SplitFeatures:
        """_run_body in this process; `rank` (a team's) gives each rank its own augmentation draws."""
        transform = valid_transform(self.size) if view is None else train_transform(self.size, self.augmentation)
        dataset = PhotoTensors(photos, self.data.classes, transform, decode_side(self.size))
        outputs, targets, kept = [], [], []
        seed = None if view is None else ((0 if self.seed is None else self.seed) * 7919 + view + rank * 104729) % (1 << 63)
        with torch.random.fork_rng(devices=[]):  # in-process augmentation draws from torch's global generator
            if seed is not None:
                torch.manual_seed(seed)
            batches = list(body_pass(self.network, dataset, self.device, self.batch_size * 2, self.workers,
                                     with_head, progress, should_stop, seed=seed))
        for batch in batches:
            self._record_failures(dataset, batch.failures)
            if batch.indices:
                outputs.append(batch.outputs)
                targets.append(batch.targets)
                kept.extend(batch.indices)
        if not outputs:
            return self._no_features(len(self.data.classes) if with_head else self.head_width())
        return SplitFeatures(torch.cat(outputs), torch.cat(targets), kept)

    @staticmethod
    def _no_features(width: int) -> SplitFeatures:
        return SplitFeatures(torch.empty(0, width), torch.empty(0, dtype=torch.long), [])


def stack_views(views: list[SplitFeatures]) -> SplitFeatures:
    """The views as one (view, photo, feature) tensor, of the photos read in every view: a photo that failed in
    one view (a flaky disk) is left out of all of them."""
    common = set.intersection(*(set(v.kept) for v in views))
    kept = [i for i in views[0].kept if i in common]
    rows = [[dict(zip(v.kept, range(len(v.kept))))[i] for i in kept] for v in views]
    return SplitFeatures(torch.stack([v.features[r] for v, r in zip(views, rows)]), views[0].targets[rows[0]], kept)
