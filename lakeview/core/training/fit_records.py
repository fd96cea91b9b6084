"""What a fit reports: each epoch's figures, and whether the fit was stopped (and which photos failed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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


@dataclass
class FitResult:
    epochs: list[EpochStats] = field(default_factory=list)
    stopped: bool = False
    failures: dict[str, str] = field(default_factory=dict)
