"""Shared set-up for the GUI tests: no worker thread outlives a test, the window's settings, the window, a
model file of the tiny architecture."""

from __future__ import annotations

import pytest

from lakeview.gui.worker import RUNNING_THREADS

THREAD_GRACE_MS = 20_000  # a job asked to stop ends at its next should_stop(); a slow CI machine gets time


@pytest.fixture(autouse=True)
def no_thread_left_running(qtbot):
    """Every GUI test ends with its worker threads finished: one left running is a bug (it would outlive its
    window, or race the next test)."""
    yield
    qtbot.waitUntil(lambda: not RUNNING_THREADS, timeout=THREAD_GRACE_MS)


@pytest.fixture(autouse=True)
def no_unexpected_question(monkeypatch):
    """A question the app would ask in a modal box fails the test instead of waiting forever for an answer; a test
    that expects one replaces `ask` itself."""
    from lakeview.gui.history_steps import OffScreenChange

    def unexpected(cls, parent, title: str, text: str) -> bool:
        raise AssertionError(f"unexpected question {title!r}: {text}")

    monkeypatch.setattr(OffScreenChange, "ask", classmethod(unexpected))


@pytest.fixture
def app_settings(tmp_path):
    """The window's settings, in a file of the test's own, past the first-run welcome."""
    from PySide6.QtCore import QSettings

    from lakeview.gui.welcome import SHOW_KEY

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SHOW_KEY, False)
    return settings


@pytest.fixture
def window(qtbot, tmp_path, app_settings):
    """The real main window on a library of the test's own, shown (offscreen) and active: key presses reach it."""
    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession

    main = MainWindow(LibrarySession(tmp_path / "library" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    yield main
    main.close()


@pytest.fixture
def tiny_model(tmp_path):
    """A .lvmodel of the "tiny" architecture (random weights, fixed seed) for the classes blue and red."""
    import torch

    from lakeview.core.models.model_file import ModelMeta, save_model
    from lakeview.core.models.network import bare_network

    torch.manual_seed(0)
    return save_model(tmp_path / "tiny.lvmodel", bare_network("tiny", 2),
                      ModelMeta(arch="tiny", classes=["blue", "red"], size=32))
