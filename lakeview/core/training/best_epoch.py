"""The best epoch of a phase: the network's weights at the lowest validation error, put back when the phase
ends, and the rule that ends a phase once more epochs stop paying (no gain, or no time left)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch.nn as nn

from lakeview.core.training.fit_records import EpochStats, PhaseEnd


@dataclass(frozen=True)
class EarlyStopping:
    patience: int | None = 1
    """Epochs in a row without a gain on the validation photos before the phase ends; None: never."""
    deadline: float | None = None
    """A time.perf_counter() value: an epoch that would not end by then is not started."""

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()


def _score(stats: EpochStats) -> tuple[float, float] | None:
    """Lower is better: the error rate, then the loss (which breaks ties between equal error counts)."""
    if stats.error_rate is None:
        return None
    return stats.error_rate, stats.valid_loss if stats.valid_loss is not None else float("inf")


class BestEpoch:
    """Remembers the weights of the best epoch seen, starting from `baseline` (how the network did when the
    phase began; its weights are copied now), and puts them back with `restore`."""

    def __init__(self, network: nn.Module, baseline: EpochStats | None = None) -> None:
        self.network = network
        self.best: EpochStats | None = None
        self._weights: dict | None = None
        self._last_is_best = True
        self.epochs_without_gain = 0
        if baseline is not None and _score(baseline) is not None:
            self._keep(baseline)

    def offer(self, stats: EpochStats) -> bool:
        """Record a finished epoch; True when it is the best so far (its weights are kept)."""
        score = _score(stats)
        if score is None:
            self._last_is_best = False
            return False
        if self.best is None or score < _score(self.best):
            self._keep(stats)
            self.epochs_without_gain = 0
            return True
        self._last_is_best = False
        self.epochs_without_gain += 1
        return False

    def restore(self) -> EpochStats | None:
        """Put the best epoch's weights back if a later epoch changed them; the epoch kept (None: the last)."""
        if self.best is None or self._last_is_best:
            return None
        self.network.load_state_dict(self._weights)
        self._last_is_best = True
        return self.best

    def _keep(self, stats: EpochStats) -> None:
        self.best = stats
        self._weights = {name: value.detach().clone() for name, value in self.network.state_dict().items()}
        self._last_is_best = True


def why_end(best: BestEpoch, rule: EarlyStopping, last_epoch_seconds: float, epochs_left: int) -> PhaseEnd | None:
    """Whether a phase with `epochs_left` more epochs ends now."""
    if epochs_left <= 0:
        return None
    if rule.patience is not None and best.best is not None and best.epochs_without_gain >= rule.patience:
        return PhaseEnd.NO_GAIN
    left = rule.time_left()
    if left is not None and left < last_epoch_seconds:
        return PhaseEnd.TIME_BUDGET
    return None
