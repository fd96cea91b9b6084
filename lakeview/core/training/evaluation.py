"""How a model does on labelled photos: classifying them into an Interpretation, and its figures.

Written once for a saved model (`lakeview evaluate`, the app's check on held-out photos) and for a learner's
validation photos: error rate, per-class accuracy, confusion matrix, most confused pairs, top losses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import torch
import torch.nn.functional as F

from lakeview.core.datasets.dataset import Photo
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress

if TYPE_CHECKING:
    from lakeview.core.models.inference import Failure
    from lakeview.core.models.model_file import SavedModel
    from lakeview.core.training.learner import Learner


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

    @classmethod
    def of_labels(cls, classes: Sequence[str], paths: Sequence[Path], probs: torch.Tensor,
                  labels: Sequence[str]) -> "Interpretation":
        """From a model's probability rows over its `classes` and each photo's actual class name. A class the
        model does not know is added with no probability, so that its photos count as wrong."""
        known = list(classes)
        everything = known + sorted({str(label) for label in labels} - set(known))
        index = {name: i for i, name in enumerate(everything)}
        rows = F.pad(probs.float(), (0, len(everything) - len(known)))
        targets = torch.tensor([index[str(label)] for label in labels], dtype=torch.long)
        return cls(everything, [Path(p) for p in paths], rows, targets)

    @property
    def error_rate_or_none(self) -> float | None:
        """The error rate, or None without any photos."""
        return self.error_rate if len(self.targets) else None

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
        """The `k` worst photos, each once: a photo listed twice among the validation photos (a duplicate file
        entry) shows at its worst loss only."""
        losses = self.losses
        order, seen = [], set()
        for i in torch.argsort(losses, descending=True).tolist():
            if self.paths[i] not in seen:
                seen.add(self.paths[i])
                order.append(i)
            if len(order) == k:
                break
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

    def predictions(self) -> list[tuple[Path, list[tuple[str, float]]]]:
        """Each photo's top classes as the model predicted them (what the catalog stores for a classified photo)."""
        from lakeview.core.models.inference import top_classes

        return [(path, top) for path, top in zip(self.paths, top_classes(self.probs, self.classes)) if top]

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


def classify_labelled(
    model: SavedModel,
    photos: Sequence[Photo],
    batch_size: int = 32,
    tta: bool = False,
    device: str | torch.device | None = None,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    unknown_classes_are_wrong: bool = False,
) -> tuple[Interpretation | None, list[Failure]]:
    """Classify photos labelled with classes the model knows: how it does on those it could classify (None when
    none could be), and the photos that could not be, in order. After a stop, what was classified so far.
    A photo of a class the model does not know raises ValueError, or with `unknown_classes_are_wrong` counts as
    a wrong answer (a new class the model could not have learned)."""
    from lakeview.core.models.inference import Failure, classify_files

    index = {name: i for i, name in enumerate(model.classes)}
    unknown = sorted({str(p.label) for p in photos if p.label not in index})
    if unknown and not unknown_classes_are_wrong:
        raise ValueError(f"the model does not know the classes {unknown}")
    paths, rows, labels, failures = [], [], [], []
    results = classify_files(model, [p.path for p in photos], batch_size=batch_size, top_k=len(model.classes),
                             tta=tta, device=device, total=len(photos), progress=progress, should_stop=should_stop)
    for result, photo in zip(results, photos):  # results first, so that the last batch's progress is told
        if isinstance(result, Failure):
            failures.append(result)
            continue
        row = torch.zeros(len(model.classes))
        for name, probability in result.top:
            row[index[name]] = probability
        paths.append(photo.path)
        rows.append(row)
        labels.append(photo.label)
    if not paths:
        return None, failures
    return Interpretation.of_labels(model.classes, paths, torch.stack(rows), labels), failures


def interpretation_of(learner: Learner, progress: ProgressFn = no_progress,
                      should_stop: ShouldStopFn = never_stop) -> Interpretation | None:
    """How the learner's network does on its validation photos (None when there are none)."""
    if not learner.data.split("valid"):
        return None
    predictions = learner.predict("valid", progress, should_stop)
    return Interpretation.from_predictions(learner.data.classes, [p.path for p in predictions.photos],
                                           predictions.probs, predictions.targets)


def paths_of(interpretation: Interpretation, actual: str, predicted: str) -> list[Path]:
    """The photos of class `actual` that the model called `predicted` (one confusion-matrix cell)."""
    a, p = interpretation.classes.index(actual), interpretation.classes.index(predicted)
    chosen = (interpretation.targets == a) & (interpretation.predicted == p)
    return [path for path, keep in zip(interpretation.paths, chosen.tolist()) if keep]
