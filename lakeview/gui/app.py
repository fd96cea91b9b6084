"""Starting the desktop app: the window first, heavy imports (torch) only when a job needs them."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from lakeview import __version__


def run_app(argv: list[str] | None = None) -> int:
    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName("LakeView")
    app.setApplicationName("LakeView")
    app.setApplicationVersion(__version__)
    window = MainWindow(LibrarySession(), QSettings())
    window.show()
    return app.exec()
