"""The Qt binding keeps Python's reference counts straight (PySide6 6.12.0 did not on Python < 3.12)."""

from __future__ import annotations

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
