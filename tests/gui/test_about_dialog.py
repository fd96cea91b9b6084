"""Help > About: versions, device and paths on screen, and the same lines copied for a bug report."""

from __future__ import annotations

import platform

import PySide6
import torch
import torchvision
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from lakeview import __version__
from lakeview.gui.about_dialog import AboutDialog


def test_it_shows_and_copies_what_a_bug_report_needs(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEVIEW_LOG_DIR", str(tmp_path / "logs"))
    catalog = tmp_path / "library" / "catalog.sqlite"
    dialog = AboutDialog(None, "CPU (2 threads)", catalog)
    qtbot.addWidget(dialog)
    dialog.show()

    rows = dict(dialog.rows)
    assert rows["LakeView"] == __version__
    assert rows["Python"].startswith(platform.python_version())
    assert rows["torch"] == torch.__version__ and rows["torchvision"] == torchvision.__version__
    assert rows["CUDA"].startswith(torch.version.cuda or "none")
    assert rows["Qt"] == qVersion() and rows["PySide6"] == PySide6.__version__
    assert rows["Device in use"] == "CPU (2 threads)"
    assert rows["Catalog"] == str(catalog)
    assert rows["Log"] == str(tmp_path / "logs" / "lakeview.log")
    shown = {label.text() for label in dialog.findChildren(QLabel)}
    assert {str(catalog), torch.__version__, "CPU (2 threads)"} <= shown

    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.text()
    assert f"LakeView: {__version__}\n" in copied and f"\nCatalog: {catalog}\n" in copied
    assert f"\ntorch: {torch.__version__}\n" in copied and "\nDevice in use: CPU (2 threads)\n" in copied
