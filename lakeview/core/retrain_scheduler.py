"""When to retrain: after enough corrections, after a quiet spell, or on demand; one run at a time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from lakeview.core.jobs import ShouldStopFn

RunJob = Callable[[str, ShouldStopFn], object]
"""Runs one retraining of the given kind ('quick' or 'full'), checking the stop callable; returns its outcome."""


@dataclass
class SchedulerPolicy:
    after_corrections: int = 10
    idle_seconds: float = 30.0


class RetrainScheduler:
    """Decides when retraining runs and runs it on a background thread, never two at once.

    Corrections that arrive during a run are kept and start another run when it ends. `cancel()` stops the
    current run; the job is expected to leave the active model as it was.
    """

    def __init__(self, run_job: RunJob, policy: SchedulerPolicy | None = None,
                 on_finished: Callable[[object], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._run_job = run_job
        self.policy = policy or SchedulerPolicy()
        self._on_finished = on_finished
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = 0
        self._last_correction = 0.0
        self._requested: str | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.outcomes: list[object] = []

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def pending_corrections(self) -> int:
        return self._pending

    def note_corrections(self, count: int = 1) -> None:
        with self._lock:
            self._pending += count
            self._last_correction = self._clock()
        self.poll()

    def request(self, kind: str = "quick") -> None:
        """Retrain now (or as soon as the current run ends)."""
        with self._lock:
            self._requested = "full" if "full" in (kind, self._requested) else "quick"
        self.poll()

    def poll(self) -> bool:
        """Start a run if one is due; call it from a timer to honour the idle delay. True if one started."""
        with self._lock:
            if self.running:
                return False
            kind = self._due()
            if kind is None:
                return False
            self._pending = 0
            self._requested = None
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(kind,), name="lakeview-retrain", daemon=True)
            self._thread.start()
            return True

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no run is going (for the CLI and tests); False on timeout."""
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return True
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            thread.join(remaining)
            if thread.is_alive() and deadline is not None and self._clock() >= deadline:
                return False

    def _due(self) -> str | None:
        if self._requested:
            return self._requested
        if self._pending >= self.policy.after_corrections:
            return "quick"
        if self._pending and self._clock() - self._last_correction >= self.policy.idle_seconds:
            return "quick"
        return None

    def _run(self, kind: str) -> None:
        try:
            outcome = self._run_job(kind, self._stop.is_set)
        except Exception as exc:  # reported to the owner; the scheduler itself must survive a failed run
            outcome = exc
        self.outcomes.append(outcome)
        if self._on_finished is not None:
            self._on_finished(outcome)
        with self._lock:
            follow_up = self._pending > 0 and not self._stop.is_set()
            if follow_up:
                self._requested = self._requested or "quick"
            self._thread = None
        if follow_up:
            self.poll()
