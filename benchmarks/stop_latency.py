"""How long a Stop takes to end a training step on this machine: ResNet34 unfrozen at 224 px, batch 16, on the CPU.

    .venv/bin/python benchmarks/stop_latency.py [--repeats 3]

Stop is asked at a random moment inside a batch. It is measured side by side: with the checks before each stage
of the body (what LakeView does), and with the check before each batch only (as before).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from PIL import Image


def photos(folder: Path, n: int = 32) -> Path:
    rng = random.Random(0)
    for i in range(n):
        cls = "red" if i % 2 else "blue"
        (folder / cls).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (320, 240), (rng.randrange(256), 40, 200 if cls == "blue" else 20)).save(folder / cls / f"{i}.jpg")
    return folder


def one_stop(folder: Path, within_batch: bool, seed: int) -> float:
    import lakeview.core.training.learner as learner_module
    from lakeview.core.datasets.importers import from_folder
    from lakeview.core.training.learner import Learner
    from lakeview.core.training.stop_points import stop_points

    learner_module.stop_points = stop_points if within_batch else (lambda network, should_stop: contextlib.nullcontext())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learner = Learner(from_folder(folder, valid_pct=0.25, seed=1), arch="resnet34", weights="none", size=224,
                          batch_size=16, device="cpu")
    learner.unfreeze()
    stop = threading.Event()
    asked: list[float] = []
    started = threading.Event()
    done: list[float] = []

    def ask_later() -> None:
        started.wait()
        time.sleep(random.Random(seed).uniform(0.5, 2.5))
        asked.append(time.perf_counter())
        stop.set()

    threading.Thread(target=ask_later, daemon=True).start()

    def should_stop() -> bool:
        started.set()
        return stop.is_set()

    learner.fit_one_cycle(50, 1e-3, should_stop=should_stop)
    done.append(time.perf_counter())
    return done[0] - asked[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = photos(Path(tempfile.mkdtemp(prefix="lakeview-stop-")))
    figures: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(args.repeats):
        for within in (False, True):
            figures[within].append(one_stop(folder, within, seed))
    before, after = statistics.median(figures[False]), statistics.median(figures[True])
    print(f"stop -> training returns, median of {args.repeats} (s): per batch only {before:.2f} "
          f"({', '.join(f'{t:.2f}' for t in figures[False])}); per body stage {after:.2f} "
          f"({', '.join(f'{t:.2f}' for t in figures[True])}); {before / max(after, 1e-9):.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
