"""Photos per second of `lakeview train`'s unfrozen phase and of `lakeview classify`, by one process and by two
torchrun ranks (gloo, on the CPU), with one thread per process, and the scaling efficiency
(two ranks' rate / twice one process's).

    python benchmarks/distributed_scaling.py [--photos 256] [--arch resnet18] [--size 96] [--repeats 2]

Each setting runs in fresh processes (torchrun for the ranks); the figures are timed inside them, after a
warm-up epoch, so the start of Python and torch is not counted. Training: the global batch is the same for both
(--bs), shared out by the ranks through DistributedDataParallel. Classifying: each rank decodes and runs its share.
Random weights: nothing is downloaded. Also printed: one process with every core's threads, what a plain run
gets. Report how loaded the machine was (os.getloadavg is printed)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_photos(folder: Path, count: int) -> None:
    from PIL import Image
    import numpy as np

    rng = np.random.default_rng(0)
    for i in range(count):
        label = ("lake", "forest")[i % 2]
        (folder / label).mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
        pixels[..., 2 if label == "lake" else 1] //= 2
        Image.fromarray(pixels).save(folder / label / f"{label}_{i:05d}.jpg", quality=90)


def measure(data: Path, photos: Path, args: argparse.Namespace) -> dict:
    """In one process (alone, or one torchrun rank): the rates, on rank 0."""
    import torch

    from lakeview.cli.main import main
    from lakeview.core.datasets.importers import from_folder
    from lakeview.core.distributed import join_team, leave_team
    from lakeview.core.models.model_file import load_model
    from lakeview.core.training.phases import make_learner
    from lakeview.core.training.plan import TrainingPlan

    team = join_team("cpu")
    plan = TrainingPlan(arch=args.arch, weights="none", size=args.size, batch_size=args.bs, augment=False,
                        views=0, workers=0, device="cpu", seed=1)
    dataset = from_folder(data, valid_pct=0.0001, seed=1)
    learner = make_learner(dataset, plan, team=team)
    learner.unfreeze()
    learner.fit_one_cycle(1, 1e-3)  # warm-up
    train_seconds = []
    for _ in range(args.repeats):
        if team is not None:
            team.barrier()
        started = time.perf_counter()
        learner.fit_one_cycle(1, 1e-3)
        train_seconds.append(time.perf_counter() - started)
    model = photos.parent / "model.lvmodel"
    if team is None or team.leader:
        learner.export(model)
    if team is not None:
        team.barrier()
    classify_seconds = []
    for repeat in range(args.repeats + 1):
        if team is not None:
            team.barrier()
        started = time.perf_counter()
        code = main(["classify", str(photos), "--model", str(model), "--device", "cpu", "--quiet", "--bs", "32",
                     "--csv", os.devnull])
        assert code == 0, code
        if repeat:  # the first is a warm-up
            classify_seconds.append(time.perf_counter() - started)
    # the time of a step is the slowest rank's
    if team is not None:
        train_seconds = [max(team.gather([s])) for s in train_seconds]
        classify_seconds = [max(team.gather([s])) for s in classify_seconds]
    leave_team(team)
    trained = len(dataset.train) // args.bs * args.bs
    classified = sum(1 for _ in photos.iterdir())
    return {"train": trained / min(train_seconds), "classify": classified / min(classify_seconds),
            "threads": torch.get_num_threads()}


def run_setting(ranks: int | None, threads: int, data: Path, photos: Path, args: argparse.Namespace) -> dict:
    """ranks None: a plain process; else torchrun with that many ranks."""
    result = photos.parent / f"result-{ranks}-{threads}.json"
    inner = [str(Path(__file__).resolve()), "--rank-of", str(data), str(photos), str(result),
             "--arch", args.arch, "--size", str(args.size), "--bs", str(args.bs), "--repeats", str(args.repeats)]
    if ranks is None:
        command = [sys.executable, *inner]
    else:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-addr",
                   "127.0.0.1", "--master-port", str(port), *inner]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=256)
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--bs", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rank-of", nargs=3, metavar=("DATA", "PHOTOS", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank_of:
        data, photos, result = map(Path, args.rank_of)
        figures = measure(data, photos, args)
        if int(os.environ.get("RANK", "0")) == 0:
            result.write_text(json.dumps(figures))
        return

    cores = os.cpu_count() or 1
    print(f"{args.photos} generated 320x240 JPEGs, {args.arch} at {args.size} px, global batch {args.bs}, "
          f"{cores} cores; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as temp:
        data, photos = Path(temp) / "data", Path(temp) / "photos"
        make_photos(data, args.photos)
        make_photos(photos, args.photos)
        for folder in list(photos.iterdir()):  # classify takes one flat folder
            for photo in folder.iterdir():
                photo.rename(photos / photo.name)
            folder.rmdir()
        settings = [("1 process, 1 thread", None, 1), ("2 torchrun ranks, 1 thread each", 2, 1),
                    (f"1 process, {cores} threads (a plain run)", None, cores)]
        rows = [(name, run_setting(ranks, threads, data, photos, args)) for name, ranks, threads in settings]
    print(f"{'setting':<36} {'train photos/s':>15} {'classify photos/s':>18}")
    for name, figures in rows:
        print(f"{name:<36} {figures['train']:>15.1f} {figures['classify']:>18.1f}")
    one, two = rows[0][1], rows[1][1]
    print(f"scaling efficiency, 2 ranks vs 1 process at 1 thread each (rate2 / (2 x rate1)): "
          f"train {two['train'] / (2 * one['train']):.2f}, classify {two['classify'] / (2 * one['classify']):.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
