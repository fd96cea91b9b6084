"""The inspector dock and the Space-bar preview: previews decoded off the GUI thread, upright; labels,
predictions and EXIF as the user reads them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDialog, QLabel

from photo_tools import COLOURS, make_photo
from lakeview.core.catalog import NONE_OF_THESE, Catalog
from lakeview.core.photos.images import ImageLoadError
from lakeview.gui import preview_loader
from lakeview.gui.grid import qimages
from lakeview.gui.inspector import EMPTY_TEXT, PREVIEW_PX, Inspector
from lakeview.gui.preview_dialog import PreviewDialog

@pytest.fixture
def catalog(tmp_path):
    c = Catalog(tmp_path / "catalog.sqlite")
    c.ensure_classes(["red", "blue"])
    yield c
    c.close()


@pytest.fixture
def inspector(qtbot, catalog):
    widget = Inspector(catalog)
    qtbot.addWidget(widget)
    widget.resize(320, 760)
    widget.show()
    yield widget
    widget.shutdown()


def photo(folder: Path, name: str, colour: str = "red", size=(120, 80), catalog: Catalog | None = None) -> Path:
    path = make_photo(folder / name, COLOURS[colour], size, seed=len(name))
    if catalog is not None:
        catalog.add_photos([path])
    return path


def exif_photo(path: Path, size=(120, 80), orientation: int = 1, **tags) -> Path:
    """Top-left quarter red, the rest blue, so that which way up it is shown can be checked."""
    image = Image.new("RGB", size, COLOURS["blue"])
    image.paste(COLOURS["red"], (0, 0, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for name, value in tags.items():
        (exif if name in ("Make", "Model") else sub)[ExifTags.Base[name]] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, exif=exif, quality=95)
    return path


def shown(inspector: Inspector) -> bool:
    return not inspector.preview.image().isNull() or bool(inspector.preview.message())


def visible_texts(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


def near(colour: QColor, rgb: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb))


def centre_colour(image: QImage) -> QColor:
    return image.pixelColor(image.width() // 2, image.height() // 2)


# ---------------------------------------------------------------- inspector


def test_no_photo_shows_the_empty_state(inspector, tmp_path, qtbot, catalog):
    assert inspector.stack.currentWidget() is inspector.empty and inspector.empty.text() == EMPTY_TEXT
    inspector.show_photo(photo(tmp_path, "a.jpg", catalog=catalog))
    assert inspector.stack.currentWidget() is inspector.details
    inspector.show_photo(None)
    assert inspector.stack.currentWidget() is inspector.empty and inspector.path() is None


def test_portrait_photo_is_shown_upright_with_its_aspect(inspector, tmp_path, qtbot):
    path = exif_photo(tmp_path / "portrait.jpg", size=(120, 80), orientation=6)  # stored landscape, turn 90° CW
    inspector.show_photo(path)
    qtbot.waitUntil(lambda: shown(inspector), timeout=10_000)
    image = inspector.preview.image()
    assert (image.width(), image.height()) == (80, 120)
    assert near(image.pixelColor(image.width() - 5, 5), COLOURS["red"]), "the top-left corner turned to top-right"
    assert near(image.pixelColor(5, 5), COLOURS["blue"])
    preview = inspector.preview
    assert preview.height() == pytest.approx(preview.width() * 120 / 80, abs=2), "fitted to the width, aspect kept"
    inspector.grab()
    pixmap = preview.shown_pixmap()
    assert pixmap is not None and pixmap.devicePixelRatio() == inspector.devicePixelRatioF()
    assert pixmap.height() / pixmap.width() == pytest.approx(1.5, abs=0.02)
    assert "80 × 120 px" in visible_texts(inspector)


def test_preview_is_decoded_in_a_pool_thread_at_reduced_size(inspector, tmp_path, qtbot, monkeypatch):
    threads = []

    def recording(path, px):
        threads.append(threading.get_ident())
        return qimages.make_qimage(path, px)

    monkeypatch.setattr(preview_loader, "decode", lambda path, px: (recording(path, px), ""))
    path = photo(tmp_path, "big.jpg", size=(2000, 1500))
    inspector.show_photo(path)
    assert inspector.preview.image().isNull(), "show_photo returned before the decode"
    qtbot.waitUntil(lambda: shown(inspector), timeout=10_000)
    assert threads and threading.main_thread().ident not in threads
    image = inspector.preview.image()
    assert max(image.width(), image.height()) == PREVIEW_PX and image.width() / image.height() == pytest.approx(4 / 3)


def test_predictions_show_as_bars_in_class_colours_and_the_label_says_who_set_it(inspector, tmp_path, qtbot,
                                                                                 catalog):
    path = photo(tmp_path / "banff", "lake.jpg", size=(400, 300), catalog=catalog)
    catalog.set_labels([path], "red", source="user")
    catalog.add_model("v1", tmp_path / "v1.lvmodel", "tiny", ["red", "blue"], None, {}, "2024-01-01T00:00:00",
                      kind="full")
    catalog.store_predictions("v1", [(path, [("red", 0.9), ("blue", 0.1)])])
    inspector.show_photo(path)
    qtbot.waitUntil(lambda: shown(inspector), timeout=10_000)
    bars = inspector.prediction_bars()
    assert [(b.name, b.percent_text()) for b in bars] == [("red", "90%"), ("blue", "10%")]
    colours = {info.name: QColor(info.colour) for info in catalog.classes()}
    assert [b.colour for b in bars] == [colours["red"], colours["blue"]]
    assert inspector.label_text.text() == "red — labelled by you"
    assert not inspector.swatch.pixmap().isNull()
    assert "model v1" in visible_texts(inspector)
    assert {"lake.jpg", str(path.parent), "400 × 300 px"} <= set(visible_texts(inspector))
    inspector.grab().save("/tmp/inspector.png")


def test_refresh_rereads_label_and_prediction(inspector, tmp_path, qtbot, catalog):
    path = photo(tmp_path, "a.jpg", catalog=catalog)
    inspector.show_photo(path)
    assert inspector.label_text.text() == "Unlabelled"
    assert inspector.no_prediction.isVisibleTo(inspector) and inspector.prediction_bars() == []
    catalog.set_labels([path], NONE_OF_THESE, source="user")
    catalog.add_model("v2", tmp_path / "v2.lvmodel", "tiny", ["red", "blue"], None, {}, "2024-01-02T00:00:00",
                      kind="full")
    catalog.store_predictions("v2", [(path, [("blue", 0.996), ("red", 0.004)])])
    inspector.refresh()
    assert inspector.label_text.text() == "none of these — labelled by you"
    assert not inspector.swatch.isVisibleTo(inspector)
    assert [(b.name, b.percent_text()) for b in inspector.prediction_bars()] == [("blue", "100%"), ("red", "<1%")]
    assert not inspector.no_prediction.isVisibleTo(inspector)
    catalog.set_labels([path], "blue", source="accepted")
    inspector.show_photo(path)  # the same photo again: re-read, not decoded again
    assert inspector.label_text.text() == "blue — accepted prediction"


def test_a_damaged_file_shows_why_instead_of_a_preview(inspector, tmp_path, qtbot):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    with pytest.raises(ImageLoadError) as expected:
        qimages.make_qimage(str(path), PREVIEW_PX)
    inspector.show_photo(path)
    qtbot.waitUntil(lambda: shown(inspector), timeout=10_000)
    assert inspector.preview.image().isNull()
    assert expected.value.reason in inspector.preview.message()
    assert "unknown" in visible_texts(inspector), "no pixel size for a file whose header cannot be read"


def test_a_late_result_for_a_previous_photo_is_ignored(inspector, tmp_path, qtbot):
    red, blue = photo(tmp_path, "red.jpg", "red"), photo(tmp_path, "blue.jpg", "blue")
    inspector.show_photo(red)
    inspector.show_photo(blue)
    qtbot.waitUntil(lambda: shown(inspector), timeout=10_000)
    inspector.loader.wait()
    assert near(centre_colour(inspector.preview.image()), COLOURS["blue"])
    inspector.loader.loaded.emit(str(red), qimages.make_qimage(str(red), 64), "")
    inspector.loader.loaded.emit(str(red), QImage(), "corrupt")
    assert near(centre_colour(inspector.preview.image()), COLOURS["blue"]) and inspector.preview.message() == ""
    inspector.show_photo(None)
    inspector.loader.loaded.emit(str(blue), QImage(), "corrupt")
    assert inspector.stack.currentWidget() is inspector.empty


def test_exif_summary_shows_camera_and_exposure(inspector, tmp_path, qtbot):
    path = exif_photo(tmp_path / "dslr.jpg", Make="Canon", Model="Canon EOS R5",
                      DateTimeOriginal="2023:07:14 09:12:33", ExposureTime=IFDRational(1, 250),
                      FNumber=IFDRational(28, 10), ISOSpeedRatings=400, FocalLength=IFDRational(35, 1))
    inspector.show_photo(path)
    texts = visible_texts(inspector)
    assert {"Camera", "Canon EOS R5", "1/250 s", "f/2.8", "400", "35 mm"} <= set(texts)
    assert any("2023" in text or "23" in text for text in texts if ":" in text)
    inspector.show_photo(exif_photo(tmp_path / "nikon.jpg", Make="NIKON CORPORATION", Model="NIKON Z 6"))
    qtbot.waitUntil(lambda: "NIKON Z 6" in visible_texts(inspector))  # the maker is not said twice
    inspector.show_photo(photo(tmp_path, "plain.png"))
    assert not inspector.exif_heading.isVisibleTo(inspector) and "Canon EOS R5" not in visible_texts(inspector)


# ---------------------------------------------------------------- preview dialog


@pytest.fixture
def photos(tmp_path):
    return [photo(tmp_path, f"{colour}.jpg", colour, size=(640, 480)) for colour in ("red", "green", "blue")]


@pytest.fixture
def dialog(qtbot, photos):
    widget = PreviewDialog(photos, 0, label_text=lambda path: f"label of {path.stem}")
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()


def test_right_moves_to_the_next_photo_and_tells_the_grid(dialog, photos, qtbot):
    qtbot.waitUntil(lambda: not dialog.view.image().isNull(), timeout=10_000)
    assert near(centre_colour(dialog.view.image()), COLOURS["red"])
    assert (dialog.name.text(), dialog.label.text(), dialog.counter.text()) == ("red.jpg", "label of red", "1 of 3")
    with qtbot.assertNotEmitted(dialog.current_changed):
        qtbot.keyClick(dialog, Qt.Key.Key_Left)  # already at the first photo
    with qtbot.waitSignal(dialog.current_changed) as moved:
        qtbot.keyClick(dialog, Qt.Key.Key_Right)
    assert moved.args == [1] and dialog.path() == photos[1]
    qtbot.waitUntil(lambda: not dialog.view.image().isNull(), timeout=10_000)
    assert near(centre_colour(dialog.view.image()), COLOURS["green"])
    assert dialog.label.text() == "label of green" and dialog.windowTitle() == "green.jpg"
    dialog.grab().save("/tmp/preview.png")
    with qtbot.waitSignal(dialog.current_changed) as moved:
        qtbot.keyClick(dialog, Qt.Key.Key_PageDown)
    assert moved.args == [2]
    with qtbot.assertNotEmitted(dialog.current_changed):
        qtbot.keyClick(dialog, Qt.Key.Key_Right)  # already at the last
    with qtbot.waitSignal(dialog.current_changed) as moved:
        qtbot.keyClick(dialog, Qt.Key.Key_PageUp)
    assert moved.args == [1]


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape, Qt.Key.Key_Space])
def test_escape_or_space_closes(dialog, qtbot, key):
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, key)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected


def test_the_photo_is_decoded_at_about_the_screen_size(qtbot, tmp_path):
    big = photo(tmp_path, "big.jpg", size=(3000, 2000))
    dialog = PreviewDialog([big], 0)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.view.image().isNull(), timeout=10_000)
    dialog.loader.wait()
    screen = dialog.screen()
    side = round(max(screen.size().width(), screen.size().height()) * screen.devicePixelRatio())
    assert max(dialog.view.image().width(), dialog.view.image().height()) == min(3000, side)
    target = dialog.view.image_rect()
    assert target.width() <= dialog.view.width() and target.height() <= dialog.view.height()
    assert target.width() / target.height() == pytest.approx(1.5, abs=0.01)
