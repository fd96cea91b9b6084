"""Predicting a folder of test photos: each photo classified by a model, beside the class its path names (its
folder, else its file name; see datasets.actual_label), and how often the two agree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from lakeview.core.datasets.actual_label import actual_label
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress

if TYPE_CHECKING:
    from lakeview.core.models.model_file import SavedModel


@dataclass(frozen=True)
class PhotoResult:
    """One test photo: the class its path names and the model's prediction."""

    path: Path
    actual: str | None
    """The class the path names (folder, else file name), None when it names none."""
    predicted: str | None
    confidence: float | None
    reason: str | None = None
    """Why the file could not be read; then there is no prediction."""

    @property
    def correct(self) -> bool | None:
        if self.actual is None or self.predicted is None:
            return None
        return self.actual == self.predicted


def predict_folder(model: SavedModel, folder: Path, progress: ProgressFn = no_progress,
                   should_stop: ShouldStopFn = never_stop) -> Iterator[PhotoResult]:
    """One result per image under `folder` (recursively): first the files and folders that could not be listed,
    then every image in order. Progress counts the images classified; stops early when `should_stop()`."""
    from lakeview.core.models.inference import Prediction, classify_files
    from lakeview.core.photos.files import iter_image_files

    errors: list[tuple[Path, str]] = []
    paths = list(iter_image_files(Path(folder), True, errors))
    for path, reason in errors:
        yield PhotoResult(path, None, None, None, reason)
    for result in classify_files(model, paths, total=len(paths), progress=progress, should_stop=should_stop):
        actual = actual_label(result.path, model.classes)
        if isinstance(result, Prediction):
            yield PhotoResult(result.path, actual, result.label, result.confidence)
        else:
            yield PhotoResult(result.path, actual, None, None, result.reason)


@dataclass(frozen=True)
class FolderScore:
    photos: int
    judged: int
    """Photos with a known class that were predicted (an unreadable photo is neither right nor wrong)."""
    right: int
    unreadable: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.judged if self.judged else None


def score(results: Iterable[PhotoResult]) -> FolderScore:
    results = list(results)
    judged = [r.correct for r in results if r.correct is not None]
    return FolderScore(len(results), len(judged), sum(judged), sum(1 for r in results if r.reason is not None))


def summary(results: Iterable[PhotoResult]) -> str:
    """'N photos, M with a known class, accuracy X% (c of M)', and how many were unreadable if any."""
    figures = score(results)
    text = f"{figures.photos} photos, {figures.judged} with a known class, accuracy "
    text += (f"{figures.accuracy:.1%} ({figures.right} of {figures.judged})" if figures.accuracy is not None
             else "–")
    return text + (f"; {figures.unreadable} unreadable" if figures.unreadable else "")
