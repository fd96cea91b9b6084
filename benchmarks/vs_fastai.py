"""LakeView's default recipe against the seed's fast.ai recipe, side by side in one run (issue 12, item 2).

For each data set, one after the other on the same photos, weights, threads and machine:

  fast.ai:  benchmarks/fastai_recipe.py in the benchmark's own fastai environment (benchmarks/.fastai-env, made by
            --setup from the package registry; fastai is not a dependency of LakeView): ImageDataLoaders.from_folder
            (item_tfms=Resize(224), batch_tfms=aug_transforms(do_flip=False), bs=16), vision_learner(mobilenet_v2
            with the shared ImageNet weights, metrics=error_rate), fit_one_cycle(4), unfreeze(), fit_one_cycle(4).
  LakeView: `python -m lakeview train DATA --arch mobilenet_v2 --weights W --out M` (the default recipe, nothing
            tuned) from this checkout, then `python -m lakeview evaluate DATA --model M` for the saved model's error.

Both get OMP_NUM_THREADS = MKL_NUM_THREADS = --threads (fast.ai also torch.set_num_threads); each keeps its own
default data loading (fast.ai: its DataLoader's default workers, shown in the table;
LakeView: in-process). Wall time is the whole process,
interpreter start-up and imports included, for both (LakeView's evaluate is not counted). Peak memory is the
largest single process (ru_maxrss from wait4) and the whole process tree's PSS (polled every 0.25 s, so fast.ai's
workers count without their shared pages twice). "others" is how many cores other programs kept busy meanwhile.

Targets on the 2-core CPU: LakeView's error <= fast.ai's, LakeView's wall time <= 0.25 x fast.ai's.

    python benchmarks/vs_fastai.py --setup        # once: the fastai env (~2 GB, pip, a few minutes) and data sets
    python benchmarks/vs_fastai.py                # hymenoptera (~15 min on 2 idle cores), fashion-mnist if set up
    python benchmarks/vs_fastai.py --data hymenoptera --threads 2

Data: ../shared/data/hymenoptera (train/ and val/, 2 classes), and Fashion-MNIST from Debian's
dataset-fashion-mnist package (10 classes of Zalando product photos, 28x28 grayscale, MIT licence), which
--setup fetches with `apt-get download` and lays out as class folders: 60 training photos per class from its
training set and 20 validation photos per class from its test set, chosen with a fixed seed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
HYMENOPTERA = SHARED / "data" / "hymenoptera"
FASTAI_ENV = REPO / "benchmarks" / ".fastai-env"
FASTAI_PYTHON = FASTAI_ENV / "bin" / "python"
FASTAI_REQUIREMENTS = ("torch==2.14.1", "torchvision==0.29.1", "fastai==2.8.12")
DATA_HOME = REPO / "benchmarks" / ".vs-fastai-data"
FASHION = DATA_HOME / "fashion-mnist"
FASHION_CLASSES = ("t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle_boot")
FASHION_TRAIN, FASHION_VALID, FASHION_SEED = 60, 20, 0
OUT = REPO / "benchmarks" / "out" / "vs_fastai"


@dataclass
class Run:
    returncode: int
    wall: float
    cpu: float
    peak_rss: int
    peak_tree_pss: int
    others: float
    log: Path


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                queue += [int(child) for child in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def tree_pss(pid: int) -> int:
    total = 0
    for member in descendants(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


def busy_seconds() -> float:
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measured(command: list[str], env: dict[str, str], log: Path) -> Run:
    """Run `command` to its end, its output to `log`; wall time from start to exit, peak memory, load meanwhile."""
    busy_before, started = busy_seconds(), time.perf_counter()
    peak_pss = 0
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_pss = max(peak_pss, tree_pss(process.pid))
            time.sleep(0.25)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    others = max(0.0, (busy_seconds() - busy_before - cpu) / wall)
    return Run(process.returncode, wall, cpu, usage.ru_maxrss * 1024, peak_pss, others, log)


def thread_env(threads: int) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
    env.pop("PYTHONPATH", None)
    return env


def run_fastai(data: Path, threads: int, out: Path) -> tuple[Run, dict | None]:
    valid = "val" if (data / "val").is_dir() else "valid"
    command = [str(FASTAI_PYTHON), str(REPO / "benchmarks" / "fastai_recipe.py"), str(data), "--valid", valid,
               "--weights", str(WEIGHTS), "--threads", str(threads)]
    run = measured(command, thread_env(threads), out / "fastai.log")
    lines = [line for line in run.log.read_text().splitlines() if line.startswith("RESULT ")]
    return run, (json.loads(lines[-1][len("RESULT "):]) if lines else None)


def run_lakeview(python: str, data: Path, threads: int, out: Path) -> tuple[Run, dict | None]:
    env = dict(thread_env(threads), PYTHONPATH=str(REPO))
    model = out / "lakeview.lvmodel"
    command = [python, "-m", "lakeview", "train", str(data), "--arch", "mobilenet_v2", "--weights", str(WEIGHTS),
               "--out", str(model), "--quiet"]
    run = measured(command, env, out / "lakeview.log")
    if not model.exists():
        return run, None
    figures = out / "lakeview-evaluate.json"
    evaluate = [python, "-m", "lakeview", "evaluate", str(data), "--model", str(model), "--split", "valid",
                "--json", str(figures), "--quiet"]
    with (out / "lakeview-evaluate.log").open("w") as sink:
        subprocess.run(evaluate, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO, check=False)
    return run, (json.loads(figures.read_text()) if figures.exists() else None)


def megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def compare(name: str, data: Path, python: str, threads: int) -> None:
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    print(f"\n== {name}: {data}   threads {threads}   load average before: {os.getloadavg()[0]:.1f}", flush=True)
    fastai_run, fastai = run_fastai(data, threads, out)
    print(f"   fast.ai done in {fastai_run.wall:.0f} s (log {fastai_run.log})", flush=True)
    lakeview_run, lakeview = run_lakeview(python, data, threads, out)
    print(f"   LakeView done in {lakeview_run.wall:.0f} s (log {lakeview_run.log})", flush=True)
    if fastai is None or lakeview is None:
        failed = [run.log for run, result in ((fastai_run, fastai), (lakeview_run, lakeview)) if result is None]
        print(f"   FAILED: no result from {', '.join(map(str, failed))}; see the log(s)")
        return
    if fastai["valid"] != lakeview["photos"]:
        print(f"   WARNING: fast.ai validated on {fastai['valid']} photos, LakeView on {lakeview['photos']}")

    def percent(error: float, photos: int) -> str:
        return f"{100 * error:.1f}% ({round(error * photos)}/{photos})"

    rows = [
        ("", f"fast.ai {fastai['fastai']}", "LakeView (default)"),
        ("photos: train / valid, classes", f"{fastai['train']} / {fastai['valid']}, {len(fastai['classes'])}",
         f"{lakeview['photos']} valid, {len(lakeview['classes'])}"),
        ("validation error (final model)", percent(fastai["error"], fastai["valid"]),
         percent(lakeview["error_rate"], lakeview["photos"])),
        ("  after frozen 4 epochs", f"{100 * fastai['frozen']['error']:.1f}% ({fastai['frozen']['seconds']:.0f} s)", ""),
        ("  after unfrozen 4 epochs", f"{100 * fastai['unfrozen']['error']:.1f}% ({fastai['unfrozen']['seconds']:.0f} s)", ""),
        ("wall time, start-up included", f"{fastai_run.wall:.0f} s", f"{lakeview_run.wall:.0f} s"),
        ("CPU time (process tree)", f"{fastai_run.cpu:.0f} s", f"{lakeview_run.cpu:.0f} s"),
        ("peak RSS, largest process", megabytes(fastai_run.peak_rss), megabytes(lakeview_run.peak_rss)),
        ("peak PSS, process tree", megabytes(fastai_run.peak_tree_pss), megabytes(lakeview_run.peak_tree_pss)),
        ("torch threads / loader workers", f"{fastai['threads']} / {fastai['workers']}", f"{threads} / in-process"),
        ("cores busy with other programs", f"{fastai_run.others:.1f}", f"{lakeview_run.others:.1f}"),
    ]
    for label, left, right in rows:
        print(f"   {label:<32} {left:<26} {right}")
    time_ratio = lakeview_run.wall / fastai_run.wall
    difference = 100 * (lakeview["error_rate"] - fastai["error"])
    print(f"   LakeView / fast.ai wall time: {time_ratio:.2f}x  (target <= 0.25x: {'met' if time_ratio <= 0.25 else 'MISSED'})")
    print(f"   LakeView - fast.ai error:     {difference:+.1f} points  (target <= 0: {'met' if difference <= 0 else 'MISSED'})")
    print(f"   fast.ai's body held the shared weights ({fastai['weights_checked']} tensors compared before training)")


def setup_fastai_env() -> None:
    if FASTAI_PYTHON.exists():
        print(f"{FASTAI_ENV} exists; to make it anew, delete it first")
    else:
        subprocess.run([sys.executable, "-m", "venv", str(FASTAI_ENV)], check=True)
        # torch and torchvision pinned to the builds this machine's pip serves from disk; fastai 2.8.12 accepts them.
        subprocess.run([str(FASTAI_PYTHON), "-m", "pip", "install", "--quiet", *FASTAI_REQUIREMENTS], check=True)
    check = "import fastai, torch; from fastai.vision.all import vision_learner; print(fastai.__version__, torch.__version__)"
    versions = subprocess.run([str(FASTAI_PYTHON), "-c", check], check=True, capture_output=True, text=True).stdout
    print(f"fastai env ready: fastai and torch {versions.strip()}")


def read_idx(path: Path):
    import numpy as np

    raw = gzip.decompress(path.read_bytes())
    dimensions = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def setup_fashion_mnist() -> None:
    import numpy as np
    from PIL import Image

    if FASHION.exists():
        print(f"{FASHION} exists; to make it anew, delete it first")
        return
    with tempfile.TemporaryDirectory() as scratch:
        fetched = subprocess.run(["apt-get", "download", "dataset-fashion-mnist"], cwd=scratch, capture_output=True,
                                 text=True)
        packages = list(Path(scratch).glob("dataset-fashion-mnist_*.deb"))
        if not packages:
            raise SystemExit(f"could not fetch Debian's dataset-fashion-mnist (apt-get update first?): "
                             f"{fetched.stderr.strip()}")
        subprocess.run(["dpkg-deb", "-x", str(packages[0]), scratch], check=True)
        source = Path(scratch) / "usr" / "share" / "datasets" / "fashion-mnist"
        staging = FASHION.with_name(FASHION.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        generator = np.random.default_rng(FASHION_SEED)
        for split, prefix, per_class in (("train", "train", FASHION_TRAIN), ("valid", "t10k", FASHION_VALID)):
            images = read_idx(source / f"{prefix}-images-idx3-ubyte.gz")
            labels = read_idx(source / f"{prefix}-labels-idx1-ubyte.gz")
            for index, name in enumerate(FASHION_CLASSES):
                folder = staging / split / name
                folder.mkdir(parents=True)
                for chosen in sorted(generator.choice(np.flatnonzero(labels == index), per_class, replace=False)):
                    Image.fromarray(images[chosen]).convert("RGB").save(folder / f"{prefix}-{chosen:05d}.png")
        shutil.copy(Path(scratch) / "usr" / "share" / "doc" / "dataset-fashion-mnist" / "copyright", staging)
        staging.rename(FASHION)
    print(f"fashion-mnist ready: {FASHION} ({FASHION_TRAIN} train + {FASHION_VALID} valid photos x "
          f"{len(FASHION_CLASSES)} classes)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", action="store_true", help="make the fastai env and the data sets, then stop")
    parser.add_argument("--data", choices=("all", "hymenoptera", "fashion-mnist"), default="all")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for both (default 2)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for LakeView (default: this one)")
    args = parser.parse_args()
    if args.setup:
        setup_fastai_env()
        setup_fashion_mnist()
        return 0
    if not (HYMENOPTERA.is_dir() and WEIGHTS.is_file()):
        print(f"skipped: {SHARED} is absent (it holds the hymenoptera photos and the mobilenet_v2 weights)")
        return 0
    if not FASTAI_PYTHON.exists():
        print(f"no fastai environment at {FASTAI_ENV}: run `python benchmarks/vs_fastai.py --setup` first")
        return 2
    sets = {"hymenoptera": HYMENOPTERA, "fashion-mnist": FASHION}
    chosen = list(sets) if args.data == "all" else [args.data]
    for name in chosen:
        if not sets[name].is_dir():
            print(f"\n== {name}: {sets[name]} is absent; `python benchmarks/vs_fastai.py --setup` makes it")
            continue
        compare(name, sets[name], args.python, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
