"""Where a group of photos was taken, named: the nearest town to the middle of its photos' GPS positions, for the
header of a similar-photo group ("near Banff, Alberta, CA")."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from lakeview.core.location.hints import EARTH_RADIUS_M
from lakeview.core.location.place_names import place_name

SPREAD_M = 20_000.0
"""A group whose photos lie farther than this from their middle (the median distance) was taken in no one place,
and is not named."""


def middle(positions: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """The middle of these (latitude, longitude) positions on the sphere (the mean of their unit vectors: right
    across the date line too) and the median great-circle distance from it to them, in metres."""
    lat, lon = np.radians(np.asarray(positions, dtype=np.float64)).T
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    centre = points.mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    spread = float(np.median(np.arccos(np.clip(points @ centre, -1.0, 1.0)))) * EARTH_RADIUS_M
    return float(np.degrees(np.arcsin(centre[2]))), float(np.degrees(np.arctan2(centre[1], centre[0]))), spread


def group_place_names(groups: Sequence[Sequence[int]], positions: Mapping[int, tuple[float, float]]) -> list[str]:
    """For each group (photo ids), the place its photos with a GPS position were taken ("" for a group with none,
    or spread wider than SPREAD_M). The place-name table is loaded only when some photo has a position."""
    names = []
    for group in groups:
        placed = [positions[photo_id] for photo_id in group if photo_id in positions]
        if not placed:
            names.append("")
            continue
        latitude, longitude, spread = middle(placed)
        names.append(place_name(latitude, longitude) if spread <= SPREAD_M else "")
    return names
