"""What the window shows and changes: one library's catalog, the folder on screen, the active model, the jobs.

Labels are written on the GUI thread (one small committed transaction per keystroke) unless a change touches
many photos, which is written in a worker (CatalogWrites keeps the user's order); long work (adding a folder,
classifying, retraining) runs in workers that open their own catalog connection. What the grid shows is a list of
catalog ids, queried in a worker once the library is large (`load_rows`, then `rows_ready`); the grid reads the
rows it paints a page at a time (`rows_of_ids`). The session is the only voice of its signals: panels that change
the library call its methods, and it tells the window.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from lakeview.core.catalog import Catalog
from lakeview.core.training.retrain_schedule import Done, RetrainScheduler, SchedulerPolicy
from lakeview.gui.catalog_writes import LARGE_WRITE, CatalogWrites
from lakeview.gui.place_hints import BY_PLACE, PlaceHints
from lakeview.gui.session_jobs import SessionJobs
from lakeview.gui.session_labels import SessionLabels
from lakeview.gui.session_rows import SessionRows
from lakeview.gui.session_similar import SessionSimilar
from lakeview.gui.worker import JobKind

if TYPE_CHECKING:
    from lakeview.core.training.retrain import RetrainOutcome, RetrainStep

POLL_MS = 5_000
RETRAIN_JOBS = {"quick": (JobKind.RETRAIN, "Retrain"), "full": (JobKind.FULL_RETRAIN, "Full retrain")}
"""The job's kind and name (as the status bar shows it) for each kind of retrain."""
STREAMED_BATCHES = 8
"""Classify stores (and shows) predictions in this many batches or more: a small library streams in too."""
FIRST_SCREEN_S = 2.0
"""Opening a folder records its photos once the grid has its first rows, or after this long."""
OPENING_REFRESH_S = 2.0
"""While a folder is being added, the grid shows the photos recorded so far this often."""


class LibrarySession(SessionRows, SessionLabels, SessionJobs, SessionSimilar, QObject):
    rows_changed = Signal()
    """What the grid shows changed (a folder, a filter, photos added): `load_rows` queries it again."""
    rows_ready = Signal(object)
    """A ShownRows: the ids the grid shows now."""
    photos_changed = Signal(object)
    """The catalog rows of these photo ids changed (None: any of them): the grid reads them again when shown."""
    labels_changed = Signal(object)
    """{path: (label, source)} for the photos whose label changed."""
    predictions_changed = Signal(object)
    """{path: (predicted, confidence)}."""
    classes_changed = Signal()
    model_changed = Signal()
    job_started = Signal(str)
    job_step = Signal(str)
    """What the running job is doing now (a named step of a long job, e.g. "body features"); counts follow."""
    job_progress = Signal(int, int)
    job_units = Signal(str)
    """What the running job's (or step's) counts count: "photos", "batches", or "" when they are plain numbers."""
    retrain_pending = Signal(str)
    """The background retrain that corrections wait for ("retrain in 25 s: 3 corrections"); "" when none waits."""
    job_stopping = Signal()
    """The user asked the running job to stop; it ends soon (job_ended follows)."""
    job_ended = Signal(object)
    """A JobEnd: which job, whether it finished, failed or was cancelled, and what to say about it."""
    said = Signal(str)
    """What a user action did, in a sentence for the status bar ("2 accepted, 1 already labelled")."""
    notice = Signal(str, str)
    """(what was asked, why it did not start): a job refused or not needed; nothing ran, nothing ended."""

    def __init__(self, catalog_path: Path | str | None = None, parent: QObject | None = None,
                 policy: SchedulerPolicy | None = None) -> None:
        super().__init__(parent)
        self.catalog = Catalog(catalog_path)
        self.folder: Path | None = None
        self.filters: dict = {}
        self.place_order = False
        """The grid's photos ordered by how much pixels and place disagree, most first (a filter's choice)."""
        self.only: tuple[str, list[Path]] | None = None
        """(what they are, paths) while the grid shows chosen photos (a confusion-matrix cell) instead of the folder."""
        self._closed = False
        self.folder_total = 0
        """The open folder's photos, whatever the filter, as of the last `load_rows`."""
        self._rows_asked = self._rows_answered = 0
        self.writes = CatalogWrites(self, self.catalog)
        self.scheduler = RetrainScheduler(self._launch_retrain, policy)
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._poll_scheduler)
        self._poll.start(POLL_MS)
        for change in (self.labels_changed, self.job_started):
            change.connect(lambda _: QTimer.singleShot(0, self, self._tell_pending_retrain))
        self.places = PlaceHints(self)

    # --- what is on screen --------------------------------------------------------------------------------
    def show_only(self, description: str, paths: list[Path]) -> None:
        """Exactly these photos, unfiltered (a filter could hide all of them under a count that says otherwise)."""
        self.only = (description, list(paths))
        self.filters = {}
        self.place_order = False
        self.rows_changed.emit()

    def show_folder(self) -> None:
        self.only = None
        self.rows_changed.emit()

    def shows(self, path: Path) -> bool:
        """Whether `path` belongs to what the user is working on (the open folder, or photos chosen from the Results
        tab), whatever the filter hides."""
        if self.only is not None and Path(path) in self.only[1]:
            return True
        return self.folder is not None and Path(path).is_relative_to(self.folder)

    def refresh_rows(self) -> None:
        """The rows again, as the filters now pick them (a photo an undo put back in the review queue)."""
        self.rows_changed.emit()

    def set_filters(self, **filters) -> None:
        self.place_order = bool(filters.pop(BY_PLACE, False))
        self.filters = {k: v for k, v in filters.items() if v not in (None, False, "")}
        self.rows_changed.emit()

    def class_names(self) -> list[str]:
        return self.catalog.class_names()

    def class_colours(self) -> dict[str, str]:
        return self.catalog.class_colours()

    # --- classes ------------------------------------------------------------------------------------------
    def add_class(self, name: str) -> None:
        self.catalog.add_class(name)
        self.classes_changed.emit()

    def rename_class(self, old: str, new: str) -> None:
        """The labels and predictions follow (they refer to the class, not its name); with many predictions to
        follow, the rename is written in a worker. Raises CatalogError for a name that cannot be."""
        self.catalog.check_class_rename(old, new)

        def renamed(_) -> None:
            self.classes_changed.emit()
            self.photos_changed.emit(None)
            self.rows_changed.emit()

        predictions = self.catalog.prediction_count()
        self.writes.run(lambda catalog: catalog.rename_class(old, new), renamed,
                        lambda message: self.said.emit(f"Renaming '{old}' failed: {message}"),
                        large=predictions >= LARGE_WRITE)

    def set_class_colour(self, name: str, colour: str) -> None:
        self.catalog.set_class_colour(name, colour)
        self.classes_changed.emit()

    def remove_class(self, name: str) -> None:
        self.catalog.remove_class(name)
        self.classes_changed.emit()
        self.rows_changed.emit()

    # --- what happened elsewhere ----------------------------------------------------------------------------
    def tell(self, what: str, why: str) -> None:
        """`what` was asked for but did not start, and why (the status bar says so)."""
        self.notice.emit(what, why)

    def photos_moved(self) -> None:
        """Photos of the library moved on disk (placed into class folders, or put back): the rows are re-read."""
        self.rows_changed.emit()

    def classes_imported(self) -> None:
        """Classes joined the catalog from outside the session (a labelled folder's, as training reads it)."""
        self.classes_changed.emit()

    def model_trained(self) -> None:
        """A new active model, whose predictions are in the catalog."""
        self.model_changed.emit()
        self.rows_changed.emit()

    # --- jobs (the one running job itself: SessionJobs) ----------------------------------------------------
    def open_folder(self, folder: Path) -> None:
        """Show what the catalog has of the folder at once, and record its photos (a worker): new and changed
        photos appear as they are recorded. The recording waits for the first screen's rows (at most
        FIRST_SCREEN_S): walking 100,000 files would otherwise compete with them for the CPU."""
        folder = Path(folder).absolute()
        catalog_path = self.catalog.path
        first_rows = threading.Event()

        def rows_in(_) -> None:
            first_rows.set()
            self.rows_ready.disconnect(rows_in)

        def job(progress, should_stop, emit_partial):
            first_rows.wait(FIRST_SCREEN_S)
            next_look = [time.monotonic() + OPENING_REFRESH_S]

            def recording(done: int, total: int) -> None:
                progress(done, total)
                if time.monotonic() >= next_look[0]:
                    next_look[0] = time.monotonic() + OPENING_REFRESH_S
                    emit_partial(done)

            with Catalog(catalog_path) as catalog:
                return catalog.add_folder(folder, recursive=True, progress=recording, should_stop=should_stop)

        def shown(report) -> str:
            self.rows_changed.emit()
            failures = len(report.failed) if report is not None else 0
            return f"{failures} file(s) could not be read" if failures else ""

        if self.start_job(JobKind.OPEN_FOLDER, "Opening folder", job, shown,
                          on_partial=lambda _: self.rows_changed.emit(), on_cancelled=self.rows_changed.emit,
                          on_failed=lambda _: self.rows_changed.emit(), needs_torch=False):
            self.folder = folder
            self.only = None
            self.rows_ready.connect(rows_in)
            self.rows_changed.emit()

    def classify(self, paths: list[Path] | None = None, everything: bool = False) -> None:
        """Predict the photos on screen (or `paths`) with the active model; predictions stream into the grid.
        Photos the model has classified as they are now are left alone unless `everything`. Which photos, and
        how many of the folder are left out, is worked out in the job (one SQL query each), not here."""
        active = self.catalog.active_model()
        if active is None:
            self.notice.emit("Classify", "no model yet: open a model file or train one first")
            return
        catalog_path, folder, filters = self.catalog.path, self.folder, dict(self.filters)
        chosen = list(paths) if paths else self.only[1] if self.only is not None else None  # a menu passes False
        if chosen is None and folder is None:
            self.notice.emit("Classify", "no folder open: open one first (Ctrl+O)")
            return
        where = {"paths": chosen, "filters": filters} if chosen is not None else {"folder": folder, "filters": filters}
        shown = None if paths else f"the grid shows {self.only[0]}" if self.only is not None else (
            "a filter is on" if filters else None)
        name = "Classify all again" if everything else "Classify"
        if shown is not None:
            name += " only the photos shown"

        def job(progress, should_stop, emit_partial):
            from lakeview.core.models.classify_library import PREDICTION_BATCH, classify_library, plan_library

            with Catalog(catalog_path) as catalog:
                plan = plan_library(catalog, **where, version=active.id, everything=everything)
                left_out = len(catalog.query_ids(folder=folder)) - plan.total if shown and folder else 0
                emit_partial(plan)
                progress(0, plan.to_classify)  # a count from the start: "0 of 60 photos", not a busy stripe
                batch_size = max(1, min(PREDICTION_BATCH, -(-plan.to_classify // STREAMED_BATCHES)))
                summary = classify_library(catalog, plan=plan, progress=progress, should_stop=should_stop,
                                           on_batch=emit_partial, batch_size=batch_size)
                return summary, left_out

        def arrived(partial) -> None:
            if isinstance(partial, list):
                self.predictions_changed.emit({path: (top[0][0], top[0][1]) for path, top in partial})
            else:
                self.job_step.emit(partial.describe())

        def ended(result) -> str:
            summary, left_out = result
            problems = []
            if summary.unreadable:
                problems.append(f"{len(summary.unreadable)} photo(s) unreadable")
            if summary.missing:
                problems.append(f"{len(summary.missing)} missing on disk")
            if summary.plan.skipped:
                problems.append(f"{summary.plan.describe_skipped()} (Classify All Again to redo them)")
            if left_out > 0:
                problems.append(f"the folder's other {left_out} photo{'s' if left_out != 1 else ''} were not "
                                f"classified ({shown}; show the whole folder, then Ctrl+R, to classify them)")
            return ", ".join(problems)

        self.start_job(JobKind.CLASSIFY, name, job, ended, arrived)

    def why_no_photos(self) -> str:
        """What the grid says while it shows no photo: why, and what to do."""
        if self.only is not None:
            return "None of the chosen photos is in the library any more"
        if self.folder is None:
            return "Open a folder (Ctrl+O)"
        return "No photo matches this filter" if self.folder_photo_count() else "This folder has no photos"

    def folder_photo_count(self) -> int:
        """The photos of the open folder, whatever the filter shows (0 with no folder open), as of the grid's last
        query."""
        return self.folder_total if self.folder is not None else 0

    def use_model_file(self, path: Path) -> None:
        """Make a trained .lvmodel the active model of this library (its classes join the catalog's)."""
        from lakeview.core.torch_import import import_torch

        import_torch()  # on the GUI thread, while the start-up job may still be importing torch in its worker
        from lakeview.core.models.versions import adopt_model_file

        adopt_model_file(self.catalog, path)
        self.classes_changed.emit()
        self.model_changed.emit()

    def retrain(self, kind: str = "quick") -> None:
        """On demand: now, or as soon as the running job ends."""
        self.scheduler.request(kind)

    def _launch_retrain(self, kind: str, done: Done) -> Callable[[], None] | None:
        """The scheduler's launcher: the retrain as this library's job, its steps and counts in the status bar;
        None while another job runs."""
        if self._job is not None or self._closed:
            return None
        catalog_path = self.catalog.path

        def job(progress, should_stop, emit_partial):
            from lakeview.core.training.retrain import retrain

            return retrain(catalog_path, kind, progress=progress, should_stop=should_stop, on_step=emit_partial)

        def ended(outcome: RetrainOutcome | None) -> str:
            return self._retrain_ended(outcome, done)

        def cancelled() -> None:
            self.scheduler.cancel()  # stopped by the user: the corrections it was for start no follow-up run
            ended(None)

        self.start_job(*RETRAIN_JOBS[kind], job, ended, on_partial=self._retrain_step,
                       on_failed=lambda message: ended(None), on_cancelled=cancelled)
        return self.cancel_job

    def _retrain_step(self, step: RetrainStep) -> None:
        self.job_step.emit(step.value)
        self.job_units.emit(step.counts)

    def _poll_scheduler(self) -> None:
        self.scheduler.poll()
        self._tell_pending_retrain()

    def _tell_pending_retrain(self) -> None:
        self.retrain_pending.emit("" if self._closed else self.scheduler.pending_text(busy=self._job is not None))

    def keep_predictions(self, version_id: str, predictions: list[tuple[Path, list[tuple[str, float]]]]) -> None:
        """Store the active model's predictions made while measuring it: its held-out photos show them too."""
        active = self.catalog.active_model()
        if active is None or active.id != version_id or not predictions:
            return
        self.catalog.store_predictions(version_id, predictions)
        self.predictions_changed.emit({path: (top[0][0], top[0][1]) for path, top in predictions})

    def _retrain_ended(self, outcome: RetrainOutcome | None, done: Done) -> str:
        """Where every retrain ends: with its outcome, or None when it failed or was cancelled (the status bar has
        said so). The scheduler hears of it once the window has seen this job end, as it may start the next."""
        QTimer.singleShot(0, self, lambda: (done(outcome), self._tell_pending_retrain()))
        if outcome is None:
            return ""
        from lakeview.core.training.retrain import RetrainResult

        if outcome.result is RetrainResult.PROMOTED:
            self.model_trained()
        elif outcome.result is RetrainResult.KEPT:
            self.model_changed.emit()
        return outcome.message

    def close(self) -> None:
        self._closed = True
        self._poll.stop()
        self.places.close()
        self.scheduler.cancel()  # no follow-up run for the corrections still waiting
        self.cancel_job()
        self.wait_for_job()
        self.writes.finish()  # the user's changes still queued reach the catalog before it closes
        self.catalog.close()
