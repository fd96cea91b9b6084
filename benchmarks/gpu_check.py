"""LakeView's CUDA path in one short run (under 5 minutes on one GPU), printed as one table.

    python benchmarks/gpu_check.py                # on a GPU: the full check; without one: --quick on the CPU
    python benchmarks/gpu_check.py --quick        # small counts: about 4 CPU-minutes, for a 2-core CPU
    python benchmarks/gpu_check.py --smoke        # generated photos, training and the loop check: about 12 CPU-s

Run from a checkout (this one's `lakeview` is used, installed or not). It checks, side by side in one run:
  1. device: what pick_device("auto") picks, its name and compute capability, the autocast dtype, grad scaler;
  2. classify: model only (resnet34, batch 32, tensors already on the device, best of float32 NCHW and LakeView's
     channels_last + autocast) against `lakeview classify` end to end, the strict way: the marginal rate between
     a small and a bigger folder of camera-like 4000x3000 JPEGs, so that start-up cancels out (target >= 0.80);
  3. training: resnet34 on hymenoptera, frozen then unfrozen epochs (the plan's), under autocast (bf16) and in
     float32 (LAKEVIEW_AMP=off): time and validation error; mobilenet_v2 from the shared ImageNet weights too;
  4. host syncs in the training loop: while each epoch's batches are trained on, CUDA's sync debug mode warns and
     every read of a tensor's value by LakeView's own code is counted (this half runs on the CPU as well; it
     costs a few microseconds per tensor operation, in both precisions alike);
  5. GPU memory peak (torch.cuda.max_memory_allocated) of each training run and of `lakeview classify`;
  6. the app's self-test (`lakeview --self-test`, offscreen), which names the device it classified on.
Without a GPU it says "no GPU" and checks what it can on the CPU. It exits 1 when a check FAILs (the self-test,
a host sync in the loop); a figure short of its target is marked MISS.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's lakeview, installed or not
SHARED = next((p for p in (REPO.parent / "shared", REPO / "shared") if p.is_dir()), REPO.parent / "shared")
HYMENOPTERA = SHARED / "data" / "hymenoptera"
MOBILENET_WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
PACKAGE = str(REPO / "lakeview") + os.sep
TARGET_VS_MODEL = 0.80
HOST_READS = {"item", "__float__", "__int__", "__bool__", "__index__", "tolist", "cpu", "numpy"}


@dataclass(frozen=True)
class Scale:
    """How much each mode does: photos for classify, training photos and epochs."""
    classify_sets: tuple[int, int] | None  # (small, big) folders for the marginal rate; None: no CLI runs
    distinct: int  # distinct camera-like JPEGs the folders cycle through
    rounds: int  # classify runs per folder size, keeping the fastest
    train_photos: int | None  # per split; None: all of hymenoptera
    epochs: tuple[int, int] | None  # (frozen, unfrozen); None: the plan's defaults
    batch: int | None = None  # None: the plan's; smaller gives the few quick photos enough steps
    models: tuple[str, ...] = ("resnet34", "mobilenet_v2")  # mobilenet_v2 only with the shared weights
    size: int = 224
    self_test: bool = True


SCALES = {"gpu": Scale((256, 1536), 64, 2, None, None),
          "quick": Scale((16, 80), 8, 2, 32, (2, 1), batch=8),
          "smoke": Scale(None, 0, 0, 8, (1, 1), models=("resnet18",), size=64, self_test=False)}


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, check: str, figure: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((check, figure, target, verdict))
        print(f"  {check}: {figure}" + (f"  [{verdict}]" if verdict else ""), flush=True)

    def print(self) -> None:
        heads = ("check", "figure", "target", "verdict")
        widths = [max(len(r[i]) for r in [heads, *self.rows]) for i in range(4)]
        for row in [heads, tuple("-" * w for w in widths), *self.rows]:
            print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())

    @property
    def failed(self) -> bool:
        return any(r[3] == "FAIL" for r in self.rows)


def megabytes(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def per_s(rate: float) -> str:
    return f"{rate:,.0f} photos/s" if rate >= 100 else f"{rate:.1f} photos/s"


# ----------------------------------------------------------------------------------------------------- device

def check_device(table: Table):
    import torch

    from lakeview.core.models.device import autocast_dtype, describe, pick_device

    device = pick_device("auto")
    amp = autocast_dtype(device)
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        table.add("device (pick_device auto)", f"{device}: {describe(device)}, sm {major}.{minor}, "
                  f"torch {torch.__version__}, CUDA {torch.version.cuda}")
        expected = torch.bfloat16 if major >= 8 else torch.float16
        table.add("autocast dtype / grad scaler", f"{str(amp).removeprefix('torch.')} / "
                  f"{'yes' if amp == torch.float16 else 'no'}", f"{str(expected).removeprefix('torch.')}",
                  "ok" if amp == expected else "FAIL")
    else:
        table.add("device (pick_device auto)", f"no GPU: {device}: {describe(device)}, torch {torch.__version__}")
        table.add("autocast dtype / grad scaler", "none / no (LakeView autocasts on CUDA only)", "none",
                  "ok" if amp is None else "FAIL")
    return device


# ---------------------------------------------------------------------------------------------------- classify

def _camera_photo(job: tuple[Path, Path | None, int]) -> None:
    """A 4000x3000 JPEG like a camera's: a photo upscaled (or smooth colour fields), with sensor noise."""
    target, source, seed = job
    rng = np.random.default_rng(seed)
    if source is not None:
        small = Image.open(source).convert("RGB")
    else:
        small = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8))
    pixels = np.asarray(small.resize((4000, 3000), Image.Resampling.BICUBIC), dtype=np.int16)
    pixels = pixels + rng.integers(-10, 11, pixels.shape, dtype=np.int16)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(target.with_suffix(".part"), "JPEG", quality=92)
    target.with_suffix(".part").replace(target)


def camera_photos(work: Path, distinct: int) -> tuple[Path, str]:
    sources = sorted(HYMENOPTERA.glob("*/*/*.jpg"))[::7]
    pool = work / ("camera-photos" if sources else "camera-photos-synthetic")
    pool.mkdir(parents=True, exist_ok=True)
    jobs = [(pool / f"p{i:04d}.jpg", sources[i % len(sources)] if sources else None, i)
            for i in range(distinct) if not (pool / f"p{i:04d}.jpg").is_file()]
    if jobs:
        print(f"  making {len(jobs)} camera-like 4000x3000 JPEGs in {pool} (once) ...", flush=True)
        spawn = multiprocessing.get_context("spawn")  # not fork: this process already runs torch's threads
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=spawn) as workers:
            list(workers.map(_camera_photo, jobs))
    return pool, ("upscaled hymenoptera photos" if sources else "SYNTHETIC colour fields") + " + sensor noise, q92"


def folder_of(work: Path, pool: Path, distinct: int, n: int) -> Path:
    """A folder of `n` links cycling through the pool's first `distinct` photos."""
    folder = work / f"set-{n}"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for i in range(n):
        (folder / f"p{i:05d}.jpg").symlink_to(pool / f"p{i % distinct:04d}.jpg")
    return folder


def model_only(network, device, batch: int, photos: int) -> dict[str, float]:
    """Photos/s of the network alone on a batch already on the device: float32 NCHW, and LakeView's way."""
    import torch

    from lakeview.core.models.device import autocast_dtype

    amp = autocast_dtype(device)
    images = torch.randn(batch, 3, 224, 224, device=device)
    rates = {}
    for name, layout, dtype in (("float32 NCHW", torch.contiguous_format, None),
                                ("LakeView's way", torch.channels_last, amp)):
        network = network.to(device, memory_format=layout).eval()
        inputs = images.contiguous(memory_format=layout)
        steps = max(3, photos // batch)
        with torch.inference_mode(), (torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()):
            for i in range(2 + steps):
                if i == 2:
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    started = time.perf_counter()
                network(inputs).float().softmax(1)
            if device.type == "cuda":
                torch.cuda.synchronize()
        rates[name] = batch * steps / (time.perf_counter() - started)
    return rates


# `python -m lakeview ARGS`, writing the GPU memory peak to $LAKEVIEW_GPU_CHECK_PEAK at exit.
CLI_WITH_PEAK = """
import atexit, os, runpy, sys
def peak():
    import torch
    value = torch.cuda.max_memory_allocated() if torch.cuda.is_initialized() else 0
    with open(os.environ["LAKEVIEW_GPU_CHECK_PEAK"], "w") as handle:
        handle.write(str(value))
atexit.register(peak)
sys.argv[0] = "lakeview"
runpy.run_module("lakeview", run_name="__main__", alter_sys=True)
"""


def lakeview_classify(folder: Path, model: Path, work: Path) -> tuple[float, int]:
    """(seconds, GPU memory peak) of `lakeview classify FOLDER --model M --csv OUT --quiet` in a fresh process."""
    out, peak = work / "classify.csv", work / "classify.peak"
    env = dict(os.environ, LAKEVIEW_GPU_CHECK_PEAK=str(peak),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI_WITH_PEAK, "classify", str(folder), "--model", str(model),
                           "--csv", str(out), "--quiet"], capture_output=True, text=True, env=env, cwd=work)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lakeview classify failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")
    rows = out.read_text().splitlines()[1:]
    expected = sum(1 for _ in folder.iterdir())
    if len(rows) != expected:
        raise SystemExit(f"lakeview classify wrote {len(rows)} rows for {expected} photos")
    return seconds, int(peak.read_text() or 0)


def check_classify(table: Table, device, scale: Scale, work: Path) -> None:
    import torch

    from lakeview.core.models.model_file import ModelMeta, save_model
    from lakeview.core.models.network import bare_network

    small, big = scale.classify_sets
    pool, origin = camera_photos(work, scale.distinct)
    torch.manual_seed(0)
    network = bare_network("resnet34", 5)
    model = save_model(work / "resnet34-random.lvmodel", network,
                       ModelMeta(arch="resnet34", classes=[f"class {i}" for i in range(5)]))
    rates = model_only(network, device, 32, big)
    best = max(rates.values())
    table.add("classify: model only (resnet34, bs 32)",
              f"{per_s(best)} ({', '.join(f'{k} {per_s(v)}' for k, v in rates.items())})")
    runs: dict[int, list[tuple[float, int]]] = {small: [], big: []}
    for _ in range(scale.rounds):
        for n in (small, big):
            runs[n].append(lakeview_classify(folder_of(work, pool, scale.distinct, n), model, work))
    t_small, t_big = (min(s for s, _ in runs[n]) for n in (small, big))
    marginal = (big - small) / max(t_big - t_small, 1e-9)
    table.add("classify: lakeview classify, marginal", f"{per_s(marginal)} between {small} and {big} photos "
              f"({t_small:.1f} s, {t_big:.1f} s; best of {scale.rounds}); {origin}")
    ratio = marginal / best
    table.add("classify: end to end / model only", f"{ratio:.2f}", f">= {TARGET_VS_MODEL:.2f}",
              "ok" if ratio >= TARGET_VS_MODEL else "MISS")
    if device.type == "cuda":  # none at all would mean that `lakeview classify` ran on the CPU
        peak = max(p for r in runs.values() for _, p in r)
        table.add("classify: GPU memory peak", megabytes(peak), "> 0", "ok" if peak else "FAIL")


# ---------------------------------------------------------------------------------------------------- training

class HostReads:
    """A torch function mode counting reads of a tensor's value (.item(), float(), bool(), .tolist(), .cpu()...)
    made by LakeView's own code, by file and line: on a GPU each one makes the host wait for the device."""

    def __init__(self, seen: Counter) -> None:
        from torch.overrides import TorchFunctionMode

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if getattr(func, "__name__", "") in HOST_READS:
                    frame = sys._getframe(1)
                    while frame and frame.f_code.co_filename.endswith(("torch/_tensor.py", "torch/overrides.py")):
                        frame = frame.f_back
                    if frame and frame.f_code.co_filename.startswith(PACKAGE):
                        seen[f"{Path(frame.f_code.co_filename).relative_to(REPO)}:{frame.f_lineno}"] += 1
                return func(*args, **(kwargs or {}))

        self.mode = Mode()


def watch_hot_loop(learner, cuda: bool) -> tuple[Counter, list[int]]:
    """Wrap `learner.epoch_batches`: while an epoch's batches are fetched and trained on (fit_one_cycle's hot
    loop, not its validation), CUDA's sync debug mode warns and HostReads counts. Returns (reads, [batches])."""
    import torch

    reads, batches = Counter(), [0]
    original = learner.epoch_batches

    def watched(*args, **kwargs):
        mode = HostReads(reads).mode
        if cuda:
            torch.cuda.set_sync_debug_mode("warn")
        mode.__enter__()
        try:
            for batch in original(*args, **kwargs):
                batches[0] += 1
                yield batch
        finally:
            mode.__exit__(None, None, None)
            if cuda:
                torch.cuda.set_sync_debug_mode("default")

    learner.epoch_batches = watched
    return reads, batches


def training_photos(scale: Scale, work: Path):
    """Hymenoptera (all of it, or `scale.train_photos` per split, both classes alike); else generated photos."""
    from lakeview.core.datasets.dataset import LabelledPhotos
    from lakeview.core.datasets.importers import from_folder

    if HYMENOPTERA.is_dir() and scale.size == 224:
        data, what = from_folder(HYMENOPTERA), "hymenoptera"
    else:
        root = work / "two-colours"
        for split in ("train", "valid"):
            for c, tint in enumerate(((170, 90, 60), (60, 110, 170))):
                (root / split / f"c{c}").mkdir(parents=True, exist_ok=True)
                for i in range(scale.train_photos or 8):
                    rng = np.random.default_rng(1000 * c + 100 * (split == "valid") + i)
                    pixels = np.clip(rng.normal(tint, 40, (96, 128, 3)), 0, 255).astype(np.uint8)
                    Image.fromarray(pixels).save(root / split / f"c{c}" / f"{i}.jpg")
        data, what = from_folder(root), "generated two-colour photos"
    if scale.train_photos is None:
        return data, what
    n = scale.train_photos

    def some(photos):
        by_class = [[p for p in photos if p.label == c] for c in data.classes]
        return [p for group in by_class for p in group[:n // len(by_class)]]

    return LabelledPhotos(data.classes, some(data.train), some(data.valid)), f"{what} (a subset)"


@dataclass
class TrainRun:
    seconds: float
    error: float
    valid: int
    batches: int
    reads: Counter
    syncs: list[str]
    gpu_peak: int


def train_once(data, arch: str, weights: str, device, scale: Scale, amp: bool, workers: int) -> TrainRun:
    import torch

    from lakeview.core.models.device import AMP_ENV
    from lakeview.core.training.evaluation import interpretation_of
    from lakeview.core.training.phases import make_learner, train
    from lakeview.core.training.plan import TrainingPlan

    plan = TrainingPlan(arch=arch, weights=weights, size=scale.size, device=str(device), workers=workers)
    if scale.epochs is not None:
        plan.frozen_epochs, plan.unfrozen_epochs = scale.epochs
    plan.batch_size = scale.batch or plan.batch_size
    cuda = device.type == "cuda"
    before = os.environ.pop(AMP_ENV, None)
    if not amp:
        os.environ[AMP_ENV] = "off"
    try:
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            learner = make_learner(data, plan)
            reads, batches = watch_hot_loop(learner, cuda)
            train(learner, plan)
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - started
        seen = interpretation_of(learner)
        syncs = [f"{Path(w.filename).name}:{w.lineno}" for w in caught if "synchroniz" in str(w.message)]
        return TrainRun(seconds, seen.error_rate, len(seen.targets), batches[0], reads, syncs,
                        torch.cuda.max_memory_allocated() if cuda else 0)
    finally:
        os.environ.pop(AMP_ENV, None)
        if before is not None:
            os.environ[AMP_ENV] = before


def check_training(table: Table, device, scale: Scale, work: Path, workers: int) -> None:
    import torch

    from lakeview.core.models.architectures import get_architecture
    from lakeview.core.models.device import autocast_dtype
    from lakeview.core.models.weights import cached_file
    from lakeview.core.training.plan import TrainingPlan

    data, what = training_photos(scale, work)
    plan = TrainingPlan()
    frozen, unfrozen = scale.epochs or (plan.frozen_epochs, plan.unfrozen_epochs)
    models = []
    for arch in scale.models:
        if arch == "mobilenet_v2":
            if MOBILENET_WEIGHTS.is_file():
                models.append((arch, str(MOBILENET_WEIGHTS), "shared ImageNet weights"))
        elif cached_file(get_architecture(arch)).is_file():
            models.append((arch, "imagenet", "ImageNet weights"))
        else:
            models.append((arch, "none", f"random init: no {arch} weights here"))
    cuda = device.type == "cuda"
    precisions = (True, False) if cuda else (False,)
    names = {True: f"{str(autocast_dtype(device)).removeprefix('torch.')} autocast",
             False: "float32" + (" (TF32 convolutions)" if cuda and torch.backends.cudnn.allow_tf32 else "")}
    print(f"  training on {what}: {len(data.train)} train / {len(data.valid)} valid photos, {frozen} frozen + "
          f"{unfrozen} unfrozen epochs, size {scale.size}, batch {scale.batch or plan.batch_size}, {workers} workers",
          flush=True)
    reads, syncs, batches = Counter(), Counter(), 0
    for arch, weights, weights_text in models:
        runs = {}
        for amp in precisions:
            run = runs[amp] = train_once(data, arch, weights, device, scale, amp, workers)
            reads.update(run.reads)
            syncs.update(run.syncs)
            batches += run.batches
            memory = f", GPU peak {megabytes(run.gpu_peak)}" if cuda else ""
            table.add(f"train {arch} {frozen}+{unfrozen}, {names[amp]}",
                      f"{run.seconds:.1f} s, {run.error:.1%} error on {run.valid} valid photos{memory} ({weights_text})")
        if len(runs) == 2:
            table.add(f"train {arch}: AMP / float32", f"time x{runs[True].seconds / runs[False].seconds:.2f}, "
                      f"error {runs[True].error:.1%} vs {runs[False].error:.1%}")
    if cuda:
        table.add("host syncs in the training loop", f"{sum(syncs.values())} sync warnings in {batches} batches"
                  + (f": {dict(syncs.most_common(3))}" if syncs else ""), "0", "FAIL" if syncs else "ok")
    else:
        table.add("host syncs in the training loop", "n/a: no GPU (torch.cuda.set_sync_debug_mode needs CUDA)")
    table.add("LakeView's tensor reads in the loop", f"{sum(reads.values())} in {batches} batches"
              + (f": {dict(reads.most_common(3))}" if reads else ""), "0", "FAIL" if reads else "ok")


# --------------------------------------------------------------------------------------------------- self-test

def check_self_test(table: Table, work: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAKEVIEW_LOG_DIR=str(work / "logs"),
               XDG_CONFIG_HOME=str(work / "config"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run([sys.executable, "-m", "lakeview", "--self-test"], capture_output=True, text=True,
                              env=env, timeout=300, cwd=work)
        lines = (done.stdout.strip() or done.stderr.strip() or "(no output)").splitlines()
        passed, line = done.returncode == 0, lines[-1]
    except subprocess.TimeoutExpired:
        passed, line = False, "no answer in 300 s"
    table.add("app self-test (offscreen)", line.split(": ", 1)[-1] if passed else line, "passed",
              "ok" if passed else "FAIL")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small counts (the default without a GPU)")
    mode.add_argument("--smoke", action="store_true", help="seconds: no `lakeview classify` runs, no self-test")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers for training (the plan's 0)")
    parser.add_argument("--work", type=Path, help="where to keep the generated photos and model "
                                                  "(default <temp>/lakeview-gpu-check; reused between runs)")
    args = parser.parse_args()
    import torch

    cuda = torch.cuda.is_available()
    name = "smoke" if args.smoke else "quick" if args.quick or not cuda else "gpu"
    scale = SCALES[name]
    work = (args.work or Path(tempfile.gettempdir()) / "lakeview-gpu-check").resolve()
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),)
    print(f"LakeView GPU check ({name}): {'a CUDA GPU' if cuda else 'no GPU'}, {os.cpu_count()} CPU cores, "
          f"load average {load[0]:.1f} at the start; work folder {work}", flush=True)
    started = time.perf_counter()
    table = Table()
    device = check_device(table)
    if scale.classify_sets:
        check_classify(table, device, scale, work)
    check_training(table, device, scale, work, args.workers)
    if scale.self_test:
        check_self_test(table, work)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),)
    print(f"\ndone in {time.perf_counter() - started:.0f} s; load average {load[0]:.1f} at the end\n")
    table.print()
    return 1 if table.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
