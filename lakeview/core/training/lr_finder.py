"""The learning-rate finder's bookkeeping: an exponential sweep, a smoothed loss, and a suggested rate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


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
