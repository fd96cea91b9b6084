"""What a new user meets first: the welcome offline, the Train tab's remembered settings, the folder tree, and the
small screens (the inspector's model id, the empty learning-rate finder)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication

from photo_tools import COLOURS, make_photo
from lakeview.core.catalog import Catalog
from lakeview.gui.inspector import Inspector
from lakeview.gui.library_panel import READABLE_WIDTH, LibraryPanel, mounted_drives
from lakeview.gui.plots import LRFinderPlot


# --- the inspector's model id ----------------------------------------------------------------------------------

def test_the_inspector_shows_eight_characters_of_the_model_id_and_copies_all_of_it(qtbot, tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.ensure_classes(["red", "blue"])
    photo = make_photo(tmp_path / "banff" / "lake.jpg", COLOURS["red"])
    catalog.add_photos([photo])
    model_id = "3f9c2a7be41d4c0e9a8b7c6d5e4f3a2b"
    catalog.add_model(model_id, tmp_path / "m.lvmodel", "tiny", ["red", "blue"], None, {}, "2024-01-01T00:00:00",
                      kind="full")
    catalog.store_predictions(model_id, [(photo, [("red", 0.9), ("blue", 0.1)])])
    inspector = Inspector(catalog)
    qtbot.addWidget(inspector)
    inspector.resize(320, 760)
    inspector.show()
    try:
        inspector.show_photo(photo)
        label = inspector.model_text
        assert label.isVisible() and label.text() == "model 3f9c2a7b"
        assert model_id in label.toolTip()
        assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        [copy] = label.actions()
        assert copy.text() == "Copy model id"
        copy.trigger()
        assert QGuiApplication.clipboard().text() == model_id
    finally:
        inspector.shutdown()
        catalog.close()


# --- the learning-rate finder before it has run ----------------------------------------------------------------

def test_the_empty_learning_rate_finder_shows_a_hint_not_numbers(qtbot):
    plot = LRFinderPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    assert plot.empty and plot.placeholder.isVisible()
    assert not plot.getAxis("bottom").style["showValues"] and not plot.getAxis("left").style["showValues"]
    plot.show_result([1e-5, 1e-4, 1e-3, 1e-2], [2.0, 1.5, 1.0, 3.0], 1e-3)
    assert not plot.empty
    assert plot.getAxis("bottom").style["showValues"] and plot.getAxis("left").style["showValues"]
    assert plot.points() == ([1e-5, 1e-4, 1e-3, 1e-2], [2.0, 1.5, 1.0, 3.0])
    plot.show_result([], [], None)
    assert plot.empty


# --- the folder tree --------------------------------------------------------------------------------------------

def test_the_folder_tree_starts_at_home_with_pictures_selected_and_shows_folder_names(qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Pictures" / "2024").mkdir(parents=True)
    (home / "Documents").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    panel = LibraryPanel(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.resize(panel.sizeHint())
    panel.show()
    assert panel.root == home and panel.places.currentText() == "Home (home)"
    assert not any(panel.places.itemData(i) == "/" for i in range(panel.places.count()))
    current = panel.folder_tree.currentIndex()
    assert current.data() == "Pictures" and panel.folder_tree.isExpanded(current)
    qtbot.waitUntil(lambda: panel.folders.rowCount(panel.folder_tree.rootIndex()) == 2, timeout=5_000)
    names = {panel.folders.index(r, 0, panel.folder_tree.rootIndex()).data() for r in range(2)}
    assert names == {"Documents", "Pictures"}
    assert panel.sizeHint().width() >= READABLE_WIDTH

    trip = tmp_path / "elsewhere" / "trip"
    trip.mkdir(parents=True)
    panel.remember(str(trip / "sub" / ".."))  # a path given with "..", as a chooser may: the row shows "trip"
    assert panel.folder_tree.currentIndex().data() == "trip"
    assert panel.root == trip.parent and panel.places.currentData() == str(trip.parent)
    panel.places.setCurrentIndex(0)
    panel.places.activated.emit(0)
    assert panel.root == home
    panel.grab().save(str(tmp_path / "library.png"))


def test_mounted_drives_leave_out_the_system_folders():
    for _, root in mounted_drives():
        assert str(root) != "/" and not str(root).startswith(("/proc", "/sys", "/boot", "/dev"))


# --- the Train tab: remembered settings, the welcome's network, words for the offline case -----------------------

def test_the_train_tab_remembers_network_weights_and_epochs_across_restarts(qtbot, tmp_path, app_settings,
                                                                            monkeypatch):
    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession
    from lakeview.gui.training_settings import FILE_WEIGHTS, IMAGENET_WEIGHTS

    weights_file = tmp_path / "mine.pth"
    weights_file.write_bytes(b"weights")
    first = MainWindow(LibrarySession(tmp_path / "library" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(first)
    panel = first.training_panel
    assert panel.arch.currentData() == "resnet34" and panel.weights.currentText() == IMAGENET_WEIGHTS
    monkeypatch.setattr(type(panel), "ask_weights_file", classmethod(lambda cls, parent: weights_file))
    panel.arch.setCurrentIndex(panel.arch.findData("mobilenet_v2"))
    panel.weights.setCurrentIndex(panel.weights.findText(FILE_WEIGHTS))
    panel.weights.activated.emit(panel.weights.currentIndex())
    panel.frozen_epochs.setFocus()
    panel.frozen_epochs.selectAll()
    qtbot.keyClicks(panel.frozen_epochs, "7")
    panel.unfrozen_epochs.setValue(2)
    first.close()
    app_settings.sync()

    second = MainWindow(LibrarySession(tmp_path / "library2" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(second)
    plan = second.training_panel.plan()
    assert (plan.arch, plan.weights, plan.frozen_epochs, plan.unfrozen_epochs) == (
        "mobilenet_v2", str(weights_file), 7, 2)
    assert second.training_panel.weights.currentText() == "File: mine.pth"
    second.close()


def test_the_network_picked_in_the_welcome_is_the_one_trained(qtbot, window):
    window.show_welcome()
    welcome = window.welcome
    row = welcome.arch_box.findData("resnet18")
    welcome.arch_box.setCurrentIndex(row)
    welcome.arch_box.activated.emit(row)
    assert window.training_panel.arch.currentData() == "resnet18"
    welcome.close()


def test_the_offline_message_speaks_to_an_app_user(qtbot, window):
    panel = window.training_panel
    panel.ask_offline("Could not download the ImageNet weights for resnet34 (83 MB): no network. Are you offline?")
    box = panel.offline_box
    qtbot.waitUntil(box.isVisible)
    words = box.text() + box.informativeText()
    assert "--" not in words and "press Train again" in words and "no network" in words
    assert {button.text() for button in box.buttons()} >= {"Choose a weights file…", "Start from scratch"}
    box.close()


# --- torch is imported when it competes with nothing ------------------------------------------------------------

def test_the_torch_import_waits_for_a_quiet_window_and_no_job(qtbot, monkeypatch):
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLineEdit

    from lakeview.gui import torch_warmup

    class Session(QObject):
        job_ended = Signal(object)

    monkeypatch.setattr(torch_warmup, "QUIET_MS", 150)
    session, busy, started = Session(), [True], []
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    warmup = torch_warmup.QuietStart(field, lambda: busy[0], session.job_ended, lambda: started.append(True))
    qtbot.wait(300)
    assert not started  # a folder job runs: the import waits for its end
    busy[0] = False
    session.job_ended.emit(None)
    for _ in range(4):  # the user types: each key press starts the wait again
        qtbot.keyClick(field, "a")
        qtbot.wait(60)
        assert not started
    qtbot.waitUntil(lambda: started == [True], timeout=2_000)
    session.job_ended.emit(None)
    qtbot.keyClick(field, "b")
    qtbot.wait(300)
    assert started == [True] and warmup.started
