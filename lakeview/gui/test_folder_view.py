"""Predict a test folder: every photo in it classified by the active model, beside the class its path names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFileDialog, QHeaderView, QLabel, QVBoxLayout, QWidget

from lakeview.core.datasets.actual_label import actual_label
from lakeview.gui.session import LibrarySession
from lakeview.gui.table_model import SORT_ROLE, ListTableModel, sortable_table

BATCH = 32
UNKNOWN = "?"
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_RIGHT_COLOUR, _WRONG_COLOUR, _GREY = QColor("#2e7d32"), QColor("#c62828"), QColor("#8c8c8c")


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # a photo's result, not a test for pytest to collect

    path: Path
    actual: str | None
    """The class the path names (folder, else file name), None when it names none."""
    predicted: str | None
    confidence: float | None
    reason: str | None = None
    """Why the file could not be read; then there is no prediction."""

    @property
    def correct(self) -> bool | None:
        if self.actual is None or self.predicted is None:
            return None
        return self.actual == self.predicted


def summary(results: list[TestResult]) -> str:
    """'N photos, M with a known class, accuracy X% (c of M)'; M counts the photos with a known class that were
    predicted (an unreadable photo is neither right nor wrong)."""
    judged = [r.correct for r in results if r.correct is not None]
    unreadable = sum(1 for r in results if r.reason is not None)
    text = f"{len(results)} photos, {len(judged)} with a known class, accuracy "
    text += f"{sum(judged) / len(judged):.1%} ({sum(judged)} of {len(judged)})" if judged else "–"
    return text + (f"; {unreadable} unreadable" if unreadable else "")


class TestResultsModel(ListTableModel):
    __test__ = False
    HEADERS = ("File", "Actual", "Predicted", "Confidence", "")
    HEADER_TIPS = {4: "✓ right, ✗ wrong; no mark when the path names no class"}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[TestResult] = []
        self.folder: Path | None = None

    def clear(self, folder: Path | None = None) -> None:
        self.beginResetModel()
        self.rows, self.folder = [], folder
        self.endResetModel()

    def append(self, results: list[TestResult]) -> None:
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

    def _text(self, result: TestResult, column: int) -> str:
        if column == 0:
            return self._name(result.path)
        if column == 1:
            return result.actual or UNKNOWN
        if column == 2:
            return result.predicted if result.reason is None else result.reason
        if column == 3:
            return "" if result.confidence is None else f"{result.confidence:.1%}"
        return {True: "✓", False: "✗", None: ""}[result.correct]

    def _sort_key(self, result: TestResult, column: int):
        if column == 3:
            return -1.0 if result.confidence is None else result.confidence
        if column == 4:
            return {True: 2, False: 1, None: 0}[result.correct]
        return self._text(result, column).casefold()

    def _name(self, path: Path) -> str:
        if self.folder is not None and path.is_relative_to(self.folder):
            return path.relative_to(self.folder).as_posix()
        return str(path)


class TestFolderView(QWidget):
    """A table of one test folder's predictions; `run` fills it (the library's job: progress and Cancel in the
    status bar), rows arriving in batches."""

    __test__ = False

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("Choose a folder of test photos: its subfolders, or the file names, say their class.")
        self.heading.setWordWrap(True)
        self.model = TestResultsModel(self)
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

    @classmethod
    def ask_folder(cls, parent: QWidget | None) -> Path | None:
        """The folder dialog (tests replace this)."""
        folder = QFileDialog.getExistingDirectory(parent, "Predict a folder of test photos")
        return Path(folder) if folder else None

    @property
    def results(self) -> list[TestResult]:
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

        def job(progress, should_stop, emit_partial) -> int:
            from lakeview.core.photos.files import iter_image_files
            from lakeview.core.models.inference import Prediction, classify_files
            from lakeview.core.training.library_dataset import load_version

            model = load_version(active)
            errors: list[tuple[Path, str]] = []
            paths = list(iter_image_files(folder, True, errors))
            batch = [TestResult(path, None, None, None, reason) for path, reason in errors]
            for result in classify_files(model, paths, total=len(paths), progress=progress, should_stop=should_stop):
                actual = actual_label(result.path, model.classes)
                if isinstance(result, Prediction):
                    batch.append(TestResult(result.path, actual, result.label, result.confidence))
                else:
                    batch.append(TestResult(result.path, actual, None, None, result.reason))
                if len(batch) >= BATCH:
                    emit_partial(batch)
                    batch = []
            if batch:
                emit_partial(batch)
            return len(paths)

        def arrived(batch: list[TestResult]) -> None:
            self.model.append(batch)
            self.summary.setText(f"Predicting… {summary(self.model.rows)}")

        def finished(count: int) -> str:
            text = summary(self.model.rows) if self.model.rows else f"No photos in {folder}"
            self.summary.setText(text)
            return text

        def stopped() -> None:
            self.summary.setText(f"Stopped: {summary(self.model.rows)}")

        def failed(message: str) -> None:
            self.summary.setText(message)

        if not session.start_job("Predict a test folder", job, finished, arrived, failed, stopped):
            return False
        self.model.clear(folder)
        self.heading.setText(f"{folder}  —  model {active.id[:8]} ({', '.join(active.classes)})")
        self.heading.setToolTip(str(active.file))
        self.summary.setText("Predicting…")
        return True
