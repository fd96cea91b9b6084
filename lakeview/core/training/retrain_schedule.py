"""When to retrain: after enough corrections, after a quiet spell, or on demand; one run at a time.

The scheduler only decides. A launcher runs the retrain of the kind it names and reports the run's end to
the `done` callable it is given. `thread_launcher` runs it on a plain thread (headless use and the tests); the desktop
app's session runs it as its library job, with progress in the status bar.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from lakeview.core.jobs import ShouldStopFn

Done = Callable[[object], None]
"""Told a run's outcome when it ends (whatever the launcher's job returns; None if it failed or was stopped)."""
Launcher = Callable[[str, Done], "Callable[[], None] | None"]
"""launcher(kind, done): start a retrain of `kind` ('quick' or 'full'), call `done(outcome)` when it ends, and
return a function that cancels it; None when it cannot start now (the scheduler tries again at the next poll)."""


@dataclass
class SchedulerPolicy:
    after_corrections: int = 10
    idle_seconds: float = 30.0


def thread_launcher(run: Callable[[str, ShouldStopFn], object]) -> Launcher:
    """A launcher that calls `run(kind, should_stop)` on a thread of its own. A run that raises is reported as
    the exception: the scheduler must survive a failed run."""

    def launch(kind: str, done: Done) -> Callable[[], None]:
        stop = threading.Event()

        def work() -> None:
            try:
                outcome = run(kind, stop.is_set)
            except Exception as exc:  # reported to the owner through done(), never a silent thread death
                outcome = exc
            done(outcome)

        threading.Thread(target=work, name=f"lakeview-retrain-{kind}", daemon=True).start()
        return stop.set

    return launch


class RetrainScheduler:
    """Corrections that arrive during a run are kept and start another run when it ends. `cancel()` stops the
    current run; the job is expected to leave the active model as it was."""

    def __init__(self, launcher: Launcher, policy: SchedulerPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or SchedulerPolicy()
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

    def seconds_to_next_run(self) -> float | None:
        """How long until the corrections waiting start a run on their own (0: at the next poll); None when
        none wait, or when a run is going (they then start the next one as it ends)."""
        with self._lock:
            if not self._pending or self.running:
                return None
            if self._requested or self._pending >= self.policy.after_corrections:
                return 0.0
            return max(0.0, self.policy.idle_seconds - (self._clock() - self._last_correction))

    def pending_text(self, busy: bool = False) -> str:
        """The run that waiting corrections lead to, for the status bar ("retrain in 25 s: 3 corrections"); ""
        when none waits. `busy`: another job holds the library, so a due run waits for it."""
        seconds, waiting = self.seconds_to_next_run(), self._pending
        if not waiting:
            return ""
        if seconds is None:
            when = "after this one"
        else:
            when = f"in {seconds:.0f} s" if seconds >= 1 else ("after the running job" if busy else "now")
        return f"retrain {when}: {waiting} correction{'s' if waiting != 1 else ''}"

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
        cancel = self._launcher(kind, self._finished)
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
        with self._lock:
            self._cancel = None
            if self._cancelled:
                self._cancelled, self._pending, self._requested = False, 0, None
            elif self._pending and not self._requested:
                self._requested = "quick"
            if not self._start_due_run():
                self._idle.set()
