"""Which class folder each photo goes to, before anything is copied or moved: by its label, or by a confident
prediction when the user allows it; a photo that stays where it is says why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lakeview.core.catalog.labels import NONE_OF_THESE, Label
from lakeview.core.placement.copy_or_move import in_class_folder, plan_placement, safe_folder_name

DEFAULT_THRESHOLD = 0.8
"""The least confidence of a prediction that places a photo without a label, unless the user sets another."""


class CatalogFacts(Protocol):
    def label_of(self, path: Path | str) -> Label | None: ...
    def prediction_of(self, path: Path | str) -> tuple[str, list[tuple[str, float]]] | None: ...


@dataclass(frozen=True)
class PhotoFacts:
    """What the catalog says about one photo."""

    path: Path
    label: str | None
    predicted: str | None
    confidence: float | None
    exists: bool


@dataclass(frozen=True)
class PreviewRow:
    source: Path
    why: str
    """What the destination goes by ('label red', 'predicted red (91%)'), or why the photo stays."""
    destination: Path | None
    """None: the photo stays where it is."""


def facts_of(catalog: CatalogFacts, paths: list[Path]) -> list[PhotoFacts]:
    facts = []
    for path in paths:
        label = catalog.label_of(path)
        prediction = catalog.prediction_of(path)
        top = prediction[1][0] if prediction and prediction[1] else (None, None)
        facts.append(PhotoFacts(Path(path), label.label if label else None, top[0], top[1], Path(path).is_file()))
    return facts


def choose_class(facts: PhotoFacts, use_predictions: bool, threshold: float) -> tuple[str | None, str]:
    """(class folder, why); the class is None when the photo stays where it is."""
    if not facts.exists:
        return None, "file not found"
    if facts.label == NONE_OF_THESE:
        return None, "labelled none of these"
    if facts.label is not None:
        return facts.label, f"label {facts.label}"
    if facts.predicted is None or facts.confidence is None:
        return None, "no label, no prediction"
    if not use_predictions:
        return None, "no label"
    if facts.confidence < threshold:
        return None, f"no label; predicted {facts.predicted} only {facts.confidence:.0%}"
    return facts.predicted, f"predicted {facts.predicted} ({facts.confidence:.0%})"


def preview(facts: list[PhotoFacts], into: Path | None, use_predictions: bool, threshold: float) -> list[PreviewRow]:
    """One row per photo, in order. Without `into`, destinations are relative ('red/a.jpg'), unchecked for clashes."""
    decided = []
    for f in facts:
        label, why = choose_class(f, use_predictions, threshold)
        if label is not None and into is not None and in_class_folder(f.path, label, into):
            label, why = None, "already in its class folder"  # placing it would only rename it
        decided.append((f.path, label, why))
    if into is None:
        return [PreviewRow(path, why, None if label is None else Path(safe_folder_name(label)) / path.name)
                for path, label, why in decided]
    planned = iter(plan_placement([(path, label) for path, label, _ in decided if label is not None], into))
    return [PreviewRow(path, why, None if label is None else next(planned).destination) for path, label, why in decided]
