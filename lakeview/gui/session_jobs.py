"""The session's one running job: a Worker on its QThread, its kind and name, and how it ends (a typed JobEnd).

A mixin of LibrarySession: the signals it sends are the session's own (job_started, job_progress, job_units,
job_stopping, job_ended), declared there."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QThread

from lakeview.gui.worker import Ending, JobEnd, JobKind, Worker, start_worker

PROGRESS_UNITS = {JobKind.OPEN_FOLDER: "photos", JobKind.CLASSIFY: "photos", JobKind.MEASURE: "photos",
                  JobKind.PREDICT_FOLDER: "photos", JobKind.TRAINING: "batches", JobKind.GROUP_PHOTOS: "photos",
                  JobKind.SIMILAR_INDEX: "photos"}
"""What each job's progress counts, for the status bar (a retrain names it per step)."""


class SessionJobs:
    _job: tuple[QThread, Worker] | None = None
    _job_name = ""
    _job_kind: JobKind | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def job_kind(self) -> JobKind | None:
        """The kind of the running job; None when none runs."""
        return self._job_kind if self._job is not None else None

    def cancel_job(self) -> None:
        """Ask the running job to stop; the status bar says so at once (it ends within a stage of its batch)."""
        if self._job is not None:
            self._job[1].cancel()
            self.job_stopping.emit()

    def wait_for_job(self, milliseconds: int = 30_000) -> bool:
        return self._job is None or self._job[0].wait(milliseconds)

    def start_job(self, kind: JobKind, name: str, job, on_finished: Callable[[object], str | None],
                  on_partial: Callable | None = None, on_failed: Callable | None = None,
                  on_cancelled: Callable | None = None, needs_torch: bool = True) -> bool:
        """Run `job(progress, should_stop, emit_partial)` as this library's one job (its progress and Cancel are
        in the status bar). `on_finished(result)` may return a message for the status bar. Whichever way it ends,
        `job_ended` says how (a JobEnd). False when another job is running (the user is told)."""
        if self._job is not None:
            self.tell(name, f"wait for '{self._job_name}' to finish, or cancel it")
            return False

        def failed(message: str) -> None:
            self._forget()
            self.job_ended.emit(JobEnd(kind, name, Ending.FAILED, message))
            if on_failed is not None:
                on_failed(message)

        def cancelled() -> None:
            self._forget()
            self.job_ended.emit(JobEnd(kind, name, Ending.CANCELLED, "cancelled"))
            if on_cancelled is not None:
                on_cancelled()

        def finished(result) -> None:
            self._forget()
            message = ""
            try:
                message = on_finished(result) or ""
            finally:  # the job has ended whatever its handler did: the window must stop showing it as running
                self.job_ended.emit(JobEnd(kind, name, Ending.DONE, message))

        self._job_kind, self._job_name = kind, name
        self._job = start_worker(self, job, name, on_progress=self.job_progress.emit, on_partial=on_partial,
                                 on_finished=finished, on_failed=failed, on_cancelled=cancelled,
                                 needs_torch=needs_torch)
        self.job_started.emit(name)
        self.job_units.emit(PROGRESS_UNITS.get(kind, ""))
        return True

    def _forget(self) -> None:
        if self._job is not None:
            self._job[0].wait()
        self._job = None
