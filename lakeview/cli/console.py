"""Terminal plumbing shared by the commands: progress bars, Ctrl+C as a stop request, exit codes."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

EXIT_OK = 0
EXIT_SKIPPED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


class StopFlag:
    """Set by the first Ctrl+C; the job stops at its next check (within one batch). A second Ctrl+C aborts."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def __call__(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()


@contextmanager
def ctrl_c_stops() -> Iterator[StopFlag]:
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def on_sigint(signum, frame):
        if flag():
            raise KeyboardInterrupt
        flag.set()
        print("\nStopping after the current batch (Ctrl+C again to abort)...", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class Bar:
    """A tqdm bar on stderr driven by `progress(done, total)` callables; quiet when asked."""

    def __init__(self, description: str, quiet: bool = False, unit: str = "it") -> None:
        self.description, self.quiet, self.unit = description, quiet, unit
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total or None, desc=self.description, unit=self.unit, file=sys.stderr,
                             dynamic_ncols=True, leave=False, disable=None)
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def say(*parts: object, quiet: bool = False) -> None:
    if not quiet:
        print(*parts, file=sys.stderr, flush=True)


def list_skipped(items: list[tuple[str, str]], limit: int = 50) -> None:
    """Print skipped files with their reasons on stderr (all of them up to `limit`)."""
    if not items:
        return
    print(f"{len(items)} file(s) skipped:", file=sys.stderr)
    for where, reason in items[:limit]:
        print(f"  {where}: {reason}", file=sys.stderr)
    if len(items) > limit:
        print(f"  ... and {len(items) - limit} more", file=sys.stderr)
