"""How a model does on labelled photos: error rate, per-class accuracy, confusion matrix, top losses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class TopLoss:
    path: Path
    predicted: str
    actual: str
    loss: float
    prob_actual: float
    prob_predicted: float


@dataclass
class Interpretation:
    classes: list[str]
    paths: list[Path]
    probs: torch.Tensor
    """N x C class probabilities."""
    targets: torch.Tensor
    """N actual class indices."""

    @classmethod
    def from_predictions(cls, classes: Sequence[str], paths: Sequence[Path], probs: torch.Tensor,
                         targets: torch.Tensor) -> "Interpretation":
        keep = targets >= 0
        kept_paths = [Path(p) for p, k in zip(paths, keep.tolist()) if k]
        return cls(list(classes), kept_paths, probs[keep].float(), targets[keep].long())

    @property
    def predicted(self) -> torch.Tensor:
        return self.probs.argmax(1) if len(self.probs) else torch.empty(0, dtype=torch.long)

    @property
    def losses(self) -> torch.Tensor:
        if not len(self.probs):
            return torch.empty(0)
        return F.nll_loss(torch.log(self.probs.clamp_min(1e-12)), self.targets, reduction="none")

    @property
    def error_rate(self) -> float:
        if not len(self.targets):
            return float("nan")
        return (self.predicted != self.targets).float().mean().item()

    def confusion_matrix(self) -> list[list[int]]:
        """Rows are the actual classes, columns the predicted ones."""
        n = len(self.classes)
        matrix = torch.zeros(n, n, dtype=torch.long)
        if len(self.targets):
            matrix.index_put_((self.targets, self.predicted), torch.ones_like(self.targets), accumulate=True)
        return matrix.tolist()

    def accuracy_per_class(self) -> dict[str, float | None]:
        matrix = self.confusion_matrix()
        result = {}
        for i, name in enumerate(self.classes):
            total = sum(matrix[i])
            result[name] = matrix[i][i] / total if total else None
        return result

    def most_confused(self, min_count: int = 1) -> list[tuple[str, str, int]]:
        """(actual, predicted, count) off the diagonal, most frequent first."""
        matrix = self.confusion_matrix()
        pairs = [
            (self.classes[a], self.classes[p], matrix[a][p])
            for a in range(len(self.classes))
            for p in range(len(self.classes))
            if a != p and matrix[a][p] >= min_count
        ]
        return sorted(pairs, key=lambda t: (-t[2], t[0], t[1]))

    def top_losses(self, k: int = 9) -> list[TopLoss]:
        losses = self.losses
        order = torch.argsort(losses, descending=True)[:k].tolist()
        predicted = self.predicted
        return [
            TopLoss(
                path=self.paths[i],
                predicted=self.classes[int(predicted[i])],
                actual=self.classes[int(self.targets[i])],
                loss=float(losses[i]),
                prob_actual=float(self.probs[i, self.targets[i]]),
                prob_predicted=float(self.probs[i, predicted[i]]),
            )
            for i in order
        ]

    def report(self, top: int = 9) -> str:
        """A plain-text summary for the terminal."""
        width = max(len(c) for c in self.classes) if self.classes else 5
        lines = [f"error rate: {self.error_rate:.2%} on {len(self.targets)} photos", "", "confusion matrix (rows: actual, columns: predicted)"]
        lines.append(" " * (width + 2) + "  ".join(f"{c[:8]:>8}" for c in self.classes))
        for name, row in zip(self.classes, self.confusion_matrix()):
            lines.append(f"{name:<{width}}  " + "  ".join(f"{v:>8}" for v in row))
        lines += ["", "accuracy per class"]
        for name, acc in self.accuracy_per_class().items():
            lines.append(f"  {name:<{width}}  {'-' if acc is None else f'{acc:.1%}'}")
        confused = self.most_confused()
        if confused:
            lines += ["", "most confused (actual -> predicted: count)"]
            lines += [f"  {a} -> {p}: {n}" for a, p, n in confused[:10]]
        lines += ["", "top losses (prediction / actual / loss / probability of actual)"]
        for t in self.top_losses(top):
            lines.append(f"  {t.predicted} / {t.actual} / {t.loss:.2f} / {t.prob_actual:.2f}  {t.path}")
        return "\n".join(lines)
