"""How long the real app window's event loop stalls while it classifies a folder and while it trains.

Not a test: run it on purpose. Each situation runs in its own process (so torch is imported when the app
imports it, as for a user), with MainWindow + LibrarySession on a temporary catalog, QSettings on a temporary
ini file, empty thumbnail and data folders, the window 1280x800 (offscreen unless QT_QPA_PLATFORM says
otherwise):

  classify: open a folder of N camera-sized JPEGs (2000x1500 q90, made once from the hymenoptera photos,
            synthetic pictures if ../shared is absent) with window.open_folder, make a resnet34 with random
            ImageNet-shaped weights the active model, then session.classify() with the Photos tab visible and
            its scrollbar moved every 100 ms, so tiles are repainted and thumbnails made while predictions
            stream in;
  train:    the Train tab trains mobilenet_v2 from ../shared/weights/mobilenet_v2-imagenet.pth on
            ../shared/data/hymenoptera (frozen epochs, then unfrozen ones) with the tab visible, so the live
            pyqtgraph curves redraw every epoch.

A 5 ms precise QTimer measures the event loop: a stall is the gap between two ticks minus 5 ms, from just
before the action (so its own call is counted) until 1 s after the job ends. Every stall over 50 ms is listed
with what the GUI thread was doing meanwhile: the app's slots and paint handlers it ran (timed by wrappers
installed before the window is built), the session's signals and noted calls around it, the GUI thread's
Python stack (and the other threads') sampled by a watchdog thread while the loop was stuck, and, from Linux's
/proc schedstat, how the GUI thread spent the stall: on a CPU (real work), waiting for a CPU (a loaded
machine), or neither (blocked: nearly always waiting for the GIL). --bare measures without the wrappers and
the watchdog; --profile adds a cProfile of the GUI thread over the measured window (it slows that thread:
take the stall figures from a run without it).

    .venv/bin/python benchmarks/gui_stall.py                      # both situations, 500 photos
    .venv/bin/python benchmarks/gui_stall.py --skip-train --photos 200
    .venv/bin/python benchmarks/gui_stall.py --skip-classify --epochs 4 --train-subset 40

Rule of the app: no work over 50 ms on the GUI thread. The machine's load (uptime) is printed beside the
figures: on a loaded 2-core machine the GUI thread also waits for a core.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HYMENOPTERA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
PHOTO_SIZE = (2000, 1500)
QUALITY = 90
WINDOW = (1280, 800)
TICK_MS = 5
STALL_MS = 50.0
SCROLL_MS = 100
SCROLL_PX = 150
TAIL_S = 1.0
WATCH_EVERY_S = 0.01
WATCH_AFTER_S = 0.03
SLOW_CALL_MS = 5.0
BENCH_TMP = Path(tempfile.gettempdir()) / "lakeview-gui-stall"


def load_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        one, five, fifteen = os.getloadavg()
        return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


# ----------------------------------------------------------------------------------------------- inputs

def _cover(image, width: int, height: int):
    from PIL import Image

    scale = max(width / image.width, height / image.height)
    size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    resized = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))


def _make_photo(job: tuple[str, str | None, int]) -> None:
    """One camera-like JPEG: a random crop of a source photo scaled to 2000x1500 (every 5th one portrait),
    with sensor-like grain so it compresses like a camera's file, not like a smooth upscale."""
    import numpy as np
    from PIL import Image

    target, source, index = job
    rng = np.random.default_rng(index)
    width, height = PHOTO_SIZE if index % 5 else PHOTO_SIZE[::-1]
    if source is not None:
        with Image.open(source) as im:
            image = im.convert("RGB")
        crop = rng.uniform(0.7, 1.0)
        w, h = max(8, int(image.width * crop)), max(8, int(image.height * crop))
        x, y = int(rng.integers(0, image.width - w + 1)), int(rng.integers(0, image.height - h + 1))
        image = _cover(image.crop((x, y, x + w, y + h)), width, height)
        if index % 2:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    else:
        yy, xx = np.mgrid[0:height, 0:width] / np.array([height, width]).reshape(2, 1, 1)
        top, bottom = rng.uniform(40, 230, 3), rng.uniform(20, 200, 3)
        pixels = top * (1 - yy[..., None]) + bottom * yy[..., None]
        for _ in range(int(rng.integers(3, 7))):
            cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
            pixels = pixels * (1 - blob) + rng.uniform(0, 255, 3) * blob
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    grain = rng.normal(0, 4.0, (height, width, 1)) + rng.normal(0, 2.5, (height, width, 3))
    pixels = np.asarray(image, dtype=np.int16) + grain.astype(np.int16)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    partial = target + ".part"
    image.save(partial, "JPEG", quality=QUALITY)
    os.replace(partial, target)


def make_photos(count: int) -> tuple[Path, str]:
    """A folder of exactly `count` JPEGs, made once and reused by later runs."""
    folder = BENCH_TMP / f"photos-{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}-q{QUALITY}-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in HYMENOPTERA.rglob("*.jpg")) if HYMENOPTERA.is_dir() else []
    origin = (f"crops of the {len(sources)} hymenoptera photos" if sources
              else "SYNTHETIC pictures (../shared/data/hymenoptera not found)")
    jobs = [(str(folder / f"IMG_{i:04d}.jpg"), str(sources[i % len(sources)]) if sources else None, i)
            for i in range(count) if not (folder / f"IMG_{i:04d}.jpg").is_file()]
    if jobs:
        print(f"making {len(jobs)} JPEGs of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} q{QUALITY} in {folder} "
              "(once; later runs reuse them) ...", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(_make_photo, jobs, chunksize=8))
        print(f"  made in {time.perf_counter() - started:.0f} s", flush=True)
    megabytes = sum(p.stat().st_size for p in folder.glob("*.jpg")) / 2**20
    return folder, f"{origin}, {megabytes / max(count, 1):.1f} MB each"


def make_model_file() -> Path:
    """A resnet34 .lvmodel with random weights (timing only), made in a child process so that this one does
    not import torch before the app does."""
    path = BENCH_TMP / "resnet34-random.lvmodel"
    if not path.is_file():
        code = ("import sys; from pathlib import Path\n"
                "from lakeview.core.models.network import bare_network\n"
                "from lakeview.core.models.model_file import ModelMeta, save_model\n"
                "net = bare_network('resnet34', 2)\n"
                "save_model(Path(sys.argv[1]), net, ModelMeta(arch='resnet34', classes=['ants', 'bees'], size=224))\n")
        BENCH_TMP.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=REPO)
    return path


def make_training_folder(per_class: int) -> Path:
    """The hymenoptera folder itself, or a copy with at most `per_class` photos per class in each split."""
    if per_class <= 0:
        return HYMENOPTERA
    folder = BENCH_TMP / f"hymenoptera-{per_class}"
    if not folder.is_dir():
        partial = folder.with_suffix(".part")
        shutil.rmtree(partial, ignore_errors=True)
        for split in sorted(p for p in HYMENOPTERA.iterdir() if p.is_dir()):
            for cls in sorted(p for p in split.iterdir() if p.is_dir()):
                (partial / split.name / cls.name).mkdir(parents=True)
                for photo in sorted(cls.glob("*.jpg"))[:per_class]:
                    shutil.copyfile(photo, partial / split.name / cls.name / photo.name)
        os.replace(partial, folder)
    return folder


# ----------------------------------------------------------------------------------------- measurement

NOW = time.perf_counter
MAIN_THREAD = threading.get_ident()


class CallLog:
    """Wrappers that time app methods run on the GUI thread: every call's total, and each slow one's time."""

    def __init__(self) -> None:
        self.active = False
        self.events: list[tuple[float, str]] | None = None  # the situation's event log, for noted calls
        self.slow: list[tuple[float, float, str]] = []  # (start, seconds, name)
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])  # count, seconds, max

    def wrap(self, owner, name: str, label: str | None = None, note=None) -> None:
        """`note(args)`: also log each call (with what `note` says of its arguments) among the events."""
        original = getattr(owner, name, None)
        if original is None:  # the app changed: time what is still there
            print(f"(not timed: {getattr(owner, '__name__', owner)}.{name} is gone)")
            return
        label = label or f"{getattr(owner, '__name__', owner)}.{name}"
        log = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if not log.active or threading.get_ident() != MAIN_THREAD:
                return original(*args, **kwargs)
            started = NOW()
            if note is not None and log.events is not None:
                log.events.append((started, f"{label}({note(args)})"))
            try:
                return original(*args, **kwargs)
            finally:
                seconds = NOW() - started
                total = log.totals[label]
                total[0] += 1
                total[1] += seconds
                total[2] = max(total[2], seconds)
                if seconds * 1e3 >= SLOW_CALL_MS:
                    log.slow.append((started, seconds, label))

        setattr(owner, name, timed)


class Watchdog(threading.Thread):
    """Samples the GUI thread's Python stack whenever the probe has not ticked for WATCH_AFTER_S. When the GUI
    thread runs Qt's C++ (painting, layout) or waits for the GIL, the innermost frame is the Python code that
    called into Qt: the benchmark's own event loop for a stall inside the loop itself."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="stall-watchdog")
        self.last_tick = NOW()
        self.active = False
        self.samples: list[tuple[float, str, tuple[str, ...]]] = []
        self.sched: list[tuple[float, int, int]] = []
        """(time, GUI thread's ns on a CPU, its ns waiting in the run queue) from Linux's schedstat."""
        self._schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")  # built on the GUI thread
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(WATCH_EVERY_S):
            if not self.active:
                continue
            self._read_sched()
            if NOW() - self.last_tick < WATCH_AFTER_S:
                continue
            frames = sys._current_frames()
            main = frames.pop(MAIN_THREAD, None)
            if main is None:
                continue
            others = [self._where(frame, 3) for ident, frame in frames.items() if ident != threading.get_ident()]
            # The other threads' stacks, as found when this thread got the GIL: one of them may have held it.
            self.samples.append((NOW(), self._where(main, 5) or "the event loop itself (Qt C++, or waiting for the GIL)",
                                 tuple(sorted(o for o in others if o))))

    def _read_sched(self) -> None:
        try:
            on_cpu, waiting, _ = self._schedstat.read_text().split()
        except (OSError, ValueError):
            return
        self.sched.append((NOW(), int(on_cpu), int(waiting)))

    def where_time_went(self, begin: float, end: float, rest: str = "blocked (GIL, locks)") -> str | None:
        """How the GUI thread spent [begin, end]: on a CPU (Python or Qt code), waiting for a CPU (the machine
        is busy), or neither: blocked, nearly always on the GIL. From the schedstat samples around it."""
        if len(self.sched) < 2:
            return None
        before = [s for s in self.sched if s[0] <= begin] or self.sched[:1]
        after = [s for s in self.sched if s[0] >= end] or self.sched[-1:]
        (t0, cpu0, wait0), (t1, cpu1, wait1) = before[-1], after[0]
        if t1 <= t0:
            return None
        span = (t1 - t0) * 1e3
        cpu, wait = (cpu1 - cpu0) / 1e6, (wait1 - wait0) / 1e6
        return (f"GUI thread over {span:.0f} ms around it: on a CPU {cpu:.0f} ms, waiting for a CPU {wait:.0f} ms, "
                f"{rest} {max(0.0, span - cpu - wait):.0f} ms")

    @staticmethod
    def _where(frame, depth: int) -> str:
        stack = [f for f in traceback.extract_stack(frame)
                 if Path(f.filename).name != Path(__file__).name or f.name in ("timed", "tick")]
        stack = [f for f in stack if f.name != "timed"]
        return " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack[-depth:]))

    def stop(self) -> None:
        self._stop.set()


class Probe:
    def __init__(self, watchdog: Watchdog) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.watchdog = watchdog
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.stalls_ms: list[float] = []
        self.times: list[float] = []
        self.long: list[tuple[float, float, float]] = []  # (start, end, stall ms)
        self.last = NOW()

    def start(self) -> None:
        self.stalls_ms.clear()
        self.times.clear()
        self.long.clear()
        self.last = NOW()
        self.watchdog.last_tick = self.last
        self.watchdog.active = True
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.watchdog.active = False

    def _tick(self) -> None:
        now = NOW()
        stall = max(0.0, (now - self.last) * 1e3 - TICK_MS)
        self.stalls_ms.append(stall)
        self.times.append(now)
        if stall > STALL_MS:
            self.long.append((self.last, now, stall))
        self.last = now
        self.watchdog.last_tick = now


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def spin(seconds: float, until=None) -> bool:
    """Run the event loop for at most `seconds`, or until `until()` is true (checked every 20 ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = NOW() + seconds
    done = [False]

    def check() -> None:
        if until is not None and until():
            done[0] = True
            loop.quit()
        elif NOW() >= deadline:
            loop.quit()
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(check)
    poll.start()
    check()
    if not done[0] and NOW() < deadline:
        loop.exec()
    poll.stop()
    return done[0] if until is not None else True


def instrument(log: CallLog) -> None:
    """Time the GUI-thread work the app does during the jobs. Installed on the classes before the window is
    built, so signal connections made in constructors reach the timed versions."""
    import pyqtgraph as pg

    from lakeview.core.catalog import Catalog
    from lakeview.gui import main_window, plots, session, training_panel
    from lakeview.gui.grid import delegate, model, thumbnails, view
    from lakeview.gui import interpretation_view, job_status

    for name in ("update_predictions", "update_labels", "set_rows", "set_class_colours", "_emit_changed",
                 "_on_thumbnail", "_on_failed", "data"):
        log.wrap(model.PhotoGridModel, name)
    log.wrap(delegate.PhotoDelegate, "paint")
    log.wrap(thumbnails.ThumbnailLoader, "_on_done")
    log.wrap(thumbnails.ThumbnailLoader, "request")
    for name in ("_reload_rows", "_refresh_classes", "_refresh_model_label", "_job_ended", "_trained"):
        log.wrap(main_window.MainWindow, name)
    for name in ("rows", "use_model_file", "classify", "open_folder", "start_job", "_forget"):
        log.wrap(session.LibrarySession, name)
    log.wrap(job_status.JobStatus, "update_progress")
    log.wrap(job_status.JobStatus, "start")
    log.wrap(job_status.JobStatus, "finish")
    for name in ("_training_finished", "start_training", "refresh_summary", "show_counts", "_job_ended",
                 "_close_download"):
        log.wrap(training_panel.TrainingPanel, name)
    log.wrap(training_panel.TrainingPanel, "_event", note=lambda args: type(args[1]).__name__)
    log.wrap(plots.TrainingCurves, "add_epoch")
    log.wrap(plots.TrainingCurves, "clear")
    log.wrap(interpretation_view.InterpretationView, "show_interpretation")
    log.wrap(interpretation_view.InterpretationView, "_thumbnail_ready")
    log.wrap(pg.GraphicsView, "paintEvent", "pyqtgraph.GraphicsView.paintEvent")
    log.wrap(pg.GraphicsView, "resizeEvent", "pyqtgraph.GraphicsView.resizeEvent",
             note=lambda args: f"{args[1].oldSize().width()}x{args[1].oldSize().height()} -> "
                               f"{args[1].size().width()}x{args[1].size().height()}")
    log.wrap(pg.PlotCurveItem, "paint", "pyqtgraph.PlotCurveItem.paint")
    log.wrap(pg.ScatterPlotItem, "paint", "pyqtgraph.ScatterPlotItem.paint")
    log.wrap(pg.AxisItem, "paint", "pyqtgraph.AxisItem.paint")
    log.wrap(view.PhotoGrid, "paintEvent", "PhotoGrid.paintEvent (tiles)")
    names = {name for cls in Catalog.__mro__ if cls.__module__.startswith("lakeview.core.catalog")
             for name, attr in vars(cls).items()
             if callable(attr) and not name.startswith("_") and not isinstance(attr, (staticmethod, classmethod))}
    for name in sorted(names):
        log.wrap(Catalog, name, f"Catalog.{name} (GUI thread)")


def report(title: str, probe: Probe, started: float, ended: float | None, measured_end: float, log: CallLog,
           watchdog: Watchdog, events: list[tuple[float, str]], extra: list[str], returned: float) -> dict:
    """`returned`: when the action's own call returned; the stalls after it are the job's."""
    stalls = probe.stalls_ms
    longest = max(stalls, default=0.0)
    during = [s for s, t in zip(stalls, probe.times) if t - s / 1e3 >= returned]
    result = {"situation": title, "longest_ms": longest, "p99_ms": percentile(stalls, 99),
              "over_50": len(probe.long), "ticks": len(stalls),
              "job_s": (ended - started) if ended is not None else None,
              "action_ms": (returned - started) * 1e3, "during_longest_ms": max(during, default=0.0),
              "during_over_50": sum(s > STALL_MS for s in during)}
    print(f"\n=== {title} ===")
    print(f"load: {load_line()}")
    for line in extra:
        print(line)
    print(f"job duration {result['job_s']:.1f} s" if ended is not None else "job did not end in time")
    print(f"event loop, {len(stalls)} ticks of {TICK_MS} ms from the action until {TAIL_S:g} s after the job ended "
          f"({measured_end - started:.1f} s):")
    print(f"  longest stall {longest:.0f} ms · p99 {result['p99_ms']:.1f} ms · p99.9 {percentile(stalls, 99.9):.1f} ms"
          f" · stalls > {STALL_MS:.0f} ms: {len(probe.long)} · > 20 ms: {sum(s > 20 for s in stalls)}")
    print(f"  the action's own call took {result['action_ms']:.0f} ms; after it returned: longest stall "
          f"{result['during_longest_ms']:.0f} ms, {result['during_over_50']} > {STALL_MS:.0f} ms")
    if probe.long:
        print(f"  stalls over {STALL_MS:.0f} ms (t from the action; GUI-thread calls >= {SLOW_CALL_MS:.0f} ms overlapping; "
              "signals in it; stack samples):")
    for begin, end, stall in probe.long:
        print(f"  - t={begin - started:7.3f} s  {stall:6.0f} ms")
        calls = [(s, d, n) for s, d, n in log.slow if s < end and s + d > begin]
        for s, d, n in sorted(calls, key=lambda c: -c[1])[:8]:
            print(f"      {d * 1e3:7.1f} ms  {n}  (at t={s - started:.3f})")
        near = Counter(name for t, name in events if begin - 0.005 <= t <= end)
        if near:
            print("      signals: " + ", ".join(f"{n} x{c}" if c > 1 else n for n, c in near.most_common(6)))
        spent = watchdog.where_time_went(begin, end)
        if spent:
            print(f"      {spent}")
        samples = Counter(where for t, where, _ in watchdog.samples if begin <= t <= end)
        for where, count in samples.most_common(3):
            print(f"      GUI stack x{count}: {where}")
        others = Counter(o for t, _, group in watchdog.samples if begin <= t <= end for o in group)
        for where, count in others.most_common(4):
            print(f"      other thread x{count}: {where}")
    whole = watchdog.where_time_went(started, measured_end, "idle or blocked")
    if whole:
        print(f"  {whole.replace(' around it', '')}")
    busiest = sorted(((v[2], v[1], v[0], k) for k, v in log.totals.items()), reverse=True)[:12]
    print("  GUI-thread calls, by longest single call (max ms / total ms / calls):")
    for longest_call, total, count, name in busiest:
        print(f"      {longest_call * 1e3:7.1f} / {total * 1e3:8.1f} / {count:6d}  {name}")
    return result


# ------------------------------------------------------------------------------------------- situations

def situation_main(args) -> int:
    work = Path(tempfile.mkdtemp(prefix=f"lakeview-stall-{args.situation}-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAKEVIEW_CACHE_DIR"] = str(work / "cache")  # an empty thumbnail cache: thumbnails are made
    os.environ["LAKEVIEW_DATA_DIR"] = str(work / "data")
    os.environ.pop("LAKEVIEW_CATALOG", None)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    log = CallLog()
    if not args.bare:
        instrument(log)
    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession

    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    try:  # past the first-run welcome, as the tests' windows
        from lakeview.gui.welcome import SHOW_KEY
        settings.setValue(SHOW_KEY, False)
    except ImportError:
        pass
    session = LibrarySession(work / "library" / "catalog.sqlite")
    window = MainWindow(session, settings)
    window.resize(*WINDOW)
    window.show()
    events: list[tuple[float, str]] = []
    log.events = events
    ended: list[tuple[float, str, str]] = []
    session.job_started.connect(lambda name: events.append((NOW(), f"job_started({name})")))
    session.job_progress.connect(lambda done, total: events.append((NOW(), "job_progress")))
    session.predictions_changed.connect(lambda m: events.append((NOW(), f"predictions_changed({len(m)})")))
    session.rows_changed.connect(lambda: events.append((NOW(), "rows_changed")))
    session.model_changed.connect(lambda: events.append((NOW(), "model_changed")))
    session.classes_changed.connect(lambda: events.append((NOW(), "classes_changed")))
    session.job_ended.connect(lambda end: (events.append((NOW(), f"job_ended({end.name})")),
                                           ended.append((NOW(), end.name, end.message))))
    window.tabs.currentChanged.connect(lambda i: events.append((NOW(), f"tab({window.tabs.tabText(i)})")))
    watchdog = Watchdog()
    if not args.bare:
        watchdog.start()
    probe = Probe(watchdog)

    # The window settles: the device is detected in a worker (which imports torch, as on every start).
    probe.start()
    shown = NOW()
    spin(60, lambda: not window.device_label.text().endswith("…"))
    detected = NOW() - shown
    spin(0.5)
    probe.stop()
    print(f"[{args.situation}] window start, torch imported in a worker: longest stall "
          f"{max(probe.stalls_ms, default=0.0):.0f} ms until the device was detected ({detected:.1f} s)", flush=True)
    spin(0.5)
    probe.start()
    spin(2.0)
    probe.stop()
    idle = max(probe.stalls_ms, default=0.0)
    print(f"[{args.situation}] idle window: longest stall {idle:.0f} ms over 2 s; {window.device_label.text()}",
          flush=True)

    def wait_job(name: str, timeout: float) -> float | None:
        if not spin(timeout, lambda: any(n == name for _, n, _ in ended)):
            return None
        return next(t for t, n, _ in ended if n == name)

    def message_of(name: str) -> str:
        return next((m for _, n, m in ended if n == name), "(did not end)")

    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()

    results: dict
    if args.situation == "classify":
        folder = Path(args.folder)
        window.tabs.setCurrentWidget(window.grid)
        log.active = True
        probe.start()
        opened = NOW()
        window.open_folder(folder)
        open_returned = NOW()
        opened_at = wait_job("Opening folder", 600)
        spin(TAIL_S)
        probe.stop()
        open_result = report("open the folder (cold thumbnails; no scrolling)", probe, opened, opened_at, NOW(), log,
                             watchdog, events, [f"{session.catalog.photo_count()} photos recorded; "
                                                f"{window.model.rowCount()} rows in the grid; "
                                                f"message: {message_of('Opening folder') or 'ok'}"],
                             open_returned)
        spin(3.0, lambda: window.model.loader.pending() == 0)  # the first screen's thumbnails
        log.slow.clear()
        log.totals.clear()
        events.clear()
        watchdog.samples.clear()
        watchdog.sched.clear()

        before = NOW()
        session.use_model_file(Path(args.model))
        use_model_ms = (NOW() - before) * 1e3
        scrollbar = window.grid.verticalScrollBar()
        direction = [1]

        def scroll() -> None:
            if scrollbar.value() >= scrollbar.maximum():
                direction[0] = -1
            elif scrollbar.value() <= scrollbar.minimum():
                direction[0] = 1
            scrollbar.setValue(scrollbar.value() + direction[0] * SCROLL_PX)
            events.append((NOW(), "scroll"))
        from PySide6.QtCore import QTimer
        scroller = QTimer()
        scroller.setInterval(SCROLL_MS)
        scroller.timeout.connect(scroll)
        probe.start()
        scroller.start()
        if profiler:
            profiler.enable()
        started = NOW()
        session.classify()
        returned = NOW()
        classify_call_ms = (returned - started) * 1e3
        done_at = wait_job("Classify", 3600)
        spin(TAIL_S)
        if profiler:
            profiler.disable()
        scroller.stop()
        probe.stop()
        predicted = sum(window.model.entry_at(r).predicted is not None for r in range(window.model.rowCount()))
        photos = window.model.rowCount()
        rate = photos / (done_at - started) if done_at else 0.0
        results = report(f"classify {photos} photos (resnet34 on the CPU, grid visible and scrolling)", probe,
                         started, done_at, NOW(), log, watchdog, events,
                         [f"use_model_file took {use_model_ms:.0f} ms, session.classify() returned in "
                          f"{classify_call_ms:.0f} ms",
                          f"{predicted}/{photos} tiles show a prediction; {rate:.1f} photos/s; "
                          f"message: {message_of('Classify') or 'ok'}; scrollbar 0..{scrollbar.maximum()} px, "
                          f"{SCROLL_PX} px every {SCROLL_MS} ms; {len(window.model.loader.memory)} pixmaps cached"],
                         returned)
        results["photos_per_s"] = rate
        results["open"] = open_result
    else:
        panel = window.training_panel
        window.tabs.setCurrentWidget(panel)
        panel.set_folder(Path(args.folder))
        spin(120, lambda: panel._reader is None)
        panel.arch.setCurrentText("mobilenet_v2")
        panel.use_weights_file(Path(args.weights))
        panel.size.setValue(args.size)
        panel.batch_size.setValue(args.batch_size)
        frozen = max(1, args.epochs - max(1, args.epochs // 2))
        panel.frozen_epochs.setValue(frozen)
        panel.unfrozen_epochs.setValue(max(1, args.epochs - frozen))
        spin(0.5)
        log.active = True
        probe.start()
        if profiler:
            profiler.enable()
        started = NOW()
        panel.start_training()
        returned = NOW()
        start_call_ms = (returned - started) * 1e3
        done_at = wait_job("Training", 3600)
        spin(TAIL_S)
        if profiler:
            profiler.disable()
        probe.stop()
        epochs_seen = len(panel.curves.epochs)
        results = report(f"train mobilenet_v2 ({panel.plan().frozen_epochs} frozen + {panel.plan().unfrozen_epochs} "
                         f"unfrozen epochs, {args.size} px, batch {args.batch_size}; Train tab visible)", probe,
                         started, done_at, NOW(), log, watchdog, events,
                         [f"data: {args.folder}; {panel.summary.text()}",
                          f"start_training() returned in {start_call_ms:.0f} ms; {epochs_seen} epochs plotted; "
                          f"phases {[e.phase for e in panel.curves.epochs]}",
                          f"message: {message_of('Training') or 'ok'}; status: {panel.status.text()[:160]}"],
                         returned)
    results["idle_ms"] = idle
    if profiler:
        import io
        import pstats
        for key in ("cumulative", "tottime"):
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats(key).print_stats(25)
            print(f"\n--- cProfile of the GUI thread, by {key} ---")
            print("\n".join(stream.getvalue().splitlines()[4:40]))
    print(f"RESULT {json.dumps(results)}", flush=True)
    watchdog.stop()
    window.close()
    spin(0.1)  # deferred deletions, before the folder goes
    shutil.rmtree(work, ignore_errors=True)
    return 0


# ---------------------------------------------------------------------------------------------- driver

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=500, help="photos to classify (default 500)")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-classify", action="store_true")
    parser.add_argument("--epochs", type=int, default=3,
                        help="training epochs in all: the first half (rounded up) frozen, the rest unfrozen, at least one "
                             "of each (default 3: 2 + 1)")
    parser.add_argument("--train-subset", type=int, default=0,
                        help="at most this many photos per class in each split (default 0: all 397)")
    parser.add_argument("--size", type=int, default=224, help="training image size (default 224)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--profile", action="store_true", help="cProfile the GUI thread (slows it)")
    parser.add_argument("--bare", action="store_true",
                        help="no call timers and no stack watchdog: the stall figures alone, nothing to attribute them")
    parser.add_argument("--situation", choices=("classify", "train"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.situation:
        return situation_main(args)

    print(f"LakeView GUI stalls · {os.cpu_count()} CPU cores · Python {sys.version.split()[0]}")
    print(f"before: {load_line()}", flush=True)
    common = ["--epochs", str(args.epochs), "--size", str(args.size), "--batch-size", str(args.batch_size)]
    common += ["--profile"] * args.profile + ["--bare"] * args.bare
    results = []
    runs = []
    if not args.skip_classify:
        folder, origin = make_photos(args.photos)
        print(f"photos: {args.photos} x {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG q{QUALITY}, {origin}", flush=True)
        runs.append(["--situation", "classify", "--folder", str(folder), "--model", str(make_model_file())])
    if not args.skip_train:
        if not (HYMENOPTERA.is_dir() and WEIGHTS.is_file()):
            print("train: skipped (../shared/data/hymenoptera or ../shared/weights/mobilenet_v2-imagenet.pth missing)")
        else:
            runs.append(["--situation", "train", "--folder", str(make_training_folder(args.train_subset)),
                         "--weights", str(WEIGHTS)])
    status = 0
    for extra in runs:
        print(f"\nrunning {extra[1]} (load now: {load_line()}) ...", flush=True)
        child = subprocess.run([sys.executable, __file__, *extra, *common], cwd=REPO, stdout=subprocess.PIPE,
                               text=True)
        for line in child.stdout.splitlines():
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
            else:
                print(line)
        status |= child.returncode
    print("\n=== summary ===")
    for r in results:
        figures = (f"longest {r['longest_ms']:.0f} ms, p99 {r['p99_ms']:.1f} ms, {r['over_50']} stall(s) > 50 ms, "
                   f"job {r['job_s']:.1f} s" if r["job_s"] is not None else "job did not end")
        figures += (f"; the action's call {r['action_ms']:.0f} ms, then longest {r['during_longest_ms']:.0f} ms, "
                    f"{r['during_over_50']} > 50 ms")
        if "photos_per_s" in r:
            figures += f", {r['photos_per_s']:.1f} photos/s"
        print(f"{r['situation']}: {figures} (idle window: {r['idle_ms']:.0f} ms)")
        if "open" in r:
            o = r["open"]
            print(f"  (opening the folder before it: longest {o['longest_ms']:.0f} ms, p99 {o['p99_ms']:.1f} ms, "
                  f"{o['over_50']} > 50 ms)")
    print(f"after: {load_line()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
