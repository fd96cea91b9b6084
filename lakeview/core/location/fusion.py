"""The combined guess: the image model's probabilities and the place hint as a product of two experts.

    combined(c) ∝ pixels(c) · place(c)
    place(c) = (n · share(c) + α) / (n + α · K)

`share(c)` is the hint's closeness-weighted share of class c among its n neighbours, K the number of classes and
α = SMOOTHING: a Dirichlet prior of α pseudo-photos per class, so that the place never zeroes a class (a bee
photographed at the ant hill can still be a bee) and few neighbours sway the guess less than many: one
neighbour of two classes gives place 2/3 against 1/3, fifteen give 16/17 against 1/17. Without a hint the place
is uniform and the combined guess is the pixels' own.

Pixels' probabilities come from the prediction's stored top classes; classes outside them share what is left.
"""

from __future__ import annotations

from typing import Sequence

from lakeview.core.location.hints import PlaceHint

SMOOTHING = 1.0
FLOOR = 1e-6
"""The least probability any expert gives a class, so that a product is never 0 / 0."""


def pixel_probabilities(top: Sequence[tuple[str, float]], classes: Sequence[str]) -> dict[str, float]:
    """The model's top-k as a distribution over `classes` (the rest of the mass shared by those not in it)."""
    given = {name: max(0.0, float(p)) for name, p in top if name in classes}
    rest = [name for name in classes if name not in given]
    left = max(0.0, 1.0 - sum(given.values()))
    probabilities = {name: given.get(name, left / len(rest) if rest else 0.0) for name in classes}
    return _normalised(probabilities)


def place_probabilities(hint: PlaceHint | None, classes: Sequence[str],
                        smoothing: float = SMOOTHING) -> dict[str, float]:
    """The place expert: the hint's shares, smoothed (see the module's note); uniform without a hint."""
    if hint is None or not classes:
        return {name: 1 / len(classes) for name in classes}
    n = hint.neighbours
    return _normalised({name: (n * hint.classes.get(name, 0.0) + smoothing) / (n + smoothing * len(classes))
                        for name in classes})


def combine(pixels: dict[str, float], place: dict[str, float]) -> dict[str, float]:
    """The product of the two experts, renormalised; classes in order of the pixels' dict."""
    return _normalised({name: max(p, FLOOR) * max(place.get(name, 0.0), FLOOR) for name, p in pixels.items()})


def disagreement(pixels: dict[str, float], place: dict[str, float]) -> float:
    """How far apart pixels and place are: total variation distance, 0 (alike) to 1 (no class in common)."""
    names = set(pixels) | set(place)
    return 0.5 * sum(abs(pixels.get(name, 0.0) - place.get(name, 0.0)) for name in names)


def best(probabilities: dict[str, float]) -> tuple[str, float]:
    name = max(probabilities, key=probabilities.__getitem__)
    return name, probabilities[name]


def _normalised(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    if total <= 0:
        return {name: 1 / len(values) for name in values} if values else {}
    return {name: v / total for name, v in values.items()}
