"""The one worker pattern: results, failures and cancellation reach the owner's thread as callbacks."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from lakeview.core.jobs import Stopped
from lakeview.gui.worker import RUNNING_THREADS, start_worker


def _run(qtbot, job, cancel=False):
    owner, seen = QObject(), []
    done = threading.Event()
    callbacks = {name: (lambda *args, name=name: (seen.append((name, threading.current_thread(), args)), done.set()))
                 for name in ("on_finished", "on_failed", "on_cancelled")}
    _, worker = start_worker(owner, job, "test", needs_torch=False, **callbacks)  # the pattern, not torch's import
    if cancel:
        worker.cancel()
    qtbot.waitUntil(lambda: bool(seen) and not RUNNING_THREADS, timeout=20_000)
    return seen


def test_a_result_arrives_on_the_owners_thread(qtbot):
    seen = _run(qtbot, lambda progress, stop, partial: 42)
    assert [(name, thread, args) for name, thread, args in seen] == [("on_finished", threading.main_thread(), (42,))]


def test_an_exception_becomes_a_message(qtbot):
    def job(progress, stop, partial):
        raise OSError("disk on fire")

    [(name, _, (message,))] = _run(qtbot, job)
    assert name == "on_failed" and message == "test failed: OSError: disk on fire"


def test_a_job_that_stops_when_asked_is_cancelled_not_failed(qtbot):
    started = threading.Event()

    def job(progress, should_stop, partial):
        started.set()
        while not should_stop():
            pass
        raise Stopped()

    [(name, _, _)] = _run(qtbot, job, cancel=True)
    assert name == "on_cancelled"
