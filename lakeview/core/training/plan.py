"""The training recipe: how many frozen (head-only) then unfrozen epochs, at which learning rates.

With the size, batch and augmentation settings the training panel and the CLI fill in; imports no torch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from lakeview.core.models.architectures import DEFAULT_ARCH, DEFAULT_HEAD
from lakeview.core.threads import training_workers

LearningRate = float | slice

DEFAULT_LR = 3e-3
DEFAULT_UNFROZEN_LR = 1e-4
DEFAULT_VIEWS = 1
QUICK_SECONDS = 60.0
"""The app's "Quick (about a minute)" time budget."""
MAX_LR = 10.0
GOOD_STARTS = f"{DEFAULT_LR:g} frozen and {DEFAULT_UNFROZEN_LR:g} unfrozen are good starts"


@dataclass
class TrainingPlan:
    arch: str = DEFAULT_ARCH
    weights: str = "imagenet"
    """'imagenet' (torchvision's, downloaded once), a .pth state_dict file, or 'none'."""
    head: str = DEFAULT_HEAD
    size: int = 224
    batch_size: int = 16
    flip: bool = True
    augment: bool = True
    frozen_epochs: int = 8
    """Head epochs on the cached views: a fraction of a second each (benchmarks/fast_recipe.py)."""
    unfrozen_epochs: int = 4
    lr: float = DEFAULT_LR
    unfrozen_lr: float = DEFAULT_UNFROZEN_LR
    """Peak rate of the head once unfrozen; the first layer group gets a tenth of it, spread geometrically."""
    views: int = DEFAULT_VIEWS
    """Augmented views of each training photo whose body features the frozen phase computes once and trains the
    head on; 0 runs the body over freshly augmented photos every frozen epoch (slower, no more accurate). On
    hymenoptera over 3 seeds, 1 view and 8 head epochs erred least (3.3%; 2 views 4.1%, 4 views 4.4%)."""
    patience: int | None = 1
    """Unfrozen epochs in a row without a gain on the validation photos before the phase ends (the best epoch is
    kept either way); None runs them all."""
    time_budget: float | None = None
    """Seconds the whole training may take: the unfrozen phase gets only the epochs that fit."""
    seed: int | None = 42
    split_by_similarity: bool = True
    """Keep each group of near-duplicate photos (bursts, edited copies) on one side of the train/validation split,
    so the validation error is not flattered by photos the model has all but seen (README, "Honest splits")."""
    device: str = "auto"
    workers: int = field(default_factory=training_workers)
    """DataLoader processes; 0 loads photos in the training process itself."""

    @property
    def total_epochs(self) -> int:
        return self.frozen_epochs + self.unfrozen_epochs

    def phases(self) -> list[tuple[int, LearningRate, bool]]:
        """(epochs, learning rate, unfrozen) for each phase that has epochs."""
        phases = [(self.frozen_epochs, self.lr, False),
                  (self.unfrozen_epochs, slice(self.unfrozen_lr / 10, self.unfrozen_lr), True)]
        return [p for p in phases if p[0] > 0]

    def check(self) -> None:
        if self.frozen_epochs < 0 or self.unfrozen_epochs < 0 or self.total_epochs == 0:
            raise ValueError("nothing to train: give the frozen and/or unfrozen phase a positive number of epochs")
        if not (0 < self.lr < MAX_LR and 0 < self.unfrozen_lr < MAX_LR):
            raise ValueError(f"learning rates must be above 0 and below {MAX_LR:g} ({GOOD_STARTS})")
        if self.views < 0:
            raise ValueError("the number of augmented views must be 0 or more")
        if self.patience is not None and self.patience < 1:
            raise ValueError("patience must be at least one epoch")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError("a time budget must be more than 0 seconds")


@dataclass(frozen=True)
class LabelledFolder:
    """Photos to train on: class folders, optionally inside train/ valid/ test/ (fast.ai's layout)."""
    folder: Path
    valid_pct: float = 0.2
    """The share held out to validate on, when there is no valid/ folder."""
    seed: int | None = 42


def spread_learning_rates(lr: LearningRate, groups: int) -> list[float]:
    """fast.ai's convention: a float gives every group that rate; slice(lo, hi) spreads lo..hi geometrically;
    slice(hi) gives the last group hi and the others hi/10."""
    if isinstance(lr, slice):
        hi = float(lr.stop)
        if lr.start is None:
            return [hi / 10] * (groups - 1) + [hi]
        lo = float(lr.start)
        if groups == 1:
            return [hi]
        ratio = (hi / lo) ** (1 / (groups - 1))
        return [lo * ratio ** i for i in range(groups)]
    return [float(lr)] * groups


def quick(plan: TrainingPlan) -> TrainingPlan:
    """The app's "Quick (about a minute)": the plan within QUICK_SECONDS, ending the unfrozen phase at its first
    epoch without a gain."""
    return replace(plan, time_budget=QUICK_SECONDS, patience=1)


def thorough(plan: TrainingPlan) -> TrainingPlan:
    """The app's "Thorough": no time budget, and the unfrozen phase goes on through one epoch without a gain."""
    return replace(plan, time_budget=None, patience=2)
