"""The contract between long-running core functions and whoever runs them (CLI, GUI worker, tests)."""

from __future__ import annotations

import signal
from typing import Callable

ProgressFn = Callable[[int, int], None]
ShouldStopFn = Callable[[], bool]

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""Ctrl+C, a polite kill (SIGTERM: logout, systemd, `kill`) and a closed terminal (SIGHUP) all mean "stop"."""


def no_progress(done: int, total: int) -> None:
    pass


def never_stop() -> bool:
    return False


class Stopped(Exception):
    """Raised inside a job when its `should_stop` callable asked it to end early."""
