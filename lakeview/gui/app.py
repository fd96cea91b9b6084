"""Starting the desktop app: the window first, heavy imports (torch) only when a job needs them."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from lakeview import __version__
from lakeview.gui import crash_reports
from lakeview.resources import ICONS

if TYPE_CHECKING:
    from lakeview.core.catalog.errors import CatalogError
    from lakeview.core.catalog.library_lock import LibraryLock
    from lakeview.gui.main_window import MainWindow

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


def tell(message: str) -> None:
    """A result to acknowledge, such as what a recovery brought back (tests replace this)."""
    QMessageBox.information(None, "LakeView", message)


def run_app(argv: list[str] | None = None, self_test: bool = False) -> int:
    app = make_application(argv)
    reporter = crash_reports.install(app)
    if self_test:
        from lakeview.gui.installation_check import run_installation_check

        return run_installation_check(app, reporter)

    from lakeview.core.catalog.store import default_catalog_path

    opened = open_library(default_catalog_path())
    if opened is None:
        return 1
    window, lock = opened
    try:
        from lakeview.gui.startup_timing import report_startup_if_asked

        window.show()
        report_startup_if_asked(window, quit=window.close)
        settle_interpreter(window)
        return app.exec()
    finally:
        lock.release()


GIL_SWITCH_S = 0.001
"""How long a thread may hold the interpreter while another waits (Python's default is 5 ms)."""


def settle_interpreter(window: MainWindow) -> None:
    """Once the window is up. The GUI thread gives the interpreter up at every Qt call it makes, and waits to get
    it back while a worker runs Python (walking 100,000 files, reading rows): at Python's default switch interval
    each tile painted could wait 5 ms several times, and a repaint took 200 ms beside such a worker; 1 ms keeps
    it near its own cost. What start-up made lives as long as the app: frozen, the collector never walks it
    again. And the full collection, which holds every thread, waits for a quiet moment (IdleCollector)."""
    from lakeview.gui.idle_collector import IdleCollector

    sys.setswitchinterval(GIL_SWITCH_S)
    gc.freeze()
    window.idle_collector = IdleCollector(window, lambda: window.session.busy, window.session.job_ended)


def open_library(catalog_path: Path) -> tuple[MainWindow, LibraryLock] | None:
    """(main window, library lock) for the library at `catalog_path`. When its catalog cannot be opened,
    a dialog says why and offers what can be done, until a library opens or the user quits (None)."""
    import sqlite3

    from lakeview.core.catalog.errors import CatalogError, CatalogFolderUnwritable, translate
    from lakeview.core.catalog.identity import verify_catalog
    from lakeview.core.catalog.library_lock import LibraryLock, LibraryLocked
    from lakeview.gui.startup_problem import Choice, StartupProblemDialog, choose_library

    problem = asked = None
    while True:
        if problem is None:
            try:
                lock = LibraryLock(catalog_path.parent).acquire()
            except LibraryLocked as exc:
                who = f"process {exc.pid}" if exc.pid is not None else "another process"
                tell_already_open(f"LakeView is already open with this library ({who}). "
                                  "Switch to that window, or close it first.")
                if asked is None:
                    return None
                problem, catalog_path = asked  # the library chosen instead is open elsewhere: choose again
            except OSError as exc:
                problem = translate(exc, catalog_path) or CatalogFolderUnwritable(
                    catalog_path, catalog_path.parent, exc.strerror or str(exc))
            else:
                try:
                    verify_catalog(catalog_path)
                    return _main_window(catalog_path), lock
                except (CatalogError, sqlite3.Error, OSError) as exc:
                    lock.release()
                    problem = translate(exc, catalog_path)
                    if problem is None:
                        raise
        choice = StartupProblemDialog.ask(problem)
        asked, problem = (problem, catalog_path), None
        if choice is Choice.QUIT:
            return None
        if choice is Choice.OPEN_OTHER:
            catalog_path = choose_library() or catalog_path
        elif choice is Choice.START_FRESH:
            _move_aside(catalog_path)
        elif choice is Choice.RECOVER:
            problem = _recover(catalog_path)


def _main_window(catalog_path: Path) -> MainWindow:
    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession

    return MainWindow(LibrarySession(catalog_path), QSettings())


def _move_aside(catalog_path: Path) -> None:
    from lakeview.core.catalog.recovery import move_aside

    try:
        moved = move_aside(catalog_path)
    except OSError as exc:
        tell(f"LakeView could not move {catalog_path} aside ({exc.strerror or exc}); nothing was changed.")
        return
    tell(f"The old catalog was kept as {moved}. LakeView starts with an empty catalog in its place.")


def _recover(catalog_path: Path) -> CatalogError | None:
    """The salvage, on a worker thread behind a progress dialog; then what came back, in words. Returns the
    catalog error that stopped it, if one did."""
    from PySide6.QtCore import QEventLoop, QObject
    from PySide6.QtWidgets import QProgressDialog

    from lakeview.core.catalog.errors import CatalogError
    from lakeview.core.catalog.recovery import recover_catalog
    from lakeview.gui.worker import start_worker

    def job(progress, should_stop, emit_partial):
        try:
            return recover_catalog(catalog_path, progress=progress, should_stop=should_stop)
        except (CatalogError, OSError) as exc:
            return exc

    owner, loop, outcome = QObject(), QEventLoop(), []
    dialog = QProgressDialog("Copying what can be read into a fresh catalog…", "Stop", 0, 0)
    dialog.setWindowTitle("LakeView: recovering the catalog")
    dialog.setMinimumDuration(500)

    def ended(result=None) -> None:
        outcome.append(result)
        loop.quit()

    _, worker = start_worker(owner, job, "recovery", needs_torch=False, on_progress=_progress_to(dialog),
                             on_finished=ended, on_failed=ended, on_cancelled=ended)
    dialog.canceled.connect(worker.cancel)
    if not outcome:
        loop.exec()
    dialog.close()
    result = outcome[0]
    if isinstance(result, CatalogError):
        return result  # shown in the startup dialog, with what can still be done
    tell(_recovery_summary(result))
    return None


def _progress_to(dialog):
    def show(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    return show


def _recovery_summary(result) -> str:
    from lakeview.core.catalog.recovery import RecoveryReport

    if isinstance(result, RecoveryReport):
        counts = ", ".join(f"{table.copied} {name.replace('_', ' ')}" for name, table in result.tables.items()
                           if name in ("photos", "labels", "classes", "models"))
        lost = "" if result.complete else " Some rows could not be read; check the labels of recent work."
        return f"Recovered {counts} into a fresh catalog. The damaged one was kept as {result.damaged}.{lost}"
    if result is None:
        return "The recovery was stopped; nothing was changed."
    return f"The recovery did not finish: {result}. Nothing was changed."
