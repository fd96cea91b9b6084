"""The app opening folders whose file and folder names are not UTF-8: every photo is shown, with its thumbnail,
under a readable name, and labelling one works."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lakeview.core.photos.file_names import readable_name
from lakeview.gui.grid.model import Role
from lakeview.gui.main_window import MainWindow
from lakeview.gui.session import LibrarySession
from lakeview.gui.worker import Ending, JobEnd, JobKind

from photo_tools import COLOURS, make_photo
from hostile_tools import RAW_NAMES, raw_name

ODD_FOLDER = raw_name(b"Urlaub_\xfc\xff")


@pytest.fixture
def odd_photos(tmp_path) -> dict[str, list[Path]]:
    """An ordinary folder holding photos named by raw bytes, and a subfolder whose own name is raw bytes."""
    folder = tmp_path / "camera"
    names = [raw_name(raw) for raw in RAW_NAMES] + ["plain.jpg"]
    return {
        "top": [make_photo(folder / name, COLOURS["red"], seed=i) for i, name in enumerate(names)],
        "odd": [make_photo(folder / ODD_FOLDER / name, COLOURS["blue"], seed=10 + i) for i, name in enumerate(names)],
    }


def shown_paths(model) -> list[bytes]:
    return sorted(os.fsencode(model.path_at(r)) for r in range(model.rowCount()))


def test_opening_a_folder_with_odd_names_shows_every_photo_with_its_thumbnail(qtbot, window, odd_photos):
    folder = odd_photos["top"][0].parent
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000) as ended:
        window.open_folder(folder)
    assert ended.args == [JobEnd(JobKind.OPEN_FOLDER, "Opening folder", Ending.DONE, "")]
    model = window.model
    everything = odd_photos["top"] + odd_photos["odd"]
    assert shown_paths(model) == sorted(os.fsencode(p) for p in everything)

    for row in range(model.rowCount()):
        assert model.data(model.index(row, 0), Qt.ItemDataRole.DisplayRole) == readable_name(model.path_at(row).name)
        model.thumbnail(row)
    qtbot.waitUntil(lambda: all(model.thumbnail(r) is not None for r in range(model.rowCount())), timeout=15_000)
    assert not any(model.data(model.index(r, 0), Role.ErrorRole) for r in range(model.rowCount()))

    odd_photo = odd_photos["odd"][1]
    with qtbot.waitSignal(window.inspector.loader.loaded, timeout=10_000,
                          check_params_cb=lambda path, image, error: path == str(odd_photo)) as loaded:
        window.grid.setCurrentIndex(model.index(model.row_of(odd_photo), 0))
    assert window.inspector.path() == odd_photo and loaded.args[2] == "" and not loaded.args[1].isNull()

    window.session.add_class("blue")
    assert window.session.assign([odd_photo], "blue")
    assert model.data(model.index(model.row_of(odd_photo), 0), Role.LabelRole) == "blue"
    assert window.session.catalog.label_of(odd_photo).label == "blue"


def test_a_folder_whose_own_name_is_not_utf8_shows_only_its_photos(qtbot, window, odd_photos):
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.session.open_folder(odd_photos["top"][0].parent)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000) as ended:
        window.session.open_folder(odd_photos["odd"][0].parent)
    assert ended.args == [JobEnd(JobKind.OPEN_FOLDER, "Opening folder", Ending.DONE, "")]
    assert sorted(os.fsencode(row.path) for row in window.session.rows()) == \
        sorted(os.fsencode(p) for p in odd_photos["odd"])
    assert shown_paths(window.model) == sorted(os.fsencode(p) for p in odd_photos["odd"])


def test_an_odd_folder_keeps_its_exact_name_in_the_title_and_the_recent_folders(qtbot, tmp_path, app_settings,
                                                                                odd_photos):
    folder = odd_photos["odd"][0].parent
    qt_form = folder.parent / "Urlaub_"  # what Qt's folder chooser gives back: the bytes that are not UTF-8 dropped
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    first = MainWindow(session, app_settings)
    qtbot.addWidget(first)
    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        first.open_folder(qt_form)
    assert ended.args == [JobEnd(JobKind.OPEN_FOLDER, "Opening folder", Ending.DONE, "")]
    assert first.windowTitle().startswith(readable_name(ODD_FOLDER) + " — LakeView")
    assert sorted(os.fsencode(row.path) for row in session.rows()) == sorted(os.fsencode(p) for p in odd_photos["odd"])
    first.close()
    app_settings.sync()

    second = MainWindow(LibrarySession(tmp_path / "library2" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(second)
    assert [second.library.recent.item(r).text() for r in range(second.library.recent.count())] == [readable_name(str(folder))]
    with qtbot.waitSignal(second.session.job_ended, timeout=20_000):
        second.library.recent.itemActivated.emit(second.library.recent.item(0))
    assert os.fsencode(second.session.folder) == os.fsencode(folder)
    assert len(second.session.rows()) == len(odd_photos["odd"])
    second.close()


def test_a_folder_named_with_a_newline_is_one_line_in_the_title_and_the_recent_folders(qtbot, window, tmp_path):
    folder = tmp_path / raw_name(b"Reise\n2019_\xe9")
    make_photo(folder / "a.jpg", COLOURS["red"], seed=1)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(folder)
    assert window.windowTitle().startswith("Reise\\n2019_\\xe9 — LakeView")
    assert window.library.recent.item(0).text() == str(tmp_path) + "/Reise\\n2019_\\xe9"


def test_opening_a_file_or_a_missing_folder_says_so_and_opens_nothing(qtbot, window, tmp_path):
    (tmp_path / "a_file.jpg").write_bytes(b"not a folder")
    os.mkfifo(tmp_path / "pipe")
    for path, what in ((tmp_path / "a_file.jpg", "is not a folder"), (tmp_path / "pipe", "is not a folder"),
                       (tmp_path / raw_name(b"gone_\xff"), "was not found")):
        window.open_folder(path)
        assert window.last_warning.text() == f"{readable_name(str(path))} {what}; nothing was opened."
        window.last_warning.close()
    assert window.session.folder is None and window.library.recent.count() == 0 and not window.session.busy
    assert window.windowTitle().startswith("LakeView")
