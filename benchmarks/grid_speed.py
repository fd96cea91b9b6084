"""How fast the thumbnail grid opens and scrolls a folder of 10,000 photos.

Makes (once, cached) a folder of 800x600 JPEGs from the hymenoptera photos (synthetic pictures if absent), then
in one run, with the grid in a 1280x800 window (offscreen unless QT_QPA_PLATFORM says otherwise):

  (a) listing:      iter_image_files + PhotoGridModel.set_photos;
  (b) cold screen:  from set_photos until every tile of the first screen shows its thumbnail (painted), with
                    an empty thumbnail disk cache;
  (c) warm screen:  the same again with a new model, loader and memory cache over the disk cache (b) filled,
                    listing included ("reopening the folder");
  (d) stalls:       the longest gap between ticks of a 5 ms timer while the view scrolls, driven by another
                    timer: smooth scrolling (wheel / flick speed), scrollbar jumps, smooth scrolling back up.
                    Thumbnails are made in the background all the while, most of them cold.

Targets: (a) < 1 s, (b) < 1 s, (c) < 0.3 s, (d) < 50 ms. The photo files themselves stay in the OS page cache
after they are made, so "cold" means an empty thumbnail cache, not a cold disk.

    python benchmarks/grid_speed.py                    # 10,000 photos in the temp folder, reused across runs
    python benchmarks/grid_speed.py --count 2000 --folder /data/lv-grid --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
HYMENOPTERA = REPO.parent / "shared" / "data" / "hymenoptera"
WIDTH, HEIGHT = 800, 600
QUALITY = 85
WINDOW = (1280, 800)
TARGETS = {"listing": 1.0, "cold": 1.0, "warm": 0.3, "stall": 0.050}
TICK_MS = 5
SCROLL_MS = 16


# ----------------------------------------------------------------------------------------------------- photos

def source_photos() -> list[Path]:
    if not HYMENOPTERA.is_dir():
        return []
    return sorted(HYMENOPTERA.rglob("*.jpg"))


def _make_batch(jobs: list[tuple[str, str | None, int]]) -> int:
    made = 0
    cache: dict[str, Image.Image] = {}
    for target, source, index in jobs:
        rng = np.random.default_rng(index)
        if source is not None:
            if source not in cache:
                cache.clear()
                with Image.open(source) as im:
                    cache[source] = _cover(im.convert("RGB"), int(WIDTH * 1.1), int(HEIGHT * 1.1))
            base = cache[source]
            # Each copy cropped at another offset, every other round mirrored: no two files are the same.
            dx, dy = int(rng.integers(0, base.width - WIDTH + 1)), int(rng.integers(0, base.height - HEIGHT + 1))
            image = base.crop((dx, dy, dx + WIDTH, dy + HEIGHT))
            if index % 2:
                image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        else:
            image = _synthetic(rng)
        partial = target + ".part"
        image.save(partial, "JPEG", quality=QUALITY)
        os.replace(partial, target)
        made += 1
    return made


def _cover(image: Image.Image, width: int, height: int) -> Image.Image:
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                           Image.Resampling.BICUBIC)
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))


def _synthetic(rng: np.random.Generator) -> Image.Image:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / np.array([HEIGHT, WIDTH]).reshape(2, 1, 1)
    top, bottom = rng.uniform(40, 230, 3), rng.uniform(20, 200, 3)
    image = top * (1 - y[..., None]) + bottom * y[..., None]
    for _ in range(int(rng.integers(3, 7))):
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))[..., None]
        image = image * (1 - blob) + rng.uniform(0, 255, 3) * blob
    image += rng.normal(0, 4, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def make_photos(folder: Path, count: int) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    sources = source_photos()
    origin = f"hymenoptera photos ({len(sources)} distinct) cropped" if sources else \
        "SYNTHETIC pictures (../shared/data/hymenoptera not found)"
    missing = [i for i in range(count) if not (folder / f"IMG_{i:05d}.jpg").is_file()]
    if missing:
        print(f"making {len(missing)} JPEGs of {WIDTH}x{HEIGHT} in {folder} (once; later runs reuse them) ...",
              flush=True)
        started = time.perf_counter()
        # Sorted by source so that each worker resizes a source once for all its copies.
        jobs = sorted(((str(folder / f"IMG_{i:05d}.jpg"), str(sources[i % len(sources)]) if sources else None, i)
                       for i in missing), key=lambda job: (job[1] or "", job[2]))
        workers = os.cpu_count() or 1
        chunks = [jobs[k::workers * 8] for k in range(workers * 8)]
        chunks = [sorted(c, key=lambda job: (job[1] or "", job[2])) for c in chunks if c]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            made = sum(pool.map(_make_batch, chunks))
        print(f"  made {made} in {time.perf_counter() - started:.0f} s", flush=True)
    return origin


# ----------------------------------------------------------------------------------------------------- run

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--size", type=int, default=160, help="thumbnail size in logical pixels")
    parser.add_argument("--threads", type=int, default=None, help="thumbnail threads (default: one per core)")
    parser.add_argument("--scroll-seconds", type=float, default=20.0)
    args = parser.parse_args()

    folder = args.folder or Path(tempfile.gettempdir()) / f"lakeview-grid-bench-{WIDTH}x{HEIGHT}"
    origin = make_photos(folder, args.count)
    cache = Path(tempfile.mkdtemp(prefix="lakeview-grid-cache-"))
    os.environ["LAKEVIEW_CACHE_DIR"] = str(cache)  # before any loader: an empty disk cache

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from lakeview.core.photos.files import iter_image_files
    from lakeview.gui.grid import PhotoGrid, PhotoGridModel, ThumbnailLoader

    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = PhotoGrid(thumbnail_size=args.size)
    view.resize(*WINDOW)
    view.show()
    results: dict[str, float] = {}
    details: dict[str, str] = {}
    clock = QElapsedTimer()
    clock.start()

    def now() -> float:
        return clock.nsecsElapsed() / 1e9

    def list_folder() -> list[Path]:
        return [p for p in iter_image_files(folder) if p.name.startswith("IMG_")][:args.count]

    def visible_rows(model: PhotoGridModel) -> list[int]:
        area = view.viewport().rect()
        rows = []
        for row in range(min(model.rowCount(), 400)):
            rect = view.visualRect(model.index(row, 0))
            if rect.isValid() and rect.intersects(area):
                rows.append(row)
            elif rows:
                break
        return rows

    def screen_shown(model: PhotoGridModel) -> bool:
        # The tiles on screen, found once the view has laid them out; then only the memory cache is checked,
        # so that measuring takes next to nothing from the event loop.
        if not screen_rows:
            screen_rows.extend(visible_rows(model))
        px = model.thumbnail_px()
        return bool(screen_rows) and all(model.loader.pixmap(model.path_at(r), px) is not None for r in screen_rows)

    screen_rows: list[int] = []

    # A tiny coroutine driver: each phase yields a "waiter" that resumes it later; no processEvents loops.
    def until(condition):
        def waiter(resume):
            poll = QTimer(view)
            poll.setInterval(2)

            def check():
                if condition():
                    poll.stop()
                    poll.deleteLater()
                    resume(now())
            poll.timeout.connect(check)
            poll.start()
        return waiter

    def scrolling(step_fn, seconds: float, name: str):
        """Scroll with `step_fn(scrollbar)` every SCROLL_MS for `seconds`; record event-loop gaps meanwhile."""
        def waiter(resume):
            gaps: list[float] = []
            last = [now()]
            ticker, driver = QTimer(view), QTimer(view)
            ticker.setTimerType(Qt.TimerType.PreciseTimer)
            ticker.setInterval(TICK_MS)
            driver.setTimerType(Qt.TimerType.PreciseTimer)
            driver.setInterval(SCROLL_MS)
            end = now() + seconds

            def tick():
                t = now()
                gaps.append(t - last[0])
                last[0] = t

            def drive():
                if now() >= end or not step_fn(view.verticalScrollBar()):
                    ticker.stop()
                    driver.stop()
                    resume(gaps)
            ticker.timeout.connect(tick)
            driver.timeout.connect(drive)
            ticker.start()
            driver.start()
        return waiter

    def script():
        # (a) listing + (b) cold first screen
        started = now()
        paths = list_folder()
        model = PhotoGridModel(loader=ThumbnailLoader(threads=args.threads))
        view.setModel(model)
        model.set_photos(paths)
        listed = now()
        results["listing"] = listed - started
        yield until(lambda: screen_shown(model))
        view.viewport().repaint()
        results["cold"] = now() - listed
        details["cold"] = f"{len(visible_rows(model))} tiles, +{results['listing']:.3f} s listing"
        tiles = len(visible_rows(model))
        yield until(lambda: model.loader.pending() == 0)
        model.loader.wait()
        view.setModel(None)
        model.shutdown()
        model.deleteLater()
        screen_rows.clear()

        # (c) warm: reopen the folder with a new model, loader and memory cache
        started = now()
        paths = list_folder()
        model = PhotoGridModel(loader=ThumbnailLoader(threads=args.threads))
        view.setModel(model)
        model.set_photos(paths)
        listed = now()
        yield until(lambda: screen_shown(model))
        view.viewport().repaint()
        results["warm"] = now() - started
        details["warm"] = f"{tiles} tiles, listing {listed - started:.3f} s included"

        # (d) scrolling, with thumbnails made in the background
        rows_px = view.visualRect(model.index(0, 0)).height() + 2 * view.spacing()
        smooth = max(1, round(7500 * SCROLL_MS / 1000))  # ~7,500 px/s: a fast wheel / flick
        seconds = args.scroll_seconds
        down = yield scrolling(lambda sb: sb.value() < sb.maximum() and (sb.setValue(sb.value() + smooth) or True),
                               seconds * 0.5, "down")
        rng = random.Random(1)
        jumps = {"next": 0.0}

        def jump(sb):
            if now() >= jumps["next"]:
                sb.setValue(rng.randrange(0, sb.maximum() + 1))
                jumps["next"] = now() + 0.1
            return True
        jumpy = yield scrolling(jump, seconds * 0.25, "jumps")
        up = yield scrolling(lambda sb: sb.value() > 0 and (sb.setValue(sb.value() - smooth) or True),
                             seconds * 0.25, "up")
        gaps = down + jumpy + up
        results["stall"] = max(gaps)
        details["stall"] = (f"smooth {max(down) * 1e3:.0f} / jumps {max(jumpy) * 1e3:.0f} / back up "
                            f"{max(up) * 1e3:.0f} ms; p99 {np.percentile(gaps, 99) * 1e3:.1f} ms; "
                            f"{smooth * 1000 // SCROLL_MS} px/s, rows {rows_px} px")
        details["memory"] = f"{len(model.loader.memory)} pixmaps, {model.loader.memory.used_bytes / 2**20:.0f} MiB"
        model.shutdown()

    generator = script()

    def step(value=None):
        try:
            waiter = generator.send(value)
        except StopIteration:
            app.quit()
            return
        waiter(step)
    QTimer.singleShot(0, step)
    app.exec()

    ratio = view.devicePixelRatioF()
    print()
    print(f"LakeView grid speed: {args.count:,} photos ({origin}), {WIDTH}x{HEIGHT} JPEG q{QUALITY}; "
          f"{args.size} px thumbnails at dpr {ratio:g}; window {WINDOW[0]}x{WINDOW[1]}; "
          f"threads {args.threads or os.cpu_count()}")
    print(f"{platform.python_implementation()} {platform.python_version()}, PySide6 {pyside_version}, "
          f"{os.cpu_count()} CPU cores, Qt platform {app.platformName()}")
    print()
    rows = [
        ("listing", "list the folder (iter_image_files + set_photos)", TARGETS["listing"]),
        ("cold", "first screen of thumbnails, cold disk cache", TARGETS["cold"]),
        ("warm", "first screen of thumbnails, warm (reopen)", TARGETS["warm"]),
        ("stall", "longest event-loop stall while scrolling", TARGETS["stall"]),
    ]
    print(f"{'measure':<50} {'figure':>10} {'target':>10}  verdict")
    for key, label, target in rows:
        value = results[key]
        figure = f"{value * 1e3:.0f} ms" if key == "stall" else f"{value:.3f} s"
        limit = f"< {target * 1e3:.0f} ms" if key == "stall" else f"< {target:g} s"
        print(f"{label:<50} {figure:>10} {limit:>10}  {'PASS' if value < target else 'MISS'}")
        if key in details:
            print(f"{'':<4}{details[key]}")
    print(f"memory cache after scrolling: {details['memory']}")
    shutil.rmtree(cache, ignore_errors=True)
    return 0 if all(results[k] < t for k, _, t in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
