"""Place hints for a whole library: every photo with a GPS position gets what the labelled photos near it say
(a labelled photo is not its own neighbour), kept apart from what its pixels say, and the two combined.

The unlabelled photos' neighbours and disagreement scores are worked out at once, in arrays; a photo's hint, in
words and per class, is made when it is asked for (a labelled photo's neighbours too, unless `every`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lakeview.core.catalog import NONE_OF_THESE, Catalog
from lakeview.core.catalog.gps_rows import PlacedPhoto
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.location.fusion import (combine, disagreement, pixel_matrix, pixel_probabilities, place_matrix,
                                           place_probabilities)
from lakeview.core.location.hints import DEFAULT_K, DEFAULT_RADIUS_KM, PlaceHint, PlaceIndex, closeness
from lakeview.core.location.place_weight import PLAIN, PlaceWeight

CHUNK = 5_000


@dataclass(frozen=True)
class PhotoHint:
    """One photo: what came from the place, from the pixels, and both together."""
    photo: PlacedPhoto
    hint: PlaceHint | None
    """None: no labelled photo within the radius."""
    place: dict[str, float]
    """The place expert (smoothed; uniform without a hint)."""
    pixels: dict[str, float] | None
    """The model's probabilities; None without a prediction."""
    combined: dict[str, float] | None
    """The product of the two (the place's raised to `weight`); None without a prediction."""
    weight: PlaceWeight = PLAIN
    """How much the place counted in `combined`, and where that weight came from."""

    @property
    def disagreement(self) -> float | None:
        """Pixels against place (0 to 1); None unless the photo has both a prediction and a hint."""
        if self.pixels is None or self.hint is None:
            return None
        return disagreement(self.pixels, self.place)


class LibraryHints:
    """The hints of every photo with a position, by catalog id."""

    def __init__(self, photos: Sequence[PlacedPhoto], classes: list[str], radius_km: float, index: PlaceIndex,
                 metres: np.ndarray, which: np.ndarray, asked: np.ndarray, disagreements: np.ndarray,
                 labelled_index: dict[int, int], label_columns: np.ndarray) -> None:
        self.photos = list(photos)
        self.classes = classes
        self.radius_km = radius_km
        self.index = index
        self._metres, self._which, self._asked, self._disagreements = metres, which, asked, disagreements
        self._labelled_index = labelled_index
        self._row = {photo.id: row for row, photo in enumerate(self.photos)}
        self._label_columns = label_columns
        self.weight: PlaceWeight = PLAIN
        """The place's weight in the combined guesses: the plain product until PlaceWeights.weigh sets the library's."""

    def __len__(self) -> int:
        return len(self.photos)

    def ids(self) -> list[int]:
        return [photo.id for photo in self.photos]

    def hint_of(self, photo_id: int | None) -> PlaceHint | None:
        """What the place says of a photo; None for a photo without a position or without a labelled photo near."""
        row = self._row.get(photo_id)
        if row is None:
            return None
        if not self._asked[row]:
            photo = self.photos[row]
            metres, which = self.index.neighbours([photo.latitude], [photo.longitude],
                                                  [self._labelled_index.get(photo.id, -1)])
            return self.index.hint(metres[0], which[0])
        return self.index.hint(self._metres[row], self._which[row])

    def of(self, photo_id: int | None) -> PhotoHint | None:
        """Everything about a photo with a position (None for one without)."""
        row = self._row.get(photo_id)
        if row is None:
            return None
        photo, hint = self.photos[row], self.hint_of(photo_id)
        place = place_probabilities(hint, self.classes)
        pixels = pixel_probabilities(photo.top, self.classes) if photo.top else None
        combined = combine(pixels, place, self.weight.weight) if pixels is not None else None
        return PhotoHint(photo, hint, place, pixels, combined, self.weight)

    def experts(self, photo_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pixels, place, hinted) of photos with a position, in arrays (photos x `classes`): what `of` says of
        each, asked all at once; `hinted` is False where no labelled photo is near (its place row is uniform)."""
        rows = [self._row[i] for i in photo_ids]
        chunk = [self.photos[row] for row in rows]
        metres, which = self.index.neighbours([p.latitude for p in chunk], [p.longitude for p in chunk],
                                              [self._labelled_index.get(p.id, -1) for p in chunk])
        place, total = _place_rows(metres, which, self._label_columns, len(self.classes))
        return pixel_matrix([p.top for p in chunk], self.classes), place, total > 0

    def by_disagreement(self, photo_ids: Sequence[int]) -> list[int]:
        """`photo_ids` with those where pixels and place disagree most first; those without both a prediction
        and a hint keep their order after them."""
        rows = np.array([self._row.get(i, -1) for i in photo_ids], dtype=np.int64)
        scores = np.where(rows >= 0, self._disagreements[rows], np.nan) if len(rows) else np.array([])
        known = ~np.isnan(scores)
        order = np.flatnonzero(known)[np.argsort(-scores[known], kind="stable")]
        ids = np.asarray(photo_ids)
        return [int(i) for i in ids[order]] + [int(i) for i in ids[~known]]


def library_hints(catalog: Catalog, radius_km: float = DEFAULT_RADIUS_KM, k: int = DEFAULT_K,
                  progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
                  every: bool = False) -> LibraryHints:
    """Hints for the photos of the catalog with a GPS position (see `hints_for`)."""
    return hints_for(catalog.placed_photos(), [c for c in catalog.class_names() if c != NONE_OF_THESE],
                     radius_km, k, progress, should_stop, every)


def hints_for(placed: Sequence[PlacedPhoto], classes: Sequence[str], radius_km: float = DEFAULT_RADIUS_KM,
              k: int = DEFAULT_K, progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
              every: bool = False) -> LibraryHints:
    """The labelled photos (of a class, not 'none of these') are the index. The unlabelled photos (`every`: all
    of them) are asked about CHUNK at a time, so a stop is heard within one chunk; a labelled photo, whose hint
    only the inspector and `catalog hints` show, is otherwise asked about when its hint is wanted."""
    classes = list(classes)
    labelled = [p for p in placed if p.label is not None and p.label != NONE_OF_THESE]
    classes += sorted({p.label for p in labelled} - set(classes))
    index = PlaceIndex([p.latitude for p in labelled], [p.longitude for p in labelled],
                       [p.label for p in labelled], k, radius_km)
    column_of = {name: n for n, name in enumerate(classes)}
    label_columns = np.array([column_of[p.label] for p in labelled], dtype=np.int64)
    position = {p.id: n for n, p in enumerate(labelled)}
    metres = np.full((len(placed), k), np.inf)
    which = np.full((len(placed), k), -1, dtype=np.int32)  # 18 MB at 100,000 photos, not 24
    disagreements = np.full(len(placed), np.nan)
    asked = np.array([every or p.label is None for p in placed], dtype=bool)
    rows = np.flatnonzero(asked)
    for start in range(0, len(rows), CHUNK):
        if should_stop():
            raise Stopped()
        chunk_rows = rows[start:start + CHUNK]
        chunk = [placed[row] for row in chunk_rows]
        near, who = index.neighbours([p.latitude for p in chunk], [p.longitude for p in chunk],
                                     [position.get(p.id, -1) for p in chunk])
        metres[chunk_rows], which[chunk_rows] = near, who
        disagreements[chunk_rows] = _disagreements(chunk, near, who, label_columns, classes)
        progress(min(start + CHUNK, len(rows)), len(rows))
    return LibraryHints(placed, classes, radius_km, index, metres, which, asked, disagreements, position, label_columns)


def _disagreements(chunk: Sequence[PlacedPhoto], metres: np.ndarray, which: np.ndarray, label_columns: np.ndarray,
                   classes: list[str]) -> np.ndarray:
    """PhotoHint.disagreement of each photo of the chunk, in arrays; NaN where it has none."""
    place, total = _place_rows(metres, which, label_columns, len(classes))
    pixels = pixel_matrix([p.top for p in chunk], classes)
    scores = 0.5 * np.abs(pixels - place).sum(axis=1)
    scores[(total <= 0) | ~np.array([bool(p.top) for p in chunk], dtype=bool)] = np.nan
    return scores


def _place_rows(metres: np.ndarray, which: np.ndarray, label_columns: np.ndarray,
                classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The place expert of each row of `PlaceIndex.neighbours` (photos x classes), and each row's summed closeness
    (0: no labelled photo near)."""
    kept = which >= 0
    weights = np.where(kept, closeness(np.where(kept, metres, 0.0)), 0.0)
    per_class = np.zeros((len(which), classes))
    rows = np.repeat(np.arange(len(which)), which.shape[1])
    if len(label_columns):  # else no photo is labelled yet, and none has a neighbour
        np.add.at(per_class, (rows, label_columns[np.where(kept, which, 0)].ravel()), weights.ravel())
    total, squares = weights.sum(axis=1), (weights ** 2).sum(axis=1)
    effective = np.divide(total ** 2, squares, out=np.zeros_like(total), where=squares > 0)
    return place_matrix(per_class, effective), total
