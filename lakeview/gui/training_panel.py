"""The Train tab: the form (training_settings), the learning-rate finder, training with live curves, and
what to do when the pretrained weights cannot be had."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMessageBox, QProgressDialog, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from lakeview.core.training.error_figures import error_text
from lakeview.core.training.plan import LabelledFolder, TrainingPlan
from lakeview.gui.plots import LRFinderPlot, TrainingCurves
from lakeview.gui.session import LibrarySession
from lakeview.gui.training_settings import FOLDER_SOURCE, NO_WEIGHTS, TrainingSettingsForm
from lakeview.gui.worker import Ending, JobEnd, JobKind, Worker

Work = Callable[..., object]
"""work(catalog_path, source, plan, progress=, should_stop=, events=): a training job of core's from_library."""


def _train(catalog_path: Path, source: LabelledFolder | None, plan: TrainingPlan, **job) -> object:
    # from_library is imported in the job: its first import (torch's) would stall the window for a second.
    from lakeview.core.training.from_library import train_in_library

    return train_in_library(catalog_path, source, plan, **job)


def _find_lr(catalog_path: Path, source: LabelledFolder | None, plan: TrainingPlan, **job) -> object:
    from lakeview.core.training.from_library import find_lr_in_library

    return find_lr_in_library(catalog_path, source, plan, **job)


def describe_seconds(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class TrainingPanel(QWidget, TrainingSettingsForm):
    trained = Signal(object)
    """A TrainedVersion: the new active model and its interpretation."""

    def __init__(self, session: LibrarySession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.weights_file: Path | None = None
        self.folder: Path | None = None
        self.offline_box: QMessageBox | None = None
        self.download_dialog: QProgressDialog | None = None
        self.validation_photos: int | None = None
        """How many photos the epochs' error rates are measured on (from the training's DataReady)."""
        self.groups_kept = ""
        """The last training's "N near-duplicate groups (M photos) kept on one side of the split", if any; the
        summary under the counts shows it."""
        self.phase_notes: list[str] = []
        """How the running training's phases ended when not after their planned epochs (no gain, no time)."""
        self._last_action = self.start_training
        self._arch = ""
        """The architecture of the running job (the combo box may change meanwhile)."""
        self._running = False
        self._reader: Worker | None = None
        """The job counting a labelled folder's photos (outside the library's one job: it only reads)."""
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._scrolling(self._build_settings()))
        splitter.addWidget(self._build_results())
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._summary_timer = QTimer(self, singleShot=True, interval=400)
        self._summary_timer.timeout.connect(self.refresh_summary)
        session.labels_changed.connect(self._labels_changed)
        session.job_ended.connect(self._job_ended)
        self._set_running(False)
        self.refresh_summary()

    # --- layout -------------------------------------------------------------------------------------------
    def _build_settings(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.addWidget(self._build_data_group())
        layout.addWidget(self._build_model_group())
        layout.addWidget(self._build_schedule_group())
        buttons = QHBoxLayout()
        self.find_lr_button = QPushButton("Find learning rate")
        self.find_lr_button.setToolTip("Train briefly with a growing learning rate and plot the loss (the network "
                                       "is left as it was)")
        self.find_lr_button.clicked.connect(self.find_learning_rate)
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self.start_training)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop within one batch; nothing is saved")
        self.stop_button.clicked.connect(self.session.cancel_job)
        buttons.addWidget(self.find_lr_button)
        buttons.addStretch()
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.train_button)
        layout.addLayout(buttons)
        layout.addStretch()
        self._set_tab_order()
        return panel

    def _set_tab_order(self) -> None:
        chain = [*self.form_fields(), self.find_lr_button, self.stop_button, self.train_button]
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)

    @staticmethod
    def _scrolling(form: QWidget) -> QScrollArea:
        """The form scrolls on a small screen (1024×700) instead of holding the window taller than it."""
        scroll = QScrollArea()
        scroll.setWidget(form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes from field to field; the field scrolls into view
        scroll.setMinimumWidth(form.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        return scroll

    def _build_results(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        self.status = QLabel("Choose the photos and press Train: a new head learns on the frozen body, then "
                             "fine-tuning runs while it helps.")
        self.status.setWordWrap(True)
        # A fixed height: a new line of text each epoch must not re-lay-out (and redraw) the plots below.
        self.status.setFixedHeight(self.status.fontMetrics().lineSpacing() * 3 + 4)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.curves = TrainingCurves()
        self.lr_plot = LRFinderPlot()
        layout.addWidget(self.status)
        layout.addWidget(self.curves, 3)
        layout.addWidget(self.lr_plot, 2)
        return panel


    # --- jobs ---------------------------------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        self._running = running
        self.train_button.setEnabled(not running)
        self.find_lr_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _check_ready(self) -> bool:
        if self.source.currentText() == FOLDER_SOURCE and self.folder is None:
            self.status.setText("Choose a labelled folder first, or train on the labels in this library.")
            return False
        try:
            self.plan().check()
        except ValueError as exc:
            self.status.setText(str(exc).capitalize())
            return False
        return True

    def start_training(self) -> None:
        self.curves.clear()
        self.phase_notes = []
        self.groups_kept = ""
        self._run(JobKind.TRAINING, "Training", _train, self.start_training, self._training_finished,
                  lambda plan: f"Preparing {plan.arch} ({plan.weights} weights)…")

    def find_learning_rate(self) -> None:
        self._run(JobKind.FIND_LR, "Finding learning rate", _find_lr, self.find_learning_rate, self._lr_found,
                  lambda plan: "Sweeping the learning rate from 1e-7 upwards until the loss diverges…")

    def _run(self, kind: JobKind, name: str, work: Work, action, finished, preparing) -> None:
        """`work(catalog_path, source, plan, progress=, should_stop=, events=)` as the library's job."""
        if not self._check_ready():
            return
        catalog_path, source, plan = self.session.catalog.path, self.data_source(), self.plan()
        self._last_action = action
        self._arch = plan.arch

        def job(progress, should_stop, emit_partial):
            return work(catalog_path, source, plan, progress=progress, should_stop=should_stop, events=emit_partial)

        if self.session.start_job(kind, name, job, finished, self._event):
            self._set_running(True)
            self.status.setText(preparing(plan))

    def _event(self, event: object) -> None:
        from lakeview.core.training.from_library import DataReady, WeightsProgress
        from lakeview.core.training.phases import EpochReport, PhaseSummary

        if isinstance(event, PhaseSummary):
            self.phase_notes.append(event.describe())
            self.status.setText(event.describe())
        elif isinstance(event, DataReady):
            self.show_counts(event.classes, event.counts, event.skipped)
            self.validation_photos = sum(n for label, n in event.counts.get("valid", {}).items()
                                         if label in event.classes)
            self.session.classes_imported()  # a labelled folder's classes have just joined the library
            self.groups_kept = event.groups_kept
            if event.groups_kept:
                self.summary.setText(f"{self.summary.text()}\n{event.groups_kept.capitalize()}.")
                self.status.setText(f"{event.groups_kept.capitalize()}.")
        elif isinstance(event, WeightsProgress):
            self._show_download(event.done, event.total)
        elif isinstance(event, EpochReport):
            self._close_download()
            self.curves.add_epoch(event.stats)
            stats = event.stats
            error = "" if stats.error_rate is None else f" · {error_text(stats.error_rate, self.validation_photos)}"
            self.status.setText(f"Epoch {event.done} of {event.total} ({stats.phase}) · {stats.seconds:.1f} s per "
                                f"epoch{error} · about {describe_seconds(event.eta_seconds)} left")

    def _show_download(self, done: int, total: int) -> None:
        if self.download_dialog is None:
            self.download_dialog = QProgressDialog(f"Downloading the ImageNet weights for {self._arch}…",
                                                   "Cancel", 0, max(total, 1), self)
            self.download_dialog.setWindowTitle("Pretrained weights")
            self.download_dialog.setMinimumDuration(0)
            self.download_dialog.canceled.connect(self.session.cancel_job)
        dialog = self.download_dialog
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, dialog.maximum()))
        dialog.setLabelText(f"Downloading the ImageNet weights for {self._arch}: "
                            f"{done / 1e6:.1f} of {total / 1e6:.1f} MB (once; they are kept for later)")
        if done >= total > 0:
            self._close_download()

    def _close_download(self) -> None:
        if self.download_dialog is not None:
            self.download_dialog.canceled.disconnect(self.session.cancel_job)
            self.download_dialog.close()
            self.download_dialog.deleteLater()
            self.download_dialog = None

    def _training_finished(self, result) -> str:
        from lakeview.core.training.from_library import NeedsWeights

        self._close_download()
        if isinstance(result, NeedsWeights):
            return self._needs_weights(result)
        if result is None:
            return "stopped; nothing saved"
        error = ("" if result.error_rate is None
                 else f", {error_text(result.error_rate, len(result.interpretation.paths), 'validation')}")
        unreadable = (f" {len(result.unreadable)} photo(s) could not be read and were left out, e.g. "
                      f"{Path(next(iter(result.unreadable))).name}: {next(iter(result.unreadable.values()))}."
                      if result.unreadable else "")
        phases = "".join(f" {note}." for note in self.phase_notes)
        self.status.setText(f"Trained in {describe_seconds(result.seconds)}{error}.{phases} The new model is now "
                            f"active: classify your folders with it (Ctrl+R).{unreadable}")
        self.status.setToolTip("\n".join(f"{Path(p).name}: {r}" for p, r in list(result.unreadable.items())[:50]))
        self.session.model_trained()
        self.trained.emit(result)
        return f"new model {result.version_id[:8]}{error}"

    def _needs_weights(self, result) -> str:
        self.status.setText("The pretrained weights are not available: choose a weights file or start from scratch.")
        self.ask_offline(result.message)
        return "the pretrained weights are not available"

    def _lr_found(self, result) -> str:
        from lakeview.core.training.from_library import NeedsWeights

        self._close_download()
        if isinstance(result, NeedsWeights):
            return self._needs_weights(result)
        if result is None:
            return "stopped"
        self.lr_plot.show_result(result.lrs, result.losses, result.suggestion)
        if result.suggestion is None:
            self.status.setText("The sweep was too short to suggest a rate: label more photos, then try again.")
            return "no suggestion"
        suggestion = float(f"{result.suggestion:.1g}")
        self.lr.setValue(suggestion)
        self.status.setText(f"Suggested learning rate {result.suggestion:.1e}: set to {suggestion:g}. Pick a point "
                            "where the loss falls steeply, well before its minimum.")
        return f"suggested learning rate {result.suggestion:.1e}"

    def _job_ended(self, end: JobEnd) -> None:
        if self._running and end.kind in (JobKind.TRAINING, JobKind.FIND_LR):
            self._set_running(False)
            self._close_download()
            if end.ending is Ending.CANCELLED:
                self.status.setText("Stopped; nothing was saved and the active model is unchanged.")
            elif end.ending is Ending.FAILED:
                self.status.setText(end.message)

    # --- offline weights ----------------------------------------------------------------------------------
    def ask_offline(self, message: str) -> None:
        """Non-blocking: the user chooses a weights file, starts from scratch, or leaves it."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Starting weights unavailable",
                          f"LakeView could not get the ImageNet starting weights for {self.arch.currentText()}.",
                          QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("If this computer is offline, connect it and press Train again. Or choose a copy of "
                               "the weights file you already have (for example from another computer), or start "
                               f"from scratch: that works, but needs far more photos.\n\n({message})")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.choose_file_button = box.addButton("Choose a weights file…", QMessageBox.ButtonRole.AcceptRole)
        self.scratch_button = box.addButton("Start from scratch", QMessageBox.ButtonRole.DestructiveRole)
        box.buttonClicked.connect(self._offline_answer)
        box.finished.connect(box.deleteLater)
        self.offline_box = box
        box.open()

    def _offline_answer(self, button) -> None:
        self.offline_box = None
        if button is self.choose_file_button:
            path = self.ask_weights_file(self)
            if path is None:
                return
            self.use_weights_file(path)
        elif button is self.scratch_button:
            self.weights.setCurrentText(NO_WEIGHTS)
        else:
            return
        QTimer.singleShot(0, self._last_action)
