"""Labelling as a queue, driven with the keys and the mouse on the real window: a number key or Enter labels the
selection and moves on to the next photo without a label (or stays, when the user says so); the review queue lets
labelled photos go and keeps the photo under the cursor through a retrain; a number key that cannot label says
why in the status bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget

from lakeview.core.catalog.grid_queries import PhotoRow
from lakeview.gui.grid import PhotoGridModel
from lakeview.gui.main_window import MainWindow
from lakeview.gui.review_queue import MOVE_ON_KEY, next_to_review
from lakeview.gui.session import LibrarySession
from lakeview.gui.worker import Ending

from photo_tools import red_and_blue_photos

QUEUE = "Review queue (least confident first)"


@pytest.fixture
def lake(tmp_path) -> Path:
    return red_and_blue_photos(tmp_path / "lake", 4)


def open_lake(qtbot, window, lake, classes=("blue", "red")) -> None:
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(lake)
    for name in classes:
        window.session.add_class(name)
    window.grid.setFocus()


def click(qtbot, window, row: int) -> None:
    grid = window.grid
    grid.scrollTo(window.model.index(row, 0))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualRect(window.model.index(row, 0)).center())


def shown(window) -> list[Path]:
    return window.model.paths()


def status(window) -> str:
    return window.statusBar().currentMessage()


def classify(qtbot, window, tiny_model) -> None:
    window.session.use_model_file(tiny_model)
    with qtbot.waitSignal(window.session.job_ended, timeout=30_000) as ended:
        window.session.classify()
    assert ended.args[0].ending is Ending.DONE


def test_the_next_photo_to_review_is_the_first_unlabelled_one_after_the_selection_then_from_the_top():
    assert next_to_review([True, False, True, False], after=1) == 3
    assert next_to_review([False, True, True, True], after=1) == 0
    assert next_to_review([True, True], after=0) is None


def test_photos_that_leave_the_view_are_removed_in_place(qtbot, qtmodeltester):
    paths = [Path(f"/photos/{i}.jpg") for i in range(8)]
    model = PhotoGridModel()
    model.set_rows([PhotoRow(i, path, True, None, None, None, None) for i, path in enumerate(paths)])
    qtmodeltester.check(model)

    model.remove_photos([paths[1], paths[2], paths[6], Path("/not/shown.jpg")])

    assert model.paths() == [paths[0], *paths[3:6], paths[7]]
    assert model.row_of(paths[7]) == 4
    model.shutdown()


def test_a_number_key_labels_the_photo_and_moves_to_the_next_one_without_a_label(qtbot, window, lake):
    open_lake(qtbot, window, lake)
    paths = shown(window)
    window.session.assign([paths[2]], "red")
    click(qtbot, window, 0)

    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert window.session.catalog.label_of(paths[0]).label == "blue"
    assert window.grid.current_path() == paths[1] and window.grid.selected_paths() == [paths[1]]
    assert window.inspector.path() == paths[1]

    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    assert window.session.catalog.label_of(paths[1]).label == "red"
    assert window.grid.selected_paths() == [paths[3]], "photo 2 already had a label"

    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)  # none of these moves on too
    assert window.grid.selected_paths() == [paths[4]]


def test_with_the_option_off_the_selection_stays_and_the_choice_is_remembered(qtbot, window, lake, app_settings):
    open_lake(qtbot, window, lake)
    paths = shown(window)
    assert window.filter_bar.move_on.isChecked(), "on by default"
    qtbot.mouseClick(window.filter_bar.move_on, Qt.MouseButton.LeftButton)
    click(qtbot, window, 0)

    qtbot.keyClick(window.grid, Qt.Key.Key_1)

    assert window.session.catalog.label_of(paths[0]).label == "blue"
    assert window.grid.current_path() == paths[0] and window.grid.selected_paths() == [paths[0]]
    app_settings.sync()
    again = MainWindow(LibrarySession(window.session.catalog.path), QSettings(app_settings.fileName(),
                                                                             QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert not again.filter_bar.move_on.isChecked() and app_settings.value(MOVE_ON_KEY, type=bool) is False
    again.close()


def test_in_the_review_queue_a_labelled_photo_leaves_and_the_next_one_is_current(qtbot, window, lake, tiny_model):
    open_lake(qtbot, window, lake, classes=())
    classify(qtbot, window, tiny_model)
    window.filter_bar.filter_box.setCurrentText(QUEUE)
    queue = shown(window)
    assert len(queue) == 8
    click(qtbot, window, 0)
    place = window.grid.visualRect(window.grid.currentIndex())

    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert shown(window) == queue[1:], "the labelled photo left the queue"
    assert window.grid.current_path() == queue[1] and window.grid.selected_paths() == [queue[1]]
    assert window.inspector.path() == queue[1]
    window.grid.doItemsLayout()
    assert window.grid.visualRect(window.grid.currentIndex()) == place, "the next photo took its place on screen"

    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # accepting the prediction is a label too
    assert window.session.catalog.label_of(queue[1]) is not None
    assert shown(window) == queue[2:]
    assert window.grid.current_path() == queue[2] and window.grid.selected_paths() == [queue[2]]

    # Staying: the photo still leaves the queue, and its neighbour takes over.
    qtbot.mouseClick(window.filter_bar.move_on, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    assert shown(window) == queue[3:] and window.grid.selected_paths() == [queue[3]]

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    window.filter_bar.filter_box.setCurrentText("All photos")
    window.filter_bar.filter_box.setCurrentText(QUEUE)
    assert queue[2] in shown(window), "an undone label puts the photo back in the queue"


def test_a_retrain_keeps_the_current_photo_of_the_review_queue(qtbot, window, lake, tiny_model):
    open_lake(qtbot, window, lake, classes=())
    classify(qtbot, window, tiny_model)
    session = window.session
    session.assign([lake / f"red_{i}.jpg" for i in range(2)], "red")
    session.assign([lake / f"blue_{i}.jpg" for i in range(2)], "blue")
    window.filter_bar.filter_box.setCurrentText(QUEUE)
    click(qtbot, window, 0)
    current = window.grid.current_path()

    with qtbot.waitSignal(session.rows_changed, timeout=60_000):
        with qtbot.waitSignal(session.job_ended, timeout=60_000) as ended:
            session.retrain("quick")
    assert ended.args[0].ending is Ending.DONE
    assert window.grid.current_path() == current and window.grid.selected_paths() == [current]
    assert window.inspector.path() == current

    # A re-score that makes the photo under the cursor the most confident one: it moves to the end of the queue,
    # and stays current, selected and on screen.
    predicted = session.catalog.prediction_of(current)[1][0][0]
    session.catalog.store_predictions(session.catalog.active_model().id, [(current, [(predicted, 0.999)])])
    session.model_trained()
    assert shown(window)[-1] == current
    assert window.grid.current_path() == current and window.grid.selected_paths() == [current]
    assert window.grid.viewport().rect().intersects(window.grid.visualRect(window.grid.currentIndex()))


def test_a_number_key_with_no_class_yet_points_at_the_classes_panel(qtbot, window, lake):
    open_lake(qtbot, window, lake, classes=())
    click(qtbot, window, 0)

    window.findChild(QDockWidget, "classes").close()

    qtbot.keyClick(window.grid, Qt.Key.Key_1)

    assert status(window) == "Add a class in the Classes panel first (type a name, press Enter)"
    assert window.findChild(QDockWidget, "classes").isVisible() and window.classes_panel.name.hasFocus()
    assert window.session.catalog.label_of(shown(window)[0]) is None
    qtbot.keyClicks(window.classes_panel.name, "blue")
    qtbot.keyClick(window.classes_panel.name, Qt.Key.Key_Return)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert window.session.catalog.label_of(shown(window)[0]).label == "blue", "the first key press led somewhere"


def test_a_number_key_with_nothing_selected_or_past_the_classes_says_why(qtbot, window, lake):
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert status(window) == "Add a class in the Classes panel first (type a name, press Enter)"
    window.session.add_class("blue")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert status(window) == "Open a folder of photos first (Ctrl+O)"

    open_lake(qtbot, window, lake, classes=("red",))
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    assert status(window) == "Select a photo first (click it, or move with the arrow keys), then press 1-2"

    click(qtbot, window, 0)
    qtbot.keyClick(window.grid, Qt.Key.Key_7)
    assert status(window) == "There is no class 7: press 1-2 (1 blue, 2 red), or add a class in the Classes panel"
    assert window.session.catalog.label_of(shown(window)[0]) is None
    assert window.grid.selected_paths() == [shown(window)[0]]
