"""The session is the only voice of its signals; each job's end says how it ended; a background retrain shows
its steps and counts."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

import lakeview.gui
from lakeview.core.jobs import Stopped
from lakeview.core.training.retrain_schedule import SchedulerPolicy
from lakeview.gui.session import LibrarySession
from lakeview.gui.worker import Ending, JobEnd, JobKind

from photo_tools import red_and_blue_photos


@pytest.fixture
def photos(tmp_path) -> Path:
    return red_and_blue_photos(tmp_path / "banff", 6)



@pytest.fixture
def session(qtbot, tmp_path):
    session = LibrarySession(tmp_path / "library" / "catalog.sqlite")
    yield session
    session.close()


def _session_emits(source: str) -> list[str]:
    """The `<...>session.<signal>.emit(...)` calls in Python source, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit"):
            continue
        signal = node.func.value
        owner = signal.value if isinstance(signal, ast.Attribute) else None
        if (isinstance(owner, ast.Name) and owner.id == "session"
                or isinstance(owner, ast.Attribute) and owner.attr == "session"):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_session_emits_its_signals():
    probe = "def f(self, session):\n    session.rows_changed.emit()\n    self.session.notice.emit('a', 'b')\n"
    assert _session_emits(probe) == ["2: session.rows_changed.emit()", "3: self.session.notice.emit('a', 'b')"]
    gui = Path(lakeview.gui.__file__).parent
    offenders = [f"{path.relative_to(gui)}:{hit}" for path in sorted(gui.rglob("*.py")) if path.name != "session.py"
                 for hit in _session_emits(path.read_text(encoding="utf-8"))]
    assert offenders == [], "panels call session methods; the session emits"


def _end_of(qtbot, session, job, *, cancel=False, on_finished=lambda result: f"got {result}") -> JobEnd:
    with qtbot.waitSignal(session.job_ended, timeout=10_000) as ended:
        assert session.start_job(JobKind.MEASURE, "Sum", job, on_finished, needs_torch=False)
        if cancel:
            session.cancel_job()
    return ended.args[0]


def test_each_job_says_whether_it_finished_failed_or_was_cancelled(qtbot, session):
    def fails(progress, should_stop, emit_partial):
        raise OSError("disk on fire")

    started = threading.Event()

    def runs_until_stopped(progress, should_stop, emit_partial):
        started.set()
        while not should_stop():
            started.wait(0.01)
        raise Stopped()

    assert _end_of(qtbot, session, lambda p, s, e: 42) == JobEnd(JobKind.MEASURE, "Sum", Ending.DONE, "got 42")
    assert _end_of(qtbot, session, lambda p, s, e: 0, on_finished=lambda result: None) == JobEnd(JobKind.MEASURE, "Sum", Ending.DONE)
    assert _end_of(qtbot, session, fails) == JobEnd(JobKind.MEASURE, "Sum", Ending.FAILED, "Sum failed: OSError: disk on fire")
    assert _end_of(qtbot, session, runs_until_stopped, cancel=True) == JobEnd(JobKind.MEASURE, "Sum", Ending.CANCELLED, "cancelled")


def test_a_retrain_with_too_few_classes_ends_saying_why_and_changes_no_model(qtbot, session, photos):
    with qtbot.waitSignal(session.job_ended, timeout=20_000):
        session.open_folder(photos)
    session.add_class("red")
    session.assign([photos / "red_0.jpg"], "red")
    with qtbot.assertNotEmitted(session.model_changed), qtbot.waitSignal(session.job_ended, timeout=30_000) as ended:
        session.retrain("quick")
    assert ended.args == [JobEnd(JobKind.RETRAIN, "Retrain", Ending.DONE, "needs labelled photos of at least two classes")]
    qtbot.waitUntil(lambda: not session.scheduler.running, timeout=5_000)
    assert session.scheduler.outcomes[-1].message == "needs labelled photos of at least two classes"


def test_a_failed_retrain_is_told_to_the_scheduler_which_can_run_again(qtbot, session, photos, monkeypatch):
    import lakeview.core.training.retrain as retrain_module

    def broken(*args, **kwargs):
        raise OSError("the disk is full")

    monkeypatch.setattr(retrain_module, "retrain", broken)
    with qtbot.waitSignal(session.job_ended, timeout=30_000) as ended:
        session.retrain("full")
    assert ended.args == [JobEnd(JobKind.FULL_RETRAIN, "Full retrain", Ending.FAILED, "Full retrain failed: OSError: the disk is full")]
    qtbot.waitUntil(lambda: not session.scheduler.running, timeout=5_000)
    assert session.scheduler.outcomes == [None]


def test_a_retrain_the_user_cancels_starts_no_follow_up(qtbot, session, photos, tiny_model):
    with qtbot.waitSignal(session.job_ended, timeout=20_000):
        session.open_folder(photos)
    session.use_model_file(tiny_model)
    session.scheduler.policy = SchedulerPolicy(after_corrections=12)
    session.assign([photos / f"red_{i}.jpg" for i in range(6)], "red")
    session.assign([photos / f"blue_{i}.jpg" for i in range(6)], "blue")
    assert session.job_kind is JobKind.RETRAIN
    session.assign([photos / "red_0.jpg"], "blue")
    assert session.scheduler.pending_corrections == 1, "a correction during the run waits for it to end"

    with qtbot.waitSignal(session.job_ended, timeout=30_000) as ended:
        session.cancel_job()  # what the status bar's Cancel does

    assert ended.args == [JobEnd(JobKind.RETRAIN, "Retrain", Ending.CANCELLED, "cancelled")]
    qtbot.waitUntil(lambda: not session.scheduler.running, timeout=5_000)
    assert not session.busy and session.scheduler.pending_corrections == 0
    assert len(session.catalog.models()) == 1


def test_a_background_retrain_shows_its_steps_and_counts_in_the_status_bar(qtbot, window, photos, tiny_model):
    session = window.session
    with qtbot.waitSignal(session.job_ended, timeout=20_000):
        window.open_folder(photos)
    session.use_model_file(tiny_model)
    session.scheduler.policy = SchedulerPolicy(after_corrections=12)
    steps: list[str] = []
    shown: list[tuple[str, int, int, str]] = []
    session.job_step.connect(steps.append)
    session.job_progress.connect(lambda done, total: shown.append(
        (window.job_status.label.text(), done, total, window.job_status.bar.format())))

    with qtbot.waitSignal(session.job_ended, timeout=60_000) as ended:
        session.assign([photos / f"red_{i}.jpg" for i in range(6)], "red")
        session.assign([photos / f"blue_{i}.jpg" for i in range(6)], "blue")
        assert session.job_kind is JobKind.RETRAIN, "the twelfth correction started a retrain in the background"

    end = ended.args[0]
    assert (end.kind, end.name, end.ending) == (JobKind.RETRAIN, "Retrain", Ending.DONE)
    assert end.message.startswith("new model: ") and "held-out photo" in end.message
    assert steps == ["finding near-duplicates", "body features", "fitting the head", "checking on held-out photos",
                     "re-scoring"]
    counts: dict[str, list[tuple[int, int]]] = {}
    for label, done, total, text in shown:
        fitting = label == "Retrain: fitting the head"
        assert text == (f"batch {done} of {total}" if fitting else f"{done} of {total} photos")
        counts.setdefault(label, []).append((done, total))
    assert counts["Retrain: body features"][-1] == (12, 12), "the twelve labelled photos"
    head = counts["Retrain: fitting the head"]
    assert len(head) >= 2 and head[-1][0] == head[-1][1], "its first and last batch at least (progress is sent at most every 50 ms)"
    for label, seen in counts.items():
        assert [done for done, _ in seen] == sorted(done for done, _ in seen), label
        assert len({total for _, total in seen}) == 1, label
    assert not window.job_status.isVisible()
    assert len(session.catalog.models()) == 2


def test_a_job_counting_many_items_sends_its_progress_a_few_times_not_once_per_item(qtbot):
    """100,000 photos counted one by one once queued 100,000 status-bar updates on the GUI thread."""
    from PySide6.QtCore import QObject

    from lakeview.gui.worker import start_worker

    owner, seen, ended = QObject(), [], []

    def job(progress, should_stop, emit_partial):
        for done in range(1, 200_001):
            progress(done, 200_000)
        progress(1, 3)  # a new count (the next step) is shown at once
        return "counted"

    start_worker(owner, job, "counting", on_progress=lambda done, total: seen.append((done, total)),
                 on_finished=ended.append, needs_torch=False)
    qtbot.waitUntil(lambda: ended == ["counted"], timeout=20_000)
    assert seen[0] == (1, 200_000) and (200_000, 200_000) in seen and seen[-1] == (1, 3)
    assert len(seen) < 1_000
