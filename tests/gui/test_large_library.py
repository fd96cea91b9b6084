"""The app over a library too large to read whole (issue 13): the grid holds ids and reads the rows it paints a page
at a time, its ids are queried in a worker (only the latest query's answer is shown), and a change of thousands of
labels is written in a worker while later key presses queue behind it in the user's order.

The photos are catalog rows the catalog flags missing (no files, no decoding): what is tested is the path through
the catalog and the session, not thumbnails."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lakeview.core.catalog import Catalog
from lakeview.gui import catalog_writes, session_rows
from lakeview.gui.grid import model as grid_model

PHOTOS = 3_000  # past LARGE_WRITE (2,000): select all, then a key, is written in a worker


def fill(catalog: Catalog, count: int, folder: str = "/archive") -> None:
    catalog.ensure_classes(["lake", "forest"])
    with catalog._transaction() as db:
        db.executemany("INSERT INTO photos (path, size, mtime_ns, fingerprint, added, missing) "
                       "VALUES (?, 1, 1, ?, 'now', 1)",
                       [(f"{folder}/{i // 1000:02}/IMG_{i:05}.jpg", f"{i:032x}") for i in range(count)])


@pytest.fixture
def archive(window, monkeypatch):
    """The window with a folder of PHOTOS catalogued photos open, its ids queried in a worker (as past 5,000)."""
    monkeypatch.setattr(session_rows, "QUERY_ON_GUI_THREAD", 0)
    fill(window.session.catalog, PHOTOS)
    window.session.folder = Path("/archive")
    return window


def shown(qtbot, window, count: int) -> None:
    qtbot.waitUntil(lambda: not window.session.rows_pending and window.model.rowCount() == count, timeout=10_000)


def test_the_grid_reads_only_the_pages_it_shows(qtbot, archive, monkeypatch):
    fetched: list[int] = []
    rows_of_ids = archive.session.rows_of_ids
    monkeypatch.setattr(archive.session, "rows_of_ids", lambda ids: fetched.extend(ids) or rows_of_ids(ids))
    archive.session.refresh_rows()
    assert archive.session.rows_pending, "the ids come from a worker"
    shown(qtbot, archive, PHOTOS)
    qtbot.waitUntil(lambda: len(fetched) > 0)
    assert len(fetched) <= 2 * grid_model.PAGE, "the pages on screen, not the folder"

    model = archive.model
    assert model.path_at(PHOTOS - 1) == Path(f"/archive/02/IMG_{PHOTOS - 1:05}.jpg")
    assert model.row_of(Path("/archive/01/IMG_01500.jpg")) == 1500, "a row not read yet is found by its path"


def test_the_held_rows_stay_bounded_whatever_is_read(qtbot, archive, monkeypatch):
    monkeypatch.setattr(grid_model, "CACHED_ROWS", 500)
    archive.session.refresh_rows()
    shown(qtbot, archive, PHOTOS)
    model = archive.model
    for row in range(0, PHOTOS, 7):
        model.entry_at(row)
    assert len(model._entries) <= 500 + grid_model.PAGE


def test_only_the_latest_query_is_shown(qtbot, archive):
    archive.session.refresh_rows()
    shown(qtbot, archive, PHOTOS)
    archive.session.catalog.set_labels_of_ids(archive.model.ids()[:10], "lake")
    archive.session.set_filters(unlabelled=True)
    archive.session.set_filters(assigned="lake")  # before the first answer is in
    shown(qtbot, archive, 10)
    qtbot.wait(200)
    assert archive.model.rowCount() == 10, "the unlabelled photos' answer came later and was dropped"


def test_select_all_and_a_key_label_thousands_in_a_worker_and_an_undo_waits_its_turn(qtbot, archive):
    session, grid = archive.session, archive.grid
    session.refresh_rows()
    shown(qtbot, archive, PHOTOS)
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert archive.count_label.text() == f"{PHOTOS:,} photos, {PHOTOS:,} selected"

    qtbot.keyClick(grid, Qt.Key.Key_1)
    assert session.writes.pending == 1, "written in a worker"
    assert archive.statusBar().currentMessage() == f"Labelling {PHOTOS:,} photos…"
    archive.undo()  # asked while the labels are being written: it queues behind them
    qtbot.waitUntil(lambda: session.writes.pending == 0, timeout=20_000)

    catalog = session.catalog
    assert catalog.label_counts() == {}, "labelled, then undone, in that order"
    assert catalog.next_redo().describe() == f"{PHOTOS} photos labelled lake"
    assert "Undid" in archive.statusBar().currentMessage()
    archive.redo()
    qtbot.waitUntil(lambda: session.writes.pending == 0, timeout=20_000)
    assert catalog.label_counts() == {("lake", "user"): PHOTOS}
    qtbot.waitUntil(lambda: archive.model.entry_at(PHOTOS - 1).label == "lake", timeout=5_000)


def test_a_failed_write_in_the_worker_is_said_and_the_next_one_runs(qtbot, archive, monkeypatch):
    monkeypatch.setattr(catalog_writes, "LARGE_WRITE", 1)
    session = archive.session
    said: list[str] = []
    session.said.connect(said.append)

    def broken(catalog):
        raise RuntimeError("disk on fire")

    session.writes.run(broken, lambda _: None, lambda message: said.append(f"failed: {message}"), large=True)
    written = []
    session.writes.run(lambda catalog: catalog.photo_count(), written.append, said.append, large=False)
    qtbot.waitUntil(lambda: session.writes.pending == 0, timeout=10_000)
    assert any("disk on fire" in line for line in said) and written == [PHOTOS]


def test_opening_a_catalogued_folder_shows_its_photos_before_it_is_read_again(qtbot, window, tmp_path):
    from photo_tools import red_and_blue_photos

    photos = red_and_blue_photos(tmp_path / "holiday", 4)
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(photos)
    window.session.show_folder()
    window.session.folder = None
    window.session.refresh_rows()
    assert window.model.rowCount() == 0

    with qtbot.waitSignal(window.session.job_ended, timeout=20_000) as ended:
        window.open_folder(photos)
        assert window.model.rowCount() == 8, "what the catalog has, at once"
    assert ended.args[0].message == ""


def test_labels_still_queued_when_the_window_closes_are_written(qtbot, archive):
    session = archive.session
    session.refresh_rows()
    shown(qtbot, archive, PHOTOS)
    ids = archive.model.ids()
    session.label_ids(list(ids), "lake")  # in a worker
    session.label_ids(ids[:5], "forest")  # queued behind it
    assert session.writes.pending == 2
    catalog_path = session.catalog.path
    archive.close()
    with Catalog(catalog_path) as catalog:
        assert catalog.label_counts() == {("lake", "user"): PHOTOS - 5, ("forest", "user"): 5}
