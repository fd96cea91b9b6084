"""Location hints in the app: the inspector shows, beside the model's guess, the place hint, the combined guess
and the place name; the review queue sorts by how much pixels and place disagree, worked out in a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QThread

from lakeview.gui.place_hints import PlacePanel, place_rows

from gps_tools import MORAINE_LAKE, moved, photo_at
from photo_tools import make_photo

PLACE_QUEUE = "Review queue (pixels and place disagree first)"
QUEUE = "Review queue (least confident first)"


@pytest.fixture
def trip(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "trip"
    photos = {f"lake{i}": photo_at(folder / f"lake{i}.jpg", *moved(MORAINE_LAKE, -10 * i), seed=i) for i in range(3)}
    photos["against"] = photo_at(folder / "against.jpg", *moved(MORAINE_LAKE, 100), seed=5)
    photos["along"] = photo_at(folder / "along.jpg", *moved(MORAINE_LAKE, 150), seed=6)
    photos["far"] = photo_at(folder / "far.jpg", *moved(MORAINE_LAKE, 50_000), seed=7)
    photos["unplaced"] = make_photo(folder / "unplaced.jpg", seed=8)
    return photos


def open_trip(qtbot, window, trip) -> None:
    catalog = window.session.catalog
    catalog.add_folder(next(iter(trip.values())).parent)
    catalog.ensure_classes(["blue", "red"])
    catalog.set_labels([trip[f"lake{i}"] for i in range(3)], "blue")
    catalog.store_predictions("m1", [(trip["against"], [("red", 0.9), ("blue", 0.1)]),
                                     (trip["along"], [("blue", 0.8), ("red", 0.2)]),
                                     (trip["far"], [("red", 0.6), ("blue", 0.4)]),
                                     (trip["unplaced"], [("blue", 0.55), ("red", 0.45)])])
    with qtbot.waitSignal(window.session.places.changed, timeout=30_000):
        with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
            window.open_folder(trip["lake0"].parent)
    # the run the window started before the photos came in may be the one that just ended: wait for the next
    against = catalog.photo_id(trip["against"])
    qtbot.waitUntil(lambda: getattr(window.session.places.of(against), "hint", None) is not None, timeout=30_000)


def select(window, path: Path) -> None:
    window.grid.setCurrentIndex(window.model.index(window.model.paths().index(path), 0))


def test_the_inspector_shows_place_hint_pixels_combined_and_place_name(qtbot, window, trip):
    open_trip(qtbot, window, trip)
    select(window, trip["against"])
    panel: PlacePanel = window.inspector.place
    qtbot.waitUntil(lambda: window.inspector.path() == trip["against"])
    assert panel.isVisible()
    texts = panel.texts()
    assert texts["Place hint"] == "Taken 100 m from 3 photos labelled blue"
    assert texts["Place says"] == "blue 80%"  # (3 + 1) / (3 + 2): smoothed, never all
    assert texts["Pixels say"] == "red 90%"
    # the place counted at 0.5 (no model of this library to fit it for): 0.9 * 0.2 ** 0.5 against 0.1 * 0.8 ** 0.5
    assert texts["Combined"] == "red 82% (pixels × place)"
    assert texts["Weighed"] == "place counted at 0.5 × (the default: no active model)"
    assert texts["Where"].startswith("near ") and texts["Where"].endswith(", Alberta, CA")

    select(window, trip["far"])
    qtbot.waitUntil(lambda: window.inspector.path() == trip["far"])
    assert panel.texts()["Place hint"] == "No labelled photo within 2 km" and "Combined" not in panel.texts()
    select(window, trip["unplaced"])
    qtbot.waitUntil(lambda: window.inspector.path() == trip["unplaced"])
    assert not panel.isVisible()


def test_a_label_nearby_changes_the_hint_after_a_worker_has_run(qtbot, window, trip):
    open_trip(qtbot, window, trip)
    select(window, trip["along"])
    qtbot.waitUntil(lambda: window.inspector.path() == trip["along"])
    workers = []
    window.session.places.changed.connect(lambda: workers.append(QThread.currentThread()))
    with qtbot.waitSignal(window.session.places.changed, timeout=30_000):
        window.session.label_ids([window.session.catalog.photo_id(trip["against"])], "red")
    qtbot.waitUntil(lambda: window.inspector.place.texts().get("Place hint", "").endswith("1 photo labelled red"))
    assert window.inspector.place.texts()["Place hint"] == "Taken 50 m from 3 photos labelled blue, 1 photo labelled red"


def test_the_review_queue_sorts_by_disagreement_between_pixels_and_place(qtbot, window, trip):
    open_trip(qtbot, window, trip)
    window.filter_bar.filter_box.setCurrentText(QUEUE)
    qtbot.waitUntil(lambda: not window.session.rows_pending)
    assert window.model.paths() == [trip["unplaced"], trip["far"], trip["along"], trip["against"]]
    with qtbot.waitSignal(window.session.rows_ready, timeout=30_000):  # always from a worker
        window.filter_bar.filter_box.setCurrentText(PLACE_QUEUE)
    # against: red 90% where 3 blue photos are; along agrees; then those without a hint, least confident first
    assert window.model.paths() == [trip["against"], trip["along"], trip["unplaced"], trip["far"]]
    assert window.session.filters == {"order": "confidence", "unlabelled": True} and window.session.place_order


def test_place_rows_before_the_hints_arrive():
    assert place_rows(None, False, 2.0, "") == [("Where", "naming the place…"), ("Place hint", "working out…")]


def test_the_inspector_says_the_place_weight_fitted_on_the_library_s_held_out_photos(qtbot, window, tmp_path,
                                                                                       monkeypatch):
    from PySide6.QtWidgets import QApplication

    from lakeview.core.location import place_weight
    from lakeview.core.location.library_hints import library_hints
    from lakeview.core.training.library_dataset import in_holdout

    folder = tmp_path / "lakes"
    lakes = [photo_at(folder / f"{n:02}.jpg", *moved(MORAINE_LAKE, 20 * n if n % 2 else 5_000 + 20 * n), seed=n)
             for n in range(80)]
    new = photo_at(folder / "new.jpg", *moved(MORAINE_LAKE, 30), seed=99)
    catalog = window.session.catalog
    catalog.add_folder(folder)
    catalog.ensure_classes(["blue", "red"])
    for n, path in enumerate(lakes):
        catalog.set_labels([path], "blue" if n % 2 else "red", source="imported")
    catalog.add_model("v1", tmp_path / "v1.pt", "tiny", ["blue", "red"], None, {}, "2026-12-07T09:00:00", "quick",
                      active=True)
    run = catalog.start_training_run("quick", {"holdout_pct": 0.5, "classes": ["blue", "red"]})
    catalog.finish_training_run(run, "promoted", [], "v1")
    # pixels right two times in three, the place (each lake one colour) always
    catalog.store_predictions("v1", [(path, [("blue" if (n % 2) != (n % 3 == 0) else "red", 0.7)])
                                     for n, path in enumerate(lakes)] + [(new, [("red", 0.6)])])
    held = sum(in_holdout(fp, 0.5) for _, _, _, fp in catalog.labelled_photos())
    threads = []
    fit_on = place_weight.fit_on
    monkeypatch.setattr(place_weight, "fit_on", lambda *a: threads.append(QThread.currentThread()) or fit_on(*a))
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(folder)
    select(window, new)
    qtbot.waitUntil(lambda: window.inspector.place.texts().get("Weighed", "").endswith("held-out photos"),
                    timeout=30_000)
    in_workers = list(threads)
    expected = place_weight.fit_library_weight(catalog, library_hints(catalog))
    assert expected.fitted and expected.photos == held >= place_weight.MIN_PHOTOS and expected.weight > 0
    assert window.inspector.place.texts()["Weighed"] == (f"place counted at {expected.weight:g} ×, fitted on {held} "
                                                         f"held-out photos")
    assert in_workers and QApplication.instance().thread() not in in_workers  # fitted in the worker


def test_a_library_without_gps_starts_no_hint_worker_until_a_photo_with_gps_comes(qtbot, window, tmp_path):
    from gps_tools import MORAINE_LAKE, photo_at
    from photo_tools import red_and_blue_photos
    from lakeview.gui.place_hints import CHANGES_SETTLE_MS

    plain = red_and_blue_photos(tmp_path / "plain", 2)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(plain)
    places = window.session.places
    qtbot.wait(CHANGES_SETTLE_MS * 2)
    assert places.hints is None and not places._running

    photo_at(plain / "placed.jpg", *MORAINE_LAKE)
    window.session.catalog.add_folder(plain)
    with qtbot.waitSignal(places.changed, timeout=20_000):
        places.schedule()  # as any change does
    assert places.hints is not None
