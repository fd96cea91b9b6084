"""The desktop app driven as a user would: open a folder, classify, label with the keyboard, undo, retrain."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

from lakeview.core.catalog import NONE_OF_THESE
from lakeview.core.training.retrain_schedule import SchedulerPolicy
from lakeview.gui.grid.model import Role
from lakeview.gui.main_window import MainWindow
from lakeview.gui.session import LibrarySession
from lakeview.gui.worker import Ending, JobEnd, JobKind

from photo_tools import red_and_blue_photos


@pytest.fixture
def photos(tmp_path):
    folder = red_and_blue_photos(tmp_path / "banff", 6)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    return folder


def open_folder(qtbot, window, folder):
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000) as ended:
        window.open_folder(folder)
    assert ended.args[0].message == "1 file(s) could not be read" or ended.args[0].message == ""
    return window.model


def test_opening_a_folder_lists_its_photos_and_thumbnails_arrive(qtbot, window, photos):
    model = open_folder(qtbot, window, photos)
    assert model.rowCount() == 13
    names = [model.path_at(r).name for r in range(model.rowCount())]
    assert names == sorted(p.name for p in photos.iterdir())
    for row in range(model.rowCount()):
        model.thumbnail(row)
    qtbot.waitUntil(lambda: all(model.data(model.index(r, 0), Role.ErrorRole) or model.thumbnail(r) is not None
                                for r in range(model.rowCount())), timeout=10_000)
    broken = model.row_of(photos / "broken.jpg")
    qtbot.waitUntil(lambda: bool(model.data(model.index(broken, 0), Role.ErrorRole)), timeout=10_000)


def test_classify_streams_predictions_into_the_grid(qtbot, window, photos, tiny_model):
    model = open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    assert "model:" in window.model_label.text()
    progress = []
    window.session.job_progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(window.session.job_ended, timeout=30_000) as ended:
        window.session.classify()
    assert ended.args == [JobEnd(JobKind.CLASSIFY, "Classify", Ending.DONE, "1 photo(s) unreadable")]
    assert progress[-1] == (13, 13)
    predicted = [model.data(model.index(r, 0), Role.PredictedRole) for r in range(model.rowCount())]
    assert sum(p in ("red", "blue") for p in predicted) == 12


def test_digits_label_the_selection_and_undo_restores(qtbot, window, photos, tiny_model):
    model = open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    window.filter_bar.move_on.setChecked(False)  # each key acts on the same two photos
    first = model.row_of(photos / "blue_0.jpg")
    second = model.row_of(photos / "blue_1.jpg")
    selection = window.grid.selectionModel()
    selection.select(model.index(first, 0), selection.SelectionFlag.Select)
    selection.select(model.index(second, 0), selection.SelectionFlag.Select)
    window.grid.setFocus()

    qtbot.keyClick(window.grid, Qt.Key.Key_1)

    catalog = window.session.catalog
    assert catalog.label_of(photos / "blue_0.jpg").label == "blue"
    assert catalog.label_of(photos / "blue_1.jpg").source == "user"
    assert model.data(model.index(first, 0), Role.LabelRole) == "blue"

    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    assert catalog.label_of(photos / "blue_0.jpg").label == NONE_OF_THESE

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.label_of(photos / "blue_0.jpg").label == "blue"
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert catalog.label_of(photos / "blue_0.jpg") is None
    assert model.data(model.index(first, 0), Role.LabelRole) is None
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert catalog.label_of(photos / "blue_1.jpg").label == "blue"


def test_cancel_stops_classification(qtbot, window, photos, tiny_model):
    open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    with qtbot.waitSignal(window.session.job_ended, timeout=30_000) as ended:
        window.session.classify()
        window.job_status.cancel_button.click()
    assert ended.args == [JobEnd(JobKind.CLASSIFY, "Classify", Ending.CANCELLED, "cancelled")]
    assert not window.job_status.isVisible()


def test_retrain_from_corrections_makes_a_new_active_version(qtbot, window, photos, tiny_model):
    open_folder(qtbot, window, photos)
    session = window.session
    session.use_model_file(tiny_model)
    session.assign([photos / f"red_{i}.jpg" for i in range(6)], "red")
    session.assign([photos / f"blue_{i}.jpg" for i in range(6)], "blue")
    before = session.catalog.active_model().id
    with qtbot.waitSignal(session.model_changed, timeout=60_000):
        with qtbot.waitSignal(session.job_ended, timeout=60_000) as ended:
            session.retrain("quick")
    end = ended.args[0]
    assert (end.kind, end.name, end.ending) == (JobKind.RETRAIN, "Retrain", Ending.DONE)
    assert end.message.startswith("new model: ") and " held-out photo" in end.message
    versions = session.catalog.models()
    assert len(versions) == 2 and versions[1].parent == before


def test_enough_corrections_retrain_in_the_background(qtbot, tmp_path, photos, tiny_model):
    session = LibrarySession(tmp_path / "auto" / "catalog.sqlite", policy=SchedulerPolicy(after_corrections=4))
    try:
        with qtbot.waitSignal(session.job_ended, timeout=20_000):
            session.open_folder(photos)
        session.use_model_file(tiny_model)
        session.assign([photos / f"red_{i}.jpg" for i in range(3)], "red")
        assert not session.busy
        with qtbot.waitSignal(session.model_changed, timeout=60_000):
            session.assign([photos / f"blue_{i}.jpg" for i in range(3)], "blue")
            assert session.busy, "the fourth correction started a retrain"
        assert len(session.catalog.models()) == 2
    finally:
        session.close()


def test_the_inspector_follows_the_current_photo_and_space_previews_it(qtbot, window, photos, tiny_model):
    model = open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.session.classify()
    window.grid.setFocus()
    window.grid.setCurrentIndex(model.index(2, 0))
    assert window.inspector.path() == model.path_at(2)
    qtbot.waitUntil(lambda: len(window.inspector.prediction_bars()) == 2, timeout=5_000)

    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    dialog = window.preview_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    assert dialog.path() == model.path_at(2)
    qtbot.keyClick(dialog, Qt.Key.Key_Right)
    assert window.grid.currentIndex().row() == 3 and window.inspector.path() == model.path_at(3)
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Space)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)

    window.filter_bar.move_on.setChecked(False)  # the inspector stays on the photo just labelled
    window.grid.selectionModel().select(model.index(3, 0), window.grid.selectionModel().SelectionFlag.ClearAndSelect)
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    assert window.session.class_names()[1] == "red"
    qtbot.waitUntil(lambda: "red" in window.inspector.label_text.text())  # one refresh for the label and the class
    assert "labelled by you" in window.inspector.label_text.text()


def test_predict_a_test_folder_fills_the_dock(qtbot, window, photos, tiny_model, monkeypatch):
    window.session.use_model_file(tiny_model)
    monkeypatch.setattr(type(window.predict_folder_view), "ask_folder", classmethod(lambda cls, parent: photos))

    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.predict_test_folder()

    assert window.predict_folder_dock.isVisible()
    assert window.predict_folder_view.model.rowCount() == 13
    assert "13 photos" in window.predict_folder_view.summary.text()


def test_the_copy_or_move_dialog_opens_on_the_selection(qtbot, window, photos):
    model = open_folder(qtbot, window, photos)
    window.grid.selectionModel().select(model.index(0, 0), window.grid.selectionModel().SelectionFlag.Select)

    window.place_photos()

    from lakeview.gui.placement_dialog import PlacementDialog
    dialog = window.findChild(PlacementDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.table.model().rowCount() == 1
    dialog.reject()


def test_classes_are_renamed_recoloured_and_removed_from_their_menu(qtbot, window, photos, monkeypatch):
    from lakeview.gui.classes_panel import ClassesPanel

    model = open_folder(qtbot, window, photos)
    for name in ("louise", "moraine"):
        window.session.add_class(name)
    window.session.assign([model.path_at(0)], "louise")
    panel = window.classes_panel
    monkeypatch.setattr(ClassesPanel, "ask_name", classmethod(lambda cls, parent, old: "Lake Louise"))
    monkeypatch.setattr(ClassesPanel, "ask_colour", classmethod(lambda cls, parent, colour: "#123456"))

    def choose(row: int, text: str) -> None:
        [action] = [a for a in panel.class_menu(panel.list.item(row)).actions() if a.text() == text]
        action.trigger()

    choose(0, "Rename…")
    assert window.session.class_names() == ["Lake Louise", "moraine"]
    assert model.data(model.index(0, 0), Role.LabelRole) == "Lake Louise"
    choose(1, "Change colour…")
    assert window.session.class_colours()["moraine"] == "#123456"
    choose(0, "Remove")
    assert "relabel them" in window.last_warning.text() and window.session.class_names()[0] == "Lake Louise"
    window.last_warning.close()
    choose(1, "Remove")
    assert window.session.class_names() == ["Lake Louise"]


def test_the_folder_tree_opens_a_folder(qtbot, window, photos):
    index = window.library.folders.index(str(photos))
    qtbot.waitUntil(lambda: window.library.folders.index(str(photos)).isValid(), timeout=5_000)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.library.folder_tree.activated.emit(window.library.folders.index(str(photos)))
    assert window.model.rowCount() == 13 and index.isValid()


def test_the_welcome_greets_a_first_run_and_is_in_the_help_menu(qtbot, tmp_path):
    from lakeview.gui.welcome import WelcomeDialog

    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    main = MainWindow(session, QSettings(str(tmp_path / "first.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: main.welcome is not None and main.welcome.isVisible())
    main.welcome.train_requested.emit()
    assert main.tabs.currentWidget() is main.training_panel
    main.welcome.close()
    qtbot.waitUntil(lambda: main.welcome is None)
    main.show_welcome()
    assert isinstance(main.welcome, WelcomeDialog)
    main.close()


def test_the_splitters_come_back_as_they_were_left(qtbot, tmp_path, app_settings):
    first = MainWindow(LibrarySession(tmp_path / "library" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(first)
    first.show()
    first.training_panel.splitter.setSizes([300, 700])
    first.results.splitter.setSizes([500, 500])
    sizes = first.training_panel.splitter.sizes(), first.results.splitter.sizes()
    first.close()

    second = MainWindow(LibrarySession(tmp_path / "library" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(second)
    second.show()
    assert (second.training_panel.splitter.sizes(), second.results.splitter.sizes()) == sizes
    second.close()


def test_a_renamed_class_keeps_its_predictions_and_the_model_predicts_the_new_name(qtbot, window, photos, tiny_model):
    model = open_folder(qtbot, window, photos)
    window.session.use_model_file(tiny_model)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.session.classify()
    path = model.path_at(0)
    before = window.session.catalog.prediction_of(path)[1][0][0]

    window.session.rename_class(before, "Lake " + before)

    assert window.session.catalog.prediction_of(path)[1][0][0] == "Lake " + before
    assert window.session.accept_predictions([path]) and window.session.catalog.label_of(path).label == "Lake " + before
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.session.classify()
    assert window.session.catalog.query(predicted="Lake " + before), "new predictions name the class as it is now"
    assert sorted(window.session.class_names()) == sorted({"blue", "red"} - {before} | {"Lake " + before})
