"""Copying and moving photos into class folders from the app: the preview, the job, undo, the catalog following."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

from lakeview.core.catalog import NONE_OF_THESE
from lakeview.gui import placement_dialog
from lakeview.core.placement.last_placement import last_placement
from lakeview.gui.placement_dialog import PlacementDialog, PreviewModel, STAYS, undo_last_placement
from lakeview.gui.session import LibrarySession
from lakeview.gui.worker import Ending, JobEnd, JobKind

from photo_tools import COLOURS, make_photo


@pytest.fixture
def problems(monkeypatch):
    shown = []
    monkeypatch.setattr(placement_dialog, "show_problems", lambda parent, title, text, items: shown.append(items))
    return shown


@pytest.fixture
def library(tmp_path):
    """Six photos: two labelled red, one blue, one 'none of these', one predicted red at 90% and one at 60%."""
    folder = tmp_path / "banff"
    photos = {name: make_photo(folder / f"{name}.jpg", COLOURS[colour], seed=i)
              for i, (name, colour) in enumerate([("a", "red"), ("b", "red"), ("c", "blue"), ("d", "green"),
                                                  ("e", "red"), ("f", "blue")])}
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    catalog = session.catalog
    catalog.add_folder(folder)
    catalog.ensure_classes(["blue", "red"])
    catalog.set_labels([photos["a"], photos["b"]], "red", source="user")
    catalog.set_labels([photos["c"]], "blue", source="user")
    catalog.set_labels([photos["d"]], NONE_OF_THESE, source="user")
    catalog.add_model("m1", tmp_path / "m1.lvmodel", "tiny", ["blue", "red"], None, {}, "2024-01-01", "imported",
                      active=True)
    catalog.store_predictions("m1", [(photos["e"], [("red", 0.9), ("blue", 0.1)]),
                                     (photos["f"], [("blue", 0.6), ("red", 0.4)]),
                                     (photos["a"], [("blue", 0.95), ("red", 0.05)])])
    yield session, folder, photos
    session.close()


def open_dialog(qtbot, monkeypatch, session, paths, into):
    dialog = PlacementDialog(session, sorted(paths))
    qtbot.addWidget(dialog)
    monkeypatch.setattr(PlacementDialog, "ask_destination", classmethod(lambda cls, parent: into))
    dialog.choose_button.click()
    return dialog


def shown(dialog):
    """The preview as the table shows it: {photo name: (goes by, destination)}."""
    model = dialog.table.model()
    cell = lambda r, c: model.data(model.index(r, c))  # noqa: E731
    return {cell(r, PreviewModel.PHOTO): (cell(r, PreviewModel.WHY), cell(r, PreviewModel.DESTINATION))
            for r in range(model.rowCount())}


def test_the_preview_follows_labels_then_confident_predictions(qtbot, monkeypatch, tmp_path, library):
    session, folder, photos = library
    dialog = open_dialog(qtbot, monkeypatch, session, photos.values(), tmp_path / "sorted")
    assert dialog.copy.isChecked() and dialog.use_predictions.isChecked() and dialog.threshold.value() == 0.8
    assert shown(dialog) == {
        "a.jpg": ("label red", "red/a.jpg"),  # the label wins over a prediction of blue
        "b.jpg": ("label red", "red/b.jpg"),
        "c.jpg": ("label blue", "blue/c.jpg"),
        "d.jpg": ("labelled none of these", STAYS),
        "e.jpg": ("predicted red (90%)", "red/e.jpg"),
        "f.jpg": ("no label; predicted blue only 60%", STAYS),
    }
    assert "4 of 6 photo(s) into blue: 1, red: 3; 2 stay where they are" in dialog.summary.text()
    assert dialog.start_button.text() == "Copy 4" and dialog.start_button.isEnabled()
    dialog.grab().save(str(tmp_path / "placement.png"))

    dialog.threshold.setValue(0.5)
    assert shown(dialog)["f.jpg"] == ("predicted blue (60%)", "blue/f.jpg")
    dialog.use_predictions.setChecked(False)
    assert shown(dialog)["e.jpg"] == ("no label", STAYS)
    assert not dialog.threshold.isEnabled()
    dialog.move.setChecked(True)
    assert dialog.start_button.text() == "Move 3"


def test_without_a_destination_nothing_starts(qtbot, monkeypatch, library):
    session, folder, photos = library
    dialog = open_dialog(qtbot, monkeypatch, session, photos.values(), None)
    assert dialog.destination is None and not dialog.start_button.isEnabled()
    assert shown(dialog)["a.jpg"] == ("label red", "red/a.jpg")
    assert "Choose a folder" in dialog.summary.text()


def test_copy_fills_class_folders_leaves_originals_and_never_overwrites(qtbot, monkeypatch, tmp_path, library,
                                                                        problems):
    session, folder, photos = library
    into = tmp_path / "sorted"
    taken = make_photo(into / "red" / "a.jpg", COLOURS["green"], seed=99)
    before = taken.read_bytes()
    originals = {p: p.read_bytes() for p in photos.values()}
    dialog = open_dialog(qtbot, monkeypatch, session, photos.values(), into)
    assert shown(dialog)["a.jpg"] == ("label red", "red/a-1.jpg")
    assert "1 renamed" in dialog.summary.text()
    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        dialog.start_button.click()
    assert ended.args == [JobEnd(JobKind.PLACE, "Copy into class folders", Ending.DONE, f"4 photo(s) copied into {into}")]
    assert dialog.result() == PlacementDialog.DialogCode.Accepted
    assert taken.read_bytes() == before
    assert (into / "red" / "a-1.jpg").read_bytes() == originals[photos["a"]]
    assert sorted(p.name for p in (into / "red").iterdir()) == ["a-1.jpg", "a.jpg", "b.jpg", "e.jpg"]
    assert sorted(p.name for p in (into / "blue").iterdir()) == ["c.jpg"]
    assert all(p.read_bytes() == data for p, data in originals.items())
    assert problems == []
    last = last_placement(session.catalog.folder)
    assert last.mode == "copy" and last.count == 4 and last.journal.parent == into
    assert last.journal.name.startswith(".lakeview-journal-")

    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        assert undo_last_placement(session)
    assert ended.args == [JobEnd(JobKind.UNDO_PLACEMENT, "Undo last placement", Ending.DONE, "4 copies removed")]
    assert sorted(p.name for p in (into / "red").iterdir()) == ["a.jpg"]
    assert not (into / "blue").exists()
    assert all(p.read_bytes() == data for p, data in originals.items())
    assert last_placement(session.catalog.folder) is None
    with qtbot.waitSignal(session.notice, timeout=1_000) as ended:
        assert not undo_last_placement(session)
    assert ended.args == ["Undo last placement", "nothing to undo"]


def test_move_and_undo_keep_labels_and_predictions_with_the_photos(qtbot, monkeypatch, tmp_path, library, problems):
    session, folder, photos = library
    catalog = session.catalog
    into = tmp_path / "sorted"
    dialog = open_dialog(qtbot, monkeypatch, session, photos.values(), into)
    dialog.move.setChecked(True)
    with qtbot.waitSignal(session.rows_changed, timeout=20_000), \
            qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        dialog.start_button.click()
    assert ended.args[0].message == f"4 photo(s) moved into {into}"
    moved = {"a": into / "red" / "a.jpg", "b": into / "red" / "b.jpg", "c": into / "blue" / "c.jpg",
             "e": into / "red" / "e.jpg"}
    assert all(p.is_file() and not photos[name].exists() for name, p in moved.items())
    assert photos["d"].is_file() and photos["f"].is_file()
    assert catalog.label_of(moved["a"]).label == "red" and catalog.label_of(moved["c"]).label == "blue"
    assert catalog.prediction_of(moved["e"])[1][0] == ("red", 0.9)
    assert catalog.label_of(photos["a"]) is None
    rows = {r.path: r for r in catalog.query()}
    assert set(rows) == set(moved.values()) | {photos["d"], photos["f"]}
    assert not any(r.missing for r in rows.values())
    assert problems == []

    restarted = LibrarySession(catalog.path)  # the last placement is found again after a restart
    try:
        with qtbot.waitSignal(restarted.job_ended, timeout=20_000) as ended:
            assert undo_last_placement(restarted)
    finally:
        restarted.close()
    assert ended.args[0].message == "4 photo(s) put back"
    assert all(photos[name].is_file() and not p.exists() for name, p in moved.items())
    assert not (into / "red").exists()
    assert catalog.label_of(photos["a"]).label == "red" and catalog.label_of(photos["b"]).label == "red"
    assert catalog.label_of(photos["c"]).label == "blue" and catalog.label_of(photos["d"]).label == NONE_OF_THESE
    assert catalog.prediction_of(photos["e"])[1][0] == ("red", 0.9)
    assert {r.path for r in catalog.query() if not r.missing} == set(photos.values())
    assert catalog.photo_count() == 6


def test_failures_are_listed_after_the_job(qtbot, monkeypatch, tmp_path, library, problems):
    session, folder, photos = library
    into = tmp_path / "sorted"
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"], photos["c"]], into)
    (into / "red").parent.mkdir(parents=True)
    (into / "red").write_text("a file where the class folder would go")
    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        dialog.start_button.click()
    assert ended.args[0].message == f"1 photo(s) copied into {into}, 1 failed"
    assert [path for path, _ in problems[0]] == [photos["a"]]
    assert (into / "blue" / "c.jpg").is_file()


def test_a_photo_already_in_its_class_folder_stays(qtbot, monkeypatch, tmp_path):
    into = tmp_path / "sorted"
    photo = make_photo(into / "red" / "x.jpg", COLOURS["red"])
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    try:
        session.catalog.add_photos([photo])
        session.catalog.ensure_classes(["red"])
        session.catalog.set_labels([photo], "red")
        dialog = open_dialog(qtbot, monkeypatch, session, [photo], into)
        assert shown(dialog) == {"x.jpg": ("already in its class folder", STAYS)}
        assert not dialog.start_button.isEnabled()
        assert dialog.table.model().data(dialog.table.model().index(0, PreviewModel.DESTINATION),
                                        Qt.ItemDataRole.ForegroundRole) is not None
    finally:
        session.close()


def test_undo_leaves_an_edited_copy_says_so_and_can_be_retried(qtbot, monkeypatch, tmp_path, library, problems):
    session, folder, photos = library
    into = tmp_path / "sorted"
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"], photos["c"]], into)
    with qtbot.waitSignal(session.job_ended, timeout=20_000):
        dialog.start_button.click()
    edited = into / "red" / "a.jpg"
    original = edited.read_bytes()
    edited.write_bytes(original[::-1])  # the same size, other content

    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        assert undo_last_placement(session)
    assert ended.args == [JobEnd(JobKind.UNDO_PLACEMENT, "Undo last placement", Ending.DONE, "1 copy removed, 1 left alone")]
    assert [(path, reason) for path, reason in problems[0]] == [(edited, "changed since it was placed; left alone")]
    assert edited.read_bytes() == original[::-1] and not (into / "blue").exists()
    assert last_placement(session.catalog.folder) is not None  # still undoable: a retry does just that one

    edited.write_bytes(original)
    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        assert undo_last_placement(session)
    assert ended.args == [JobEnd(JobKind.UNDO_PLACEMENT, "Undo last placement", Ending.DONE, "1 copy removed")]
    assert not (into / "red").exists() and last_placement(session.catalog.folder) is None


def test_journal_names_come_from_core_and_hold_absolute_paths(qtbot, monkeypatch, tmp_path, library, problems):
    session, folder, photos = library
    into = tmp_path / "sorted"
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"]], into)
    with qtbot.waitSignal(session.job_ended, timeout=20_000):
        dialog.start_button.click()
    journal = last_placement(session.catalog.folder).journal
    assert journal.parent == into and journal.name.startswith(".lakeview-journal-")
    from lakeview.core.placement.journal import read_journal

    entries = read_journal(journal).entries
    assert [(e.source, e.destination) for e in entries] == [(photos["a"], into / "red" / "a.jpg")]


def test_a_full_disk_stops_the_job_and_lists_what_was_not_placed(qtbot, monkeypatch, tmp_path, library, problems):
    import errno
    import os

    from lakeview.core.placement import copy_or_move as placement

    session, folder, photos = library
    into = tmp_path / "sorted"
    real_copy = placement.copy_to_temp

    def copy_to_temp(source, temp):
        if source.name == "b.jpg":
            temp.write_bytes(b"half a photo")
            temp.unlink()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_copy(source, temp)

    monkeypatch.setattr(placement, "copy_to_temp", copy_to_temp)
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"], photos["b"], photos["c"]], into)
    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        dialog.start_button.click()
    assert ended.args[0].message == f"1 photo(s) copied into {into}, 1 failed, 1 not started"
    assert [(path.name, reason) for path, reason in problems[0]] == [
        ("b.jpg", f"{into / 'red'} has no room for it (No space left on device)"), ("c.jpg", "not started")]
    assert sorted(p.name for p in into.rglob("*") if p.is_file() and not p.name.startswith(".")) == ["a.jpg"]


def test_a_destination_that_cannot_be_written_is_a_message_and_nothing_moves(qtbot, monkeypatch, tmp_path, library):
    session, folder, photos = library
    into = tmp_path / "sorted"
    into.write_text("a file where the folder would go")
    texts = []
    monkeypatch.setattr(placement_dialog, "show_problems",
                        lambda parent, title, text, items: texts.append((text, [p for p, _ in items])))
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"], photos["c"]], into)
    dialog.move.setChecked(True)
    with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        dialog.start_button.click()
    assert ended.args[0].message == f"0 photo(s) moved into {into}, 2 not started"
    [(text, items)] = texts
    assert f"cannot start the journal in {into}: " in text
    assert sorted(items) == sorted([photos["a"], photos["c"]])
    assert photos["a"].is_file() and photos["c"].is_file() and into.read_text().startswith("a file")
    assert last_placement(session.catalog.folder) is None


def test_a_remembered_placement_that_is_a_pipe_does_not_hang_the_dialog(qtbot, monkeypatch, tmp_path, library):
    import os

    session, folder, photos = library
    remembered = session.catalog.folder / "placements" / "last.json"
    remembered.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(remembered)
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"]], tmp_path / "sorted")
    assert not dialog.undo_button.isEnabled()
    assert last_placement(session.catalog.folder) is None


def test_odd_names_are_shown_apart_and_placed_and_undone(qtbot, monkeypatch, tmp_path, problems):
    """Two names that differ only in bytes that are not UTF-8 used to show as the same '.jpg' (Qt drops them)."""
    import os

    names = [os.fsdecode(b"\xff.jpg"), os.fsdecode(b"\xfe.jpg"), "new\nline.jpg", "é" * 124 + "a.jpg"]
    photos = [make_photo(tmp_path / "card" / name, COLOURS["red"], seed=i) for i, name in enumerate(names)]
    into = tmp_path / "sorted"
    (into / "a_b").mkdir(parents=True)
    (into / "a_b" / names[3]).write_bytes(b"taken")  # the 255-byte name is taken: it gets a shortened -1 name
    before = {p: p.read_bytes() for p in photos}
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    try:
        session.catalog.add_photos(photos)
        session.catalog.ensure_classes(["a/b"])
        session.catalog.set_labels(photos, "a/b")
        dialog = open_dialog(qtbot, monkeypatch, session, photos, into)
        seen = shown(dialog)
        assert {"\\xff.jpg", "\\xfe.jpg", "new\\nline.jpg"} <= set(seen) and len(seen) == 4
        dialog.move.setChecked(True)
        with qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
            dialog.start_button.click()
        assert ended.args[0].message == f"4 photo(s) moved into {into}"
        assert not any(p.exists() for p in photos)
        with qtbot.waitSignal(session.job_ended, timeout=20_000):
            assert undo_last_placement(session)
        assert {p: p.read_bytes() for p in photos} == before and problems == []
    finally:
        session.close()


def test_a_cancelled_move_still_shows_the_photos_it_moved_where_they_are(qtbot, monkeypatch, tmp_path, library,
                                                                         problems):
    session, folder, photos = library
    into = tmp_path / "sorted"
    real_place = placement_dialog.place

    def cancelled_after_the_first_photo(plan, mode, into, catalog, progress, should_stop):
        def progress_then_cancel(done: int, total: int) -> None:
            progress(done, total)
            session.cancel_job()
        return real_place(plan, mode, into, catalog, progress=progress_then_cancel, should_stop=should_stop)

    monkeypatch.setattr(placement_dialog, "place", cancelled_after_the_first_photo)
    dialog = open_dialog(qtbot, monkeypatch, session, [photos["a"], photos["b"], photos["c"]], into)
    dialog.move.setChecked(True)
    with qtbot.waitSignal(session.rows_changed, timeout=20_000), \
            qtbot.waitSignal(session.job_ended, timeout=20_000) as ended:
        dialog.start_button.click()
    assert ended.args[0].ending == Ending.CANCELLED
    assert sorted(p.name for p in into.rglob("*.jpg")) == ["a.jpg"]
    assert session.catalog.label_of(into / "red" / "a.jpg").label == "red"
    assert photos["b"].is_file() and photos["c"].is_file() and problems == []
    assert last_placement(session.catalog.folder).count == 3


def test_destination_comes_first_and_a_long_name_is_elided_not_pushing_it_away(qtbot, monkeypatch, tmp_path):
    long_name = "IMG_" + "very_long_holiday_photo_name_from_the_camera_" * 4 + "0001.jpg"
    photo = make_photo(tmp_path / "trip" / long_name, COLOURS["red"])
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    try:
        session.catalog.add_photos([photo])
        session.catalog.ensure_classes(["red"])
        session.catalog.set_labels([photo], "red")
        dialog = open_dialog(qtbot, monkeypatch, session, [photo], tmp_path / "sorted")
        dialog.show()
        qtbot.waitExposed(dialog)
        table, header = dialog.table, dialog.table.horizontalHeader()
        assert [table.model().headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
            "Destination", "Goes by", "Photo"]
        assert header.visualIndex(PreviewModel.DESTINATION) == 0
        # every column starts inside the visible table; the long name is elided in the middle, whole in its tooltip
        assert all(header.sectionViewportPosition(c) < table.viewport().width() for c in range(3))
        assert header.sectionViewportPosition(PreviewModel.PHOTO) + header.sectionSize(PreviewModel.PHOTO) \
            <= table.viewport().width()
        assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
        photo_cell = table.model().index(0, PreviewModel.PHOTO)
        assert table.model().data(photo_cell, Qt.ItemDataRole.ToolTipRole) == str(photo)
        dialog.grab().save(str(tmp_path / "long_name.png"))
    finally:
        session.close()


def test_the_dialog_starts_at_the_last_destination(qtbot, monkeypatch, tmp_path, library, problems):
    session, folder, photos = library
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    into = tmp_path / "sorted"
    first = PlacementDialog(session, sorted(photos.values()), settings=settings)
    qtbot.addWidget(first)
    assert first.destination is None and not first.start_button.isEnabled()
    monkeypatch.setattr(PlacementDialog, "ask_destination", classmethod(lambda cls, parent: into))
    qtbot.mouseClick(first.choose_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(session.job_ended, timeout=20_000):
        qtbot.mouseClick(first.start_button, Qt.MouseButton.LeftButton)

    again = PlacementDialog(session, sorted(photos.values()), settings=settings)
    qtbot.addWidget(again)
    assert again.destination == into and again.folder.text() == str(into)
    assert again.start_button.isEnabled()
