"""Show ▸ Groups and Find similar on the real window with core's features (a "tiny" model's body): the menu action
groups the photos in view in a job with progress, Cancel stops it, Larger groups regroups from the stored
features, Find similar orders the photos by nearness, and without a model or ImageNet weights the status bar says
what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from lakeview.core.catalog import Catalog
from lakeview.core.similarity.library_features import library_features
from lakeview.gui.grid_order import GROUPS_KEY, SIMILAR_KEY
from lakeview.gui.session_similar import DISTANCE_STEP, LABELLING_DISTANCE
from lakeview.gui.worker import Ending, JobKind

from model_tools import add_model
from photo_tools import red_and_blue_photos


@pytest.fixture
def lake(tmp_path) -> Path:
    return red_and_blue_photos(tmp_path / "lake", 6)


def open_lake(qtbot, window, lake, model: bool = True) -> None:
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(lake)
    qtbot.waitUntil(lambda: window.model.rowCount() == 12)
    if model:
        add_model(window.session.catalog, lake.parent / "tiny.lvmodel")
    window.grid.setFocus()


def group(qtbot, window):
    with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
        qtbot.keySequence(window, QKeySequence(GROUPS_KEY))
    return ended.args[0]


def test_show_groups_groups_the_photos_in_view_in_a_job_and_keeps_every_photo(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    steps: list[str] = []
    window.session.job_step.connect(steps.append)

    end = group(qtbot, window)

    assert end.kind is JobKind.GROUP_PHOTOS and end.ending is Ending.DONE
    assert "tiny" in end.message or "active model" in end.message, end.message
    assert steps[0] == "Reading the features of 12 photos" and steps[1] == "Grouping 12 photos"
    model = window.model
    assert window.grid_order.groups_action.isChecked() and model.header_rows()
    photo_rows = [row for row in range(model.rowCount()) if model.header_at(row) is None]
    assert sorted(model.ids()[row] for row in photo_rows) == sorted(window.grid_order.shown.ids)
    counts = [model.header_at(row).count for row in model.header_rows()]
    assert sum(counts) == 12
    assert window.filter_bar.order.text().strip().startswith("Grouped:")
    stored = window.session.catalog.grouping_record()
    assert stored is not None and stored.distance == pytest.approx(LABELLING_DISTANCE)


def test_larger_groups_groups_again_from_the_stored_features(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    group(qtbot, window)
    steps: list[str] = []
    window.session.job_step.connect(steps.append)

    with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
        window.grid_order.larger_action.trigger()

    assert ended.args[0].ending is Ending.DONE
    assert window.grid_order.distance == pytest.approx(LABELLING_DISTANCE + DISTANCE_STEP)
    assert window.session.catalog.grouping_record().distance == pytest.approx(LABELLING_DISTANCE + DISTANCE_STEP)
    assert window.grid_order.groups is not None and window.model.header_rows()


def test_cancel_stops_the_grouping_and_leaves_the_grid_as_it_was(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    before = list(window.model.ids())

    with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
        qtbot.keySequence(window, QKeySequence(GROUPS_KEY))
        window.job_status.cancel_button.click()

    assert ended.args[0].ending is Ending.CANCELLED
    assert not window.grid_order.groups_action.isChecked() and window.grid_order.groups is None
    assert window.model.ids() == before and not window.model.header_rows()


def test_without_a_model_or_imagenet_weights_the_status_bar_says_what_to_do(qtbot, window, lake):
    open_lake(qtbot, window, lake, model=False)

    group(qtbot, window)

    message = window.statusBar().currentMessage()
    assert "No photo features can be made" in message and "Help ▸ Welcome" in message, message
    assert not window.grid_order.groups_action.isChecked() and not window.model.header_rows()

    with qtbot.waitSignal(window.session.job_ended, timeout=60_000):
        qtbot.keySequence(window, QKeySequence(SIMILAR_KEY))
    assert "No photo features can be made" in window.statusBar().currentMessage()


def test_find_similar_shows_the_photos_nearest_the_current_one_nearest_first(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    grid, model = window.grid, window.model
    grid.setCurrentIndex(model.index(3, 0))
    chosen = model.ids()[3]
    name = model.path_at(3).name

    with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
        qtbot.keySequence(window, QKeySequence(SIMILAR_KEY))  # the index is built the first time
    assert ended.args[0].kind is JobKind.SIMILAR_INDEX and ended.args[0].ending is Ending.DONE

    shown = list(model.ids())
    assert shown[0] == chosen and sorted(shown) == sorted(window.grid_order.shown.ids)
    with Catalog(window.session.catalog.path) as catalog:
        features = library_features(catalog, shown)
    unit = features.vectors / np.linalg.norm(features.vectors, axis=1, keepdims=True)
    row_of = {int(photo_id): row for row, photo_id in enumerate(features.photo_ids)}
    similarity = [float(unit[row_of[photo_id]] @ unit[row_of[chosen]]) for photo_id in shown]
    assert similarity == sorted(similarity, reverse=True) or np.allclose(
        similarity, sorted(similarity, reverse=True), atol=1e-3), "nearest first (half-precision ties aside)"
    assert f"Similar to {name}" in window.filter_bar.order.text()
    assert grid.currentIndex().row() == 0

    grid.setCurrentIndex(model.index(5, 0))
    other = model.ids()[5]
    qtbot.keySequence(window, QKeySequence(SIMILAR_KEY))  # asked on the GUI thread now: no job
    assert not window.session.busy and model.ids()[0] == other

    qtbot.keyClick(grid, Qt.Key.Key_Escape)
    assert model.ids() == list(window.grid_order.shown.ids) and not window.filter_bar.order_action.isVisible()


def test_after_grouping_find_similar_answers_at_once_from_the_groupings_features(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    group(qtbot, window)
    model, grid = window.model, window.grid
    row = model.header_rows()[0] + 1
    grid.setCurrentIndex(model.index(row, 0))
    chosen = model.ids()[row]
    grouped = list(model.ids())

    qtbot.keySequence(window, QKeySequence(SIMILAR_KEY))

    assert not window.session.busy, "no job: the index came with the grouping"
    assert model.ids()[0] == chosen and len(model.ids()) == 12 and not model.header_rows()
    qtbot.keyClick(grid, Qt.Key.Key_Escape)
    assert model.ids() == grouped, "back to the groups"


def test_space_on_a_header_previews_its_first_photo_and_the_preview_steps_over_headers(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    group(qtbot, window)
    model = window.model
    headers = model.header_rows()
    window.grid.setCurrentIndex(model.index(headers[0], 0))

    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    dialog = window.preview_dialog
    qtbot.waitUntil(dialog.isVisible)
    photos = [row for row in range(model.rowCount()) if model.header_at(row) is None]
    assert dialog.path() == model.path_at(headers[0] + 1)
    assert dialog.counter.text() == f"1 of {len(photos)}"
    seen = [dialog.path()]
    for _ in photos[1:]:
        dialog.set_index(dialog.index() + 1)
        seen.append(dialog.path())
        assert model.header_at(window.grid.currentIndex().row()) is None
    assert seen == [model.path_at(row) for row in photos]
    dialog.close()


def test_a_groups_header_names_where_its_photos_were_taken(qtbot, window, tmp_path):
    from gps_tools import MORAINE_LAKE, moved, photo_at
    from photo_tools import COLOURS

    lake = tmp_path / "moraine"
    for i in range(6):
        photo_at(lake / f"red_{i}.jpg", *moved(MORAINE_LAKE, 40 * i), colour=COLOURS["red"], seed=i)
        photo_at(lake / f"blue_{i}.jpg", *moved(MORAINE_LAKE, -40 * i), colour=COLOURS["blue"], seed=20 + i)
    open_lake(qtbot, window, lake)

    group(qtbot, window)

    model = window.model
    grouped = [model.header_at(row) for row in model.header_rows() if model.header_at(row).number is not None]
    assert grouped and all(h.place.startswith("near ") and h.place.endswith(", Alberta, CA") for h in grouped)
    header_row = model.header_rows()[0]
    assert grouped[0].place in model.index(header_row, 0).data(Qt.ItemDataRole.DisplayRole)
    assert grouped[0].town and grouped[0].town in grouped[0].place


def test_the_inspector_says_what_a_current_header_stands_for(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    group(qtbot, window)
    model = window.model
    header_row = model.header_rows()[0]
    window.grid.setCurrentIndex(model.index(header_row + 1, 0))
    assert window.inspector.path() == model.path_at(header_row + 1)

    window.grid.setCurrentIndex(model.index(header_row, 0))

    header = model.header_at(header_row)
    assert window.inspector.path() is None
    assert window.inspector.empty.text().startswith(f"Group 1: {header.count} photos")
    assert "press 1-9" in window.inspector.empty.text()
    window.grid_order.back()
    window.grid.setCurrentIndex(model.index(-1, 0))
    assert window.inspector.empty.text() == "Select a photo"
