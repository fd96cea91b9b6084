"""Enter, undo and redo as the user lives them: Enter keeps the user's corrections, one key press is one undo
step, and undo says what it changed, where the user can see it (or asks first)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from lakeview.core.catalog import Catalog
from lakeview.gui.history_steps import OffScreenChange

from photo_tools import make_photo

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "holiday"
    for i in range(4):
        make_photo(folder / f"IMG_{i}.jpg", seed=i)
    return sorted(folder.iterdir())


@pytest.fixture
def questions(monkeypatch):
    """The off-screen question, answered No unless a test sets `answers`; every question asked is kept."""
    asked: dict = {"texts": [], "answers": []}

    def ask(cls, parent, title, text):
        asked["texts"].append(text)
        return asked["answers"].pop(0) if asked["answers"] else False

    monkeypatch.setattr(OffScreenChange, "ask", classmethod(ask))
    return asked


def open_with_predictions(qtbot, window, folder, predicted: dict[int, str], photos) -> None:
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(folder)
    window.session.add_class("bees")
    window.session.add_class("wasps")
    window.session.catalog.store_predictions("m1", [(photos[i], [(name, 0.9)]) for i, name in predicted.items()])
    window.grid.setFocus()


def click(qtbot, window, path, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    grid = window.grid
    rect = grid.visualRect(window.model.index_of(path))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(rect.center()))


def status(window) -> str:
    return window.statusBar().currentMessage()


def test_enter_keeps_a_user_label_and_accepts_the_others(qtbot, window, photos, questions):
    open_with_predictions(qtbot, window, photos[0].parent, {0: "wasps", 1: "wasps"}, photos)
    catalog = window.session.catalog
    click(qtbot, window, photos[0])
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert catalog.label_of(photos[0]).label == "bees"

    click(qtbot, window, photos[0])
    click(qtbot, window, photos[1], CTRL)
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)

    assert (catalog.label_of(photos[0]).label, catalog.label_of(photos[0]).source) == ("bees", "user")
    assert (catalog.label_of(photos[1]).label, catalog.label_of(photos[1]).source) == ("wasps", "accepted")
    assert status(window) == "1 accepted, 1 already labelled"
    assert questions["texts"] == []


def test_enter_over_two_predicted_classes_is_one_undo_step(qtbot, window, photos, questions):
    open_with_predictions(qtbot, window, photos[0].parent, {0: "bees", 1: "wasps", 2: "bees"}, photos)
    catalog = window.session.catalog
    click(qtbot, window, photos[0])
    click(qtbot, window, photos[2], Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    assert [catalog.label_of(p).label for p in photos[:3]] == ["bees", "wasps", "bees"]
    assert status(window) == "3 accepted"
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    edit_menu.aboutToShow.emit()
    assert window.menu_actions.undo.text() == "&Undo: 3 photos labelled (2 bees, 1 wasps)"
    assert window.menu_actions.redo.text() == "&Redo label"

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)

    assert all(catalog.label_of(p) is None for p in photos[:3])
    assert not catalog.can_undo()
    assert status(window) == "Undid: 3 photos labelled (2 bees, 1 wasps)"
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert [catalog.label_of(p).label for p in photos[:3]] == ["bees", "wasps", "bees"]
    assert status(window) == "Redid: 3 photos labelled (2 bees, 1 wasps)"
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert status(window) == "Nothing to redo"


def test_undo_on_screen_selects_the_photos_it_changed(qtbot, window, photos, questions):
    open_with_predictions(qtbot, window, photos[0].parent, {}, photos)
    click(qtbot, window, photos[1])
    click(qtbot, window, photos[3], CTRL)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    click(qtbot, window, photos[0])
    assert window.selected_paths() == [photos[0]]

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)

    assert window.session.catalog.label_of(photos[1]) is None
    assert window.selected_paths() == [photos[1], photos[3]]
    assert window.grid.current_path() == photos[1]
    assert status(window) == "Undid: 2 photos labelled wasps"
    assert questions["texts"] == [], "nothing to ask: the photos are on screen"


@pytest.fixture
def labelled_before_a_restart(tmp_path, photos):
    """Last session: one photo of the holiday folder labelled; this one starts with no folder open."""
    with Catalog(tmp_path / "library" / "catalog.sqlite") as catalog:
        catalog.add_photos(photos)
        catalog.ensure_classes(["bees"])
        catalog.set_labels(photos[2:3], "bees")
    return photos[2]


def test_undo_with_no_folder_open_asks_first_and_no_changes_nothing(qtbot, labelled_before_a_restart, window,
                                                                     questions):
    photo = labelled_before_a_restart
    assert window.model.rowCount() == 0

    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)

    assert len(questions["texts"]) == 1
    assert "1 photo labelled bees" in questions["texts"][0]
    assert f"1 photo that is not on screen, in {photo.parent}" in questions["texts"][0]
    assert window.session.catalog.label_of(photo).label == "bees"
    assert status(window) == "Undo: nothing changed"

    questions["answers"].append(True)
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert window.session.catalog.label_of(photo) is None
    assert status(window) == "Undid: 1 photo labelled bees"


def test_undo_of_photos_in_another_folder_names_that_folder(qtbot, window, photos, tmp_path, questions):
    open_with_predictions(qtbot, window, photos[0].parent, {}, photos)
    click(qtbot, window, photos[1])
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    garden = tmp_path / "garden"
    make_photo(garden / "rose.jpg", seed=9)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(garden)
    assert window.model.paths() == [garden / "rose.jpg"]

    questions["answers"].append(True)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)

    assert questions["texts"] == ["Undo \u201c1 photo labelled bees\u201d?\n\n"
                                  f"It changes 1 photo that is not on screen, in {photos[1].parent}."]
    assert window.session.catalog.label_of(photos[1]) is None
    assert status(window) == "Undid: 1 photo labelled bees"
