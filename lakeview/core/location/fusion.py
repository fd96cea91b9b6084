"""The combined guess: the image model's probabilities and the place hint as a product of two experts.

    combined(c) ∝ pixels(c) · place(c)
    place(c) = (n · share(c) + α) / (n + α · K)

`share(c)` is the hint's closeness-weighted share of class c among its neighbours, n what those neighbours are
worth as equally weighted photos (PlaceHint.effective: a close one counts more, so n is fewer than their number),
K the number of classes and α = SMOOTHING: a Dirichlet prior of α pseudo-photos per class, so that the place
never zeroes a class (a bee photographed at the ant hill can still be a bee) and few neighbours sway the guess
less than many: one neighbour of two classes gives place 2/3 against 1/3, fifteen equally near ones 16/17
against 1/17. Without a hint the place is uniform and the combined guess is the pixels' own.

Pixels' probabilities come from the prediction's stored top classes; classes outside them share what is left.

`combine` takes a weight for the place (place(c) ** weight; 1 is the plain product above, 0 the pixels alone);
`fit_place_weight` picks it on labelled photos the model was not trained on, by log-likelihood. The app fits it
on the library's own held-out photos (place_weight.py); benchmarks/location_hint.py reports the plain product,
a weight fitted on the benchmark's held-out photos, and the app's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lakeview.core.location.hints import PlaceHint

SMOOTHING = 1.0
WEIGHTS = tuple(w / 4 for w in range(0, 13))
"""The place weights `fit_place_weight` tries: 0 to 3 in quarters."""
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
    n = hint.effective or hint.neighbours
    return _normalised({name: (n * hint.classes.get(name, 0.0) + smoothing) / (n + smoothing * len(classes))
                        for name in classes})


def combine(pixels: dict[str, float], place: dict[str, float], place_weight: float = 1.0) -> dict[str, float]:
    """The product of the two experts (the place's raised to `place_weight`), renormalised; classes in order of
    the pixels' dict."""
    return _normalised({name: max(p, FLOOR) * max(place.get(name, 0.0), FLOOR) ** place_weight
                        for name, p in pixels.items()})


def fit_place_weight(experts: Sequence[tuple[dict[str, float], dict[str, float]]], truths: Sequence[str],
                     weights: Sequence[float] = WEIGHTS) -> float:
    """The place weight whose combined guesses give the true classes the highest log-likelihood (the first of
    equals); 1 without photos to fit on."""
    if not experts:
        return 1.0
    classes = list(experts[0][0])
    pixels = np.array([[p.get(name, 0.0) for name in classes] for p, _ in experts])
    place = np.array([[q.get(name, 0.0) for name in classes] for _, q in experts])
    return fit_place_weight_rows(pixels, place, np.array([classes.index(t) for t in truths]), weights)


def fit_place_weight_rows(pixels: np.ndarray, place: np.ndarray, truths: np.ndarray,
                          weights: Sequence[float] = WEIGHTS) -> float:
    """`fit_place_weight` on arrays (photos x classes, and each photo's true column): what the library's fit uses,
    since it may have thousands of held-out photos."""
    if not len(truths):
        return 1.0
    log_pixels, log_place = np.log(np.maximum(pixels, FLOOR)), np.log(np.maximum(place, FLOOR))
    rows = np.arange(len(truths))

    def log_likelihood(weight: float) -> float:
        joint = log_pixels + weight * log_place
        joint -= joint.max(axis=1, keepdims=True)
        combined = np.exp(joint)
        combined /= combined.sum(axis=1, keepdims=True)
        return float(np.log(np.maximum(combined[rows, truths], FLOOR)).sum())
    return max(weights, key=lambda weight: (log_likelihood(weight), -abs(weight - 1)))


def disagreement(pixels: dict[str, float], place: dict[str, float]) -> float:
    """How far apart pixels and place are: total variation distance, 0 (alike) to 1 (no class in common)."""
    names = set(pixels) | set(place)
    return 0.5 * sum(abs(pixels.get(name, 0.0) - place.get(name, 0.0)) for name in names)


def place_matrix(weights: np.ndarray, effective: np.ndarray, smoothing: float = SMOOTHING) -> np.ndarray:
    """`place_probabilities` of many photos at once: `weights` (photos x classes) sums each class's closeness
    weights, `effective` is each photo's PlaceHint.effective; a row without weights is uniform."""
    classes = weights.shape[1]
    if classes == 0:  # a library with no class yet: nothing to say
        return np.zeros_like(weights)
    total = weights.sum(axis=1, keepdims=True)
    shares = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    n = effective.reshape(-1, 1)
    place = (n * shares + smoothing) / (n + smoothing * classes)
    place[total[:, 0] <= 0] = 1 / classes
    return place / place.sum(axis=1, keepdims=True)


def pixel_matrix(tops: Sequence[Sequence[tuple[str, float]]], classes: Sequence[str]) -> np.ndarray:
    """`pixel_probabilities` of many photos at once (photos x classes); a photo without a prediction's row is 0."""
    column = {name: n for n, name in enumerate(classes)}
    given = np.full((len(tops), len(classes)), np.nan)
    for row, top in enumerate(tops):
        for name, p in top:
            if name in column:
                given[row, column[name]] = max(0.0, float(p))
    known = ~np.isnan(given)
    rest = len(classes) - known.sum(axis=1, keepdims=True)
    left = np.clip(1 - np.nansum(given, axis=1, keepdims=True), 0, None)
    pixels = np.where(known, given, np.divide(left, rest, out=np.zeros_like(left), where=rest > 0))
    total = pixels.sum(axis=1, keepdims=True)
    with_top = np.array([bool(top) for top in tops], dtype=bool)
    pixels = np.divide(pixels, total, out=np.full_like(pixels, 1 / max(1, len(classes))), where=total > 0)
    pixels[~with_top] = 0
    return pixels


def best(probabilities: dict[str, float]) -> tuple[str, float]:
    name = max(probabilities, key=probabilities.__getitem__)
    return name, probabilities[name]


def _normalised(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    if total <= 0:
        return {name: 1 / len(values) for name in values} if values else {}
    return {name: v / total for name, v in values.items()}
