"""Help > About: what LakeView runs on (versions, device, where its files are), copyable for a bug report."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from lakeview import __version__
from lakeview.gui.crash_reports import log_path
from lakeview.resources import ICONS

ICON = ICONS / "lakeview-64.png"


def environment(device_text: str, catalog_path: Path) -> list[tuple[str, str]]:
    """(name, value) rows describing this installation. Imports torch."""
    import torch
    import torchvision

    cuda = torch.version.cuda or "none"
    if torch.cuda.is_available():
        cuda += f" ({torch.cuda.get_device_name(0)})"
    elif torch.version.cuda:
        cuda += " (no CUDA GPU found)"
    return [
        ("LakeView", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("torch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("CUDA", cuda),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("System", platform.platform()),
        ("Device in use", device_text),
        ("Catalog", str(catalog_path)),
        ("Log", str(log_path())),
    ]


def report_text(rows: list[tuple[str, str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in rows)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None, device_text: str, catalog_path: Path) -> None:
        super().__init__(parent)
        self.setWindowTitle("About LakeView")
        self.rows = environment(device_text, catalog_path)
        icon = QLabel()
        icon.setPixmap(QPixmap(str(ICON)))
        title = QLabel(f"<h2>LakeView {__version__}</h2>"
                       "Teach a computer to recognise the places in your own photos.")
        title.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(icon)
        header.addWidget(title, 1)
        form = QFormLayout()
        for name, value in self.rows:
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            form.addRow(f"{name}:", label)
        self.copy_button = QPushButton("Copy to clipboard")
        self.copy_button.setToolTip("For a bug report: these lines, as plain text")
        self.copy_button.clicked.connect(self.copy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    def text(self) -> str:
        return report_text(self.rows)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.copy_button.setText("Copied")
