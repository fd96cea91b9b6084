"""The inspector: the selected photo large, its label and where it came from, the model's top predictions as
bars in the class colours, and what the file and its EXIF header say.

Only the header is read on the GUI thread (a few kilobytes); the preview is decoded by an ImageLoader.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QDate, QDateTime, QEvent, QLocale, QRectF, QSize, Qt, QTime
from PySide6.QtGui import (QAction, QColor, QFont, QGuiApplication, QImage, QPainter, QPaintEvent, QPalette, QPixmap,
                           QResizeEvent)
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QStackedLayout,
                               QVBoxLayout, QWidget)

from lakeview.core.catalog.labels import NONE_OF_THESE, ClassInfo, Label
from lakeview.core.photos.exif import read_header
from lakeview.core.photos.gps import GpsPosition
from lakeview.gui.elided_label import ElidedLabel
from lakeview.gui.grid.delegate import badge_text
from lakeview.gui.place_hints import PlaceHints, PlacePanel
from lakeview.gui.preview_loader import ImageLoader, PhotoView

PREVIEW_PX = 1024
TOP_K = 5
BAR_HEIGHT = 6
SWATCH = 12
WRAP_BELOW_PX = 300
SHORT_ID = 8
EMPTY_TEXT = "Select a photo"
SOURCE_TEXT = {"user": "labelled by you", "imported": "imported", "accepted": "accepted prediction"}


class CatalogLookup(Protocol):
    def label_of(self, path: Path | str) -> Label | None: ...
    def prediction_of(self, path: Path | str) -> tuple[str, list[tuple[str, float]]] | None: ...
    def classes(self) -> list[ClassInfo]: ...
    def gps_of(self, path: Path | str) -> GpsPosition | None: ...
    def photo_id(self, path: Path | str) -> int | None: ...


# --- what the header says ------------------------------------------------------------------------------------

def exif_rows(facts: list[tuple[str, str | datetime]]) -> list[tuple[str, str]]:
    """The header's facts as the form shows them, dates in the user's locale."""
    return [(caption, _local_time(value) if isinstance(value, datetime) else value) for caption, value in facts]


def _local_time(moment: datetime) -> str:
    shown = QDateTime(QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute, moment.second))
    return QLocale().toString(shown, QLocale.FormatType.ShortFormat)


def file_rows(path: Path, size: tuple[int, int] | None) -> list[tuple[str, str]]:
    rows = [("Name", path.name), ("Folder", str(path.parent)),
            ("Dimensions", f"{size[0]} × {size[1]} px" if size is not None else "unknown")]
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

class ModelIdLabel(QLabel):
    """The model's id, short (its first 8 characters, as git shows a commit), selectable, with the whole id in its
    tooltip and "Copy model id" in its context menu."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_id = ""
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy model id", self)
        copy.triggered.connect(self.copy_id)
        self.addAction(copy)

    def show_id(self, model_id: str) -> None:
        self.model_id = model_id
        self.setText(f"model {model_id[:SHORT_ID]}")
        self.setToolTip(f"model {model_id}\nRight-click to copy the whole id")

    def copy_id(self) -> None:
        QGuiApplication.clipboard().setText(self.model_id)


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

    def __init__(self, catalog_lookup: CatalogLookup, places: PlaceHints | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog_lookup
        self._path: Path | None = None
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._on_loaded)

        self.empty = _muted(QLabel(EMPTY_TEXT))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.preview = PhotoView(fill_width=True)
        self.swatch = QLabel()
        self.label_text = QLabel()
        self.label_text.setWordWrap(True)
        self.model_text = _muted(ModelIdLabel())
        self.no_prediction = _muted(QLabel("No prediction yet"))
        self.bars = QVBoxLayout()
        self.bars.setSpacing(4)
        self.place = PlacePanel(places)
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
        column.addWidget(self.place)
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
            self.show_note(EMPTY_TEXT)
            return
        path = Path(path)
        if path == self._path:
            self.refresh()
            return
        self._path = path
        header = read_header(path)
        exif = exif_rows(header.facts)
        self.preview.set_message("", QSize(*header.size) if header.size is not None else None)
        self.loader.request(path, PREVIEW_PX)
        _fill_form(self.file_form, file_rows(path, header.size))
        _fill_form(self.exif_form, exif)
        self.exif_heading.setVisible(bool(exif))
        self.refresh()
        self.stack.setCurrentWidget(self.details)
        self.details.verticalScrollBar().setValue(0)

    def show_note(self, text: str) -> None:
        """No photo: `text` in its place (what a group header stands for, or "Select a photo")."""
        self._path = None
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def refresh(self) -> None:
        if self._path is None:
            return
        colours = self.catalog.class_colours()  # not classes(): that counts every label
        label = self.catalog.label_of(self._path)
        self.label_text.setText(describe_label(label))
        colour = colours.get(label.label) if label is not None and label.label != NONE_OF_THESE else None
        self.swatch.setVisible(colour is not None)
        if colour is not None:
            self.swatch.setPixmap(self._swatch(QColor(colour)))
        self._show_prediction(self.catalog.prediction_of(self._path), colours)
        self.place.show_for(self.catalog, self._path)

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
        self.model_text.show_id(model_id)
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

    def resizeEvent(self, event: QResizeEvent) -> None:
        """In a narrow dock (a 1024×700 screen) a value goes under its caption, with the whole width to show it,
        rather than elide to "…" beside it."""
        super().resizeEvent(event)
        policy = (QFormLayout.RowWrapPolicy.WrapAllRows if event.size().width() < WRAP_BELOW_PX
                  else QFormLayout.RowWrapPolicy.DontWrapRows)
        for form in (self.file_form, self.exif_form):
            if form.rowWrapPolicy() != policy:
                form.setRowWrapPolicy(policy)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self.refresh()  # the swatch, at the new density

    def shutdown(self) -> None:
        """Wait for a decode in progress (tests, closing the app)."""
        self.loader.wait()
