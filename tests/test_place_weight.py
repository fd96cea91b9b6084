"""The place's weight in the combined guesses, fitted on the library's own held-out photos: the labelled photos
on the hold-out side of the active model's split, scored by that model; the default when they are too few, and
the fit done again only when the model or the labels change."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lakeview.core.catalog import Catalog
from lakeview.core.catalog.gps_rows import PlacedPhoto
from lakeview.core.location.fusion import best
from lakeview.core.location.library_hints import hints_for, library_hints
from lakeview.core.location import place_weight
from lakeview.core.location.place_weight import (DEFAULT_WEIGHT, MIN_PHOTOS, PlaceWeight, PlaceWeights,
                                                 fit_library_weight, fit_on, holdout_cut)
from lakeview.core.training.library_dataset import in_holdout

from gps_tools import MORAINE_LAKE, moved, photo_at

ANT_HILL, BEE_GARDEN = MORAINE_LAKE, moved(MORAINE_LAKE, 5_000)
CLASSES = ["ants", "bees"]


def guess(rng: np.random.Generator, truth: str, right: float) -> list[tuple[str, float]]:
    """A weak model's top classes: the true class at 65% with probability `right`, else the other one."""
    other = next(c for c in CLASSES if c != truth)
    first = truth if rng.random() < right else other
    return [(first, 0.65), (next(c for c in CLASSES if c != first), 0.35)]


def photo(rng, photo_id: int, place: tuple[float, float], label: str | None, top=()) -> PlacedPhoto:
    latitude, longitude = moved(place, *rng.normal(0, 300, 2))
    return PlacedPhoto(photo_id, Path(f"/trip/{photo_id}.jpg"), latitude, longitude, label, list(top))


def trip(seed: int, misleading: bool, held_out: int = 80) -> tuple[list[PlacedPhoto], list[int], list[str]]:
    """Ants at the ant hill, bees in the bee garden (9 in 10 at their own place), 200 labelled photos of which
    `held_out` were scored by a model that did not train on them, and 200 unlabelled ones with their truth.
    `misleading`: the held-out photos are the ones that wandered: each at the other class's place."""
    rng = np.random.default_rng(seed)
    photos, held, truths = [], [], []
    for n in range(400):
        truth = CLASSES[n % 2]
        at_home = rng.random() < 0.9
        if misleading and n < 200:
            at_home = n >= held_out
        place = (ANT_HILL if truth == "ants" else BEE_GARDEN) if at_home else (
            BEE_GARDEN if truth == "ants" else ANT_HILL)
        if n < 200:
            scored = n < held_out
            photos.append(photo(rng, n, place, truth, guess(rng, truth, 0.9 if misleading else 0.7) if scored else ()))
            if scored:
                held.append(n)
        else:
            photos.append(photo(rng, n, place, None, guess(rng, truth, 0.7)))
            truths.append(truth)
    return photos, held, truths


def test_too_few_held_out_photos_give_the_default_weight_and_say_so():
    photos, held, _ = trip(0, misleading=False)
    weight = fit_on(hints_for(photos, CLASSES), held[:MIN_PHOTOS - 1])
    assert weight == PlaceWeight(DEFAULT_WEIGHT, MIN_PHOTOS - 1, False,
                                 f"{MIN_PHOTOS - 1} held-out photos with a place hint, {MIN_PHOTOS} needed to fit it")
    assert weight.text() == (f"place counted at {DEFAULT_WEIGHT:g} × (the default: {MIN_PHOTOS - 1} held-out photos "
                             f"with a place hint, {MIN_PHOTOS} needed to fit it)")
    assert fit_on(hints_for(photos, CLASSES), held[:MIN_PHOTOS]).fitted


def test_a_large_library_fits_on_an_even_spread_of_its_held_out_photos(monkeypatch):
    photos, held, _ = trip(2, misleading=False)
    hints = hints_for(photos, CLASSES)
    monkeypatch.setattr(place_weight, "MAX_PHOTOS", 50)
    spread = fit_on(hints, held)  # 80 photos: every second one
    assert spread.fitted and spread.photos == 40 and spread == fit_on(hints, held[::2])


def test_a_misleading_place_is_weighed_near_nothing():
    photos, held, _ = trip(1, misleading=True)
    weight = fit_on(hints_for(photos, CLASSES), held)
    assert weight.fitted and weight.photos == len(held)
    assert weight.weight <= 0.25
    assert weight.text() == f"place counted at {weight.weight:g} ×, fitted on {len(held)} held-out photos"


def test_a_reliable_place_is_weighed_and_the_combined_guess_beats_the_pixels():
    photos, held, truths = trip(2, misleading=False)
    hints = hints_for(photos, CLASSES)
    hints.weight = fit_on(hints, held)
    assert hints.weight.fitted and hints.weight.weight > 0
    unlabelled = [hints.of(p.id) for p in photos if p.label is None]
    assert all(hint.weight is hints.weight for hint in unlabelled)
    pixels_wrong = sum(best(h.pixels)[0] != truth for h, truth in zip(unlabelled, truths))
    combined_wrong = sum(best(h.combined)[0] != truth for h, truth in zip(unlabelled, truths))
    assert combined_wrong < pixels_wrong / 2  # pixels: about 30% wrong, the place about 10%


# --- the library's held-out photos ----------------------------------------------------------------------------

def library(tmp_path: Path, photos: int = 60) -> list[Path]:
    rng = np.random.default_rng(5)
    return [photo_at(tmp_path / "trip" / f"{n:02}.jpg", *moved(ANT_HILL if n % 2 else BEE_GARDEN,
                                                               *rng.normal(0, 300, 2)), seed=n)
            for n in range(photos)]


def trained_model(catalog: Catalog, version: str, holdout_pct: float | None) -> None:
    """A model version recorded as active; `holdout_pct`: made by a training run in this library with that share
    held out (None: brought in from elsewhere)."""
    catalog.add_model(version, catalog.folder / f"{version}.pt", "tiny", CLASSES, None, {}, "2026-12-07T09:00:00",
                      "quick", active=True)
    if holdout_pct is not None:
        run = catalog.start_training_run("quick", {"holdout_pct": holdout_pct, "classes": CLASSES})
        catalog.finish_training_run(run, "promoted", [], version)


def test_the_library_fits_on_the_labelled_photos_on_the_hold_out_side_of_the_active_model(tmp_path):
    paths = library(tmp_path, 80)
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as catalog:
        catalog.add_folder(tmp_path / "trip")
        catalog.ensure_classes(CLASSES)
        for n, path in enumerate(paths):
            catalog.set_labels([path], "ants" if n % 2 else "bees", source="imported")
        trained_model(catalog, "v1", 0.5)
        catalog.store_predictions("v1", [(p, [("ants", 0.6), ("bees", 0.4)]) for p in paths])
        fingerprints = {p: fp for p, _, _, fp in catalog.labelled_photos()}
        held = [catalog.photo_id(p) for p in paths if in_holdout(fingerprints[p], 0.5)]
        assert 0 < len(held) < len(paths)
        hints = library_hints(catalog)
        assert catalog.held_out_placed("v1", holdout_cut(0.5)) == sorted(held)
        assert fit_library_weight(catalog, hints) == fit_on(hints, held)
        assert fit_library_weight(catalog, hints).photos == len(held)

        weights = PlaceWeights()
        first = weights.weigh(catalog, hints)
        assert hints.weight is first
        assert weights.weigh(catalog, library_hints(catalog)) is first  # nothing changed: not fitted again
        catalog.set_labels([paths[0]], "ants")
        assert weights.weigh(catalog, library_hints(catalog)) is not first  # a label changed: fitted again


def test_a_model_not_trained_in_the_library_or_none_gives_the_default(tmp_path):
    paths = library(tmp_path, 4)
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as catalog:
        catalog.add_folder(tmp_path / "trip")
        catalog.ensure_classes(CLASSES)
        catalog.set_labels(paths, "ants")
        assert fit_library_weight(catalog, library_hints(catalog)) == PlaceWeight(DEFAULT_WEIGHT, 0, False,
                                                                                  "no active model")
        trained_model(catalog, "imported", None)
        catalog.store_predictions("imported", [(p, [("ants", 0.6), ("bees", 0.4)]) for p in paths])
        weight = fit_library_weight(catalog, library_hints(catalog))
        assert weight.weight == DEFAULT_WEIGHT and "not trained in this library" in weight.why_default
        assert holdout_cut(1.0) is None and holdout_cut(0.0) == "00000000" and holdout_cut(0.5) == "80000000"
