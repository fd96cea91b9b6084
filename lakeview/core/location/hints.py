"""A place hint: what the labelled photos taken near a photo are of. The k nearest labelled photos by great-circle
distance (scikit-learn's BallTree, haversine metric), none beyond a radius, each weighted by closeness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG): haversine distances come in radians of it."""
DEFAULT_RADIUS_KM = 2.0
DEFAULT_K = 15
NEAR_M = 50.0
"""Closeness is 1 / (distance + NEAR_M): photos within a few tens of metres count about alike (GPS wanders that
much), a photo 1 km away counts a twentieth of one taken on the spot."""


@dataclass(frozen=True)
class PlaceHint:
    """What the place says about one photo."""
    classes: dict[str, float]
    """Each neighbour class's share of the closeness weights, largest first; they sum to 1."""
    neighbours: int
    """Labelled photos within the radius (at most k)."""
    distance_m: float
    """To the nearest of them."""
    counts: dict[str, int]
    """Neighbours per class."""
    effective: float = 0.0
    """How many equally weighted neighbours the closeness weights are worth (Kish: (sum w)^2 / sum w^2): one photo
    next door and fourteen far off are worth little more than one."""

    @property
    def top(self) -> str:
        return next(iter(self.classes))

    def text(self) -> str:
        """'Taken 300 m from 14 photos labelled Moraine Lake' (and '..., 2 labelled Lake Louise')."""
        parts = [f"{count} photo{'s' if count != 1 else ''} labelled {name}" for name, count in
                 sorted(self.counts.items(), key=lambda item: -self.classes[item[0]])]
        return f"Taken {distance_text(self.distance_m)} from " + ", ".join(parts)


def distance_text(metres: float) -> str:
    if metres < 1000:
        return f"{max(10, round(metres, -1)):.0f} m"
    return f"{metres / 1000:.1f} km"


class PlaceIndex:
    """The labelled photos' positions, for asking which of them are near a point. Build once per change of labels
    (O(n log n)); each question is O(k log n)."""

    def __init__(self, latitudes: Sequence[float], longitudes: Sequence[float], labels: Sequence[str],
                 k: int = DEFAULT_K, radius_km: float = DEFAULT_RADIUS_KM) -> None:
        from sklearn.neighbors import BallTree  # half a second to import: not for every `lakeview` command

        if radius_km <= 0:
            raise ValueError("the radius must be more than 0 km")
        self.labels = np.asarray(labels, dtype=object)
        self.k = k
        self.radius = radius_km * 1000 / EARTH_RADIUS_M
        points = np.radians(np.column_stack([latitudes, longitudes]).astype(float)).reshape(-1, 2)
        self.tree = BallTree(points, metric="haversine") if len(points) else None

    def __len__(self) -> int:
        return len(self.labels)

    def neighbours(self, latitudes: Sequence[float], longitudes: Sequence[float],
                   skip_self: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(metres, which): per point, its k nearest labelled photos within the radius, nearest first, as
        distances and indices into the labelled photos; -1 (and infinity) fill the places of those missing.
        `skip_self[i]`: the index of the labelled photo that point i is itself (its own label is no hint), or -1."""
        count = len(latitudes)
        metres, which = np.full((count, self.k), np.inf), np.full((count, self.k), -1, dtype=np.int64)
        if self.tree is None or not count:
            return metres, which
        points = np.radians(np.column_stack([latitudes, longitudes]).astype(float))
        k = min(self.k + (1 if skip_self is not None else 0), len(self.labels))
        distances, indices = self.tree.query(points, k=k)
        keep = distances <= self.radius
        if skip_self is not None:
            keep &= indices != np.asarray(skip_self).reshape(-1, 1)
        # the kept ones first, in their order, then the first k columns
        order = np.argsort(~keep, axis=1, kind="stable")[:, :self.k]
        kept = np.take_along_axis(keep, order, axis=1)
        columns = order.shape[1]
        metres[:, :columns] = np.where(kept, np.take_along_axis(distances, order, axis=1) * EARTH_RADIUS_M, np.inf)
        which[:, :columns] = np.where(kept, np.take_along_axis(indices, order, axis=1), -1)
        return metres, which

    def hints(self, latitudes: Sequence[float], longitudes: Sequence[float],
              skip_self: Sequence[int] | None = None) -> list[PlaceHint | None]:
        """A hint per point, None where no labelled photo is within the radius (see `neighbours`)."""
        metres, which = self.neighbours(latitudes, longitudes, skip_self)
        return [self.hint(m, w) for m, w in zip(metres, which)]

    def hint(self, metres: np.ndarray, which: np.ndarray) -> PlaceHint | None:
        """The hint of one row of `neighbours`; None when it has none."""
        kept = which >= 0
        metres, which = metres[kept], which[kept]
        if not len(which):
            return None
        weights: dict[str, float] = {}
        counts: dict[str, int] = {}
        squares = 0.0
        for distance, index in zip(metres, which):
            name, weight = self.labels[index], closeness(float(distance))
            weights[name] = weights.get(name, 0.0) + weight
            counts[name] = counts.get(name, 0) + 1
            squares += weight * weight
        total = sum(weights.values())
        shares = dict(sorted(((name, w / total) for name, w in weights.items()), key=lambda item: -item[1]))
        return PlaceHint(shares, len(which), float(metres.min()), counts, total * total / squares)


def closeness(metres):
    """The weight of a neighbour this far away (a number or an array)."""
    return 1.0 / (metres + NEAR_M)
