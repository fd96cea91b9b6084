"""Classify in the app does only what is left: a second Classify of the same folder classifies no photo and says
so, the status line counts what is to do, and Model > Classify All Again does every photo again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from photo_tools import red_and_blue_photos


@pytest.fixture
def photos(tmp_path):
    return red_and_blue_photos(tmp_path / "holiday", 15, blue_seed=40, digits=2)


def run_job(qtbot, window, start) -> tuple[object, list[str], int]:
    """(how the job ended, the status line's texts while it ran, predictions that arrived)."""
    lines, arrived = [], []

    def step(_) -> None:
        lines.append(window.job_status.label.text())

    window.session.job_step.connect(step)
    window.session.predictions_changed.connect(arrived.append)
    try:
        with qtbot.waitSignal(window.session.job_ended, timeout=60_000) as ended:
            start()
    finally:
        window.session.job_step.disconnect(step)
        window.session.predictions_changed.disconnect(arrived.append)
    return ended.args[0], lines, sum(len(batch) for batch in arrived)


def test_a_second_classify_of_the_same_folder_classifies_nothing_and_says_so(qtbot, window, photos, tiny_model):
    with qtbot.waitSignal(window.session.job_ended, timeout=20_000):
        window.open_folder(photos)
    window.session.use_model_file(tiny_model)

    def classify() -> None:
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)

    end, lines, arrived = run_job(qtbot, window, classify)
    assert (end.message, lines, arrived) == ("", ["Classify: 30 of 30 photos to classify"], 30)

    end, lines, arrived = run_job(qtbot, window, classify)
    assert lines == ["Classify: 0 of 30 photos to classify"] and arrived == 0
    assert end.message == ("all 30 photos already classified by this model were left alone (Classify All Again to "
                           "redo them)")

    again = next(a for a in window.findChildren(QAction) if a.text() == "Classify &All Again")
    end, lines, arrived = run_job(qtbot, window, again.trigger)
    assert (end.name, end.message, lines, arrived) == (
        "Classify all again", "", ["Classify all again: 30 of 30 photos to classify"], 30)
