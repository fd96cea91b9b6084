"""Running a plan's frozen then unfrozen phases on the learner it describes, with progress across both.

The app and the CLI train through here; each finished epoch is told as an EpochReport, and each phase that did
not simply run its epochs (no gain, no time left) as a PhaseSummary. The unfrozen phase keeps its best epoch."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from lakeview.core.datasets.dataset import LabelledPhotos
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.training.best_epoch import EarlyStopping
from lakeview.core.training.error_figures import error_text
from lakeview.core.training.fit_records import EpochStats, PhaseEnd
from lakeview.core.training.learner import Learner
from lakeview.core.training.plan import TrainingPlan
from lakeview.core.models.transforms import Augmentation

if TYPE_CHECKING:
    import torch.nn as nn

    from lakeview.core.distributed import Team

TRAIN_STEP_COST = 3
"""A training step through the whole network costs about three forward passes (forward, then backward)."""


@dataclass(frozen=True)
class EpochReport:
    stats: EpochStats
    done: int
    """Epochs finished so far, over all phases."""
    total: int
    eta_seconds: float
    """Remaining epochs at this phase's mean epoch time (an unfrozen epoch takes longer than a frozen one)."""


@dataclass(frozen=True)
class PhaseSummary:
    """How a phase ended when it did not simply run its planned epochs."""
    unfrozen: bool
    planned: int
    ran: int
    ended: PhaseEnd | None
    """NO_GAIN or TIME_BUDGET; None: it ran its planned epochs (and kept an earlier one), or, with `ran` 0, the
    budget left no time for the phase at all."""
    kept: EpochStats | None
    """The earlier epoch whose weights were put back (None: the last epoch's are kept)."""
    valid_photos: int

    def describe(self) -> str:
        name = "Unfrozen phase" if self.unfrozen else "Frozen phase"
        if self.ran == 0:
            return f"{name} skipped: the time budget was spent before it could run one epoch"
        if self.ended is None:
            why = f"{name} ran its {self.ran} epochs"
        elif self.ended is PhaseEnd.NO_GAIN:
            why = f"{name} ended after {self.ran} of {self.planned} epochs: no gain on the validation photos"
        else:
            why = f"{name} ended after {self.ran} of {self.planned} epochs to stay within the time budget"
        if self.kept is None:
            return why
        error = error_text(self.kept.error_rate, self.valid_photos)
        return f"{why}; kept the weights of epoch {self.kept.epoch} ({error}), the best"


def make_learner(data: LabelledPhotos, plan: TrainingPlan, weights_progress: ProgressFn = no_progress,
                 should_stop: ShouldStopFn = never_stop, body: nn.Module | None = None,
                 team: Team | None = None) -> Learner:
    """The learner the plan describes, on `body` when given (then the plan's weights are not read); with a
    `team` of torchrun ranks, on the team's device, each rank with its share of the work. Raises
    WeightsUnavailable when the weights cannot be had (offline, bad file), Stopped when stopped."""
    return Learner(data, arch=plan.arch, weights=plan.weights, head=plan.head, size=plan.size,
                   batch_size=plan.batch_size, augmentation=Augmentation(flip=plan.flip, enabled=plan.augment),
                   device=plan.device if team is None else team.device, seed=plan.seed, workers=plan.workers,
                   body=body, views=plan.views, weights_progress=weights_progress, should_stop=should_stop,
                   team=team)


def train(learner: Learner, plan: TrainingPlan, progress: ProgressFn = no_progress,
          should_stop: ShouldStopFn = never_stop, on_epoch: Callable[[EpochReport], None] | None = None,
          on_phase: Callable[[bool], None] | None = None,
          on_phase_end: Callable[[PhaseSummary], None] | None = None) -> bool:
    """Run the plan's phases on `learner`. Progress goes from 0 to 1 over both phases, each phase's share its
    estimated cost; with `on_phase`, told as each phase starts whether it is the unfrozen one, progress counts
    each phase on its own instead. The unfrozen phase runs while it pays and within the plan's time budget, and
    leaves the network with its best epoch's weights. True when stopped early (the learner then holds a
    half-trained network: don't save it)."""
    plan.check()
    started = time.perf_counter()
    deadline = None if plan.time_budget is None else started + plan.time_budget
    phases = plan.phases()
    shares = _shares(learner, phases)
    total = plan.total_epochs
    finished = 0
    for index, (epochs, lr, unfrozen) in enumerate(phases):
        if on_phase is not None:
            on_phase(unfrozen)
        if unfrozen:
            learner.unfreeze()
        planned = epochs
        if unfrozen and deadline is not None:
            epochs = _epochs_that_fit(learner, epochs, deadline)
            if learner.team is not None:  # the clock differs between ranks; rank 0's estimate holds
                epochs = learner.team.leaders(epochs)
            if epochs == 0:
                if on_phase_end is not None:
                    on_phase_end(PhaseSummary(True, planned, 0, None, None, len(learner.data.valid)))
                break
        before, phase_started = finished, time.perf_counter()
        offset, share = sum(shares[:index]), shares[index]

        def phase_progress(done: int, steps: int, offset: float = offset, share: float = share) -> None:
            progress(round(1000 * (offset + share * min(done / max(steps, 1), 1.0))), 1000)

        def epoch_done(stats: EpochStats, before: int = before, started: float = phase_started) -> None:
            nonlocal finished
            finished += 1
            per_epoch = (time.perf_counter() - started) / (finished - before)
            if on_epoch is not None:
                on_epoch(EpochReport(stats, finished, total, per_epoch * (before + epochs - finished)))

        rule = EarlyStopping(plan.patience, deadline) if unfrozen else None
        baseline = learner.history[-1] if unfrozen and learner.history else None
        result = learner.fit_one_cycle(epochs, lr, progress=progress if on_phase else phase_progress,
                                       should_stop=should_stop, on_epoch=epoch_done,
                                       early_stopping=rule, baseline=baseline)
        finished = before + len(result.epochs)
        if result.stopped:
            return True
        if (result.ended is not None or result.kept is not None or epochs < planned) and on_phase_end is not None:
            ended = result.ended or (PhaseEnd.TIME_BUDGET if epochs < planned else None)
            on_phase_end(PhaseSummary(unfrozen, planned, len(result.epochs), ended, result.kept,
                                      len(learner.data.valid)))
    if on_phase is None:
        progress(1000, 1000)
    return False


def _shares(learner: Learner, phases: list[tuple[int, object, bool]]) -> list[float]:
    """Each phase's share of the work, in forward passes of a photo through the body."""
    train, valid = len(learner.data.train), len(learner.data.valid)
    costs = []
    for epochs, _, unfrozen in phases:
        if unfrozen:
            costs.append(epochs * (TRAIN_STEP_COST * train + valid))
        elif learner.uses_feature_cache:
            costs.append(max(learner.views, 1) * train + valid)
        else:
            costs.append(epochs * (train + valid))
    whole = sum(costs) or 1
    return [cost / whole for cost in costs]


def _epochs_that_fit(learner: Learner, epochs: int, deadline: float) -> int:
    """How many unfrozen epochs fit before `deadline`, at the body's measured speed (all of them, unmeasured)."""
    if learner.body_rate is None:
        return epochs
    train, valid = len(learner.data.train), len(learner.data.valid)
    epoch_seconds = (TRAIN_STEP_COST * train + valid) / learner.body_rate
    return max(0, min(epochs, math.floor((deadline - time.perf_counter()) / epoch_seconds)))
