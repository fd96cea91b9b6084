"""The status-bar corner that shows the running job: its name (and step), a progress bar that counts in the job's
units ("23 of 60 photos", "batch 889 of 1000") and a Cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from lakeview.gui.elided_label import ElidedLabel


def counted(done: int, total: int, units: str = "") -> str:
    """The bar's text: "23 of 60 photos", "batch 889 of 1000", or "23 of 60" when the units are not known."""
    if units == "batches":
        return f"batch {done} of {total}"
    return f"{done} of {total} {units}".rstrip()


class JobStatus(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = ElidedLabel()  # a long step name gives way; the bar and Cancel stay whole
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setMinimumWidth(90)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.name = ""
        self.units = ""
        self.finish()

    def start(self, name: str) -> None:
        self.name = name
        self.units = ""
        self.label.setText(name)
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    def show_step(self, step: str) -> None:
        """Name the running job's step ("Retrain: body features"); the bar is busy until its first counts."""
        self.label.setText(f"{self.name}: {step}")
        self.bar.setRange(0, 0)

    def set_units(self, units: str) -> None:
        """What the counts that follow count: "photos", "batches", or "" for plain numbers."""
        self.units = units

    def update_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(counted(done, total, self.units))

    def stopping(self) -> None:
        """Stop was asked: say so at once, and Cancel has done its part."""
        self.label.setText(f"{self.name}: stopping…")
        self.cancel_button.setEnabled(False)

    def finish(self) -> None:
        self.setVisible(False)
        self.cancel_button.setEnabled(False)
