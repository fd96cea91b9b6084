"""Does keeping near-duplicates on one side of the split make the validation error honest?

Makes a burst dataset in a temporary folder: each hymenoptera train/ photo plus 3 copies, each slightly shifted
(cropped by up to 4% and scaled back), recoloured (brightness, saturation and channel gains within 8%) and
recompressed (JPEG quality 60-85), as a burst camera gives. Then:

1. the pHash thresholds: for each Hamming distance, the share of copies found with their original (one group per
   burst) against the share of pairs of unrelated photos that close (false merges);
2. for each seed, trains LakeView (mobilenet_v2 with ../shared's ImageNet weights; the quick retrain's recipe: a
   new head on the body's features, computed once for every photo) with valid_pct 0.2 split (a) at random and
   (b) keeping each near-duplicate group on one side, and prints each one's validation error next to the error
   on a truly unseen set (the untouched val/ photos). The honest split's validation error should be the closer.

Needs ../shared. Run on purpose (the body's pass over 1,125 photos takes a few minutes on 2 CPU cores; each
training then takes seconds):

    .venv/bin/python benchmarks/split_honesty.py                  # seeds 42 1 2 3 4
    .venv/bin/python benchmarks/split_honesty.py --seeds 42 --epochs 16 --device cuda
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from lakeview.core.datasets.importers import from_folder
from lakeview.core.datasets.near_duplicates import MAX_DISTANCE, MAX_SECONDS, group_hashes
from lakeview.core.photos.perceptual_hash import HashCache, hash_photos

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
COPIES = 3


def burst_copy(image: Image.Image, rng: random.Random) -> Image.Image:
    """One more frame of a burst: shifted a little, recoloured a little."""
    w, h = image.size
    dx, dy = rng.uniform(0, 0.04) * w, rng.uniform(0, 0.04) * h
    left, top = rng.random() * dx, rng.random() * dy
    frame = image.crop((round(left), round(top), round(w - (dx - left)), round(h - (dy - top)))).resize((w, h))
    frame = ImageEnhance.Brightness(frame).enhance(rng.uniform(0.92, 1.08))
    frame = ImageEnhance.Color(frame).enhance(rng.uniform(0.92, 1.08))
    gains = np.array([rng.uniform(0.94, 1.06) for _ in range(3)])
    return Image.fromarray(np.clip(np.asarray(frame, dtype=np.float32) * gains, 0, 255).astype(np.uint8))


def make_bursts(source: Path, target: Path, seed: int = 0) -> list[list[Path]]:
    """`target/train/<class>/` with each photo of `source/train/<class>/` and its copies; the bursts' paths."""
    rng = random.Random(seed)
    bursts = []
    for photo in sorted((source / "train").glob("*/*.jpg")):
        folder = target / "train" / photo.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        with Image.open(photo) as im:
            image = im.convert("RGB")
        paths = [folder / f"{photo.stem}_0.jpg"]
        image.save(paths[0], quality=90)
        for k in range(1, COPIES + 1):
            paths.append(folder / f"{photo.stem}_{k}.jpg")
            burst_copy(image, rng).save(paths[-1], quality=rng.randint(60, 85))
        bursts.append(paths)
    return bursts


def threshold_table(bursts: list[list[Path]], cache: HashCache) -> None:
    paths = [p for burst in bursts for p in burst]
    burst_of = [b for b, burst in enumerate(bursts) for _ in burst]
    hashes = hash_photos(paths, cache=cache).hashes
    values = np.array([h.phash for h in hashes], dtype=np.uint64)
    distance = np.bitwise_count(values[:, None] ^ values[None, :])
    same = np.equal.outer(burst_of, burst_of)
    upper = np.triu(np.ones_like(same), 1).astype(bool)
    unrelated = distance[upper & ~same]
    print(f"{len(bursts)} bursts of {COPIES + 1} ({len(paths)} photos); {len(unrelated)} pairs of unrelated photos")
    print(f"{'bits':>4}  {'copies found':>12}  {'bursts whole':>12}  {'false pairs':>11}  {'bursts merged':>13}")
    for bits in range(4, 21, 2):
        groups = group_hashes(hashes, bits, None)
        found = np.mean([distance[i0, i] <= bits
                         for i0 in range(0, len(paths), COPIES + 1) for i in range(i0 + 1, i0 + COPIES + 1)])
        whole = np.mean([len({groups[i] for i in range(i0, i0 + COPIES + 1)}) == 1
                         for i0 in range(0, len(paths), COPIES + 1)])
        members: dict[int, set[int]] = {}
        for i, g in enumerate(groups):
            members.setdefault(g, set()).add(burst_of[i])
        merged = sum(len(b) for b in members.values() if len(b) > 1)
        false = np.count_nonzero(unrelated <= bits)
        print(f"{bits:>4}  {found:>11.1%}  {whole:>11.1%}  {false:>5} ({false / len(unrelated):.3%})  {merged:>13}"
              + ("   <- default" if bits == MAX_DISTANCE else ""))


class Features:
    """The ImageNet body's pooled features of every burst photo and of the unseen photos, computed once: each
    training below fits a new head on them, as LakeView's quick retrain does on its stored features."""

    def __init__(self, burst_root: Path, args) -> None:
        from lakeview.core.datasets.dataset import LabelledPhotos
        from lakeview.core.training.phases import make_learner

        bursts = from_folder(burst_root, valid_pct=0, split_by_similarity=False)
        unseen = from_folder(DATA / "val", valid_pct=0, split_by_similarity=False)
        self.plan = plan(args, seed=0)
        learner = make_learner(LabelledPhotos(bursts.classes, bursts.train, unseen.train), self.plan)
        started = time.perf_counter()
        learner.ensure_features(("train", "valid"), lambda *_: None, lambda: False)
        print(f"body features of {len(bursts.train)} burst and {len(unseen.train)} unseen photos: "
              f"{time.perf_counter() - started:.0f} s on {learner.device}")
        features, kept = learner.cached_features("train")
        self.of_path = {bursts.train[i].path: features[n] for n, i in enumerate(kept)}
        self.unseen, kept = learner.cached_features("valid")
        self.unseen_labels = [unseen.train[i].label for i in kept]
        self.body = learner.network.body


def plan(args, seed: int):
    from lakeview.core.training.plan import TrainingPlan

    return TrainingPlan(arch="mobilenet_v2", weights=str(WEIGHTS), frozen_epochs=args.epochs, unfrozen_epochs=0,
                        augment=False, seed=seed, device=args.device, workers=0)


def train_and_measure(burst_root: Path, features: Features, seed: int, grouped: bool, args
                      ) -> tuple[float, float, str]:
    """(validation error, unseen error, the split's report) of one training of a new head."""
    import torch

    from lakeview.core.training.evaluation import interpretation_of
    from lakeview.core.training.phases import make_learner, train

    data = from_folder(burst_root, valid_pct=0.2, seed=seed, split_by_similarity=grouped)
    recipe = plan(args, seed)
    learner = make_learner(data, recipe, body=features.body)
    for split in ("train", "valid"):
        photos = data.split(split)
        learner.use_cached_features(split, torch.stack([features.of_path[p.path] for p in photos]),
                                    list(range(len(photos))))
    train(learner, recipe)
    valid_error = interpretation_of(learner).error_rate
    with torch.inference_mode():
        guesses = learner.network.eval().head(features.unseen.to(learner.device)).argmax(1).cpu().tolist()
    wrong = sum(data.classes[g] != label for g, label in zip(guesses, features.unseen_labels))
    return valid_error, wrong / len(guesses), str(data.groups_kept or "random split")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=8, help="head epochs (default 8, as a quick retrain)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--thresholds-only", action="store_true")
    args = parser.parse_args()
    if not (DATA.is_dir() and WEIGHTS.is_file()):
        print(f"needs {DATA} and {WEIGHTS} (../shared is absent on a user's clone)", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="lakeview-bursts-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        bursts = make_bursts(DATA, root / "bursts")
        print(f"burst set made in {time.perf_counter() - started:.1f} s")
        with HashCache(root / "hashes.sqlite") as cache:
            started = time.perf_counter()
            threshold_table(bursts, cache)
            print(f"(hashing {sum(map(len, bursts))} photos took {time.perf_counter() - started:.1f} s; "
                  f"capture-time check {MAX_SECONDS:g} s: these copies carry no EXIF time)")
        if args.thresholds_only:
            return 0
        print(f"\nmobilenet_v2 (ImageNet), a new head trained {args.epochs} epochs on the body's features (the quick "
              f"retrain's recipe), valid_pct 0.2; unseen = hymenoptera val/")
        features = Features(root / "bursts", args)
        print(f"{'seed':>4}  {'split':<8} {'valid error':>11} {'unseen error':>12} {'gap':>7}  split report")
        gaps: dict[str, list[float]] = {"random": [], "grouped": []}
        for seed in args.seeds:
            for name, grouped in (("random", False), ("grouped", True)):
                valid, unseen, report = train_and_measure(root / "bursts", features, seed, grouped, args)
                gaps[name].append(unseen - valid)
                print(f"{seed:>4}  {name:<8} {valid:>10.2%} {unseen:>11.2%} {unseen - valid:>+7.2%}  {report}",
                      flush=True)
        for name, values in gaps.items():
            print(f"{name:>7}: mean gap (unseen - valid) {statistics.mean(values):+.2%}, mean |gap| "
                  f"{statistics.mean(map(abs, values)):.2%} over {len(values)} seed(s)")
        closer = sum(abs(g) < abs(r) for g, r in zip(gaps["grouped"], gaps["random"]))
        print(f"the grouped split's validation error was the closer to the unseen error in {closer} of "
              f"{len(args.seeds)} seed(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
