"""What a fit reports: each epoch's figures, whether it was stopped or ended early, the epoch it kept, and which
photos failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


@dataclass
class EpochStats:
    epoch: int
    phase: str
    train_loss: float
    valid_loss: float | None
    error_rate: float | None
    seconds: float
    lr_max: float

    def to_dict(self) -> dict:
        return asdict(self)


class PhaseEnd(Enum):
    """Why a phase ended before its last epoch."""
    NO_GAIN = "no gain"
    TIME_BUDGET = "time budget"


@dataclass
class FitResult:
    epochs: list[EpochStats] = field(default_factory=list)
    stopped: bool = False
    failures: dict[str, str] = field(default_factory=dict)
    ended: PhaseEnd | None = None
    """Why the fit ended before its last epoch (None: it ran them all, or was stopped)."""
    kept: EpochStats | None = None
    """The earlier epoch whose weights were put back because it did best (None: the last epoch's are kept)."""
