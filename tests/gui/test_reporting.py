"""The app tells the user what happened, driven as a user would: retrains say what they did and what waits,
progress counts in units, an empty grid says why, and the Results tab explains its photos."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from lakeview.gui.grid.model import Role
from lakeview.gui.interpretation_view import CELL_ROLE, PATH_ROLE
from lakeview.gui.worker import JobKind

from photo_tools import red_and_blue_photos


@pytest.fixture
def photos(tmp_path):
    return red_and_blue_photos(tmp_path / "holiday", 15, blue_seed=40, digits=2)


def open_folder(qtbot, window, folder):
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(folder)
    return window.model


def select_rows(window, rows):
    selection = window.grid.selectionModel()
    selection.setCurrentIndex(window.model.index(rows[0], 0), selection.SelectionFlag.NoUpdate)
    for row in rows:
        selection.select(window.model.index(row, 0), selection.SelectionFlag.Select)
    window.grid.setFocus()


def label_everything(window, photos):
    """Labels as a labelled folder brings them (not corrections, so no retrain is scheduled)."""
    catalog = window.session.catalog
    catalog.set_labels(sorted(photos.glob("red_*.jpg")), "red", "imported")
    catalog.set_labels(sorted(photos.glob("blue_*.jpg")), "blue", "imported")
    window.session.show_folder()


def finish_job(qtbot, window, start):
    with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
        start()
    return ended.args[0]


def test_a_pending_retrain_shows_in_the_status_bar_and_its_end_says_what_it_did(qtbot, window, photos, tiny_model):
    model = open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    assert window.model_label.text().startswith("model: ") and "%" not in window.model_label.text()
    label_everything(window, photos)
    select_rows(window, [model.row_of(photos / "red_00.jpg"), model.row_of(photos / "red_01.jpg"),
                         model.row_of(photos / "red_02.jpg")])
    qtbot.keyClick(window.grid, Qt.Key.Key_1)  # blue, the first class: three corrections
    qtbot.waitUntil(lambda: re.fullmatch(r"retrain in (29|30) s: 3 corrections", window.retrain_label.text())
                    is not None, timeout=5_000)

    counts: list[str] = []
    window.session.job_progress.connect(lambda *_: counts.append(window.job_status.bar.text()))
    with qtbot.waitSignal(window.session.model_changed, timeout=60_000):
        end = finish_job(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_T,
                                                               Qt.KeyboardModifier.ControlModifier))
    assert end.kind is JobKind.RETRAIN
    figures = re.fullmatch(r"new model: (\d+\.\d)% error on (\d+) held-out photos?; (now active.*|kept the active "
                           r"one at \d+\.\d%)", end.message)
    assert figures, end.message
    assert window.statusBar().currentMessage() == f"Retrain: {end.message}"
    assert any(re.fullmatch(r"batch \d+ of \d+", text) for text in counts), counts
    assert any(re.fullmatch(r"\d+ of \d+ photos", text) for text in counts), counts
    qtbot.waitUntil(lambda: window.retrain_label.text() == "", timeout=5_000)
    if figures.group(3).startswith("now active"):
        assert re.search(rf"\(tiny, {figures.group(1)}% error on {figures.group(2)} photos?\)$",
                         window.model_label.text()), window.model_label.text()


def test_the_results_tab_says_when_it_shows_an_older_model(qtbot, window, photos, tiny_model):
    open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    label_everything(window, photos)
    end = finish_job(qtbot, window, window.results.evaluate_button.click)
    assert re.fullmatch(r"\d+\.\d% error on \d+ held-out photos?", end.message), end.message
    measured = window.session.catalog.active_model().id
    assert window.results.older_note.isHidden()

    finish_job(qtbot, window, lambda: window.session.retrain("quick"))
    active = window.session.catalog.active_model().id
    assert active != measured, "the retrained head beats the untrained tiny model"
    assert window.results.older_note.text() == (
        f"<b>Older results</b>, of model {measured[:8]}; the active model is now {active[:8]}. Press “Measure "
        "the active model” for its own.")
    assert window.results.older_note.isVisibleTo(window.results)

    finish_job(qtbot, window, window.results.evaluate_button.click)
    assert window.results.older_note.isHidden()


def test_classifying_counts_photos_and_streams_them_in_batches(qtbot, window, photos, tiny_model):
    open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    counts, batches = [], []
    window.session.job_progress.connect(
        lambda *_: counts.append((window.job_status.bar.text(), window.job_status.bar.maximum())))
    window.session.predictions_changed.connect(batches.append)

    finish_job(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier))

    assert counts[0] == ("0 of 30 photos", 30) and counts[-1] == ("30 of 30 photos", 30)
    assert len(batches) >= 4 and sum(len(b) for b in batches) == 30


def test_classify_from_a_filtered_view_says_it_left_the_rest_of_the_folder_out(qtbot, window, photos, tiny_model):
    open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    qtbot.keyClicks(window.filter_bar.search, "blue_")
    assert window.model.rowCount() == 15

    started = []
    window.session.job_started.connect(started.append)
    end = finish_job(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier))

    assert started == ["Classify only the photos shown"]
    assert end.message == ("the folder's other 15 photos were not classified (a filter is on; show the whole "
                           "folder, then Ctrl+R, to classify them)")


def test_an_empty_grid_says_why_and_the_window_counts_photos_and_the_selection(qtbot, window, photos, tmp_path):
    assert window.grid.empty_text == "Open a folder (Ctrl+O)"
    window.grid.grab()  # painting the empty state
    assert window.count_label.text() == "0 photos"
    (tmp_path / "empty").mkdir()
    open_folder(qtbot, window, tmp_path / "empty")
    assert window.grid.empty_text == "This folder has no photos"

    open_folder(qtbot, window, photos)
    assert window.count_label.text() == "30 photos"
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0, 0))
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.count_label.text() == "30 photos, 3 selected"

    qtbot.keyClicks(window.filter_bar.search, "no such name")
    assert window.model.rowCount() == 0
    assert window.grid.empty_text == "No photo matches this filter"
    assert window.count_label.text() == "0 photos"


def test_results_photos_show_the_prediction_and_a_fixed_tile_its_new_label(qtbot, window, photos, tiny_model):
    open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    label_everything(window, photos)
    finish_job(qtbot, window, window.results.evaluate_button.click)
    held_out = window.results.interpretation.paths

    matrix = window.results.matrix
    cell = next(matrix.item(r, c) for r in range(matrix.rowCount()) for c in range(matrix.columnCount())
                if matrix.item(r, c).text() != "0")
    actual, predicted = cell.data(CELL_ROLE)
    qtbot.mouseClick(matrix.viewport(), Qt.MouseButton.LeftButton, pos=matrix.visualItemRect(cell).center())
    shown = [window.model.path_at(r) for r in range(window.model.rowCount())]
    assert len(shown) == int(cell.text()) and set(shown) <= set(held_out)
    for row in range(window.model.rowCount()):
        index = window.model.index(row, 0)
        assert (index.data(Role.LabelRole), index.data(Role.PredictedRole)) == (actual, predicted)
    window.grid.setCurrentIndex(window.model.index(0, 0))
    assert window.inspector.no_prediction.isHidden()

    gallery = window.results.gallery
    tile = gallery.item(0)
    menu = window.results.tile_menu(tile)
    actual = tile.text().split("\n")[0].split(" / ")[1]
    checked = [a.text() for a in menu.actions() if a.isCheckable() and a.isChecked()]
    assert checked == [f"Label as {actual}"]
    other = "red" if actual == "blue" else "blue"
    next(a for a in menu.actions() if a.text() == f"Label as {other}").trigger()
    assert tile.text().split("\n") == [f"{tile.text().split(' / ')[0]} / {other}", "label fixed"]
    assert [a.text() for a in window.results.tile_menu(tile).actions() if a.isChecked()] == [f"Label as {other}"]
    caption = tile.text()
    window.tabs.setCurrentWidget(window.grid)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tile.text() != caption and tile.text().split("\n")[0].endswith(f" / {actual}")
    assert len({gallery.item(r).data(PATH_ROLE) for r in range(gallery.count())}) == gallery.count()
