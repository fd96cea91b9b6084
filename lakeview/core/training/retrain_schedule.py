"""When to retrain: after enough corrections, after a quiet spell, or on demand; one run at a time.

The scheduler decides; a launcher runs the work. The default launcher uses a plain thread (the CLI, tests);
the desktop app passes one that runs it in its usual Qt worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from lakeview.core.jobs import ShouldStopFn

RunJob = Callable[[str, ShouldStopFn], object]
"""Runs one retraining of the given kind ('quick' or 'full'), checking the stop callable; returns its outcome."""
Work = Callable[[ShouldStopFn], object]
Launcher = Callable[[str, Work, Callable[[object], None]], "Callable[[], None] | None"]
"""launcher(kind, work, done): start `work(should_stop)` somewhere, call `done(outcome)` when it ends, and return
a function that cancels it; None when it cannot start now (the scheduler tries again at the next poll)."""


@dataclass
class SchedulerPolicy:
    after_corrections: int = 10
    idle_seconds: float = 30.0


def thread_launcher(kind: str, work: Work, done: Callable[[object], None]) -> Callable[[], None]:
    stop = threading.Event()

    def run() -> None:
        try:
            outcome = work(stop.is_set)
        except Exception as exc:  # reported to the owner; the scheduler must survive a failed run
            outcome = exc
        done(outcome)

    threading.Thread(target=run, name=f"lakeview-retrain-{kind}", daemon=True).start()
    return stop.set


class RetrainScheduler:
    """Corrections that arrive during a run are kept and start another run when it ends. `cancel()` stops the
    current run; the job is expected to leave the active model as it was."""

    def __init__(self, run_job: RunJob, policy: SchedulerPolicy | None = None,
                 on_finished: Callable[[object], None] | None = None, clock: Callable[[], float] = time.monotonic,
                 launcher: Launcher = thread_launcher) -> None:
        self._run_job = run_job
        self.policy = policy or SchedulerPolicy()
        self._on_finished = on_finished
        self._clock = clock
        self._launcher = launcher
        self._lock = threading.RLock()
        self._pending = 0
        self._last_correction = 0.0
        self._requested: str | None = None
        self._cancel: Callable[[], None] | None = None
        self._cancelled = False
        self._idle = threading.Event()
        self._idle.set()
        self.outcomes: list[object] = []

    @property
    def running(self) -> bool:
        return not self._idle.is_set()

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
            self._idle.clear()
            if not self._start_due_run():
                self._idle.set()
                return False
            return True

    def _start_due_run(self) -> bool:
        kind = self._due()
        if kind is None:
            return False
        cancel = self._launcher(kind, lambda stop: self._run_job(kind, stop), self._finished)
        if cancel is None:
            return False
        self._cancel = cancel
        self._pending = 0
        self._requested = None
        return True

    def cancel(self) -> None:
        """Stop the current run; corrections so far wait for the next one, or for `request()`."""
        with self._lock:
            if self._cancel is not None:
                self._cancel()
                self._cancelled = True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no run is going (for the CLI and tests); False on timeout."""
        return self._idle.wait(timeout)

    def _due(self) -> str | None:
        if self._requested:
            return self._requested
        if self._pending >= self.policy.after_corrections:
            return "quick"
        if self._pending and self._clock() - self._last_correction >= self.policy.idle_seconds:
            return "quick"
        return None

    def _finished(self, outcome: object) -> None:
        self.outcomes.append(outcome)
        if self._on_finished is not None:
            self._on_finished(outcome)
        with self._lock:
            self._cancel = None
            if self._cancelled:
                self._cancelled, self._pending, self._requested = False, 0, None
            elif self._pending and not self._requested:
                self._requested = "quick"
            if not self._start_due_run():
                self._idle.set()
