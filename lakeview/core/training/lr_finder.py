"""The learning-rate finder: a sweep of growing rates over a learner's training steps, and a suggested rate.

The network is restored after; the loss is smoothed, and fast.ai's 'valley' rule picks the rate."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress

if TYPE_CHECKING:
    from lakeview.core.training.learner import Learner


@dataclass
class LRFinderResult:
    lrs: list[float]
    losses: list[float]
    """Smoothed (exponential moving average, debiased) loss at each learning rate."""
    raw_losses: list[float]
    suggestion: float | None
    stopped: bool = False

    def to_csv(self) -> str:
        lines = ["lr,loss,raw_loss"] + [f"{lr:.6g},{s:.6g},{r:.6g}" for lr, s, r in zip(self.lrs, self.losses, self.raw_losses)]
        return "\n".join(lines) + "\n"


@dataclass
class LRSweep:
    start_lr: float = 1e-7
    end_lr: float = 10.0
    num_it: int = 100
    beta: float = 0.98
    divergence: float = 4.0
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    _average: float = 0.0
    _best: float = math.inf

    def lr_at(self, iteration: int) -> float:
        if self.num_it <= 1:
            return self.start_lr
        return self.start_lr * (self.end_lr / self.start_lr) ** (iteration / (self.num_it - 1))

    def record(self, lr: float, loss: float) -> bool:
        """Add one step; True when the loss has diverged and the sweep should end."""
        self._average = self.beta * self._average + (1 - self.beta) * loss
        smoothed = self._average / (1 - self.beta ** (len(self.losses) + 1))
        self.lrs.append(lr)
        self.raw.append(loss)
        self.losses.append(smoothed)
        self._best = min(self._best, smoothed)
        return not math.isfinite(loss) or (len(self.losses) > 10 and smoothed > self.divergence * self._best)

    def result(self, stopped: bool = False) -> LRFinderResult:
        return LRFinderResult(list(self.lrs), list(self.losses), list(self.raw), suggest_lr(self.lrs, self.losses), stopped)


def lr_find(
    learner: Learner,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_it: int = 100,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> LRFinderResult:
    """Train with an exponentially growing rate until the loss diverges; the network is restored after."""
    saved_state = copy.deepcopy(learner.network.state_dict())
    cached = learner.uses_feature_cache
    if cached:
        learner.ensure_features((learner.cached_train_split,), no_progress, should_stop)
    sweep = LRSweep(start_lr, end_lr, num_it)
    optimizer = learner.make_optimizer(start_lr)
    stopped = diverged = False
    try:
        learner.set_train_mode(cached)
        epoch = 0
        while len(sweep.lrs) < num_it and not (stopped or diverged):
            before = len(sweep.lrs)
            for inputs, targets in learner.epoch_batches(cached, epoch):
                if should_stop():
                    stopped = True
                    break
                lr = sweep.lr_at(len(sweep.lrs))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                diverged = sweep.record(lr, float(learner.train_step(inputs, targets, optimizer, cached)))
                progress(len(sweep.lrs), num_it)
                if diverged or len(sweep.lrs) >= num_it:
                    break
            if len(sweep.lrs) == before:
                break
            epoch += 1
    finally:
        learner.network.load_state_dict(saved_state)
    return sweep.result(stopped)


def suggest_lr(lrs: list[float], losses: list[float]) -> float | None:
    """fast.ai's 'valley' rule: in the longest stretch where the loss keeps falling, a rate two thirds of
    the way down the slope (before the loss bottoms out and training turns unstable)."""
    n = len(losses)
    if n < 5:
        return None
    run = [1] * n
    best_end = 0
    best_start = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run[i] < run[j] + 1:
                run[i] = run[j] + 1
        if run[i] > run[best_end]:
            best_end = i
            best_start = best_end - run[best_end]
    third = (best_end - best_start) / 3
    index = min(n - 1, max(0, best_start + int(third) + int(third / 2)))
    return float(lrs[index])
