"""Location hints in the app: the library's hints, worked out in a worker whenever labels, predictions or photos
change (never while painting), and the inspector's Place section: where the photo was taken, what the labelled
photos near it say, what its pixels say, and the two combined, with the place weighed as the library's held-out
photos say (core/location/place_weight.py: fitted in the same worker, again only when the model or labels change).

A hint the inspector shows may be a second or so behind the latest key press: the worker runs again after each
change, and the section follows when it is done."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from lakeview.core.catalog import Catalog
from lakeview.core.location.fusion import best
from lakeview.core.location.hints import DEFAULT_RADIUS_KM
from lakeview.core.location.library_hints import LibraryHints, PhotoHint
from lakeview.core.location.place_weight import PlaceWeights
from lakeview.gui.grid.delegate import badge_text
from lakeview.gui.worker import start_worker

BY_PLACE = "by_place"
"""The filter key of the review queue ordered by how much pixels and place disagree (see SessionRows)."""
CHANGES_SETTLE_MS = 500
"""After a change, wait this long for the next (a run of key presses) before working the hints out again."""


class PlaceHints(QObject):
    """The hints of every photo of the session's library with a GPS position, as of the latest change."""

    changed = Signal()
    """New hints arrived."""

    def __init__(self, session, radius_km: float = DEFAULT_RADIUS_KM) -> None:
        super().__init__(session)
        self.session = session
        self.radius_km = radius_km
        self.hints: LibraryHints | None = None
        self._weights = PlaceWeights()  # touched only by the worker: one run at a time
        self.place_names_ready = False
        self._running = self._again = self._stopping = False
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.timeout.connect(self._start)
        for change in (session.labels_changed, session.predictions_changed, session.model_changed,
                       session.classes_changed, session.job_ended):
            change.connect(self.schedule)
        self.schedule()

    def schedule(self, *_) -> None:
        self._settle.start(CHANGES_SETTLE_MS)

    def close(self) -> None:
        """Start nothing more, and ask a run in progress to stop."""
        self._settle.stop()
        self._stopping = True

    def of(self, photo_id: int | None) -> PhotoHint | None:
        return self.hints.of(photo_id) if self.hints is not None else None

    def _start(self) -> None:
        if self._stopping:
            return
        if self.hints is None and not self.session.catalog.has_positions():
            return  # a library without GPS starts no worker at each change
        if self._running:
            self._again = True
            return
        self._running, self._again = True, False
        catalog_path, radius_km, weights = self.session.catalog.path, self.radius_km, self._weights

        def job(progress, should_stop, emit_partial):
            from lakeview.core.location.library_hints import library_hints
            from lakeview.core.location.place_names import load_place_names

            with Catalog(catalog_path) as catalog:
                hints = library_hints(catalog, radius_km, progress=progress,
                                      should_stop=lambda: should_stop() or self._stopping)
                weights.weigh(catalog, hints)
            if len(hints) and not self._stopping:
                load_place_names()  # about 1.3 s the first time: here, not on the GUI thread
            return hints

        start_worker(self, job, "place hints", on_finished=self._arrived, on_failed=self._failed,
                     on_cancelled=lambda: setattr(self, "_running", False),
                     needs_torch=False)

    def _arrived(self, hints: LibraryHints) -> None:
        from lakeview.core.location.place_names import place_names_loaded

        self._running = False
        if self._stopping:
            return
        self.hints = hints
        self.place_names_ready = place_names_loaded()
        self.changed.emit()
        if self._again:
            self._start()

    def _failed(self, message: str) -> None:
        self._running = False
        if not self._stopping:
            self.session.tell("Place hints", message)


def _percent(probabilities: dict[str, float] | None) -> str:
    if not probabilities:
        return ""
    name, p = best(probabilities)
    return f"{badge_text(name)} {p:.0%}"


def place_rows(hint: PhotoHint | None, ready: bool, radius_km: float, place_name: str) -> list[tuple[str, str]]:
    """(caption, text) rows of the inspector's Place section for a photo with a GPS position."""
    rows = [("Where", place_name or "naming the place…")]
    if not ready:
        return rows + [("Place hint", "working out…")]
    if hint is None or hint.hint is None:
        rows.append(("Place hint", f"No labelled photo within {radius_km:g} km"))
    else:
        rows.append(("Place hint", hint.hint.text()))
        rows.append(("Place says", _percent(hint.place)))
    if hint is not None and hint.pixels is not None:
        rows.append(("Pixels say", _percent(hint.pixels)))
        if hint.hint is not None:
            rows.append(("Combined", f"{_percent(hint.combined)} (pixels × place)"))
            rows.append(("Weighed", hint.weight.text()))
    return rows


class PlacePanel(QWidget):
    """The inspector's Place section; hidden for a photo without a GPS position."""

    def __init__(self, places: PlaceHints | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.places = places
        heading = QLabel("Place")
        font = QFont(heading.font())
        font.setBold(True)
        heading.setFont(font)
        self.form = QFormLayout()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(heading)
        column.addLayout(self.form)
        self.setVisible(False)

    def show_for(self, catalog: Catalog, path: Path) -> None:
        position = catalog.gps_of(path)
        self.setVisible(position is not None)
        if position is None:
            return
        from lakeview.core.location.place_names import place_name, place_names_loaded

        places = self.places
        ready = places is not None and places.hints is not None
        hint = places.of(catalog.photo_id(path)) if ready else None
        name = place_name(position.latitude, position.longitude) if place_names_loaded() else ""
        self._fill(place_rows(hint, ready, places.radius_km if places else DEFAULT_RADIUS_KM, name))

    def texts(self) -> dict[str, str]:
        """{caption: text} as shown (tests, screen readers)."""
        return {self.form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text():
                self.form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget().text()
                for row in range(self.form.rowCount())}

    def _fill(self, rows: list[tuple[str, str]]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        for caption, text in rows:
            label = QLabel(caption)
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            value = QLabel(text)
            value.setWordWrap(True)
            self.form.addRow(label, value)
