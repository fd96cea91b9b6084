"""Starting the desktop app: the window first, heavy imports (torch) only when a job needs them."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from lakeview import __version__
from lakeview.gui import crash_reports
from lakeview.resources import ICONS

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(ICONS / f"lakeview-{size}.png"))
    return icon


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName("LakeView")
    app.setApplicationName("LakeView")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("lakeview")  # Wayland matches the window to lakeview.desktop's launcher and icon
    app.setWindowIcon(app_icon())
    return app


def tell_already_open(message: str) -> None:
    """The refusal shown to a second instance (tests replace this)."""
    QMessageBox.critical(None, "LakeView", message)


def run_app(argv: list[str] | None = None, self_test: bool = False) -> int:
    app = make_application(argv)
    reporter = crash_reports.install(app)
    if self_test:
        from lakeview.gui.self_test import run_self_test

        return run_self_test(app, reporter)

    from lakeview.core.catalog.store import default_catalog_path
    from lakeview.core.library_lock import LibraryLock, LibraryLocked

    catalog_path = default_catalog_path()
    try:
        lock = LibraryLock(catalog_path.parent).acquire()
    except LibraryLocked as exc:
        who = f"process {exc.pid}" if exc.pid is not None else "another process"
        tell_already_open(f"LakeView is already open with this library ({who}). "
                          "Switch to that window, or close it first.")
        return 1
    try:
        from lakeview.gui.main_window import MainWindow
        from lakeview.gui.session import LibrarySession
        from lakeview.gui.startup_timing import report_startup_if_asked

        window = MainWindow(LibrarySession(catalog_path), QSettings())
        window.show()
        report_startup_if_asked(window, quit=window.close)
        return app.exec()
    finally:
        lock.release()
