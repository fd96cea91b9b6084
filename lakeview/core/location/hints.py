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

    def hints(self, latitudes: Sequence[float], longitudes: Sequence[float],
              skip_self: Sequence[int] | None = None) -> list[PlaceHint | None]:
        """A hint per point, None where no labelled photo is within the radius. `skip_self[i]`: an index into the
        labelled photos that point i is itself (its own label is not a hint), or -1."""
        if self.tree is None or not len(latitudes):
            return [None] * len(latitudes)
        points = np.radians(np.column_stack([latitudes, longitudes]).astype(float))
        k = min(self.k + (1 if skip_self is not None else 0), len(self.labels))
        distances, indices = self.tree.query(points, k=k)
        hints = []
        for row, (near, which) in enumerate(zip(distances, indices)):
            keep = near <= self.radius
            if skip_self is not None:
                keep &= which != skip_self[row]
            near, which = near[keep][:self.k], which[keep][:self.k]
            hints.append(self._hint(near * EARTH_RADIUS_M, which) if len(which) else None)
        return hints

    def _hint(self, metres: np.ndarray, which: np.ndarray) -> PlaceHint:
        weights: dict[str, float] = {}
        counts: dict[str, int] = {}
        squares = 0.0
        for distance, index in zip(metres, which):
            name, weight = self.labels[index], 1.0 / (float(distance) + NEAR_M)
            weights[name] = weights.get(name, 0.0) + weight
            counts[name] = counts.get(name, 0) + 1
            squares += weight * weight
        total = sum(weights.values())
        shares = dict(sorted(((name, w / total) for name, w in weights.items()), key=lambda item: -item[1]))
        return PlaceHint(shares, len(which), float(metres.min()), counts, total * total / squares)
