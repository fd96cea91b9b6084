"""The contract between long-running core functions and whoever runs them (CLI, GUI worker, tests)."""

from __future__ import annotations

from typing import Callable

ProgressFn = Callable[[int, int], None]
ShouldStopFn = Callable[[], bool]


def no_progress(done: int, total: int) -> None:
    pass


def never_stop() -> bool:
    return False


class Stopped(Exception):
    """Raised inside a job when its `should_stop` callable asked it to end early."""
