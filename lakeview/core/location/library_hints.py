"""Place hints for a whole library: every photo with a GPS position gets what the labelled photos near it say
(a labelled photo is not its own neighbour), kept apart from what its pixels say, and the two combined."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lakeview.core.catalog import NONE_OF_THESE, Catalog
from lakeview.core.catalog.gps_rows import PlacedPhoto
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.location.fusion import combine, disagreement, pixel_probabilities, place_probabilities
from lakeview.core.location.hints import DEFAULT_K, DEFAULT_RADIUS_KM, PlaceHint, PlaceIndex

CHUNK = 2_000


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
    """The product of the two; None without a prediction."""

    @property
    def disagreement(self) -> float | None:
        """Pixels against place (0 to 1); None unless the photo has both a prediction and a hint."""
        if self.pixels is None or self.hint is None:
            return None
        return disagreement(self.pixels, self.place)


class LibraryHints:
    """The hints of every photo with a position, by catalog id."""

    def __init__(self, by_id: dict[int, PhotoHint], classes: list[str], radius_km: float) -> None:
        self.by_id = by_id
        self.classes = classes
        self.radius_km = radius_km

    def __len__(self) -> int:
        return len(self.by_id)

    def of(self, photo_id: int | None) -> PhotoHint | None:
        return self.by_id.get(photo_id) if photo_id is not None else None

    def by_disagreement(self, photo_ids: Sequence[int]) -> list[int]:
        """`photo_ids` with those where pixels and place disagree most first; those without both a prediction
        and a hint keep their order after them."""
        scored = [(hint.disagreement if (hint := self.by_id.get(i)) is not None else None, n, i)
                  for n, i in enumerate(photo_ids)]
        known = sorted((s for s in scored if s[0] is not None), key=lambda s: (-s[0], s[1]))
        return [i for _, _, i in known] + [i for d, _, i in scored if d is None]


def library_hints(catalog: Catalog, radius_km: float = DEFAULT_RADIUS_KM, k: int = DEFAULT_K,
                  progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop) -> LibraryHints:
    """Hints for every photo of the catalog with a GPS position (see `hints_for`)."""
    return hints_for(catalog.placed_photos(), [c for c in catalog.class_names() if c != NONE_OF_THESE],
                     radius_km, k, progress, should_stop)


def hints_for(placed: Sequence[PlacedPhoto], classes: Sequence[str], radius_km: float = DEFAULT_RADIUS_KM,
              k: int = DEFAULT_K, progress: ProgressFn = no_progress,
              should_stop: ShouldStopFn = never_stop) -> LibraryHints:
    """The labelled photos (of a class, not 'none of these') are the index; each photo is asked about in
    chunks of CHUNK, so a stop is heard within one chunk."""
    classes = list(classes)
    labelled = [p for p in placed if p.label is not None and p.label != NONE_OF_THESE]
    classes += sorted({p.label for p in labelled} - set(classes))
    index = PlaceIndex([p.latitude for p in labelled], [p.longitude for p in labelled],
                       [p.label for p in labelled], k, radius_km)
    position = {p.id: n for n, p in enumerate(labelled)}
    by_id: dict[int, PhotoHint] = {}
    for start in range(0, len(placed), CHUNK):
        if should_stop():
            raise Stopped()
        chunk = placed[start:start + CHUNK]
        hints = index.hints([p.latitude for p in chunk], [p.longitude for p in chunk],
                            [position.get(p.id, -1) for p in chunk])
        for photo, hint in zip(chunk, hints):
            place = place_probabilities(hint, classes)
            pixels = pixel_probabilities(photo.top, classes) if photo.top else None
            by_id[photo.id] = PhotoHint(photo, hint, place, pixels,
                                        combine(pixels, place) if pixels is not None else None)
        progress(min(start + CHUNK, len(placed)), len(placed))
    return LibraryHints(by_id, classes, radius_km)
