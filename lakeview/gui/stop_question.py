"""Esc while a job runs: a training is worth a question before it stops (a stray key would throw away its epochs);
any other job stops at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from lakeview.gui.worker import JobKind

if TYPE_CHECKING:
    from lakeview.gui.main_window import MainWindow


def ask_before_stopping(window: MainWindow) -> None:
    if window.session.job_kind is not JobKind.TRAINING:
        window.session.cancel_job()
        return
    box = QMessageBox(QMessageBox.Icon.Question, "Stop training?",
                      "Stop training now? Nothing of this run is kept.",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, window)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(
        lambda button: window.session.cancel_job() if box.standardButton(button) == QMessageBox.StandardButton.Yes
        else None)
    window.stop_question = box
    box.open()
