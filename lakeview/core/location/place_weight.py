"""How much the place counts in the library's combined guesses: a weight fitted on the library's own held-out
photos, the labelled photos on the hold-out side of the active model's training split (by fingerprint, as
lakeview/core/training/library_dataset.py splits them), whose stored predictions come from that model although it
never trained on them. Each one's place hint leaves its own label out, so pixels and place are both honest there.

Fewer than MIN_PHOTOS such photos with a place hint, and the weight is DEFAULT_WEIGHT: benchmarks/location_hint.py
fits it on halves of 66 held-out photos, and the two halves' weights still differ by up to 0.75 (of 0 to 3); on a
handful of photos one confident mistake decides it. DEFAULT_WEIGHT is the median of the 24 weights fitted there
(two place strengths, a good and a weak head, three splits, two halves): the place counted at half, between the
pixels alone (0) and the plain product (1), which did not help beside a good head and hurt beside a weak one.

A photo whose near-duplicates were all kept on the training side may have changed sides with them; the fit leaves
that out of account (it knows the split by fingerprint only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from lakeview.core.catalog import Catalog
from lakeview.core.location.fusion import fit_place_weight_rows

if TYPE_CHECKING:
    from lakeview.core.location.library_hints import LibraryHints

DEFAULT_WEIGHT = 0.5
MIN_PHOTOS = 30
"""Held-out photos with a place hint needed to fit the weight (see the module's note)."""
MAX_PHOTOS = 2_000
"""At most this many held-out photos, evenly spread through them by id, are fitted on: 12,000 of a 100,000-photo
library took 2 to 3 s (their neighbours), after every label change; 2,000 pick one of 13 weights as well."""


@dataclass(frozen=True)
class PlaceWeight:
    """The place's weight in the combined guesses, and where it came from."""
    weight: float
    photos: int = 0
    """The held-out photos with a place hint it was fitted on (or that were too few)."""
    fitted: bool = False
    why_default: str = ""
    """Why it was not fitted; empty for the plain product."""

    def text(self) -> str:
        """'place counted at 0.75 ×, fitted on 48 held-out photos'."""
        counted = f"place counted at {self.weight:g} ×"
        if self.fitted:
            return f"{counted}, fitted on {self.photos} held-out photo{'s' if self.photos != 1 else ''}"
        return f"{counted} (the default: {self.why_default})" if self.why_default else f"{counted} (plain product)"


PLAIN = PlaceWeight(1.0)


def holdout_cut(pct: float) -> str | None:
    """The fingerprint prefix the held-out photos sort before (library_dataset.in_holdout: int(fp[:8], 16) < pct *
    2**32, as 8 hex digits); None: every photo is held out."""
    cut = math.ceil(pct * 0x1_0000_0000)
    return f"{cut:08x}" if cut <= 0xFFFF_FFFF else None


def model_holdout_pct(catalog: Catalog, model_id: str) -> float | None:
    """The hold-out share of the training run that made `model_id`; None if it was not trained in this library."""
    runs = [run for run in catalog.training_runs() if run["model_id"] == model_id]
    pct = runs[-1]["settings"].get("holdout_pct") if runs else None
    return float(pct) if pct is not None else None


def fit_library_weight(catalog: Catalog, hints: LibraryHints) -> PlaceWeight:
    """The place weight for `hints`, fitted on the library's held-out photos (see the module's note)."""
    _, held, why = _held_out(catalog, hints)
    return PlaceWeight(DEFAULT_WEIGHT, 0, False, why) if why else fit_on(hints, held)


class PlaceWeights:
    """The library's place weight, fitted again only when the active model, the labels, the hold-out photos or
    the radius have changed. Use from one thread at a time (the app: its place-hints worker)."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._weight = PLAIN

    def weigh(self, catalog: Catalog, hints: LibraryHints) -> PlaceWeight:
        """Set `hints.weight` to the library's place weight, and return it."""
        model_id, held, why = _held_out(catalog, hints)
        labels = hash(tuple((p.id, p.label) for p in hints.photos if p.label is not None))
        key = (model_id, tuple(held), why, labels, hints.radius_km, hints.index.k)
        if key != self._key:
            self._key = key
            self._weight = PlaceWeight(DEFAULT_WEIGHT, 0, False, why) if why else fit_on(hints, held)
        hints.weight = self._weight
        return self._weight


def _held_out(catalog: Catalog, hints: LibraryHints) -> tuple[str | None, list[int], str]:
    """(active model, its held-out photos with a position in `hints`, why there are none to fit on)."""
    active = catalog.active_model()
    if active is None:
        return None, [], "no active model"
    pct = model_holdout_pct(catalog, active.id)
    if pct is None:
        return active.id, [], "the active model was not trained in this library: no photo is known to be held out"
    placed = set(hints.ids())
    return active.id, [i for i in catalog.held_out_placed(active.id, holdout_cut(pct)) if i in placed], ""


def fit_on(hints: LibraryHints, held: Sequence[int]) -> PlaceWeight:
    """The place weight fitted on `held`: labelled photos of `hints` with a prediction by a model that did not
    train on them; DEFAULT_WEIGHT when fewer than MIN_PHOTOS of them have a place hint. MAX_PHOTOS at most."""
    held = list(held)[::math.ceil(len(held) / MAX_PHOTOS)] if len(held) > MAX_PHOTOS else list(held)
    pixels, place, hinted = hints.experts(held)
    hinted &= pixels.sum(axis=1) > 0  # a prediction without a class of the library's says nothing
    label_of = {p.id: p.label for p in hints.photos}
    truths = np.array([hints.classes.index(label_of[i]) for i in held], dtype=np.int64)
    count = int(hinted.sum())
    if count < MIN_PHOTOS:
        return PlaceWeight(DEFAULT_WEIGHT, count, False, f"{count} held-out photo{'s' if count != 1 else ''} with a "
                                                          f"place hint, {MIN_PHOTOS} needed to fit it")
    return PlaceWeight(fit_place_weight_rows(pixels[hinted], place[hinted], truths[hinted]), count, True)
