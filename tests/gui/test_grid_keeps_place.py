"""The grid keeps the user's place when its rows are replaced (a filter, a rename, a placement, a retrain's end):
the photos still shown stay selected, the current one stays current (or its nearest neighbour takes over), and
the scroll keeps the current photo where it was on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QAbstractItemView

from photo_tools import red_and_blue_photos
from lakeview.core.catalog.grid_queries import PhotoRow
from lakeview.gui.grid import PhotoGrid, PhotoGridModel
from lakeview.gui.worker import Ending, JobEnd, JobKind

SELECT = QItemSelectionModel.SelectionFlag.Select
PATHS = [Path(f"/photos/{i:03}.jpg") for i in range(120)]


def rows(paths, label=None) -> list[PhotoRow]:
    """Rows the catalog flags missing: no thumbnail is decoded, the tiles still take their place."""
    return [PhotoRow(i, path, True, label, "user" if label else None, None, None) for i, path in enumerate(paths)]


@pytest.fixture
def grid(qtbot):
    model = PhotoGridModel(thumbnail_px=64)
    view = PhotoGrid(thumbnail_size=64)
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 400)
    view.show()
    model.set_rows(rows(PATHS))
    yield view
    model.shutdown()


def place_user(grid: PhotoGrid, selected=(40, 50, 60), current=50) -> tuple[list[Path], int]:
    """Select three photos, make one current, scroll so it sits a little above the middle of the screen; returns
    (the selected photos, the current one's top on screen)."""
    model = grid.photo_model()
    for row in selected:
        grid.selectionModel().select(model.index(row, 0), SELECT)
    grid.selectionModel().setCurrentIndex(model.index(current, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    grid.scrollTo(model.index(current, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
    bar = grid.verticalScrollBar()
    assert 0 < bar.value() < bar.maximum() - 30, "the grid scrolls"
    bar.setValue(bar.value() + 30)
    return [PATHS[row] for row in selected], grid.visualRect(model.index(current, 0)).top()


def test_the_same_rows_again_keep_selection_current_and_scroll(grid):
    selected, top = place_user(grid)
    value = grid.verticalScrollBar().value()

    grid.photo_model().set_rows(rows(PATHS, label="red"))  # a retrain's end: the same photos, new facts

    assert grid.selected_paths() == selected
    assert grid.current_path() == PATHS[50]
    assert grid.verticalScrollBar().value() == value
    assert grid.visualRect(grid.currentIndex()).top() == top
    assert grid.currentIndex().data(Qt.ItemDataRole.ToolTipRole).count("Label: red") == 1


def test_photos_gone_above_leave_the_current_one_where_it_was_on_screen(grid):
    selected, top = place_user(grid)
    value = grid.verticalScrollBar().value()

    grid.photo_model().set_rows(rows(PATHS[::2]))  # a filter hides every odd photo; row 50 becomes row 25

    assert grid.selected_paths() == selected and grid.current_path() == PATHS[50]
    assert grid.currentIndex().row() == 25
    assert grid.visualRect(grid.currentIndex()).top() == top
    assert grid.verticalScrollBar().value() < value


def test_select_all_of_more_than_a_thousand_photos_survives_a_filter_that_hides_some(qtbot):
    """Qt's selection model drops the whole selection when every row of over 1,000 was selected and the row count
    changes; the grid keeps it."""
    many = [Path(f"/photos/{i:04}.jpg") for i in range(1500)]
    model, view = PhotoGridModel(thumbnail_px=64), PhotoGrid(thumbnail_size=64)
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    model.set_rows(rows(many))
    view.selectAll()
    view.selectionModel().setCurrentIndex(model.index(700, 0), QItemSelectionModel.SelectionFlag.NoUpdate)

    model.set_rows(rows(many[::3]))  # a filter keeps every third photo

    assert view.selected_paths() == many[::3] and view.current_path() == many[699]
    model.set_rows(rows(many[::3]))  # the same rows again: every row still selected
    assert len(view.selected_paths()) == 500
    model.shutdown()


def test_when_the_current_photo_is_hidden_its_nearest_neighbour_takes_over(grid):
    selected, top = place_user(grid)

    grid.photo_model().set_rows(rows(PATHS[:50] + PATHS[51:]))

    assert grid.current_path() == PATHS[51], "the next photo, where the hidden one was"
    assert grid.selected_paths() == [PATHS[40], PATHS[60]]
    assert grid.visualRect(grid.currentIndex()).top() == top


def test_when_nothing_was_selected_the_new_current_photo_is_selected(grid):
    model = grid.photo_model()
    grid.setCurrentIndex(model.index(70, 0))  # selects it too, as a click does
    model.set_rows(rows(PATHS[:65]))
    assert grid.current_path() == PATHS[64], "the nearest still shown, before it"
    assert grid.selected_paths() == [PATHS[64]], "a number key has something to label"


def test_another_folder_starts_at_the_top_with_nothing_selected(grid):
    place_user(grid)
    grid.photo_model().set_rows(rows([Path(f"/elsewhere/{i}.jpg") for i in range(120)]))
    assert grid.selected_paths() == [] and grid.current_path() is None
    assert grid.verticalScrollBar().value() == 0


# ---------------------------------------------------------------- in the window


@pytest.fixture
def lake(tmp_path) -> Path:
    return red_and_blue_photos(tmp_path / "lake", 8)


def open_lake(qtbot, window, lake) -> PhotoGridModel:
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(lake)
    window.grid.set_thumbnail_size(256)  # a few tiles a row: the grid scrolls
    window.grid.setFocus()
    return window.model


def place_in_window(window, lake) -> tuple[list[Path], Path, int]:
    grid, model = window.grid, window.model
    selected = [lake / "blue_2.jpg", lake / "red_3.jpg", lake / "red_5.jpg"]
    for path in selected:
        grid.selectionModel().select(model.index_of(path), SELECT)
    grid.selectionModel().setCurrentIndex(model.index_of(lake / "red_3.jpg"), QItemSelectionModel.SelectionFlag.NoUpdate)
    grid.scrollTo(grid.currentIndex())
    bar = grid.verticalScrollBar()
    assert bar.maximum() > 0, "the grid scrolls"
    bar.setValue(max(0, bar.value() - 60))
    return sorted(selected), lake / "red_3.jpg", bar.value()


def assert_place_kept(qtbot, window, selected, current, value) -> None:
    assert window.grid.selected_paths() == selected
    assert window.grid.current_path() == current
    assert window.grid.verticalScrollBar().value() == value
    assert window.inspector.path() == current
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert all(window.session.catalog.label_of(path).label == window.session.class_names()[0] for path in selected)


def test_a_rows_change_keeps_the_place_and_number_keys_label_the_selection(qtbot, window, lake, tiny_model):
    open_lake(qtbot, window, lake)
    window.session.use_model_file(tiny_model)
    selected, current, value = place_in_window(window, lake)

    with qtbot.waitSignal(window.session.rows_changed):
        window.session.set_filters(order=None)

    assert_place_kept(qtbot, window, selected, current, value)


def test_a_retrains_end_keeps_the_place(qtbot, window, lake, tiny_model):
    open_lake(qtbot, window, lake)
    session = window.session
    session.use_model_file(tiny_model)
    session.assign([lake / f"red_{i}.jpg" for i in range(6, 8)], "red")
    session.assign([lake / f"blue_{i}.jpg" for i in range(6, 8)], "blue")
    selected, current, value = place_in_window(window, lake)

    with qtbot.waitSignal(session.rows_changed, timeout=60_000):
        with qtbot.waitSignal(session.job_ended, timeout=60_000) as ended:
            session.retrain("quick")
    assert ended.args == [JobEnd(JobKind.RETRAIN, "Retrain", Ending.DONE,
                                 "new model: no held-out photos to measure it on yet; now active")]

    assert_place_kept(qtbot, window, selected, current, value)


def test_a_filter_that_hides_the_current_photo_hands_it_to_its_neighbour(qtbot, window, lake, tiny_model):
    model = open_lake(qtbot, window, lake)
    window.session.use_model_file(tiny_model)
    selected, current, _ = place_in_window(window, lake)
    window.session.assign([current], "red")
    after = model.path_at(model.row_of(current) + 1)

    window.filter_bar.filter_box.setCurrentText("Unlabelled")

    assert window.grid.current_path() == after and window.inspector.path() == after
    assert window.grid.selected_paths() == [path for path in selected if path != current]
