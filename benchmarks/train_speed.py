"""Training speed and memory on the CPU, per architecture and phase, each setting side by side in one run.

For mobilenet_v2 (the shared ImageNet weights) and resnet34 (random init: same speed as trained weights), and for
  unfrozen: a training step of the whole network (augmented photos, batch 16, the learner's own loop), and
  frozen:   the body's feature pass (inference_mode, batch 32, features.body_pass),
it measures photos/s over the same photos for:
  channels_last / NCHW   the network's and the batches' memory layout;
  workers 1, 2           DataLoader processes decoding and augmenting while the network runs (0: in-process);
  compile                torch.compile of the network, after a warm-up whose cost is shown;
  decode 1/2             JPEG decode asked for half the side decode_side gives (the transforms still resize to it);
  checkpoint 4           unfrozen only: the body in 4 activation-checkpointed segments (memory for recomputation;
                         fails on resnet34, whose in-place ReLU sits on a segment boundary);
  batch 16               frozen only: the feature pass in batches of 16 instead of 32.
Each setting runs in a fresh process, which reports its own peak RSS (VmHWM) and the sum of its workers' peaks.
Next to each figure is how many of the machine's cores other processes kept busy meanwhile: only compare rows
measured with a similar load. CPU ms/photo (this process and its workers) moves far less with the load than
photos/s does; OpenMP threads that spin while waiting still inflate it on a busy machine. The 'now' row is what
LakeView does today for that architecture.

Data: ../shared/data/hymenoptera (398 photos), repeated to --photos. Run on purpose:

    .venv/bin/python benchmarks/train_speed.py --warmup 2 --batches 3  # both archs, all settings (~50 min on a
                                                                      # 2-core machine with 1.5 cores busy elsewhere)
    .venv/bin/python benchmarks/train_speed.py --arch mobilenet_v2 --settings nchw channels_last --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = {"mobilenet_v2": SHARED / "weights" / "mobilenet_v2-imagenet.pth", "resnet34": "none"}
PHASES = ("unfrozen", "frozen")
BATCH = {"unfrozen": 16, "frozen": 32}
SETTINGS = {
    "now": {},
    "nchw": {"layout": "nchw"},
    "channels_last": {"layout": "channels_last"},
    "workers 1": {"workers": 1},
    "workers 2": {"workers": 2},
    "compile": {"compile": True},
    "decode 1/2": {"decode_scale": 0.5},
    "checkpoint 4": {"checkpoint": 4},
    "batch 16": {"batch": 16},
}
ONLY = {"checkpoint 4": "unfrozen", "batch 16": "frozen"}
"""Settings that mean something in one phase only."""


def peak_mb(pid: str | int = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def worker_pids() -> list[str]:
    """This process's children: the DataLoader workers, while they are alive."""
    return [pid for task in Path("/proc/self/task").iterdir() for pid in (task / "children").read_text().split()]


def worker_peaks_mb() -> float:
    """The summed VmHWM of the DataLoader workers."""
    total = 0.0
    for pid in worker_pids():
        try:
            total += peak_mb(pid)
        except (OSError, StopIteration):
            pass
    return total


def cpu_seconds() -> float:
    """CPU time of this process and its live workers: on a loaded machine it moves far less than wall time."""
    total = time.process_time()
    for pid in worker_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def photos(count: int):
    from lakeview.core.datasets.importers import from_folder

    data = from_folder(DATA, check_images=False)
    pool = data.train + data.valid
    return data.classes, [pool[i % len(pool)] for i in range(count)]


def measure(arch: str, phase: str, setting: dict, count: int, warmup: int, batches: int) -> dict:
    """In this (fresh) process: photos/s over `batches` batches after `warmup` ones, the warm-up's seconds, peaks."""
    import torch

    from lakeview.core.datasets.dataset import LabelledPhotos
    from lakeview.core.models.transforms import decode_side
    from lakeview.core.training.learner import Learner

    classes, chosen = photos(count)
    warnings.simplefilter("ignore")
    batch = setting.get("batch", BATCH[phase])
    learner = Learner(LabelledPhotos(classes, chosen, []), arch=arch, weights=WEIGHTS[arch],
                      batch_size=batch, workers=setting.get("workers", 0))
    if "layout" in setting:
        learner.memory_format = torch.channels_last if setting["layout"] == "channels_last" else torch.contiguous_format
        learner.network.to(memory_format=learner.memory_format)
    side = round(decode_side(learner.size) * setting.get("decode_scale", 1.0))
    warmup_seconds = 0.0
    if phase == "unfrozen":
        learner.unfreeze()
        optimizer = learner.make_optimizer(slice(1e-5, 1e-4))
        learner.set_train_mode(cached=False)
        if setting.get("checkpoint"):
            learner.network.body = checkpointed(learner.network.body, setting["checkpoint"])
        if setting.get("compile"):
            learner.network = torch.compile(learner.network, dynamic=False)
        batches_of = lambda: learner.epoch_batches(cached=False, epoch=0)  # noqa: E731
        step = lambda inputs, targets: learner.train_step(inputs, targets, optimizer, cached=False)  # noqa: E731
    else:
        from lakeview.core.models.photo_tensors import PhotoTensors
        from lakeview.core.models.transforms import valid_transform
        from lakeview.core.training.features import body_pass

        learner.network.eval()
        network = learner.network
        if setting.get("compile"):
            network.body = torch.compile(network.body, dynamic=False)
        dataset = PhotoTensors(chosen, classes, valid_transform(learner.size), side)
        batches_of = lambda: body_pass(network, dataset, learner.device, batch, learner.workers)  # noqa: E731
        step = lambda *_: None  # noqa: E731
    if phase == "unfrozen" and side != decode_side(learner.size):
        import lakeview.core.training.learner as learner_module

        learner_module.decode_side = lambda size: side
    started = time.perf_counter()
    done, timed_from, workers_mb = 0, None, 0.0
    for item in batches_of():
        if phase == "unfrozen":
            step(*item)
        done += 1
        if done == warmup:
            warmup_seconds = time.perf_counter() - started
            timed_from, cpu_from = time.perf_counter(), cpu_seconds()
        if done == warmup + batches:
            workers_mb, cpu = worker_peaks_mb(), cpu_seconds() - cpu_from
            break
    seconds = time.perf_counter() - timed_from
    return {"rate": batches * batch / seconds, "cpu_ms": 1000 * cpu / (batches * batch), "warmup": warmup_seconds,
            "peak": peak_mb(),
            "workers_peak": workers_mb, "threads": torch.get_num_threads()}


def checkpointed(body, segments: int):
    """`body` (a Sequential) run as `segments` checkpointed pieces: only their boundaries are kept for backward."""
    import torch.nn as nn
    from torch.utils.checkpoint import checkpoint_sequential

    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = body

        def forward(self, x):
            return checkpoint_sequential(self.inner, segments, x, use_reentrant=False)

    return Wrapped()


class OtherLoad:
    """Cores kept busy by other processes during a child's run: all busy CPU time less the child's own."""

    def __enter__(self) -> "OtherLoad":
        self.busy0, self.child0, self.wall0 = self._busy(), self._children(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        wall = time.perf_counter() - self.wall0
        self.cores = max(0.0, (self._busy() - self.busy0) - (self._children() - self.child0)) / wall

    @staticmethod
    def _busy() -> float:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _children() -> float:
        usage = os.times()
        return usage.children_user + usage.children_system


def run_child(arch: str, phase: str, name: str, args: argparse.Namespace) -> dict:
    spec = json.dumps({"arch": arch, "phase": phase, "setting": SETTINGS[name], "count": args.photos,
                       "warmup": args.warmup, "batches": args.batches})
    with OtherLoad() as load:
        done = subprocess.run([sys.executable, __file__, "--child", spec], capture_output=True, text=True,
                              timeout=args.timeout)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1][:60],
                "load": load.cores}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": load.cores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", nargs="+", default=["mobilenet_v2", "resnet34"])
    parser.add_argument("--phase", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--photos", type=int, default=600, help="photos in the list (hymenoptera, repeated)")
    parser.add_argument("--warmup", type=int, default=3, help="batches before timing (compile happens here)")
    parser.add_argument("--batches", type=int, default=8, help="batches timed")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each setting, interleaved; the best is kept")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one setting may take")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(measure(spec["arch"], spec["phase"], spec["setting"], spec["count"], spec["warmup"],
                                 spec["batches"])))
        return
    if not DATA.is_dir():
        sys.exit(f"needs the hymenoptera photos in {DATA}")
    needed = (args.warmup + args.batches) * max(BATCH[p] for p in args.phase)
    if args.photos < needed:
        sys.exit(f"--photos must be at least {needed} for {args.warmup} + {args.batches} batches")
    print(f"{os.cpu_count()} cores; {args.warmup} warm-up + {args.batches} timed batches "
          f"(unfrozen: batch {BATCH['unfrozen']}, frozen: batch {BATCH['frozen']}); best of {args.rounds}")
    print(f"{'arch':<13} {'phase':<9} {'setting':<14} {'photos/s':>8} {'x now':>6} {'CPU ms/photo':>12} {'warm-up':>8} "
          f"{'peak RSS':>9} {'+workers':>9} {'other load':>10}")
    for arch in args.arch:
        for phase in args.phase:
            names = [n for n in args.settings if ONLY.get(n, phase) == phase]
            best: dict[str, dict] = {}
            for round_ in range(args.rounds):
                for name in names:
                    result = run_child(arch, phase, name, args)
                    if "error" not in result and result["rate"] > best.get(name, {}).get("rate", -1):
                        best[name] = result
                    if round_ == args.rounds - 1:
                        print_row(arch, phase, name, best.get(name, result), best.get("now", {}).get("rate"))


def print_row(arch: str, phase: str, name: str, r: dict, base: float | None) -> None:
    if "error" in r:
        print(f"{arch:<13} {phase:<9} {name:<14} failed: {r['error']}", flush=True)
        return
    ratio = f"{r['rate'] / base:.2f}" if base else "-"
    workers = f"{r['workers_peak']:.0f} MB" if r["workers_peak"] else "-"
    print(f"{arch:<13} {phase:<9} {name:<14} {r['rate']:>8.1f} {ratio:>6} {r['cpu_ms']:>12.0f} {r['warmup']:>7.1f}s "
          f"{r['peak']:>6.0f} MB {workers:>9} {r['load']:>6.1f} cores", flush=True)

if __name__ == "__main__":
    main()
