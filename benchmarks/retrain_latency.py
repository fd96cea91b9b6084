"""From a correction to updated predictions: the quick retraining step on a catalog of 1,000 photos.

    .venv/bin/python benchmarks/retrain_latency.py [--photos 1000] [--arch resnet34]

The first run computes every photo's body features (slow, once); the timed runs are what a user waits for
after a correction: commit the label, train a new head on the stored features, validate it against the
active version, save it, and re-score all photos. Target (issue 4): under 2 s on this CPU.
Photos are the hymenoptera set from ../shared, resized and repeated to reach --photos (ants/bees labelled,
two thirds of them), or generated colour photos where ../shared is absent.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from PIL import Image

from lakeview.core.catalog import Catalog
from lakeview.core.models.architectures import DEFAULT_ARCH
from lakeview.core.training.retrain import RetrainSettings, full_retrain_plan, retrain

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hymenoptera"


def make_library(folder: Path, count: int) -> tuple[list[Path], list[str]]:
    sources = sorted(SHARED.rglob("*.jpg")) if SHARED.is_dir() else []
    paths, labels = [], []
    for i in range(count):
        path = folder / f"IMG_{i:05}.jpg"
        if sources:
            source = sources[i % len(sources)]
            image = Image.open(source).convert("RGB")
            image = image.rotate(90 * (i // len(sources)), expand=True)  # repeats differ in content
            labels.append(source.parent.name)
        else:
            colour = ((200, 40, 40), (40, 60, 200))[i % 2]
            image = Image.new("RGB", (320, 240), tuple(c + (i % 17) for c in colour))
            labels.append(("red", "blue")[i % 2])
        image.thumbnail((400, 400))
        image.save(path, quality=90)
        paths.append(path)
    return paths, labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--arch", default=DEFAULT_ARCH)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        paths, labels = make_library(folder, args.photos)
        catalog_path = Path(tmp) / "lib" / "catalog.sqlite"
        with Catalog(catalog_path) as catalog:
            catalog.add_photos(paths)
            catalog.ensure_classes(sorted(set(labels)))
            for name in sorted(set(labels)):
                catalog.set_labels([p for i, (p, l) in enumerate(zip(paths, labels)) if l == name and i % 3], name,
                                   source="imported")
        settings = RetrainSettings(full_retrain_plan(arch=args.arch, weights="none"))
        started = time.perf_counter()
        first = retrain(catalog_path, "quick", settings)
        print(f"{args.photos} photos, {args.arch}: first run (computes and stores all body features) "
              f"{time.perf_counter() - started:.1f} s, holdout error {first.error_rate:.2%}")
        unlabelled = [p for i, p in enumerate(paths) if i % 3 == 0]
        times = []
        for run in range(args.runs):
            started = time.perf_counter()
            with Catalog(catalog_path) as catalog:
                catalog.set_labels(unlabelled[run * 5:(run + 1) * 5], labels[0], source="user")
            outcome = retrain(catalog_path, "quick", settings)
            elapsed = time.perf_counter() - started
            times.append(elapsed)
            print(f"  correction -> {outcome.rescored} photos re-scored ({'promoted' if outcome.promoted else 'kept'}): "
                  f"{elapsed:.2f} s")
        median = statistics.median(times)
        print(f"\nmedian correction-to-updated-predictions: {median:.2f} s (target < 2 s) "
              f"{'PASS' if median < 2 else 'MISS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
