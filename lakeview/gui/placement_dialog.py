"""Copying or moving photos into class folders from the app: options, a preview, a job, and undo of the last one.

Each placement writes a journal beside the class folders (as `lakeview classify --copy-into` does); the library
remembers the last one in `<library folder>/placements/last.json`, so it can be undone after a restart. When
photos move, the catalog follows them: their rows, with labels and predictions, are reattached by fingerprint.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QRadioButton,
                               QVBoxLayout, QWidget)

from lakeview.core.photos.file_names import path_from_setting, path_to_setting, shown_path
from lakeview.core.placement.copy_or_move import PAST, Mode, PlacementReport, PlannedFile
from lakeview.core.placement.last_placement import last_placement
from lakeview.core.placement.place_and_undo import place, undo_placement
from lakeview.core.placement.preview import DEFAULT_THRESHOLD, PreviewRow, facts_of, preview
from lakeview.core.placement.undo import UndoReport
from lakeview.gui.session import LibrarySession
from lakeview.gui.table_model import SORT_ROLE, ListTableModel, sortable_table
from lakeview.gui.worker import JobKind

STAYS = "stays where it is"
DESTINATION_KEY = "placement/last_destination"
DESTINATION_WIDTH, WHY_WIDTH = 260, 220
"""The widest the Destination and Goes-by columns start (longer text is elided), so that Photo stays in view."""
_GREY = QColor("#8c8c8c")


# --- jobs --------------------------------------------------------------------------------------------------------
def show_problems(parent: QWidget | None, title: str, text: str, problems: list[tuple[Path, str]]) -> None:
    """A warning listing the files that could not be handled, and why (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText("\n".join(f"{shown_path(path.name)}: {shown_path(reason)}" for path, reason in problems[:12])
                           + (f"\n… and {len(problems) - 12} more" if len(problems) > 12 else ""))
    if problems:
        box.setDetailedText("\n".join(f"{shown_path(path)}: {shown_path(reason)}" for path, reason in problems))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def place_photos(session: LibrarySession, plan: list[PlannedFile], mode: Mode, into: Path,
                 parent: QWidget | None = None) -> bool:
    """Copy or move as planned, as the library's job; False when another job is running. Its report, also that of
    a cancelled job (what was placed before the stop), comes back as the job's partial result."""
    catalog_path = session.catalog.path
    verb = mode.capitalize()

    def job(progress, should_stop, emit_partial) -> PlacementReport:
        report = place(plan, mode, into, catalog_path, progress=progress, should_stop=should_stop)
        emit_partial(report)
        return report

    def placed(report: PlacementReport) -> None:
        if mode == "move" and report.done:
            session.photos_moved()
        if report.failed or report.halted:
            text = (f"The job stopped by itself: {shown_path(report.halted)}." if report.halted else
                    f"{len(report.failed)} of {len(plan)} photo(s) could not be {PAST[mode]}; they are where they "
                    "were.")
            show_problems(parent, f"{verb} into class folders", text,
                          [(item.source, reason) for item, reason in report.failed]
                          + [(item.source, "not started") for item in report.not_started])

    def summary(report: PlacementReport) -> str:
        message = f"{len(report.done)} photo(s) {PAST[mode]} into {shown_path(into)}"
        message += f", {len(report.failed)} failed" if report.failed else ""
        return message + (f", {len(report.not_started)} not started" if report.halted else "")

    return session.start_job(JobKind.PLACE, f"{verb} into class folders", job, summary, on_partial=placed)


def undo_last_placement(session: LibrarySession, parent: QWidget | None = None) -> bool:
    """Undo the library's last placement as a job: copies deleted (if unchanged), moved photos put back.
    False when there is none, or another job is running. Its report, also that of a cancelled job, comes back as
    the job's partial result."""
    catalog_path = session.catalog.path
    last = last_placement(session.catalog.folder)
    title = "Undo last placement"
    if last is None:
        session.tell(title, "nothing to undo")
        return False

    def job(progress, should_stop, emit_partial) -> UndoReport:
        report = undo_placement(last.journal, catalog_path, progress, should_stop)
        emit_partial(report)
        return report

    def undone(report: UndoReport) -> None:
        session.photos_moved()
        if report.problems:
            retry = (f" {report.left} photo(s) are still to undo; Undo last placement again retries just those."
                     if report.left else "")
            show_problems(parent, title, f"{len(report.problems)} file(s) were left alone:{retry}", report.problems)

    def summary(report: UndoReport) -> str:
        done = (f"{len(report.restored)} photo(s) put back" if last.mode == "move"
                else f"{len(report.restored)} {'copy' if len(report.restored) == 1 else 'copies'} removed")
        return done + (f", {len(report.problems)} left alone" if report.problems else "")

    def failed(message: str) -> None:
        show_problems(parent, title, message, [])

    return session.start_job(JobKind.UNDO_PLACEMENT, title, job, summary, on_partial=undone, on_failed=failed)


# --- the dialog ----------------------------------------------------------------------------------------------------
class PreviewModel(ListTableModel):
    """Destination first: where each photo goes is what the user checks; its own name comes last, elided."""
    HEADERS = ("Destination", "Goes by", "Photo")
    DESTINATION, WHY, PHOTO = range(3)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PreviewRow] = []
        self.into: Path | None = None

    def set_rows(self, rows: list[PreviewRow], into: Path | None) -> None:
        self.beginResetModel()
        self.rows, self.into = rows, into
        self.endResetModel()

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            if column == self.PHOTO:  # shown_path: a name of raw bytes or with a newline shown as \xNN, not mangled
                return shown_path(row.source.name)
            if column == self.WHY:
                return shown_path(row.why)
            if row.destination is None:
                return STAYS
            return shown_path(self._relative(row.destination))
        if role == Qt.ItemDataRole.ToolTipRole and column == self.PHOTO:
            return shown_path(row.source)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.WHY:
            return shown_path(row.why)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.DESTINATION:
            return shown_path(row.destination if row.destination is not None else row.source)
        if role == Qt.ItemDataRole.ForegroundRole and row.destination is None:
            return _GREY
        return None

    def _relative(self, destination: Path) -> Path:
        return destination.relative_to(self.into) if self.into is not None and destination.is_absolute() else destination


class PlacementDialog(QDialog):
    """Copy or move photos into `<destination>/<class>/`, by label or confident prediction, with a preview.
    With `settings`, it starts at the folder the last placement went to."""

    def __init__(self, session: LibrarySession, paths: list[Path], parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.setWindowTitle("Copy or move photos into class folders")
        self.facts = facts_of(session.catalog, [Path(p) for p in paths])
        self.destination: Path | None = None
        self.rows: list[PreviewRow] = []

        self.folder = QLineEdit()
        self.folder.setReadOnly(True)
        self.folder.setPlaceholderText("Choose where the class folders go")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_destination)
        self.choose_button = choose
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)

        self.copy = QRadioButton("Copy (the originals stay)")
        self.move = QRadioButton("Move (the catalog follows the photos)")
        self.copy.setChecked(True)
        modes = QButtonGroup(self)
        modes.addButton(self.copy)
        modes.addButton(self.move)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.copy)
        mode_row.addWidget(self.move)
        mode_row.addStretch(1)

        self.use_predictions = QCheckBox("Photos without a label go by their predicted class when it is at least")
        self.use_predictions.setChecked(True)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip("Confidence of the predicted class, 0 to 1")
        self.use_predictions.toggled.connect(self.threshold.setEnabled)
        prediction_row = QHBoxLayout()
        prediction_row.addWidget(self.use_predictions)
        prediction_row.addWidget(self.threshold)
        prediction_row.addStretch(1)

        form = QFormLayout()
        form.addRow("Class folders in:", folder_row)
        form.addRow("Photos are:", mode_row)
        form.addRow("Class:", prediction_row)

        self.model = PreviewModel(self)
        self.table, _ = sortable_table(self.model, self)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.summary = QLabel()
        self.summary.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.start_button = self.buttons.addButton("Copy", QDialogButtonBox.ButtonRole.AcceptRole)
        self.undo_button = self.buttons.addButton("Undo last placement", QDialogButtonBox.ButtonRole.ResetRole)
        self.start_button.clicked.connect(self.start)
        self.undo_button.clicked.connect(self.undo_last)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        for signal in (self.copy.toggled, self.use_predictions.toggled):
            signal.connect(self.refresh)
        self.threshold.valueChanged.connect(self.refresh)
        self.resize(760, 520)
        remembered = self._remembered_destination()
        if remembered is not None:
            self.set_destination(remembered)
        else:
            self.refresh()

    def _remembered_destination(self) -> Path | None:
        if self.settings is None:
            return None
        kept = self.settings.value(DESTINATION_KEY, "", str)
        return path_from_setting(kept) if kept and path_from_setting(kept).is_dir() else None

    @classmethod
    def ask_destination(cls, parent: QWidget | None) -> Path | None:
        """The folder dialog (tests replace this)."""
        folder = QFileDialog.getExistingDirectory(parent, "Where should the class folders go?")
        return Path(folder) if folder else None

    @property
    def mode(self) -> Mode:
        return "copy" if self.copy.isChecked() else "move"

    def choose_destination(self) -> None:
        folder = self.ask_destination(self)
        if folder is not None:
            self.set_destination(folder)

    def set_destination(self, folder: Path) -> None:
        self.destination = Path(folder).absolute()
        self.folder.setText(str(self.destination))
        self.refresh()

    def plan(self) -> list[PlannedFile]:
        if self.destination is None:
            return []
        return [PlannedFile(r.source, r.destination) for r in self.rows if r.destination is not None]

    def refresh(self) -> None:
        """Preview, counts and buttons for the current options (destinations re-checked against the disk)."""
        self.rows = preview(self.facts, self.destination, self.use_predictions.isChecked(), self.threshold.value())
        self.model.set_rows(self.rows, self.destination)
        for column, widest in ((PreviewModel.DESTINATION, DESTINATION_WIDTH), (PreviewModel.WHY, WHY_WIDTH)):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), widest))
        placed = [r for r in self.rows if r.destination is not None]
        counts = Counter(r.destination.parent.name for r in placed)
        parts = [f"{shown_path(name)}: {n}" for name, n in sorted(counts.items())]
        stays = len(self.rows) - len(placed)
        renamed = sum(1 for r in placed if r.destination.name != r.source.name)
        text = (f"{len(placed)} of {len(self.rows)} photo(s) into " + ", ".join(parts)) if placed else "Nothing to place"
        if stays:
            text += f"; {stays} {STAYS if stays == 1 else 'stay where they are'}"
        if renamed:
            text += f"; {renamed} renamed with -1, -2… because the name is taken (nothing is overwritten)"
        if self.destination is None and placed:
            text += ". Choose a folder for them."
        self.summary.setText(text + ("" if text.endswith(".") else "."))
        verb = self.mode.capitalize()
        self.start_button.setText(f"{verb} {len(placed)}" if placed else verb)
        self.start_button.setEnabled(bool(placed) and self.destination is not None)
        self.undo_button.setEnabled(last_placement(self.session.catalog.folder) is not None)

    def start(self) -> None:
        plan = self.plan()
        if plan and place_photos(self.session, plan, self.mode, self.destination, self.parentWidget()):
            if self.settings is not None:
                self.settings.setValue(DESTINATION_KEY, path_to_setting(self.destination))
            self.accept()

    def undo_last(self) -> None:
        if undo_last_placement(self.session, self.parentWidget()):
            self.accept()
