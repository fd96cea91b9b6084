"""`lakeview --self-test`: does this installation work? The real window classifies three generated photos.

Everything happens in a temporary library (catalog, settings, caches), so the user's own is untouched, and
nothing is downloaded: the model is a random-weight ResNet18 made on the spot. Prints one line and exits 0,
or non-zero with the reason.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from lakeview import __version__
from lakeview.gui.crash_reports import CrashReporter
from lakeview.gui.startup_timing import seconds_since_launch, when_shown
from lakeview.gui.worker import Ending, JobEnd, JobKind, start_worker

TIMEOUT_S = 120.0
PHOTOS = 3
EXIT_FAILED = 1


def _make_model_and_photos(folder: Path) -> tuple[Path, Path, str]:
    """Runs in a worker: a random ResNet18 model file and a folder of three small photos."""
    import torch
    from PIL import Image

    from lakeview.core.models.device import describe, pick_device
    from lakeview.core.models.model_file import ModelMeta, save_model
    from lakeview.core.models.network import bare_network

    torch.manual_seed(0)
    model = save_model(folder / "self-test.lvmodel", bare_network("resnet18", 2),
                       ModelMeta(arch="resnet18", classes=["a", "b"], size=64))
    photos = folder / "photos"
    photos.mkdir()
    for n, colour in enumerate([(200, 40, 40), (40, 180, 60), (40, 60, 200)][:PHOTOS]):
        Image.new("RGB", (96, 72), colour).save(photos / f"photo-{n}.jpg")
    return model, photos, describe(pick_device())


class InstallationCheck(QObject):
    """Drives the window through its steps by signals; `code` and `summary` hold the outcome."""

    def __init__(self, app: QApplication, folder: Path, reporter: CrashReporter | None = None,
                 timeout_s: float = TIMEOUT_S) -> None:
        super().__init__()
        self.app = app
        self.folder = folder
        self.code: int | None = None
        self.summary = ""
        self.step = "starting"
        self.predictions: dict = {}
        self.device = "?"
        self.shown_after: float | None = None
        self.window = None
        self._started = time.monotonic()
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(lambda: self.fail(f"timed out after {timeout_s:.0f} s"))
        self._timeout.start(int(timeout_s * 1000))
        if reporter is not None:
            reporter.crashed.connect(lambda summary, log: self.fail(f"{summary} (log: {log})"))

    def start(self) -> None:
        from lakeview.gui.main_window import MainWindow
        from lakeview.gui.session import LibrarySession

        self.step = "opening the window"
        settings = QSettings(str(self.folder / "settings.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(LibrarySession(self.folder / "library" / "catalog.sqlite"), settings)
        self.window.session.predictions_changed.connect(self.predictions.update)
        self.window.session.job_ended.connect(self._job_ended)
        self.window.show()
        when_shown(self.window, self._shown)

    def _shown(self) -> None:
        self.shown_after = seconds_since_launch()
        self.step = "making a model and photos"
        start_worker(self, lambda progress, should_stop, partial: _make_model_and_photos(self.folder),
                     "self-test set-up", on_finished=self._use_model, on_failed=self.fail)

    def _use_model(self, made: tuple[Path, Path, str]) -> None:
        model, photos, self.device = made
        self.step = "using the model"
        try:
            self.window.session.use_model_file(model)
        except Exception as exc:  # any failure is the self-test's finding, reported rather than raised
            self.fail(f"{type(exc).__name__}: {exc}")
            return
        self.step = "opening the photos"
        self.window.open_folder(photos)

    def _job_ended(self, end: JobEnd) -> None:
        if self.code is not None:
            return
        if end.ending is not Ending.DONE or end.message:  # a photo it could not read fails the self-test too
            self.fail(f"{end.name}: {end.message}")
        elif end.kind is JobKind.OPEN_FOLDER:
            self.step = "classifying"
            self.window.session.classify()
        elif end.kind is JobKind.CLASSIFY:
            if len(self.predictions) == PHOTOS:
                self.succeed()
            else:
                self.fail(f"{len(self.predictions)} prediction(s) arrived, expected {PHOTOS}")

    def succeed(self) -> None:
        shown = f"{self.shown_after:.2f} s" if self.shown_after is not None else "?"
        self._end(0, f"LakeView {__version__} self-test passed: {PHOTOS} photos classified on {self.device} in "
                     f"{time.monotonic() - self._started:.1f} s (window shown {shown} after launch)")

    def fail(self, reason: str) -> None:
        self._end(EXIT_FAILED, f"LakeView {__version__} self-test FAILED while {self.step}: {reason}")

    def _end(self, code: int, summary: str) -> None:
        if self.code is not None:
            return
        self.code, self.summary = code, summary
        self._timeout.stop()
        if self.window is not None:
            self.window.close()  # cancels and waits for its jobs
        self.app.exit(code)


def run_installation_check(app: QApplication, reporter: CrashReporter | None = None, timeout_s: float = TIMEOUT_S) -> int:
    with tempfile.TemporaryDirectory(prefix="lakeview-self-test-", ignore_cleanup_errors=True) as folder:
        # Thumbnails, weights and data go to the temporary folder too, not the user's caches.
        os.environ["LAKEVIEW_CACHE_DIR"] = str(Path(folder) / "cache")
        os.environ["LAKEVIEW_DATA_DIR"] = str(Path(folder) / "data")
        check = InstallationCheck(app, Path(folder), reporter, timeout_s)
        QTimer.singleShot(0, check.start)
        app.exec()
        if check.window is not None:
            check.window.settings.sync()  # written now, not into the removed folder when the window goes
        code = check.code if check.code is not None else EXIT_FAILED
        stream = sys.stdout if code == 0 else sys.stderr
        if stream is not None:
            print(check.summary or "LakeView self-test ended without a result", file=stream, flush=True)
        return code
