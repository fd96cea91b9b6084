"""The real app over a whole photo archive: wall time and the longest event-loop stall of each thing a user does.

Not a test: run it on purpose. It makes (once, then reuses) a library of N small JPEGs (64x48, varied colours, in
sub-folders of 1000), then drives the real MainWindow and LibrarySession, offscreen, at 1280x800, on a throwaway
catalog, thumbnail cache, data folder and QSettings. It drives the app as a user does: the menus' QActions, key
presses to the grid, the filter bar's widgets, the classes panel; a public session method only where the user's
way is a file dialog (adopting a model file). So it measures the lazy grid model of issue 13 as it measured the
eager one.

Two processes, one after the other, on the same catalog and thumbnail cache:
  first:  open        File > Open folder, until the grid shows the catalogued folder (cataloguing, in a worker)
  second: open again  a fresh window and session: File > Open folder until the first screen is shown (below)
          filter      the filter bar to "Unlabelled" until the first screen is shown, then "All photos" again
          select all  Ctrl+A on the grid, until every row is selected and the grid repainted
          label       key 1 (a class made in the classes panel first), until the labels are announced and painted
          undo, redo  Ctrl+Z, Ctrl+Shift+Z (a question box, if one comes, is answered Yes)
          classify    a tiny .lvmodel adopted, then Model > Classify folder: "start" is until the job has started
                      and 1 s more; "run" until the job ends (photos/s)
          retrain     a few photos labelled with the model's classes, then Model > Retrain on my labels (Ctrl+T)
                      until it ends (the re-score is part of it when the new version is promoted)
          rename      the classes panel's Rename... on the first class, until the panel and grid show it
"The first screen is shown": the grid has its rows, every tile in the viewport has its thumbnail (its decoration
is a real pixmap, not the transparent placeholder), and the viewport has painted since.

A 5 ms precise QTimer on the GUI thread ticks throughout; a step's stall is its longest gap between two ticks,
less the 5 ms, from just before its action until it is done. RSS (VmRSS) after each step, the process's peak
(VmHWM) at its end. A step that does not end in its time reports "timeout" (its job is cancelled) and the run
goes on. --steps takes the names open, open2, filter, label (select all and label), undo (undo and redo),
classify (start and run), retrain, rename; a step left out still runs, unreported, when a later one needs it.

    .venv/bin/python benchmarks/library_scale.py                       # 100,000 photos
    .venv/bin/python benchmarks/library_scale.py --count 50000 --steps open,filter,label,undo
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
WINDOW = (1280, 800)
PHOTO_SIZE = (64, 48)
PER_FOLDER = 1000
HEARTBEAT_MS = 5
NOW = time.perf_counter
FIRST_STEPS = ("open",)
SECOND_STEPS = ("open again", "filter", "filter back", "select all", "label", "undo", "redo", "classify start",
                "classify run", "retrain", "rename")
STEP_GROUPS = {"open": ["open"], "open2": ["open again"], "filter": ["filter", "filter back"],
               "label": ["select all", "label"], "undo": ["undo", "redo"], "classify": ["classify start", "classify run"],
               "retrain": ["retrain"], "rename": ["rename"]}
CLASS_NAME = "lake"
RENAMED = "lakes"


# --------------------------------------------------------------------------------------------- the library

def _make_batch(job: tuple[str, int, int]) -> None:
    from PIL import Image, ImageDraw

    folder, first, last = job
    for i in range(first, last):
        target = Path(folder) / f"d{i // PER_FOLDER:03d}" / f"p{i:06d}.jpg"
        if target.is_file():
            continue
        r, g, b = (i * 37) % 256, (i * 91) % 256, (i * 173) % 256
        image = Image.new("RGB", PHOTO_SIZE, (r, g, b))
        draw = ImageDraw.Draw(image)
        x, y = (i * 7) % 40, (i * 11) % 28
        draw.rectangle((x, y, x + 20, y + 16), fill=(255 - r, (g + 128) % 256, b // 2))
        image.save(target, "JPEG", quality=85)


def make_library(folder: Path, count: int) -> Path:
    """`count` JPEGs in sub-folders of PER_FOLDER, made once: a marker file says the folder is complete."""
    marker = folder / f".complete-{count}"
    if marker.is_file():
        return folder
    for sub in range(-(-count // PER_FOLDER)):
        (folder / f"d{sub:03d}").mkdir(parents=True, exist_ok=True)
    started = NOW()
    print(f"making {count} JPEGs of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} in {folder} (once) ...", flush=True)
    jobs = [(str(folder), first, min(count, first + PER_FOLDER)) for first in range(0, count, PER_FOLDER)]
    if len(jobs) == 1:
        _make_batch(jobs[0])
    else:
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(_make_batch, jobs))
    marker.touch()
    print(f"  made in {NOW() - started:.0f} s", flush=True)
    return folder


def load_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: %.2f, %.2f, %.2f" % os.getloadavg()


def memory_mb(key: str) -> float:
    """VmRSS or VmHWM of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------------------------------- measuring

@dataclass
class StepResult:
    step: str
    status: str = "ok"
    wall_s: float | None = None
    stall_ms: float | None = None
    rss_mb: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


class StepTimeout(Exception):
    pass


class Heartbeat:
    """A precise timer on the GUI thread: every tick's time and the gap since the one before."""

    def __init__(self, interval_ms: int) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval_ms = interval_ms
        self.ticks: list[tuple[float, float]] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = NOW()

    def start(self) -> None:
        self.last = NOW()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = NOW()
        self.ticks.append((now, (now - self.last) * 1e3))
        self.last = now

    def longest_ms(self, begin: float, end: float) -> float:
        """The longest gap less the interval, over the ticks that ended in [begin, end] (and the one just after)."""
        gaps = [gap for t, gap in self.ticks if begin < t <= end]
        after = next((gap for t, gap in self.ticks if t > end), None)
        if after is not None:
            gaps.append(after)
        return max((max(0.0, g - self.interval_ms) for g in gaps), default=0.0)


def spin(timeout_s: float, until: Callable[[], bool] | None = None, poll_ms: int = 10) -> bool:
    """Run the event loop (not a busy loop) until `until()` holds or `timeout_s` passes; whether it held."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = NOW() + timeout_s
    if until is not None and until():
        return True
    loop = QEventLoop()
    held = [False]

    def check() -> None:
        if until is not None and until():
            held[0] = True
            loop.quit()
        elif NOW() >= deadline:
            loop.quit()

    checker = QTimer()
    checker.setInterval(poll_ms)
    checker.timeout.connect(check)
    checker.start()
    loop.exec()
    checker.stop()
    return held[0]


def wait_for(what: str, timeout_s: float, until: Callable[[], bool], poll_ms: int = 10) -> None:
    if not spin(timeout_s, until, poll_ms):
        raise StepTimeout(what)


class Answerer:
    """Answers the modal boxes a step opens: a question Yes, a text input with `text`, as a user would."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.text = ""
        self.answered: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def _look(self) -> None:
        from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            button = box.button(QMessageBox.StandardButton.Yes) or box.button(QMessageBox.StandardButton.Ok)
            self.answered.append(f"{box.windowTitle()}: Yes")
            if button is not None:
                button.click()
            else:
                box.accept()
        elif isinstance(box, QInputDialog):
            self.answered.append(f"{box.windowTitle()}: {self.text}")
            box.setTextValue(self.text)
            box.accept()


class Screen:
    """What the user sees of the grid: its rows, the thumbnails of the tiles in view, when it last painted."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import QEvent, QObject

        self.window = window
        self.grid = window.grid
        self.painted_at = 0.0
        screen = self

        class PaintWatch(QObject):
            def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
                if event.type() == QEvent.Type.Paint:
                    screen.painted_at = NOW()
                return False

        self._watch = PaintWatch()
        self.grid.viewport().installEventFilter(self._watch)

    def rows_pending(self) -> bool:
        """Whether the grid's rows are still being queried (a lazy grid answers a filter from a worker, so an
        unchanged row count does not mean the answer is in); False for a grid that queries on the GUI thread."""
        return bool(getattr(self.window.session, "rows_pending", False))

    def rows(self) -> int:
        model = self.grid.model()
        return model.rowCount() if model is not None else 0

    def visible_indexes(self) -> list:
        from PySide6.QtCore import QPoint

        grid, model = self.grid, self.grid.model()
        area = grid.viewport().rect()
        first = None
        for y in range(0, min(area.height(), 400), 4):
            for x in range(0, min(area.width(), 400), 8):
                index = grid.indexAt(QPoint(x, y))
                if index.isValid():
                    first = index
                    break
            if first is not None:
                break
        if first is None:
            return []
        shown = []
        for row in range(first.row(), model.rowCount()):
            rect = grid.visualRect(model.index(row, 0))
            if rect.top() > area.bottom():
                break
            if rect.intersects(area):
                shown.append(model.index(row, 0))
        return shown

    def thumbnails_in_view(self) -> bool:
        """Every tile in view has a real thumbnail (the placeholder is transparent at its centre)."""
        from PySide6.QtCore import Qt

        shown = self.visible_indexes()
        if not shown:
            return False
        for index in shown:
            pixmap = index.data(Qt.ItemDataRole.DecorationRole)
            if pixmap is None or pixmap.isNull():
                return False
            image = pixmap.toImage()
            if image.pixelColor(image.width() // 2, image.height() // 2).alpha() == 0:
                return False
        return True

    def first_screen(self, since: float, rows: Callable[[int], bool], timeout_s: float) -> float:
        """When the first screen was shown after `since`: rows as `rows` wants, thumbnails in view, a paint after."""
        wait_for("rows", timeout_s, lambda: not self.rows_pending() and rows(self.rows()), poll_ms=5)
        wait_for("thumbnails in view", timeout_s, self.thumbnails_in_view, poll_ms=25)
        ready = NOW()
        self.grid.viewport().update()
        wait_for("a paint", timeout_s, lambda: self.painted_at > max(since, ready), poll_ms=2)
        return self.painted_at

    def painted_after(self, since: float, timeout_s: float) -> float:
        wait_for("a paint", timeout_s, lambda: self.painted_at > since, poll_ms=2)
        return self.painted_at


# ---------------------------------------------------------------------------------------- the app, driven

def settle_window(window, timeout_s: float = 120) -> None:
    """Internal: the device label ends with "…" until the start-up job (which imports torch in a worker) has
    detected the device; measuring before that would time the start-up too."""
    spin(timeout_s, lambda: not window.device_label.text().endswith("…"))
    spin(0.5)


def tiny_model_file(path: Path) -> Path:
    """Internal: the tests' "tiny" architecture (tests/tiny_network.py) registered in this process, and a
    .lvmodel of it with random weights for two classes, as tests/gui/conftest.py's tiny_model."""
    sys.path.insert(0, str(REPO / "tests"))
    from tiny_network import TINY

    from lakeview.core.models.architectures import ARCHITECTURES, register

    if "tiny" not in ARCHITECTURES:
        register(TINY)
    if not path.is_file():
        import torch

        from lakeview.core.models.model_file import ModelMeta, save_model
        from lakeview.core.models.network import bare_network

        torch.manual_seed(0)
        save_model(path, bare_network("tiny", 2), ModelMeta(arch="tiny", classes=["blue", "red"], size=32))
    return path


def find_action(window, text: str):
    from PySide6.QtGui import QAction

    for action in window.findChildren(QAction):
        if action.text().replace("&", "").startswith(text):
            return action
    raise LookupError(f"no action {text!r}")


class Driver:
    """One window on one catalog, and the steps a user takes in it."""

    def __init__(self, work: Path, folder: Path, count: int, heartbeat_ms: int, timeout_s: float,
                 settle_s: float = 0.3) -> None:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from lakeview.gui.main_window import MainWindow
        from lakeview.gui.session import LibrarySession
        from lakeview.gui.welcome import SHOW_KEY

        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        self.work, self.folder, self.count, self.timeout_s = work, folder, count, timeout_s
        self.settle_s = settle_s
        """The quiet spell before and after each step (and between the set-up's actions)."""
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue(SHOW_KEY, False)
        self.session = LibrarySession(work / "library" / "catalog.sqlite")
        self.window = MainWindow(self.session, settings)
        self.window.resize(*WINDOW)
        self.window.show()
        settle = getattr(importlib.import_module("lakeview.gui.app"), "settle_interpreter", None)
        if settle is not None:  # as the app does once its window is up (a checkout from before it has none)
            settle(self.window)
        self.window.activateWindow()
        spin(10, self.window.isActiveWindow)
        self.ended: list[tuple[float, str, str, str]] = []
        self.started: list[tuple[float, str]] = []
        self.labels_at = 0.0
        self.rows_at = 0.0
        self.session.job_ended.connect(
            lambda end: self.ended.append((NOW(), end.name, end.ending.name, end.message)))
        self.session.job_started.connect(lambda name: self.started.append((NOW(), name)))
        self.session.labels_changed.connect(lambda _: setattr(self, "labels_at", NOW()))
        self.session.rows_changed.connect(lambda: setattr(self, "rows_at", NOW()))
        self.screen = Screen(self.window)
        self.answerer = Answerer()
        self.heartbeat = Heartbeat(heartbeat_ms)
        settle_window(self.window)
        self.heartbeat.start()
        self.results: list[StepResult] = []

    # --- helpers ---------------------------------------------------------------------------------------
    def job_end(self, name: str, since: float, timeout_s: float) -> tuple[float, str, str, str]:
        wait_for(f"the job {name!r} to end", timeout_s,
                 lambda: any(t > since and n.startswith(name) for t, n, _, _ in self.ended))
        return next(e for e in self.ended if e[0] > since and e[1].startswith(name))

    def no_job(self, timeout_s: float = 30) -> None:
        if self.session.busy:
            find_action(self.window, "Cancel job").trigger()
            spin(timeout_s, lambda: not self.session.busy)

    def focus_grid(self) -> None:
        find_action(self.window, "Photos").trigger()
        self.window.activateWindow()
        self.window.grid.setFocus()
        spin(self.settle_s)

    def key(self, key, modifiers=None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.keyClick(self.window.grid, key, modifiers or Qt.KeyboardModifier.NoModifier)

    def class_counts(self) -> str:
        """The classes panel's lines, as the user reads them ("1  lake    (100000)")."""
        panel = self.window.classes_panel.list
        return "; ".join(" ".join(panel.item(i).text().split()) for i in range(panel.count()))

    def select_rows(self, first: int, last: int) -> None:
        """Rows first..last selected, as a click and a shift-click on them would."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        model = self.window.grid.model()
        self.window.grid.selectionModel().select(QItemSelection(model.index(first, 0), model.index(last, 0)),
                                                 QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_rows(self) -> int:
        return sum(r.height() for r in self.window.grid.selectionModel().selection())

    def measure(self, name: str, action: Callable[[float], tuple[float, str] | float]) -> StepResult:
        """Run one step: `action(t0)` does it and returns when it is done (and a note); its stall is measured
        from t0 to then."""
        result = StepResult(name)
        spin(self.settle_s)
        t0 = NOW()
        try:
            done = action(t0)
            end, note = done if isinstance(done, tuple) else (done, "")
            result.wall_s, result.note = end - t0, note
            result.stall_ms = self.heartbeat.longest_ms(t0, end)
        except StepTimeout as exc:
            result.status, result.note = "timeout", f"waited for {exc}"
            result.stall_ms = self.heartbeat.longest_ms(t0, NOW())
            self.no_job()
        except Exception as exc:  # a broken step is reported; the run goes on
            result.status, result.note = "error", f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            self.no_job()
        spin(self.settle_s)
        result.rss_mb = memory_mb("VmRSS")
        self.results.append(result)
        print(f"RESULT {json.dumps(asdict(result))}", flush=True)
        return result

    # --- the steps ---------------------------------------------------------------------------------------
    def open_folder(self, name: str, first_screen: bool) -> StepResult:
        from lakeview.gui.main_window import MainWindow

        def act(t0: float):
            asked = MainWindow.__dict__["ask_folder"]
            MainWindow.ask_folder = classmethod(lambda cls, parent: self.folder)  # the folder dialog's answer
            try:
                find_action(self.window, "Open folder").trigger()
            finally:
                MainWindow.ask_folder = asked
            returned = NOW()
            if first_screen:
                shown = self.screen.first_screen(t0, lambda n: n == self.count, self.timeout_s)
                end = self.job_end("Opening folder", t0, self.timeout_s)
                return max(shown, end[0]), (f"first screen at {shown - t0:.2f} s; the job ended at {end[0] - t0:.2f} s; "
                                            f"the action returned in {(returned - t0) * 1e3:.0f} ms")
            end = self.job_end("Opening folder", t0, self.timeout_s)
            wait_for("rows", self.timeout_s, lambda: self.screen.rows() == self.count)
            return NOW(), f"{self.screen.rows()} rows; {end[2].lower()} {end[3]}".strip()

        return self.measure(name, act)

    def filter_to(self, name: str, entry: str, expected: int) -> StepResult:
        def act(t0: float):
            self.window.filter_bar.filter_box.setCurrentText(entry)
            return self.screen.first_screen(t0, lambda n: n == expected, self.timeout_s), f"'{entry}': {expected} rows"

        return self.measure(name, act)

    def make_class(self, name: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        field_ = self.window.classes_panel.name
        field_.setFocus()
        QTest.keyClicks(field_, name)
        QTest.keyClick(field_, Qt.Key.Key_Return)
        spin(self.settle_s)

    def select_all(self) -> StepResult:
        from PySide6.QtCore import Qt

        self.focus_grid()

        def act(t0: float):
            self.key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            wait_for("all rows selected", self.timeout_s, lambda: self.selected_rows() == self.screen.rows())
            return self.screen.painted_after(t0, self.timeout_s), f"{self.selected_rows()} selected"

        return self.measure("select all", act)

    def press_and_wait_labels(self, name: str, key, modifiers=None) -> StepResult:
        def act(t0: float):
            self.key(key, modifiers)
            wait_for("labels announced", self.timeout_s, lambda: max(self.labels_at, self.rows_at) > t0)
            end = self.screen.painted_after(max(self.labels_at, self.rows_at), self.timeout_s)
            asked = f"; asked and answered: {self.answerer.answered[-1]}" if self.answerer.answered else ""
            self.answerer.answered.clear()
            return end, self.class_counts() + asked

        return self.measure(name, act)

    def classify(self, model: Path) -> None:
        """Model > Classify folder: "classify start" until the job has started (its stall to 1 s after), "classify
        run" from the trigger until the job ends."""
        self.no_job()
        self.session.use_model_file(model)  # the user's way is a file dialog; this is the session's public method
        spin(self.settle_s)
        self.focus_grid()
        spin(self.settle_s)
        start, run = StepResult("classify start"), StepResult("classify run")
        t0 = NOW()
        try:
            find_action(self.window, "Classify folder").trigger()
            returned = NOW()
            wait_for("the job to start", self.timeout_s, lambda: any(t > t0 for t, _ in self.started))
            started = next(t for t, _ in self.started if t > t0)
            start.wall_s = started - t0
            start.note = f"action returned in {(returned - t0) * 1e3:.0f} ms; stall until 1 s after the start"
            spin(1.0)
            start.stall_ms = self.heartbeat.longest_ms(t0, started + 1.0)
            start.rss_mb = memory_mb("VmRSS")
            end = self.job_end("Classify", t0, self.timeout_s * 4)
            run.wall_s, run.stall_ms = end[0] - t0, self.heartbeat.longest_ms(t0, end[0])
            run.note = f"{self.count / run.wall_s:.0f} photos/s; {end[2].lower()} {end[3]}".strip()
            run.extra["photos_per_s"] = self.count / run.wall_s
        except StepTimeout as exc:
            for result in (start, run):
                if result.wall_s is None:
                    result.status, result.note = "timeout", f"waited for {exc}"
                    result.stall_ms = self.heartbeat.longest_ms(t0, NOW())
            self.no_job()
        spin(self.settle_s)
        run.rss_mb = memory_mb("VmRSS")
        for result in (start, run):
            start.rss_mb = start.rss_mb or run.rss_mb
            self.results.append(result)
            print(f"RESULT {json.dumps(asdict(result))}", flush=True)

    def retrain(self) -> StepResult:
        from PySide6.QtCore import Qt

        self.no_job()
        self.focus_grid()
        rows = self.screen.rows()
        chunk = max(2, min(300, rows // 10))
        for number, first in ((2, 0), (3, chunk)):  # some photos of each of the model's classes
            self.select_rows(first, min(rows, first + chunk) - 1)
            self.key(getattr(Qt.Key, f"Key_{number}"))
            spin(self.settle_s)
        spin(self.settle_s)
        self.no_job(120)  # one the scheduler started on these corrections is cancelled: the menu's is measured

        def act(t0: float):
            find_action(self.window, "Retrain on my labels").trigger()
            end = self.job_end("Retrain", t0, self.timeout_s * 4)
            return end[0], f"{end[2].lower()}: {end[3]}"

        return self.measure("retrain", act)

    def rename(self) -> StepResult:
        panel = self.window.classes_panel
        self.no_job()
        self.answerer.text = RENAMED

        def act(t0: float):
            item = panel.list.item(0)
            next(a for a in panel.class_menu(item).actions() if a.text().startswith("Rename")).trigger()
            wait_for("the panel shows the new name", self.timeout_s,
                     lambda: panel.list.count() and RENAMED in panel.list.item(0).text().split())
            end = self.screen.painted_after(max(t0, self.rows_at), self.timeout_s)
            return end, self.class_counts()

        return self.measure("rename", act)

    def close(self) -> None:
        self.no_job()
        self.heartbeat.stop()
        self.answerer.timer.stop()
        self.window.close()
        spin(self.settle_s)


def run_phase(phase: str, work: Path, folder: Path, count: int, steps: list[str], heartbeat_ms: int = HEARTBEAT_MS,
              timeout_s: float = 300, settle_s: float = 0.3) -> list[StepResult]:
    """One process's part: "first" catalogues the folder, "second" opens it again and takes the other steps.
    A step not in `steps` still runs when a later one needs what it leaves (the labels, a model), unreported."""
    driver = Driver(work, folder, count, heartbeat_ms, timeout_s, settle_s)
    try:
        if phase == "first":
            driver.open_folder("open", first_screen=False)
            return [r for r in driver.results if "open" in steps]
        driver.open_folder("open again", first_screen=True)
        from PySide6.QtCore import Qt

        if "filter" in steps:
            driver.filter_to("filter", "Unlabelled", count)
            driver.filter_to("filter back", "All photos", count)
        needs_labels = any(s in steps for s in ("label", "undo", "retrain", "rename"))
        if needs_labels:
            driver.make_class(CLASS_NAME)
            driver.select_all()
            driver.press_and_wait_labels("label", Qt.Key.Key_1)
        if "undo" in steps:
            driver.press_and_wait_labels("undo", Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            driver.press_and_wait_labels("redo", Qt.Key.Key_Z,
                                         Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        if "classify" in steps or "retrain" in steps:
            model = tiny_model_file(work / "tiny.lvmodel")
            driver.classify(model)
        if "retrain" in steps:
            driver.retrain()
        if "rename" in steps:
            driver.rename()
        return [r for r in driver.results if any(r.step in STEP_GROUPS[s] for s in steps)]
    finally:
        peak = memory_mb("VmHWM")
        driver.close()
        print(f"PEAK {json.dumps({'phase': phase, 'peak_rss_mb': peak})}", flush=True)


# ---------------------------------------------------------------------------------------------- driver

def child_main(args) -> int:
    steps = args.steps.split(",")
    run_phase(args.phase, Path(args.work), Path(args.folder), args.count, steps, args.heartbeat_ms, args.timeout)
    return 0


def run_child(phase: str, args, work: Path, folder: Path) -> tuple[list[dict], float | None, str]:
    """One phase in its own process; its results, its peak RSS, and how it ended."""
    command = [sys.executable, __file__, "--phase", phase, "--work", str(work), "--folder", str(folder),
               "--count", str(args.count), "--steps", args.steps, "--heartbeat-ms", str(args.heartbeat_ms),
               "--timeout", str(args.timeout)]
    results, peak, how = [], None, "ok"
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    killer = threading.Timer(args.timeout * 12 + 300, child.kill)
    killer.start()
    try:
        for line in child.stdout:
            line = line.rstrip("\n")
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
                r = results[-1]
                print(f"  [{phase}] {r['step']}: {r['status']}, {r['wall_s']} s, stall {r['stall_ms']} ms", flush=True)
            elif line.startswith("PEAK "):
                peak = json.loads(line[5:])["peak_rss_mb"]
            else:
                print(f"  [{phase}] {line}", flush=True)
        code = child.wait()
    finally:
        killed = not killer.is_alive()
        killer.cancel()
    if killed:
        how = "timeout (the process was killed)"
    elif code != 0:
        how = f"exit status {code}"
    return results, peak, how


def print_table(count: int, rows: list[dict], peaks: dict[str, float | None]) -> None:
    def cell(value, form: str) -> str:
        return "-" if value is None else format(value, form)

    print(f"\n=== {count:,} photos ===")
    print(f"{'step':<16}{'status':<9}{'wall s':>9}{'stall ms':>10}{'RSS MB':>9}  note")
    for r in rows:
        print(f"{r['step']:<16}{r['status']:<9}{cell(r['wall_s'], '9.2f')}{cell(r['stall_ms'], '10.0f')}"
              f"{cell(r['rss_mb'], '9.0f')}  {r['note']}")
    for phase, peak in peaks.items():
        print(f"peak RSS (VmHWM) of the {phase} process: {cell(peak, '.0f')} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="photos in the library (default 100,000)")
    parser.add_argument("--folder", help="where the library is made, or reused (default: under the temp folder)")
    parser.add_argument("--steps", default=",".join(STEP_GROUPS),
                        help=f"a subset of {','.join(STEP_GROUPS)} (default: all)")
    parser.add_argument("--heartbeat-ms", type=int, default=HEARTBEAT_MS)
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds a step may take before it reports 'timeout' (a classification or retrain: 4x)")
    parser.add_argument("--phase", choices=("first", "second"), help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.steps.split(",")) - set(STEP_GROUPS)
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    if args.phase:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return child_main(args)

    folder = make_library(Path(args.folder) if args.folder else
                          Path(tempfile.gettempdir()) / "lakeview-library-scale" / f"photos-{args.count}", args.count)
    import shutil

    work = Path(tempfile.mkdtemp(prefix="lakeview-library-scale-"))
    os.environ["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAKEVIEW_CACHE_DIR"] = str(work / "cache")
    os.environ["LAKEVIEW_DATA_DIR"] = str(work / "data")
    os.environ.pop("LAKEVIEW_CATALOG", None)
    print(f"LakeView library scale · {args.count:,} photos in {folder} · {os.cpu_count()} CPU cores · "
          f"Python {sys.version.split()[0]} · {WINDOW[0]}x{WINDOW[1]} offscreen")
    print(f"before: {load_line()}", flush=True)
    rows: list[dict] = []
    peaks: dict[str, float | None] = {}
    try:
        for phase in ("first", "second"):
            results, peaks[phase], how = run_child(phase, args, work, folder)
            rows += results
            if how != "ok":
                print(f"  [{phase}] the process ended: {how}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(args.count, rows, peaks)
    print(f"after: {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
