"""Terminal plumbing shared by the commands: progress bars, Ctrl+C (and SIGTERM, SIGHUP) as a stop request,
exit codes."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from lakeview.core.jobs import STOP_SIGNALS

EXIT_OK = 0
EXIT_SKIPPED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


class StopFlag:
    """Set by the first stop signal; the job stops at its next check (within one batch). A second one aborts."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def __call__(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()


@contextmanager
def ctrl_c_stops() -> Iterator[StopFlag]:
    """While the block runs, Ctrl+C, SIGTERM and SIGHUP set the flag that the job checks every batch; a second
    one raises KeyboardInterrupt (so files being written are cleaned up and main() exits 130)."""
    flag = StopFlag()

    def on_signal(signum, frame):
        if flag():
            raise KeyboardInterrupt
        flag.set()
        again = "Ctrl+C again" if signum == signal.SIGINT else f"{signal.Signals(signum).name} again"
        _write_stderr(f"\nStopping after the current batch ({again} to abort)...\n")

    with _handlers(on_signal):
        yield flag


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise KeyboardInterrupt as Ctrl+C does, instead of killing the
    process on the spot: files being written are cleaned up and the command exits 130. ctrl_c_stops() inside
    turns all three into a stop request instead."""

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    with _handlers(on_signal, [s for s in STOP_SIGNALS if s != signal.SIGINT]):
        yield


@contextmanager
def _handlers(handler, signals=STOP_SIGNALS) -> Iterator[None]:
    """Install `handler` for `signals`, except those ignored (nohup, a background job), and put the old ones back.
    Only the main thread can; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    try:
        for signum in signals:
            if signal.getsignal(signum) != signal.SIG_IGN:
                previous[signum] = signal.signal(signum, handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _write_stderr(text: str) -> None:
    """From a signal handler: straight to the file descriptor, since the handler may run in the middle of a
    progress bar's write to sys.stderr (a reentrant buffered write raises RuntimeError)."""
    try:
        os.write(sys.stderr.fileno(), text.encode(errors="replace"))
    except (OSError, ValueError, AttributeError):
        pass


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """A failure to write `path` (disk full, permissions, a folder gone) as one sentence (UserError, exit 2)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename).absolute().parent != path.absolute().parent:
            raise  # about another file; its own handler reports it
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


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
