"""Unexpected errors are written to a log and shown in a dialog with the log's path; the app keeps running.

Python exceptions reach `sys.excepthook` (the GUI thread, including Qt slots) or `threading.excepthook`
(other threads); Qt's critical and fatal messages reach the message handler. Whatever thread it happens in,
the dialog opens on the GUI thread, through a queued signal.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
import threading
import traceback
from datetime import datetime
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6.QtCore import QObject, Qt, QtMsgType, Signal, Slot, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

LOG_DIR_ENV = "LAKEVIEW_LOG_DIR"
LOG_NAME = "lakeview.log"
LOG_LIMIT = 2_000_000
"""Past this size the log is renamed to lakeview.log.1 (replacing the previous one) and starts afresh."""


def log_dir() -> Path:
    """`$LAKEVIEW_LOG_DIR`, else the platform's user log folder; when that cannot be written (a read-only
    home), a folder of the user's own in the temporary folder."""
    preferred = Path(os.environ.get(LOG_DIR_ENV) or platformdirs.user_log_dir("LakeView", appauthor=False))
    if _writable_folder(preferred):
        return preferred
    return fallback_log_dir() or preferred


def fallback_log_dir() -> Path | None:
    """`<temporary folder>/lakeview-logs-<user>`, made private to the user; None when even that fails."""
    folder = Path(tempfile.gettempdir()) / f"lakeview-logs-{_user_name()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        if hasattr(os, "getuid") and (folder.is_symlink() or folder.stat().st_uid != os.getuid()):
            return None  # someone else's folder under our name: never write a log into it
    except OSError:
        return None
    return folder if _writable_folder(folder) else None


def _writable_folder(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _user_name() -> str:
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment nor the password database
        return str(os.getuid()) if hasattr(os, "getuid") else "user"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "user"


def log_path() -> Path:
    return log_dir() / LOG_NAME


_write_lock = threading.Lock()


def write_entry(title: str, body: str) -> Path:
    """Append a dated entry to the log; returns the log's path. Never raises: a log that cannot be written
    must not turn one error into two."""
    path = log_path()
    with _write_lock:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > LOG_LIMIT:
                os.replace(path, path.with_name(LOG_NAME + ".1"))
            stamp = datetime.now().isoformat(sep=" ", timespec="seconds")
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"--- {stamp} (process {os.getpid()}) {title}\n{body.rstrip()}\n\n")
        except OSError as exc:
            if sys.stderr is not None:
                sys.stderr.write(f"lakeview: could not write the log {path} ({exc.strerror or exc})\n")
    return path


def show_crash_dialog(parent: QWidget | None, summary: str, path: Path) -> QMessageBox:
    """A non-modal message with the log's path (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "LakeView: something went wrong",
                      f"{summary}\n\nLakeView is still running, but the last action may not have finished. "
                      "If it happens again, please report it with the log file:", QMessageBox.StandardButton.Close,
                      parent)
    box.setInformativeText(str(path))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box


class CrashReporter(QObject):
    """Installed by `install(app)`; `uninstall()` puts the previous hooks back."""

    crashed = Signal(str, str)
    """(one-line summary, log path): emitted from any thread, received on the GUI thread."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.reports: list[str] = []
        self._dialog: QWidget | None = None
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        self._previous_qt_handler = None
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def hook(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook
        self._previous_qt_handler = qInstallMessageHandler(self._qt_message)

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous_hooks
        qInstallMessageHandler(self._previous_qt_handler)

    def report(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
               where: str) -> Path:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        path = write_entry(f"unhandled {exc_type.__name__} in {where}", text)
        if sys.stderr is not None:  # a windowed build has no console
            sys.stderr.write(text)
        from lakeview.core.catalog.errors import CatalogUnavailable

        if isinstance(exc, CatalogUnavailable):  # not a bug: the catalog's own sentence says what to do
            message = str(exc)
            self.crashed.emit(message[:1].upper() + message[1:] + ".", str(path))
            return path
        summary = "".join(traceback.format_exception_only(exc_type, exc)).strip().splitlines()[-1]
        self.crashed.emit(f"An unexpected error happened ({where}): {summary}", str(path))
        return path

    def _excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb, "the main thread")

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")

    def _qt_message(self, mode: QtMsgType, context, message: str) -> None:
        if mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            where = f" ({context.file}:{context.line})" if context is not None and context.file else ""
            write_entry(f"Qt {'fatal' if mode == QtMsgType.QtFatalMsg else 'critical'} message{where}", message)
        if self._previous_qt_handler is not None:
            self._previous_qt_handler(mode, context, message)
        elif sys.stderr is not None:
            sys.stderr.write(message + "\n")

    def _dialog_open(self) -> bool:
        try:
            return self._dialog is not None and self._dialog.isVisible()
        except RuntimeError:  # closed, so Qt deleted it
            return False

    @Slot(str, str)
    def _show(self, summary: str, path: str) -> None:
        self.reports.append(summary)
        if self._dialog_open():
            return  # one dialog at a time: an error that repeats (in a paint, a timer) is logged, not stacked
        self._dialog = show_crash_dialog(QApplication.activeWindow(), summary, Path(path))


def install(app: QApplication) -> CrashReporter:
    """Log and show unexpected errors from now on. Call once the QApplication exists."""
    reporter = CrashReporter(app)
    reporter.hook()
    return reporter
