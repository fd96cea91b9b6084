"""The Qt binding keeps Python's reference counts straight (PySide6 6.12.0 did not on Python < 3.12)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPainter


class _Emitter(QObject):
    changed = Signal(int)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal from Python 3.12 on")
def test_void_calls_and_signals_do_not_lose_references():
    emitter = _Emitter()
    received = []
    emitter.changed.connect(received.append)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(2000):
        painter.save()
        painter.restore()
        emitter.changed.emit(i)
    painter.end()
    assert len(received) == 2000
    assert abs(sys.getrefcount(None) - none_before) < 100
    assert abs(sys.getrefcount(True) - true_before) < 100


def test_the_window_is_built_without_importing_torch(tmp_path):
    """torch takes seconds to import: it loads after the window shows (in the first job)."""
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from lakeview.gui.main_window import MainWindow; from lakeview.gui.session import LibrarySession; "
            "from PySide6.QtCore import QSettings; "
            f"w = MainWindow(LibrarySession({str(tmp_path / 'catalog.sqlite')!r}), QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat)); "
            "w.show(); print('torch' in sys.modules); w.close()")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
