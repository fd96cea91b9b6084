"""The inspector: the selected photo large, its label and where it came from, the model's top predictions as
bars in the class colours, and what the file and its EXIF header say.

Only the header is read on the GUI thread (a few kilobytes); the preview is decoded by an ImageLoader.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Protocol

from PIL import ExifTags, Image
from PySide6.QtCore import QDateTime, QEvent, QLocale, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QStackedLayout,
                               QVBoxLayout, QWidget)

from lakeview.core.catalog.labels import NONE_OF_THESE, ClassInfo, Label
from lakeview.core.photos.images import HEIF_SUFFIXES, heif_supported
from lakeview.gui.grid.delegate import badge_text
from lakeview.gui.image_loader import ImageLoader, PhotoView

PREVIEW_PX = 1024
TOP_K = 5
BAR_HEIGHT = 6
SWATCH = 12
EMPTY_TEXT = "Select a photo"
SOURCE_TEXT = {"user": "labelled by you", "imported": "imported", "accepted": "accepted prediction"}
UPRIGHT_SWAPPED = {5, 6, 7, 8}  # EXIF orientations that turn the stored image a quarter turn
EXIF_DATE = "yyyy:MM:dd HH:mm:ss"
# What PIL raises for a damaged header.
_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)


class CatalogLookup(Protocol):
    def label_of(self, path: Path | str) -> Label | None: ...
    def prediction_of(self, path: Path | str) -> tuple[str, list[tuple[str, float]]] | None: ...
    def classes(self) -> list[ClassInfo]: ...


# --- what the header says ------------------------------------------------------------------------------------

EXIF_IN_HEADER = {"JPEG", "MPO", "TIFF", "WEBP", "HEIF", "AVIF"}


def read_header(path: Path) -> tuple[QSize | None, list[tuple[str, str]]]:
    """The upright pixel size (None when unreadable) and the EXIF summary rows (caption, text)."""
    if path.suffix.lower() in HEIF_SUFFIXES:
        heif_supported()
    try:
        with Image.open(path) as im:
            width, height = im.size
            if im.format not in EXIF_IN_HEADER:  # Pillow finds a PNG's EXIF by reading the whole file
                return QSize(width, height), []
            exif = im.getexif()
            sub = exif.get_ifd(ExifTags.IFD.Exif)
    except _HEADER_ERRORS:
        return None, []
    if exif.get(ExifTags.Base.Orientation) in UPRIGHT_SWAPPED:
        width, height = height, width
    return QSize(width, height), exif_summary(exif, sub)


def exif_summary(ifd0: Image.Exif, sub: dict) -> list[tuple[str, str]]:
    make, model = _text(ifd0.get(ExifTags.Base.Make)), _text(ifd0.get(ExifTags.Base.Model))
    brand = make.split()[0].lower() if make else ""  # "NIKON CORPORATION" + "NIKON Z 6" is a "NIKON Z 6"
    camera = model if brand and model.lower().startswith(brand) else f"{make} {model}".strip()
    taken = _text(sub.get(ExifTags.Base.DateTimeOriginal)) or _text(ifd0.get(ExifTags.Base.DateTime))
    exposure = _number(sub.get(ExifTags.Base.ExposureTime))
    aperture = _number(sub.get(ExifTags.Base.FNumber))
    iso = sub.get(ExifTags.Base.ISOSpeedRatings)
    iso = _number(iso[0] if isinstance(iso, tuple) and iso else iso)
    focal = _number(sub.get(ExifTags.Base.FocalLength))
    rows = [
        ("Camera", camera),
        ("Taken", _exif_date(taken) if taken else ""),
        ("Exposure", "" if exposure is None else
         f"1/{round(1 / exposure)} s" if exposure < 1 else f"{exposure:g} s"),
        ("Aperture", "" if aperture is None else f"f/{round(aperture, 1):g}"),
        ("ISO", "" if iso is None else f"{iso:g}"),
        ("Focal length", "" if focal is None else f"{round(focal, 1):g} mm"),
    ]
    return [(caption, text) for caption, text in rows if text]


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip("\x00 ").strip() if isinstance(value, str) else ""


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _exif_date(text: str) -> str:
    moment = QDateTime.fromString(text, EXIF_DATE)
    return QLocale().toString(moment, QLocale.FormatType.ShortFormat) if moment.isValid() else text


def file_rows(path: Path, size: QSize | None) -> list[tuple[str, str]]:
    rows = [("Name", path.name), ("Folder", str(path.parent)),
            ("Dimensions", f"{size.width()} × {size.height()} px" if size is not None else "unknown")]
    try:
        stat = path.stat()
    except OSError as exc:
        return rows + [("File", exc.strerror or "cannot be read")]
    modified = QDateTime.fromMSecsSinceEpoch(stat.st_mtime_ns // 1_000_000)
    return rows + [("File size", QLocale().formattedDataSize(stat.st_size)),
                   ("Modified", QLocale().toString(modified, QLocale.FormatType.ShortFormat))]


def describe_label(label: Label | None) -> str:
    if label is None:
        return "Unlabelled"
    return f"{badge_text(label.label)} — {SOURCE_TEXT.get(label.source, label.source)}"


# --- small widgets -------------------------------------------------------------------------------------------

class ElidedLabel(QLabel):
    """A one-line label that shortens its text in the middle to fit, with the whole text as its tooltip."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), 240), hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, rect.width())
        painter = QPainter(self)
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(), self.isEnabled(), text,
                                  self.foregroundRole())


class PredictionBar(QWidget):
    """One class of a prediction: its name and percentage over a bar of that length in the class colour."""

    def __init__(self, name: str, probability: float, colour: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.probability, self.colour = name, probability, colour
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(f"{badge_text(name)}: {probability:.1%}")
        self.setAccessibleName(f"{badge_text(name)} {self.percent_text()}")

    def percent_text(self) -> str:
        return "<1%" if 0 < self.probability < 0.005 else f"{self.probability:.0%}"

    def sizeHint(self) -> QSize:
        return QSize(200, self.fontMetrics().height() + 2 + BAR_HEIGHT + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(80, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = self.fontMetrics()
        percent = self.percent_text()
        percent_width = metrics.horizontalAdvance(percent)
        text_height = metrics.height()
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        name = metrics.elidedText(badge_text(self.name), Qt.TextElideMode.ElideRight,
                                  self.width() - percent_width - 8)
        painter.drawText(0, 0, self.width() - percent_width - 8, text_height,
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), name)
        painter.drawText(self.width() - percent_width, 0, percent_width, text_height,
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), percent)
        track = QRectF(0, text_height + 2, self.width(), BAR_HEIGHT)
        track_colour = self.palette().color(QPalette.ColorRole.Mid)
        track_colour.setAlphaF(0.35)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track_colour)
        painter.drawRoundedRect(track, BAR_HEIGHT / 2, BAR_HEIGHT / 2)
        if self.probability > 0:
            filled = QRectF(track.x(), track.y(), max(BAR_HEIGHT, track.width() * min(1.0, self.probability)),
                            BAR_HEIGHT)
            painter.setBrush(self.colour)
            painter.drawRoundedRect(filled, BAR_HEIGHT / 2, BAR_HEIGHT / 2)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


def _muted(label: QLabel) -> QLabel:
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def _fill_form(form: QFormLayout, rows: list[tuple[str, str]]) -> None:
    while form.rowCount():
        form.removeRow(0)
    for caption, text in rows:
        value = ElidedLabel()
        value.setText(text)
        form.addRow(_muted(QLabel(caption)), value)


# --- the inspector -------------------------------------------------------------------------------------------

class Inspector(QWidget):
    """Details of one photo, for a dock beside the grid. `show_photo(path)` when the current photo changes,
    `refresh()` when its label or prediction may have."""

    def __init__(self, catalog_lookup: CatalogLookup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog_lookup
        self._path: Path | None = None
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._on_loaded)

        self.empty = _muted(QLabel(EMPTY_TEXT))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview = PhotoView(fill_width=True)
        self.swatch = QLabel()
        self.label_text = QLabel()
        self.label_text.setWordWrap(True)
        self.model_text = _muted(ElidedLabel())
        self.no_prediction = _muted(QLabel("No prediction yet"))
        self.bars = QVBoxLayout()
        self.bars.setSpacing(4)
        self.file_form = QFormLayout()
        self.exif_heading = _heading("Camera")
        self.exif_form = QFormLayout()

        label_row = QHBoxLayout()
        label_row.addWidget(self.swatch)
        label_row.addWidget(self.label_text, 1)
        prediction_row = QHBoxLayout()
        prediction_row.addWidget(_heading("Prediction"))
        prediction_row.addWidget(self.model_text, 1)
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.preview)
        column.addSpacing(4)
        column.addWidget(_heading("Label"))
        column.addLayout(label_row)
        column.addSpacing(8)
        column.addLayout(prediction_row)
        column.addWidget(self.no_prediction)
        column.addLayout(self.bars)
        column.addSpacing(8)
        column.addWidget(_heading("File"))
        column.addLayout(self.file_form)
        column.addSpacing(8)
        column.addWidget(self.exif_heading)
        column.addLayout(self.exif_form)
        column.addStretch(1)
        self.details = QScrollArea()
        self.details.setWidgetResizable(True)
        self.details.setFrameShape(QScrollArea.Shape.NoFrame)
        self.details.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.details.setWidget(content)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.details)

    def path(self) -> Path | None:
        return self._path

    def show_photo(self, path: Path | None) -> None:
        if path is None:
            self._path = None
            self.stack.setCurrentWidget(self.empty)
            return
        path = Path(path)
        if path == self._path:
            self.refresh()
            return
        self._path = path
        size, exif = read_header(path)
        self.preview.set_message("", size)
        self.loader.request(path, PREVIEW_PX)
        _fill_form(self.file_form, file_rows(path, size))
        _fill_form(self.exif_form, exif)
        self.exif_heading.setVisible(bool(exif))
        self.refresh()
        self.stack.setCurrentWidget(self.details)
        self.details.verticalScrollBar().setValue(0)

    def refresh(self) -> None:
        if self._path is None:
            return
        colours = {info.name: info.colour for info in self.catalog.classes()}
        label = self.catalog.label_of(self._path)
        self.label_text.setText(describe_label(label))
        colour = colours.get(label.label) if label is not None and label.label != NONE_OF_THESE else None
        self.swatch.setVisible(colour is not None)
        if colour is not None:
            self.swatch.setPixmap(self._swatch(QColor(colour)))
        self._show_prediction(self.catalog.prediction_of(self._path), colours)

    def prediction_bars(self) -> list[PredictionBar]:
        return [self.bars.itemAt(i).widget() for i in range(self.bars.count())]

    def _show_prediction(self, prediction: tuple[str, list[tuple[str, float]]] | None,
                         colours: dict[str, str]) -> None:
        while self.bars.count():
            bar = self.bars.takeAt(0).widget()
            bar.hide()
            bar.deleteLater()
        self.no_prediction.setVisible(prediction is None)
        self.model_text.setVisible(prediction is not None)
        if prediction is None:
            return
        model_id, top = prediction
        self.model_text.setText(f"model {model_id}")
        fallback = self.palette().color(QPalette.ColorRole.Highlight)
        for name, probability in top[:TOP_K]:
            colour = QColor(colours[name]) if name in colours else fallback
            self.bars.addWidget(PredictionBar(name, probability, colour))

    def _on_loaded(self, path: str, image: QImage, error: str) -> None:
        if self._path is None or path != str(self._path):
            return  # a photo no longer shown
        if error:
            self.preview.set_message(f"Cannot show this photo:\n{error}")
        else:
            self.preview.set_image(image)

    def _swatch(self, colour: QColor) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(round(SWATCH * ratio), round(SWATCH * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(0, 0, SWATCH, SWATCH), 3, 3)
        painter.end()
        return pixmap

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self.refresh()  # the swatch, at the new density

    def shutdown(self) -> None:
        """Wait for a decode in progress (tests, closing the app)."""
        self.loader.wait()
