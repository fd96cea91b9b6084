"""The status bar's "device: …": where the network runs, found by a worker (finding it imports torch)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from lakeview.gui.elided_label import ElidedLabel
from lakeview.gui.worker import start_worker

PREFIX = "device: "


class DeviceLabel(ElidedLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText(PREFIX + "…")

    @property
    def device(self) -> str:
        return self.text().removeprefix(PREFIX)

    def detect(self) -> None:
        def job(progress, should_stop, emit_partial):
            from lakeview.core.models.device import describe, pick_device

            return describe(pick_device())

        start_worker(self, job, "device", on_finished=lambda text: self.setText(PREFIX + text),
                     on_failed=lambda message: self.setText(PREFIX + "unknown"))
