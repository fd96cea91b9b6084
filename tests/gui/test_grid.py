"""The thumbnail grid: model (qtmodeltester), loader (threads, disk and memory caches), delegate painting."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QStyleOptionViewItem

from photo_tools import make_photo
from exif_tools import exif_with_thumbnail
from lakeview.core.catalog.labels import NONE_OF_THESE
from lakeview.core.catalog.grid_queries import PhotoRow
from lakeview.core.photos.images import ImageLoadError
from lakeview.core.paths import cache_dir
from lakeview.gui.grid import DiskCache, PhotoGrid, PhotoGridModel, PixmapCache, Role, ThumbnailLoader, qimages
from lakeview.gui.grid.photo_entry import MISSING_REASON
from lakeview.gui.grid.row_runs import ranges
from lakeview.gui.grid.thumbnail_loader import _Jobs

GREY = (128, 128, 128)
RED_CLASS = "#e15759"
BLUE_CLASS = "#4e79a7"


@pytest.fixture
def model():
    m = PhotoGridModel(thumbnail_px=64)
    yield m
    m.shutdown()


@pytest.fixture
def grid(qtbot, model):
    view = PhotoGrid(thumbnail_size=64)
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 400)
    return view


def photos(folder: Path, count: int, size=(96, 72), colour=GREY) -> list[Path]:
    return [make_photo(folder / f"p{i:03d}.jpg", colour, size, seed=i) for i in range(count)]


def all_thumbnails(model: PhotoGridModel) -> bool:
    return all(model.thumbnail(r) is not None for r in range(model.rowCount()))


def get(model: PhotoGridModel, row: int, role: int):
    """A role's value, read in Python (no trip through a QVariant)."""
    return model.data(model.index(row, 0), role)


def settled(model: PhotoGridModel) -> bool:
    """Every row has its thumbnail or its error."""
    return all(model.thumbnail(r) is not None or get(model, r, Role.ErrorRole)
               for r in range(model.rowCount()))


def thumbnail_files() -> list[Path]:
    return sorted((cache_dir() / "thumbnails").rglob("*.jpg"))


def changes(model: PhotoGridModel) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, roles=(): seen.append((first.row(), last.row())))
    return seen


# ---------------------------------------------------------------- model


def test_model_passes_the_model_tester_with_rows_and_after_updates(qtmodeltester, qtbot, model, tmp_path):
    files = photos(tmp_path, 4)
    rows = [PhotoRow(1, files[0], False, "red", "imported", "red", 0.9),
            PhotoRow(2, files[1], False, None, None, "blue", 0.55),
            PhotoRow(3, files[2], False, NONE_OF_THESE, "user", None, None),
            PhotoRow(4, tmp_path / "gone.jpg", True, "blue", "accepted", None, None),
            PhotoRow(5, files[3], False, None, None, None, None)]
    model.set_rows(rows)
    model.set_class_colours({"red": RED_CLASS, "blue": BLUE_CLASS})
    qtmodeltester.check(model)
    model.update_labels({files[1]: ("blue", "user"), files[0]: (None, None)})
    model.update_predictions({files[3]: ("red", 0.75), files[1]: (None, None)})
    qtbot.waitUntil(lambda: settled(model), timeout=10_000)
    model.set_photos(files[:2])
    qtmodeltester.check(model)
    assert model.rowCount() == 2


def test_roles_report_the_row(model, tmp_path):
    path = tmp_path / "a.jpg"
    model.set_rows([PhotoRow(1, path, False, "red", "user", "blue", 0.25)])
    model.set_class_colours({"red": RED_CLASS})
    index = model.index(0, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "a.jpg"
    assert index.data(Role.PathRole) == path
    assert (get(model, 0, Role.LabelRole), get(model, 0, Role.LabelSourceRole)) == ("red", "user")
    assert (get(model, 0, Role.PredictedRole), get(model, 0, Role.ConfidenceRole)) == ("blue", 0.25)
    assert index.data(Role.CorrectedRole) is True
    assert index.data(Role.ColourRole) == QColor(RED_CLASS), "the label's colour wins over the prediction's"
    assert str(path) in index.data(Qt.ItemDataRole.ToolTipRole)
    assert model.path_at(0) == path and model.row_of(path) == 0 and model.row_of(tmp_path / "b.jpg") is None


def test_a_photo_the_catalog_flags_missing_is_an_error_without_a_decode(model, tmp_path, monkeypatch):
    monkeypatch.setattr(qimages, "make_qimage", lambda *a: pytest.fail("a missing photo was decoded"))
    model.set_rows([PhotoRow(1, tmp_path / "gone.jpg", True, None, None, None, None)])
    assert get(model, 0, Role.ErrorRole) == MISSING_REASON
    assert model.thumbnail(0) is None and model.index(0, 0).data(Role.ThumbnailRole).isNull()
    assert model.loader.pending() == 0


def test_label_and_prediction_updates_signal_only_their_rows(model):
    paths = [Path(f"/photos/{i}.jpg") for i in range(10)]
    model.set_photos(paths)
    seen = changes(model)
    model.update_labels({paths[3]: ("red", "user"), paths[4]: ("red", "user"), paths[8]: ("blue", "accepted"),
                         Path("/elsewhere.jpg"): ("red", "user")})
    assert seen == [(3, 4), (8, 8)]
    assert get(model, 8, Role.LabelSourceRole) == "accepted"
    seen.clear()
    model.update_predictions({paths[0]: ("red", 0.6), paths[9]: ("blue", 0.99)})
    assert seen == [(0, 0), (9, 9)]
    assert get(model, 9, Role.ConfidenceRole) == pytest.approx(0.99)
    seen.clear()
    model.update_labels({Path("/elsewhere.jpg"): ("red", "user")})
    assert seen == []


def test_a_scattered_mass_update_is_one_repaint(model, qtbot):
    """Not a dataChanged over the rows between: a list view walks every row of one (seconds at 100,000)."""
    paths = [Path(f"/photos/{i}.jpg") for i in range(1000)]
    model.set_photos(paths)
    seen = changes(model)
    with qtbot.waitSignal(model.repaint_needed, timeout=1_000):
        model.update_predictions({p: ("red", 0.5) for p in paths[10:900:2]})
    assert seen == []
    assert get(model, 898, Role.PredictedRole) == "red"


def test_ranges_coalesce_neighbouring_rows():
    assert ranges([7, 1, 2, 3, 3, 9]) == [(1, 3), (7, 7), (9, 9)]
    assert ranges([]) == []


# ---------------------------------------------------------------- thumbnails


def test_opening_a_folder_brings_thumbnails_and_fills_the_disk_cache(qtbot, grid, model, tmp_path):
    files = photos(tmp_path / "folder", 12, size=(120, 90))
    grid.show()
    qtbot.waitExposed(grid)
    model.set_photos(files)
    qtbot.waitUntil(lambda: all_thumbnails(model), timeout=10_000)
    pixmap = model.index(0, 0).data(Role.ThumbnailRole)  # a QPixmap through Qt
    assert isinstance(pixmap, QPixmap) and (pixmap.width(), pixmap.height()) == (64, 48)
    assert model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None
    model.loader.wait()
    assert len(thumbnail_files()) == 12


def test_a_second_opening_reads_the_disk_cache_without_decoding(qtbot, model, tmp_path, monkeypatch):
    files = photos(tmp_path / "folder", 6)
    model.set_photos(files)
    qtbot.waitUntil(lambda: all_thumbnails(model), timeout=10_000)
    model.loader.wait()

    def no_decode(path, px):
        raise ImageLoadError(path, "decoded although the disk cache had it")
    monkeypatch.setattr(qimages, "make_qimage", no_decode)
    again = PhotoGridModel(loader=ThumbnailLoader(), thumbnail_px=64)  # new memory cache, same disk cache
    try:
        again.set_photos(files)
        with qtbot.assertNotEmitted(again.loader.failed, wait=0):
            qtbot.waitUntil(lambda: all_thumbnails(again), timeout=10_000)
        assert not any(get(again, r, Role.ErrorRole) for r in range(again.rowCount()))
    finally:
        again.shutdown()


def test_a_changed_photo_gets_a_new_thumbnail(qtbot, model, tmp_path):
    path = make_photo(tmp_path / "p.jpg", (200, 30, 30), (96, 72))
    model.set_photos([path])
    qtbot.waitUntil(lambda: all_thumbnails(model))
    model.loader.wait()
    make_photo(path, (30, 30, 200), (96, 72))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    again = PhotoGridModel(thumbnail_px=64)
    try:
        again.set_photos([path])
        qtbot.waitUntil(lambda: all_thumbnails(again))
        colour = again.thumbnail(0).toImage().pixelColor(32, 24)
        assert colour.blue() > 150 and colour.red() < 100
        assert len(thumbnail_files()) == 2
    finally:
        again.shutdown()


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"just some text", "not an image"),
    (b"\xff\xd8\xff\xe0 a JPEG start, then nothing", "corrupt or truncated"),
], ids=["empty", "text", "truncated"])
def test_an_unreadable_file_is_a_broken_tile_with_the_reason(qtbot, grid, model, tmp_path, content, reason):
    good = make_photo(tmp_path / "good.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    grid.show()
    model.set_photos([good, bad])
    qtbot.waitUntil(lambda: get(model, 1, Role.ErrorRole) is not None, timeout=10_000)
    assert reason in get(model, 1, Role.ErrorRole)
    assert reason in model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert model.thumbnail(1) is None and model.index(1, 0).data(Role.ThumbnailRole).isNull()
    qtbot.waitUntil(lambda: model.thumbnail(0) is not None)
    assert get(model, 0, Role.ErrorRole) is None
    grid.viewport().grab()  # the broken tile paints


def test_qt_decodes_a_big_jpeg_from_its_embedded_thumbnail_and_a_small_one_in_full(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (20, 20, 230)).save(buffer, "JPEG")
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (640, 480), (230, 20, 20)).save(path, "JPEG", exif=exif_with_thumbnail(buffer.getvalue(), 6))
    image = qimages.make_qimage(str(path), 128)  # 0.3 MP: decoded, at a reduced scale, by Qt
    assert (image.width(), image.height(), image.format()) == (96, 128, QImage.Format.Format_RGB32)
    assert image.pixelColor(48, 64).red() > 200
    monkeypatch.setattr(qimages, "EXIF_WORTH_PIXELS", 0)
    image = qimages.make_qimage(str(path), 128)
    assert (image.width(), image.height()) == (96, 128)
    assert image.pixelColor(48, 64).blue() > 200


def test_qt_turns_a_jpeg_upright(tmp_path):
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[:] = (0, 0, 255)
    pixels[:10, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    image = qimages.make_qimage(str(path), 160)
    assert (image.width(), image.height()) == (60, 80), "never enlarged; turned upright"
    assert image.pixelColor(55, 4).red() > 200 and image.pixelColor(4, 4).blue() > 200


def test_a_transparent_png_is_shown_on_white(tmp_path):
    path = tmp_path / "logo.png"
    Image.new("RGBA", (40, 20), (255, 0, 0, 0)).save(path)
    image = qimages.make_qimage(str(path), 160)
    assert image.format() == QImage.Format.Format_RGB32 and image.pixelColor(5, 5) == QColor("white")


def test_a_truncated_jpeg_is_an_error_not_a_half_grey_thumbnail(tmp_path):
    whole = make_photo(tmp_path / "whole.jpg", size=(400, 300)).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        qimages.make_qimage(str(path), 160)


def test_clear_drops_queued_work(qtbot, monkeypatch, tmp_path):
    started, release = threading.Event(), threading.Event()
    made = []

    def slow(path, px):
        started.set()
        release.wait(10)
        made.append(path)
        return QImage(px, px, QImage.Format.Format_RGB32)
    monkeypatch.setattr(qimages, "make_qimage", slow)
    loader = ThumbnailLoader(threads=1, disk_cache=DiskCache(tmp_path / "thumbs"))
    try:
        files = photos(tmp_path, 5)
        loader.request(files[0], 32)
        assert started.wait(10)
        for path in files[1:]:
            loader.request(path, 32)
        assert loader.pending() == 4
        loader.clear()
        release.set()
        with qtbot.waitSignal(loader.ready):
            pass
        loader.wait()
        assert made == [str(files[0])]
        assert loader.pixmap(files[0], 32) is not None
    finally:
        release.set()
        loader.shutdown()


def test_the_queue_serves_the_newest_request_batch_first_in_order():
    jobs = _Jobs(max_workers=1)
    with jobs.lock:
        assert jobs.add(("a", 1), new_batch=True) is True  # first job starts a worker
        jobs.add(("b", 1), new_batch=False)
        jobs.add(("c", 1), new_batch=False)
        jobs.add(("d", 1), new_batch=True)
        jobs.add(("a", 1), new_batch=False)  # painted again: moves up into the newest batch
        jobs.add(("e", 1), new_batch=False)
    assert [jobs.take()[0] for _ in range(5)] == ["d", "a", "e", "b", "c"]
    assert jobs.take() is None and jobs.workers == 0


def test_the_memory_cache_keeps_to_its_budget():
    one = QPixmap(10, 10)
    cache = PixmapCache(max_bytes=3 * 10 * 10 * one.depth() // 8)
    for key in "abc":
        cache.put(key, QPixmap(10, 10))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", QPixmap(10, 10))
    assert len(cache) == 3 and "b" not in cache and "a" in cache
    assert cache.used_bytes <= cache.max_bytes


def test_disk_cache_keys_differ_by_size_mtime_and_thumbnail_size(tmp_path):
    key = DiskCache.key(tmp_path / "p.jpg", 100, 5, 160)
    assert len({key, DiskCache.key(tmp_path / "p.jpg", 101, 5, 160), DiskCache.key(tmp_path / "p.jpg", 100, 6, 160),
                DiskCache.key(tmp_path / "p.jpg", 100, 5, 320), DiskCache.key(tmp_path / "q.jpg", 100, 5, 160)}) == 5


# ---------------------------------------------------------------- view and delegate


def _option(grid: PhotoGrid, index: QModelIndex) -> QStyleOptionViewItem:
    option = QStyleOptionViewItem()
    grid.initViewItemOption(option)
    option.rect = grid.visualRect(index)
    return option


def test_the_delegate_paints_badges_in_the_class_colour(qtbot, grid, model, tmp_path):
    files = photos(tmp_path, 4)
    files.append(tmp_path / "broken.jpg")
    files[-1].write_bytes(b"nothing")
    grid.show()
    qtbot.waitExposed(grid)
    model.set_photos(files)
    model.set_class_colours({"red": RED_CLASS, "blue": BLUE_CLASS})
    model.update_labels({files[0]: ("red", "imported"), files[2]: ("blue", "user")})
    model.update_predictions({files[1]: ("blue", 0.87)})
    qtbot.waitUntil(lambda: all(model.thumbnail(r) is not None for r in range(4))
                    and get(model, 4, Role.ErrorRole) is not None, timeout=10_000)
    image = grid.viewport().grab().toImage()
    ratio = image.devicePixelRatio()

    def pixel(x: float, y: float) -> QColor:
        return image.pixelColor(round(x * ratio), round(y * ratio))

    assigned = grid.itemDelegate().badge_rect(_option(grid, model.index(0, 0)), model.index(0, 0))
    assert pixel(assigned.left() + 3, assigned.center().y()) == QColor(RED_CLASS), "filled badge for a label"
    predicted = grid.itemDelegate().badge_rect(_option(grid, model.index(1, 0)), model.index(1, 0))
    assert pixel(predicted.left() + 1, predicted.center().y()) == QColor(BLUE_CLASS), "outlined for a prediction"
    assert pixel(predicted.left() + 4, predicted.center().y()) != QColor(BLUE_CLASS)
    thumb = grid.itemDelegate().thumbnail_rect(grid.visualRect(model.index(3, 0)))
    centre = pixel(thumb.center().x(), thumb.center().y())
    assert all(abs(c - 128) < 40 for c in (centre.red(), centre.green(), centre.blue())), "the photo is painted"
    assert grid.itemDelegate().badge_rect(_option(grid, model.index(3, 0)), model.index(3, 0)) is None


def test_the_thumbnail_size_sets_tiles_and_the_pixel_size_asked_for(qtbot, grid, model, tmp_path):
    model.set_photos(photos(tmp_path, 3, size=(200, 150)))
    grid.show()
    qtbot.waitExposed(grid)
    before = grid.visualRect(model.index(0, 0)).size()
    with qtbot.waitSignal(grid.thumbnailSizeChanged):
        grid.set_thumbnail_size(128)
    assert model.thumbnail_px() == round(128 * grid.devicePixelRatioF())
    qtbot.waitUntil(lambda: grid.visualRect(model.index(0, 0)).width() == before.width() + 64)
    qtbot.waitUntil(lambda: all_thumbnails(model))
    assert max(model.thumbnail(0).width(), model.thumbnail(0).height()) == 128


def test_selection_gives_paths(qtbot, grid, model, tmp_path):
    files = [tmp_path / f"{i}.jpg" for i in range(5)]
    model.set_photos(files)
    grid.selectionModel().select(model.index(1, 0), grid.selectionModel().SelectionFlag.Select)
    grid.selectionModel().select(model.index(3, 0), grid.selectionModel().SelectionFlag.Select)
    assert grid.selected_paths() == [files[1], files[3]]
