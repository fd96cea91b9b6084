"""Predict a test folder: every photo in it classified by the active model, beside the class its path names."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QSize, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFileDialog, QHeaderView, QLabel, QVBoxLayout, QWidget

from lakeview.core.models.predict_folder import PhotoResult, predict_folder, summary
from lakeview.gui.session import LibrarySession
from lakeview.gui.table_model import SORT_ROLE, ListTableModel, sortable_table
from lakeview.gui.worker import JobKind

BATCH = 32
UNKNOWN = "?"
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_RIGHT_COLOUR, _WRONG_COLOUR, _GREY = QColor("#2e7d32"), QColor("#c62828"), QColor("#8c8c8c")


class PhotoResultsModel(ListTableModel):
    HEADERS = ("File", "Actual", "Predicted", "Confidence", "")
    HEADER_TIPS = {4: "✓ right, ✗ wrong; no mark when the path names no class"}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PhotoResult] = []
        self.folder: Path | None = None

    def clear(self, folder: Path | None = None) -> None:
        self.beginResetModel()
        self.rows, self.folder = [], folder
        self.endResetModel()

    def append(self, results: list[PhotoResult]) -> None:
        if not results:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(results) - 1)
        self.rows.extend(results)
        self.endInsertRows()

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        result, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(result, column)
        if role == SORT_ROLE:
            return self._sort_key(result, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                return str(result.path)
            return result.reason if column == 2 else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 4 and result.correct is not None:
                return _RIGHT_COLOUR if result.correct else _WRONG_COLOUR
            if (column == 2 and result.reason is not None) or (column == 1 and result.actual is None):
                return _GREY
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column == 3 else _CENTRE if column == 4 else None
        if role == Qt.ItemDataRole.FontRole and column == 4:
            bold = QFont()
            bold.setBold(True)
            return bold
        return None

    def _text(self, result: PhotoResult, column: int) -> str:
        if column == 0:
            return self._name(result.path)
        if column == 1:
            return result.actual or UNKNOWN
        if column == 2:
            return result.predicted if result.reason is None else result.reason
        if column == 3:
            return "" if result.confidence is None else f"{result.confidence:.1%}"
        return {True: "✓", False: "✗", None: ""}[result.correct]

    def _sort_key(self, result: PhotoResult, column: int):
        if column == 3:
            return -1.0 if result.confidence is None else result.confidence
        if column == 4:
            return {True: 2, False: 1, None: 0}[result.correct]
        return self._text(result, column).casefold()

    def _name(self, path: Path) -> str:
        if self.folder is not None and path.is_relative_to(self.folder):
            return path.relative_to(self.folder).as_posix()
        return str(path)


class PredictFolderView(QWidget):
    """A table of one test folder's predictions; `run` fills it (the library's job: progress and Cancel in the
    status bar), rows arriving in batches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("Choose a folder of test photos: its subfolders, or the file names, say their class.")
        self.heading.setWordWrap(True)
        self.model = PhotoResultsModel(self)
        self.table, self.proxy = sortable_table(self.model, self)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 120)
        header.resizeSection(2, 140)
        header.resizeSection(3, 90)
        header.resizeSection(4, 32)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)

    def sizeHint(self) -> QSize:
        """The dock opens a few rows high, leaving the grid most of a 700-pixel screen; it can be dragged taller."""
        return QSize(480, 180)

    @classmethod
    def ask_folder(cls, parent: QWidget | None) -> Path | None:
        """The folder dialog (tests replace this)."""
        folder = QFileDialog.getExistingDirectory(parent, "Predict a folder of test photos")
        return Path(folder) if folder else None

    @property
    def results(self) -> list[PhotoResult]:
        return list(self.model.rows)

    def run(self, session: LibrarySession, folder: Path) -> bool:
        """Classify every image under `folder` with the session's active model. False when there is no model,
        or another job is running (the session says so in the status bar)."""
        folder = Path(folder).absolute()
        active = session.catalog.active_model()
        if active is None:
            self.summary.setText("No model yet: open a model file or train one first.")
            session.tell("Predict a test folder", "no model yet: open a model file or train one first")
            return False

        def job(progress, should_stop, emit_partial) -> None:
            from lakeview.core.models.versions import load_version

            batch: list[PhotoResult] = []
            for result in predict_folder(load_version(active), folder, progress, should_stop):
                batch.append(result)
                if len(batch) >= BATCH:
                    emit_partial(batch)
                    batch = []
            if batch:
                emit_partial(batch)

        def arrived(batch: list[PhotoResult]) -> None:
            self.model.append(batch)
            self.summary.setText(f"Predicting… {summary(self.model.rows)}")

        def finished(_: None) -> str:
            text = summary(self.model.rows) if self.model.rows else f"No photos in {folder}"
            self.summary.setText(text)
            return text

        def stopped() -> None:
            self.summary.setText(f"Stopped: {summary(self.model.rows)}")

        def failed(message: str) -> None:
            self.summary.setText(message)

        if not session.start_job(JobKind.PREDICT_FOLDER, "Predict a test folder", job, finished, arrived, failed, stopped):
            return False
        self.model.clear(folder)
        self.heading.setText(f"{folder}  —  model {active.id[:8]} ({', '.join(active.classes)})")
        self.heading.setToolTip(str(active.file))
        self.summary.setText("Predicting…")
        return True
