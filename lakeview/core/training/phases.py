"""Running a plan's frozen then unfrozen phases on the learner it describes, with progress across both.

The app and the CLI train through here; each finished epoch is told as an EpochReport."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from lakeview.core.datasets.dataset import LabelledPhotos
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.training.fit_records import EpochStats
from lakeview.core.training.learner import Learner
from lakeview.core.training.plan import TrainingPlan
from lakeview.core.models.transforms import Augmentation

if TYPE_CHECKING:
    import torch.nn as nn

@dataclass(frozen=True)
class EpochReport:
    stats: EpochStats
    done: int
    """Epochs finished so far, over all phases."""
    total: int
    eta_seconds: float
    """Remaining epochs at this phase's mean epoch time (an unfrozen epoch takes longer than a frozen one)."""


def make_learner(data: LabelledPhotos, plan: TrainingPlan, weights_progress: ProgressFn = no_progress,
                 should_stop: ShouldStopFn = never_stop, body: nn.Module | None = None) -> Learner:
    """The learner the plan describes, on `body` when given (then the plan's weights are not read). Raises
    WeightsUnavailable when the weights cannot be had (offline, bad file), Stopped when stopped."""
    return Learner(data, arch=plan.arch, weights=plan.weights, head=plan.head, size=plan.size,
                   batch_size=plan.batch_size, augmentation=Augmentation(flip=plan.flip, enabled=plan.augment),
                   device=plan.device, seed=plan.seed, workers=plan.workers, body=body,
                   weights_progress=weights_progress, should_stop=should_stop)


def train(learner: Learner, plan: TrainingPlan, progress: ProgressFn = no_progress,
          should_stop: ShouldStopFn = never_stop, on_epoch: Callable[[EpochReport], None] | None = None,
          on_phase: Callable[[bool], None] | None = None) -> bool:
    """Run the plan's phases on `learner`; progress counts training batches across all of them. With
    `on_phase`, told as each phase starts whether it is the unfrozen one, progress counts each phase's training
    batches on its own instead. True when stopped early (the learner then holds a half-trained network: don't
    save it)."""
    plan.check()
    total = plan.total_epochs
    finished = 0
    for epochs, lr, unfrozen in plan.phases():
        if on_phase is not None:
            on_phase(unfrozen)
        if unfrozen:
            learner.unfreeze()
        before, phase_started = finished, time.perf_counter()

        def phase_progress(done: int, steps: int, before: int = before, epochs: int = epochs) -> None:
            per_epoch = max(steps // epochs, 1)  # every epoch of every phase runs the same batches
            progress(before * per_epoch + done, total * per_epoch)

        def epoch_done(stats: EpochStats, before: int = before, started: float = phase_started) -> None:
            nonlocal finished
            finished += 1
            per_epoch = (time.perf_counter() - started) / (finished - before)
            if on_epoch is not None:
                on_epoch(EpochReport(stats, finished, total, per_epoch * (total - finished)))

        result = learner.fit_one_cycle(epochs, lr, progress=progress if on_phase else phase_progress,
                                       should_stop=should_stop,
                                       on_epoch=epoch_done)
        finished = before + epochs
        if result.stopped:
            return True
    return False

