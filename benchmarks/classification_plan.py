"""Choosing what a classification has to do, on a 100,000-photo catalog: the plan (SQL: the photos without a
prediction from the model used, or whose fingerprint changed since) against what main did before, which listed
every row of the folder (catalog.query, a PhotoRow each) and then classified all of them.

    .venv/bin/python benchmarks/classification_plan.py [--photos 100000] [--runs 5]

Rows are synthetic (no files): catalog_scale.py's way. The library: model v2's classification was killed
at 60% (its predictions on the first 60% of the photos, v1's on the rest), and 1% of the photos changed since
they were predicted. Each figure is the median of --runs runs, all measured side by side in this one run. A plan
with many photos to do spends most of its time making their Path objects (the reference line).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

from lakeview.core.catalog import Catalog

CLASSES = ["emerald", "louise", "moraine", "minnewanka", "grassi"]


def build(path: Path, photos: int, done_share: float = 0.6, changed_share: float = 0.01) -> None:
    rng = random.Random(0)
    with Catalog(path) as catalog:
        catalog.ensure_classes(CLASSES)
        db = catalog._db
        db.execute("BEGIN")
        prints = [f"{rng.getrandbits(128):032x}" for _ in range(photos)]
        db.executemany("INSERT INTO photos (id, path, size, mtime_ns, fingerprint, added) VALUES (?, ?, ?, ?, ?, 'now')",
                       ((i + 1, f"/photos/{i // 1000:03}/IMG_{i:06}.jpg", 4_000_000, i, prints[i])
                        for i in range(photos)))
        db.executemany("INSERT INTO predictions (photo_id, fingerprint, model_id, class_id, confidence, top, time) "
                       "VALUES (?, ?, ?, ?, ?, ?, 'now')",
                       ((i + 1, "changed" if rng.random() < changed_share else prints[i],
                         "v2" if i < done_share * photos else "v1", c, p, json.dumps([[CLASSES[c - 1], p]]))
                        for i in range(photos) for c, p in [(rng.randint(1, 5), rng.uniform(0.2, 1.0))]))
        db.execute("COMMIT")


def median_ms(work: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "catalog.sqlite"
        start = time.perf_counter()
        build(path, args.photos)
        print(f"built a {args.photos:,}-photo catalog in {time.perf_counter() - start:.1f} s")
        with Catalog(path) as catalog:
            folder = Path("/photos")
            cases = [
                ("before: every row of the folder (main)", lambda: [r.path for r in catalog.query(folder=folder)]),
                ("plan: resume v2 (killed at 60%)", lambda: catalog.classification_plan("v2", folder=folder)),
                ("plan: v1 promoted again", lambda: catalog.classification_plan("v1", folder=folder)),
                ("plan: a new version v3", lambda: catalog.classification_plan("v3", folder=folder)),
                ("plan: v2, everything (--all)",
                 lambda: catalog.classification_plan("v2", folder=folder, everything=True)),
                ("plan: v2, a filter on (search 'IMG_01')",
                 lambda: catalog.classification_plan("v2", folder=folder, search="IMG_01")),
            ]
            strings = [f"/photos/{i // 1000:03}/IMG_{i:06}.jpg" for i in range(args.photos)]
            cases.append((f"of which: Path() of {args.photos:,} strings", lambda: [Path(s) for s in strings]))
            print(f"{'case':<44} {'median ms':>10}  result")
            for name, work_fn in cases:
                show(name, work_fn, args.runs)
            with catalog._transaction() as db:
                db.execute("UPDATE predictions SET model_id = 'v2', fingerprint = "
                           "(SELECT p.fingerprint FROM photos p WHERE p.id = predictions.photo_id)")
            show("plan: v2 finished, nothing to do", lambda: catalog.classification_plan("v2", folder=folder), args.runs)


def show(name: str, work: Callable[[], object], runs: int) -> None:
    ms, result = median_ms(work, runs)
    said = result.describe() if hasattr(result, "describe") else f"{len(result):,} paths"
    print(f"{name:<44} {ms:>10.0f}  {said}", flush=True)


if __name__ == "__main__":
    main()
