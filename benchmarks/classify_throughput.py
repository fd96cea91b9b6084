"""How fast `lakeview classify` goes on big camera JPEGs, against the model-only limit and a naive script.

Makes (once, cached) 4000x3000 JPEGs from the hymenoptera photos and a resnet34 model file with random weights
(same speed as trained ones). --photos camera (the default) makes them as a 12 MP camera writes them: upscaled,
with sensor noise (shot, read and colour noise), EXIF, quality 92, 4:2:0 chroma (about 3 MB each, as users'
photos are); --photos upscaled only upscales them (quality 90, about 1 MB, smooth: they decode twice as fast).
Then it measures in one run:

  (a) model only:  the same network and batch size on tensors already in memory (inference_mode), channels_last
                   and contiguous; the better of the two is a. Also the BatchNorm-folded copy classify runs.
  (b) end to end:  `python -m lakeview classify FOLDER --model M --csv out.csv --quiet` in a fresh process, for
                   N/2, N and 3N/2 photos. b is the marginal rate, N photos / (t(3N/2) - t(N/2)) with t from
                   process start to exit, so that start-up (python, torch import, model load) and exit cancel
                   out; the rate after the first batch, the rate including start-up, and `classify_files` timed
                   in this process are shown as checks. Peak RSS of the process (VmHWM) for each folder size
                   shows whether memory is flat;
  (c) naive:       full PIL decode, torchvision Resize(256) + CenterCrop(224) + ToTensor + Normalize on the PIL
                   image, batches of 32, no workers, the unfolded network run as in (a) (c' runs it the way such
                   a script is usually written: NCHW tensors, torch.no_grad).

Everything is measured --rounds times, interleaved, keeping the best: other programs only ever slow a run down.
Next to each figure is how many cores other processes kept busy meanwhile.

Targets (2-core CPU, resnet34): b >= 0.80 x a, b >= 3 x c, peak RSS < 1.5 GB and flat as the folder grows.

    python benchmarks/classify_throughput.py                          # 200 photos (100, 200, 300), 2 rounds
    python benchmarks/classify_throughput.py --photos upscaled        # the smooth, upscaled photos
    python benchmarks/classify_throughput.py --count 400 --folder /data/lv-bench --rounds 3 --wait-idle 300
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, features

REPO = Path(__file__).resolve().parents[1]
HYMENOPTERA = REPO.parent / "shared" / "data" / "hymenoptera"
WIDTH, HEIGHT = 4000, 3000
QUALITY = 90
CAMERA_QUALITY = 92
CAMERA, UPSCALED = "camera", "upscaled"
ARCH = "resnet34"
CLASSES = ["Lake Bled", "Lake Como", "Lake Louise", "Loch Ness", "Lake Tahoe"]
TARGET_VS_MODEL = 0.80
TARGET_VS_NAIVE = 3.0
RSS_LIMIT_MB = 1536
RSS_FLAT_TOLERANCE = 0.05  # "flat": peak RSS for 2N photos at most 5% above that for N/2


# ----------------------------------------------------------------------------------------------------- photos

def source_photos() -> list[Path]:
    """Real photos, interleaved across splits and classes so that consecutive files look different."""
    if not HYMENOPTERA.is_dir():
        return []
    groups = [sorted((HYMENOPTERA / split / label).glob("*.jpg"))
              for split in ("train", "val") for label in ("ants", "bees")]
    mixed: list[Path] = []
    for i in range(max((len(g) for g in groups), default=0)):
        mixed += [g[i] for g in groups if i < len(g)]
    return mixed


def _make_photo(job: tuple[Path, Path | None, bool, int, str, float]) -> int:
    target, source, mirror, index, kind, grain = job
    rng = np.random.default_rng(index)
    if source is not None:
        small = Image.open(source).convert("RGB")
        if mirror:  # second time round the sources: mirrored, so no two files are the same
            small = small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    else:
        small = _synthetic_small(rng)
    big = small.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    partial = target.with_suffix(".part")
    if kind == CAMERA:
        big = _sensor_noise(big, rng)
        big.save(partial, "JPEG", quality=CAMERA_QUALITY, subsampling="4:2:0", exif=_camera_exif(index))
    else:
        if grain > 0 or source is None:
            pixels = np.asarray(big, dtype=np.int16) + rng.normal(0, grain or 3.0, (HEIGHT, WIDTH, 3)).astype(np.int16)
            big = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        big.save(partial, "JPEG", quality=QUALITY)
    os.replace(partial, target)
    return target.stat().st_size


def _sensor_noise(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """What a 12 MP camera adds to a scene: shot noise that grows with brightness, read noise, and colour noise
    softened by demosaicing (correlated over about 2 pixels), as a camera JPEG keeps them at ISO 200-400."""
    pixels = np.asarray(image, dtype=np.float32)
    level = pixels.mean(axis=2, keepdims=True)
    sigma = 1.2 + 0.22 * np.sqrt(level)  # about 3.7 at mid grey
    luma = rng.standard_normal((HEIGHT, WIDTH, 1), dtype=np.float32)
    chroma = rng.standard_normal((HEIGHT // 2, WIDTH // 2, 3), dtype=np.float32).repeat(2, 0).repeat(2, 1)
    pixels += sigma * (luma + 0.45 * chroma)
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))


def _camera_exif(index: int) -> Image.Exif:
    """The EXIF block a camera writes: make, model, orientation, dates, exposure and the pixel size."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "LakeView Bench", "Camera 12MP", 1  # Make, Model, Orientation
    exif[0x0131], exif[0x0132] = "bench 1.0", f"2024:06:{1 + index % 28:02d} 12:{index % 60:02d}:00"
    details = exif.get_ifd(0x8769)  # the Exif sub-IFD
    details[0x9003] = exif[0x0132]  # DateTimeOriginal
    details[0x829A], details[0x829D], details[0x8827] = 1 / 250, 1.8, 200  # exposure, f-number, ISO
    details[0xA002], details[0xA003] = WIDTH, HEIGHT  # PixelXDimension, PixelYDimension
    return exif


def _synthetic_small(rng: np.random.Generator) -> Image.Image:
    """Photo-like without photos: a sky-to-ground gradient, soft blobs of colour, smooth texture."""
    h, w = 300, 400
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    top, bottom = rng.uniform(40, 230, 3), rng.uniform(20, 200, 3)
    image = top * (1 - y[..., None]) + bottom * y[..., None]
    for _ in range(rng.integers(4, 10)):
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))[..., None]
        image = image * (1 - blob) + rng.uniform(0, 255, 3) * blob
    coarse = Image.fromarray(rng.integers(0, 255, (h // 8, w // 8), dtype=np.uint8))
    texture = np.asarray(coarse.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float64)
    image += (texture[..., None] - 128) * 0.25
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def make_photos(root: Path, count: int, kind: str, grain: float) -> tuple[Path, str]:
    """`count` distinct 4000x3000 JPEGs of this kind in their own pool under root (generated once, reused), and
    what they were made from."""
    sources = source_photos()
    pool = root / (kind + ("" if sources else "-synthetic") + (f"-grain{grain:g}" if grain and kind == UPSCALED else ""))
    pool.mkdir(parents=True, exist_ok=True)
    scenes = f"hymenoptera photos ({len(sources)} distinct)" if sources else \
        "SYNTHETIC gradients + blobs + noise (../shared/data/hymenoptera not found)"
    if kind == CAMERA:
        origin = (f"camera-like: {scenes} upscaled, with sensor noise, EXIF, q{CAMERA_QUALITY} 4:2:0")
    else:
        origin = f"upscaled {scenes}, q{QUALITY}" + (f", with grain sigma {grain:g}" if grain else "")
    jobs = []
    for i in range(count):
        target = pool / f"photo_{i:05d}.jpg"
        if not target.is_file():
            source = sources[i % len(sources)] if sources else None
            jobs.append((target, source, bool(sources) and (i // len(sources)) % 2 == 1, i, kind, grain))
    if jobs:
        print(f"making {len(jobs)} JPEGs of {WIDTH}x{HEIGHT} in {pool} (once; later runs reuse them) ...", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
            list(workers.map(_make_photo, jobs, chunksize=4))
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return pool, origin


def photo_set(root: Path, pool: Path, n: int) -> Path:
    """A folder holding exactly `n` photos (symbolic links into the pool, cycling it when n exceeds it)."""
    originals = sorted(pool.glob("photo_*.jpg"))
    folder = root / f"set-{pool.name}-{n}"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for i in range(n):
        (folder / f"p{i:05d}.jpg").symlink_to(originals[i % len(originals)])
    return folder


def make_model(root: Path) -> Path:
    import torch

    from lakeview.core.models.model_file import ModelMeta, save_model
    from lakeview.core.models.network import RandomInitWarning, build_network

    path = root / f"{ARCH}-random.lvmodel"
    if not path.is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RandomInitWarning)
            torch.manual_seed(0)
            network = build_network(ARCH, len(CLASSES), weights="none")
        save_model(path, network, ModelMeta(arch=ARCH, classes=CLASSES))
    return path


# ------------------------------------------------------------------------------------------------- measures

def model_only(network, batch_size: int, images: int, channels_last: bool = True) -> float:
    """(a) images/s of the network alone on batches already in memory."""
    import torch

    layout = torch.channels_last if channels_last else torch.contiguous_format
    network = network.to(memory_format=layout).eval()
    batch = torch.randn(batch_size, 3, 224, 224).contiguous(memory_format=layout)
    batches = max(2, -(-images // batch_size))
    with torch.inference_mode():
        network(batch)  # warm-up
        started = time.perf_counter()
        for _ in range(batches):
            network(batch).softmax(1)
        elapsed = time.perf_counter() - started
    return batches * batch_size / elapsed


# `python -m lakeview ARGS`, exactly (runpy is what -m uses), with two additions written to
# $LAKEVIEW_BENCH_STAMPS at exit: the moments classification starts and each result comes out of
# `classify_files`, and the process's peak RSS. The peak is read from /proc/self/status (VmHWM) because the
# ru_maxrss that wait4 reports for a child on Linux includes the parent's RSS at fork (carried over by exec).
CLI_WITH_STAMPS = """
import atexit, json, os, resource, runpy, sys, time
import lakeview.core.models.inference as inference
real, stamps = inference.classify_files, []
def timed(*args, **kwargs):
    stamps.append(time.time())
    for result in real(*args, **kwargs):
        stamps.append(time.time())
        yield result
def report():
    try:
        with open("/proc/self/status") as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_kb = peak // 1024 if sys.platform == "darwin" else peak
    with open(os.environ["LAKEVIEW_BENCH_STAMPS"], "w") as handle:
        json.dump({"stamps": stamps, "peak_kb": peak_kb}, handle)
atexit.register(report)
inference.classify_files = timed
sys.argv[0] = "lakeview"
runpy.run_module("lakeview", run_name="__main__", alter_sys=True)
"""


@dataclass
class CliRun:
    photos: int
    total_s: float  # process start to exit
    startup_s: float  # process start to the call of classify_files: python, torch import, model load, listing
    steady: float  # photos/s from the end of the first batch to the last result
    rss_mb: float  # peak resident memory of the process
    cpu_s: float  # CPU time of the process, all its threads: what it costs a machine with no core to spare


def cli_run(folder: Path, model: Path, batch_size: int, out: Path, repo: Path = REPO) -> CliRun:
    """(b) run `lakeview classify FOLDER --model M --csv OUT --quiet --bs B` in a fresh process, with the
    `lakeview` package of the checkout `repo`."""
    args = ["classify", str(folder), "--model", str(model), "--csv", str(out), "--quiet", "--bs", str(batch_size)]
    log, stamps_file = out.with_suffix(".log"), out.with_suffix(".stamps")
    stamps_file.unlink(missing_ok=True)
    env = dict(os.environ, LAKEVIEW_BENCH_STAMPS=str(stamps_file), PYTHONPATH=str(repo))
    with open(log, "wb") as sink:
        wall_start, started = time.time(), time.perf_counter()
        cpu_before = _children_cpu()
        process = subprocess.Popen([sys.executable, "-c", CLI_WITH_STAMPS, *args], stdout=sink,
                                   stderr=subprocess.STDOUT, cwd=repo, env=env)
        code = process.wait()
        cpu = _children_cpu() - cpu_before
        total = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"lakeview classify failed ({code}):\n{log.read_text()[-3000:]}")
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    errors = [r for r in rows if r["error"]]
    if errors:
        raise SystemExit(f"{len(errors)} photo(s) failed, e.g. {errors[0]}")
    report = json.loads(stamps_file.read_text())
    stamps = report["stamps"]
    if len(rows) != len(stamps) - 1:
        raise SystemExit(f"{len(rows)} CSV rows but {len(stamps) - 1} results")
    first_batch_end = stamps[min(batch_size, len(rows))]
    after = len(rows) - batch_size
    steady = after / (stamps[-1] - first_batch_end) if after > 0 else float("nan")
    return CliRun(len(rows), total, stamps[0] - wall_start, steady, report["peak_kb"] / 1024, cpu)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def in_process(model_path: Path, folder: Path, batch_size: int) -> tuple[float, float]:
    """(b') `classify_files` in this process: (images/s counted from the first yielded result, overall images/s)."""
    from lakeview.core.photos.files import iter_image_files
    from lakeview.core.models.inference import Prediction, classify_files
    from lakeview.core.models.model_file import load_model

    model = load_model(model_path)
    paths = list(iter_image_files(folder))
    started = time.perf_counter()
    first = None
    count = 0
    for result in classify_files(model, paths, batch_size=batch_size, device="cpu"):
        assert isinstance(result, Prediction), result
        count += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    after_first = count - batch_size
    steady = after_first / (end - first) if after_first > 0 and end > first else float("nan")
    return steady, count / (end - started)


def naive(network, paths: list[Path], batch_size: int, channels_last: bool) -> float:
    """(c) the straightforward script: full decode, PIL resize, no workers, the same network.

    channels_last=True runs the network exactly as (a) does, so that only the photo pipeline differs;
    False runs it the way such a script is usually written (model.eval(), torch.no_grad(), NCHW tensors).
    """
    import torch
    from torchvision import transforms

    preprocess = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    layout = torch.channels_last if channels_last else torch.contiguous_format
    network = network.to(memory_format=layout).eval()
    started = time.perf_counter()
    with torch.inference_mode() if channels_last else torch.no_grad():
        for i in range(0, len(paths), batch_size):
            batch = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in paths[i:i + batch_size]])
            network(batch.contiguous(memory_format=layout)).softmax(1).argmax(1).tolist()
    return len(paths) / (time.perf_counter() - started)


# ------------------------------------------------------------------------------------------- machine load

class OtherLoad:
    """How many cores other processes kept busy while we measured (from /proc/stat, minus our own CPU time).

    On a shared machine this is what makes figures unreliable; it is printed next to each of them.
    """

    def __init__(self) -> None:
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.available = Path("/proc/stat").is_file()

    def snapshot(self) -> tuple[float, float, float]:
        times = os.times()
        own = times.user + times.system + times.children_user + times.children_system
        busy = 0.0
        if self.available:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            busy = (sum(fields[:8]) - fields[3] - fields[4]) / self.ticks  # all but idle and iowait
        return time.perf_counter(), busy, own

    def since(self, start: tuple[float, float, float]) -> float:
        """Average number of cores used by other processes since `start` (nan where unknown)."""
        if not self.available:
            return float("nan")
        end = self.snapshot()
        return max(0.0, (end[1] - start[1]) - (end[2] - start[2])) / max(end[0] - start[0], 1e-9)

    def wait_until_idle(self, limit_s: float) -> float:
        """Wait (at most `limit_s`) for a 3-second spell in which others use under 0.15 cores."""
        deadline = time.perf_counter() + limit_s
        while True:
            start = self.snapshot()
            time.sleep(3)
            others = self.since(start)
            if others < 0.15 or time.perf_counter() >= deadline or not self.available:
                return others
            print(f"  waiting: other processes are using {others:.1f} cores ...", flush=True)


# ------------------------------------------------------------------------------------------------------ main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="photos in the main run (default 200)")
    parser.add_argument("--folder", type=Path, help="where to make and cache the photos and the model "
                                                    "(default: <temp>/lakeview-bench)")
    parser.add_argument("--distinct", type=int, default=64,
                        help="distinct photos made (default 64); the folders cycle through them, and a decode "
                             "costs the same whether a file was seen before or not (the files stay in the page "
                             "cache either way)")
    parser.add_argument("--bs", type=int, default=32, help="batch size for all three (default 32)")
    parser.add_argument("--photos", choices=(CAMERA, UPSCALED), default=CAMERA,
                        help="camera: the scenes upscaled with sensor noise, EXIF, q92 4:2:0, as a 12 MP camera "
                             "writes them (default); upscaled: the scenes only upscaled, q90 (smooth, small files "
                             "that decode fast)")
    parser.add_argument("--grain", type=float, default=0.0,
                        help="with --photos upscaled: add Gaussian grain of this sigma (kept in a separate pool)")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="another LakeView checkout (e.g. `git archive main | tar -x -C DIR`) whose "
                             "`lakeview classify` is measured the same way, interleaved: before and after side by side")
    parser.add_argument("--skip-naive", action="store_true", help="leave out (c), the slowest part")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measure everything this many times and keep the best (default 2)")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="S",
                        help="first wait up to S seconds for other processes to leave the CPUs alone")
    args = parser.parse_args()
    if args.count < 4 * args.bs:
        parser.error("--count must be at least 4 x --bs (steady state is measured from N/2 to 2N photos)")

    root = (args.folder or Path(tempfile.gettempdir()) / "lakeview-bench").resolve()
    if root.is_relative_to(REPO):
        parser.error("--folder must be outside the repository")
    root.mkdir(parents=True, exist_ok=True)
    pool, origin = make_photos(root, min(args.distinct, args.count), args.photos, args.grain)
    n, half, upper = args.count, args.count // 2, args.count * 3 // 2
    half_set, main_set, upper_set = (photo_set(root, pool, k) for k in (half, n, upper))
    model_path = make_model(root)
    sizes = [p.stat().st_size for p in sorted(pool.glob("photo_*.jpg"))[:n]]

    import torch

    from lakeview.core.models.inference_network import inference_network
    from lakeview.core.models.model_file import load_model

    print(f"LakeView classify throughput: {n} JPEGs {WIDTH}x{HEIGHT}, {origin}; "
          f"mean file {np.mean(sizes) / 1e6:.2f} MB")
    print(f"{ARCH} (random weights), batch {args.bs}, CPU, {os.cpu_count()} cores, torch {torch.__version__} "
          f"with {torch.get_num_threads()} threads, libjpeg-turbo {features.check_feature('libjpeg_turbo')}")
    print(f"photos and model in {root}", flush=True)
    load = OtherLoad()
    if args.wait_idle:
        load.wait_until_idle(args.wait_idle)
    print()

    network = load_model(model_path).network  # run like (a): channels_last, inference_mode
    nchw_network = load_model(model_path).network  # (a) contiguous; and as a hand-written script runs it (c')
    folded_network = inference_network(load_model(model_path).network, torch.device("cpu"))  # as classify runs it
    out = root / "out.csv"
    naive_paths = sorted(main_set.glob("*.jpg"))[:max(args.bs, min(n, 3 * args.bs))]
    sets = {half: half_set, n: main_set, upper: upper_set}
    results: dict[str, list[float]] = {}
    cli: dict[int, list[CliRun]] = {}
    baseline: dict[int, list[CliRun]] = {}
    others: dict[str, list[float]] = {}

    def measure(key: str, what: str, run):
        print(f"  {what} ...", flush=True)
        start = load.snapshot()
        result = run()
        others.setdefault(key, []).append(load.since(start))
        return result

    def model_runs(again: bool) -> None:
        for key, what, net, cl in (("a", "channels_last", network, True), ("a_nchw", "contiguous", nchw_network, False),
                                   ("a_fold", "BatchNorm folded, channels_last", folded_network, True)):
            results.setdefault(key, []).append(measure(key, f"(a) model only, {what}" + (", again" if again else ""),
                                                       lambda: model_only(net, args.bs, n, cl)))

    for round_ in range(1, args.rounds + 1):
        print(f"round {round_} of {args.rounds}", flush=True)
        model_runs(round_ > 1)
        for size, folder in sets.items():
            run = measure(f"b{size}", f"(b) lakeview classify, {size} photos",
                          lambda: cli_run(folder, model_path, args.bs, out))
            if run.photos != size:
                raise SystemExit(f"expected {size} CSV rows, got {run.photos}")
            cli.setdefault(size, []).append(run)
            if args.baseline:
                run = measure(f"base{size}", f"(b) baseline's lakeview classify, {size} photos",
                              lambda: cli_run(folder, model_path, args.bs, out, args.baseline.resolve()))
                baseline.setdefault(size, []).append(run)
        steady, _ = measure("bi", "(b) classify_files in this process",
                            lambda: in_process(model_path, main_set, args.bs))
        results.setdefault("bi", []).append(steady)
        if not args.skip_naive:
            results.setdefault("c", []).append(measure(
                "c", f"(c) naive script, {len(naive_paths)} photos",
                lambda: naive(network, naive_paths, args.bs, channels_last=True)))
            results.setdefault("cp", []).append(measure(
                "cp", f"(c') naive script as usually written, {len(naive_paths)} photos",
                lambda: naive(nchw_network, naive_paths, args.bs, channels_last=False)))
    model_runs(True)

    # Other programs and the machine only ever slow a run down: the best of the runs is the best estimate.
    nan = float("nan")
    best = {k: max(v) for k, v in results.items()}
    a_cl, a_nchw, a_fold = best["a"], best["a_nchw"], best["a_fold"]
    a = max(a_cl, a_nchw)  # the network as the user's model file holds it, in its faster layout
    b_in, c, c_plain = best["bi"], best.get("c", nan), best.get("cp", nan)
    t_half, t_upper = (min(r.total_s for r in cli[size]) for size in (half, upper))
    b = (upper - half) / (t_upper - t_half)  # the marginal rate: start-up and exit cancel out
    if baseline:
        t_base_half, t_base_upper = (min(r.total_s for r in baseline[size]) for size in (half, upper))
        b_base = (upper - half) / (t_base_upper - t_base_half)
        cpu_base = (min(r.cpu_s for r in baseline[upper]) - min(r.cpu_s for r in baseline[half])) / (upper - half)
    cpu_photo = (min(r.cpu_s for r in cli[upper]) - min(r.cpu_s for r in cli[half])) / (upper - half)
    steady_runs = [r.steady for size in (n, upper) for r in cli[size]]
    total_s = min(r.total_s for r in cli[n])
    startup_s = min(r.startup_s for r in cli[half] + cli[n] + cli[upper])
    b_total = n / total_s
    rss = {size: max(r.rss_mb for r in runs_) for size, runs_ in cli.items()}

    def busy(*keys: str) -> str:
        values = [v for k in keys for v in others.get(k, [])]
        return f"{min(values):.2f}" if values and all(v == v for v in values) else "?"

    def runs(values) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    table = [
        ("(a) model only, channels_last", f"{a_cl:.2f} img/s", busy("a"), f"runs: {runs(results['a'])}"),
        ("(a) model only, contiguous", f"{a_nchw:.2f} img/s", busy("a_nchw"), f"runs: {runs(results['a_nchw'])}"),
        ("(a) model only, BN folded", f"{a_fold:.2f} img/s", busy("a_fold"),
         f"channels_last, as classify runs it; runs: {runs(results['a_fold'])}"),
        ("(b) classify CLI, marginal = b", f"{b:.2f} img/s", busy(f"b{half}", f"b{upper}"),
         f"({upper} - {half}) photos / (t({upper}) - t({half})), t process start to exit: "
         f"{t_upper:.1f} s - {t_half:.1f} s"),
        *([] if not baseline else [(
            "(b) baseline's classify, marginal", f"{b_base:.2f} img/s", busy(f"base{half}", f"base{upper}"),
            f"{args.baseline}: b/a = {b_base / a:.2f}, b/c = {b_base / c:.2f}; t: {t_base_upper:.1f} s - {t_base_half:.1f} s; "
            f"peak RSS {max(r.rss_mb for v in baseline.values() for r in v):.0f} MB")]),
        ("(b) CPU time per photo, marginal", f"{cpu_photo * 1000:.0f} ms", busy(f"b{half}", f"b{upper}"),
         "all threads of the process, (cpu(3N/2) - cpu(N/2)) / N: the cost on a machine with no idle core"
         + (f"; baseline's: {cpu_base * 1000:.0f} ms" if baseline else "")),
        ("(b) classify CLI, steady state", f"{max(steady_runs):.2f} img/s", busy(f"b{n}", f"b{upper}"),
         f"after the first batch, runs of {n} and {upper} photos: {runs(steady_runs)}"),
        ("(b) classify CLI, incl. start-up", f"{b_total:.2f} img/s", busy(f"b{n}"),
         f"{n} photos in {total_s:.1f} s, process start to exit"),
        ("(b) classify_files in process", f"{b_in:.2f} img/s", busy("bi"),
         f"after the first batch; runs: {runs(results['bi'])}"),
        ("(c) naive, network run as in (a)", f"{c:.2f} img/s", busy("c"),
         f"full decode + PIL Resize, no workers; runs: {runs(results.get('c', []))}"),
        ("(c') naive, as usually written", f"{c_plain:.2f} img/s", busy("cp"),
         f"the same with NCHW tensors and no_grad; runs: {runs(results.get('cp', []))}"),
        ("start-up of lakeview classify", f"{startup_s:.1f} s", busy(f"b{half}"),
         "process start to classify_files: python, torch import, model load"),
    ]
    width = max(len(r[0]) for r in table)
    print(f"\n  {'measure':<{width}}  {'value':>12}  {'others':>6}  note")
    for name, value, others_, note in table:
        print(f"  {name:<{width}}  {value:>12}  {others_:>6}  {note}")
    print(f"  {'peak RSS of lakeview classify':<{width}}  {'':>12}  {'':>6}  "
          + " | ".join(f"{k} photos: {v:.0f} MB" for k, v in sorted(rss.items())))
    print(f"  best of {args.rounds} round(s); others = cores kept busy by other processes during the least "
          f"disturbed run (of {os.cpu_count()}); above ~0.1 the figures are disturbed")

    ratio_a, ratio_c = b / a, b / c
    peak = max(rss.values())
    growth = (rss[upper] - rss[half]) / rss[half]
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    print()
    print(f"  b/a = {ratio_a:.2f}   target >= {TARGET_VS_MODEL:.2f}   {verdict(ratio_a >= TARGET_VS_MODEL)}"
          f"   (a = the better of channels_last and contiguous; incl. start-up: {b_total / a:.2f}; "
          f"against the folded network classify runs: {b / a_fold:.2f})")
    if args.skip_naive:
        print("  b/c      (naive skipped)")
    else:
        print(f"  b/c = {ratio_c:.2f}   target >= {TARGET_VS_NAIVE:.2f}   {verdict(ratio_c >= TARGET_VS_NAIVE)}"
              f"   (incl. start-up: {b_total / c:.2f}; against c': {b / c_plain:.2f})")
    print(f"  peak RSS {peak:.0f} MB   target < {RSS_LIMIT_MB} MB   {verdict(peak < RSS_LIMIT_MB)}")
    print(f"  RSS {half} -> {upper} photos: {growth * 100:+.1f}%   target flat (<= +{RSS_FLAT_TOLERANCE * 100:.0f}%)"
          f"   {verdict(growth <= RSS_FLAT_TOLERANCE)}")
    disturbed = [k for k, v in others.items() if v and min(v) > 0.1]
    if disturbed:
        print("\n  NOTE: other processes used the CPUs during every run of some measures; rerun on a quiet machine "
              "(or with --wait-idle 300 and more --rounds) before trusting the ratios.")
    ok = ratio_a >= TARGET_VS_MODEL and (args.skip_naive or ratio_c >= TARGET_VS_NAIVE) and peak < RSS_LIMIT_MB \
        and growth <= RSS_FLAT_TOLERANCE
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
