"""Similar-photo groups and Find similar at scale, on synthetic features of the real dimensions (512: ResNet18/34,
1280: MobileNetV2).

    .venv/bin/python benchmarks/similar_photos.py [--sizes 1000,5000,10000] [--dims 512,1280] [--library 100000]
                                                  [--compare] [--real]

Grouping (target: 10,000 photos in < 5 s on the team's 2-core CPU): the time of `group_vectors`, median of 3
runs, and how close it comes to scikit-learn's exact average linkage over the full distance matrix (adjusted Rand
index; computed up to 5,000 photos, where that matrix still fits). The features are made like a holiday's:
places, scenes at each place, runs of shots of each scene, so that near pairs chain many photos together as real
features do (on hymenoptera, pairs within 0.25 join a third of the photos into one part).

Find similar (target: < 100 ms at 100,000 photos): building the index, its memory, and one query's time (median
and 95th percentile of 200 queries), beside a float32 matrix product over the same features.

Reading the features back from the feature store: what every grouping after the first pays.

--compare also times HDBSCAN (scikit-learn) on the same features, up to 5,000 photos (it is far slower). --real
measures, on ../shared's hymenoptera photos with MobileNetV2 (slow: a body pass over 792 photos), the cosine
distances between a photo and a shifted, recoloured, recompressed copy of it, and between different photos,
which the default distance is chosen from.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from lakeview.core.similarity.grouping import DEFAULT_DISTANCE, group_vectors, normalised
from lakeview.core.similarity.similar_index import SimilarIndex


def holiday_features(photos: int, dimension: int, seed: int = 0, one_place: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(scene of each photo, features): non-negative, low-rank like pooled ReLU features; places of 10 to 60 scenes
    (all at one place with `one_place`, where near pairs chain most photos together), runs of 1 to 12 shots of
    each scene. A shot is as far from another of its run as a hymenoptera photo is from a burst copy of it (cosine
    distance 0.07 at the median)."""
    rng = np.random.default_rng(seed)
    basis = (rng.normal(size=(48, dimension)) / np.sqrt(48)).astype(np.float32)
    scenes, rows, scene = [], [], 0
    place = rng.normal(size=48)
    while len(rows) < photos:
        place = place if one_place else rng.normal(size=48)
        for _ in range(int(rng.integers(10, 61))):
            view = place + rng.normal(scale=0.9, size=48)
            for _ in range(int(rng.integers(1, 13))):
                rows.append(view + rng.normal(scale=0.4, size=48))
                scenes.append(scene)
            scene += 1
    features = np.maximum(np.array(rows[:photos], dtype=np.float32) @ basis, 0)
    features += 0.05 * rng.random((photos, dimension), dtype=np.float32)
    return np.array(scenes[:photos]), features


def median_time(run, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def labels_of(grouping, photos: int) -> np.ndarray:
    labels = np.arange(photos) + photos  # each photo in no group on its own
    for number, members in enumerate(grouping.groups):
        labels[members] = number
    return labels


def grouping_figures(sizes: list[int], dims: list[int], compare: bool) -> None:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import adjusted_rand_score

    print(f"grouping (cosine average linkage cut at {DEFAULT_DISTANCE}, groups of 2 or more):")
    for dimension in dims:
        for photos, one_place in [(size, False) for size in sizes] + [(max(sizes), True)]:
            _, features = holiday_features(photos, dimension, one_place=one_place)
            seconds, grouping = median_time(lambda: group_vectors(np.arange(photos), features, min_size=1))
            line = (f"  {photos:>6} x {dimension:<5}{' at one place' if one_place else ''} {seconds:6.2f} s  "
                    f"{len(grouping.groups):>5} clusters, "
                    f"{sum(len(g) > 1 for g in grouping.groups)} groups, biggest {len(grouping.groups[0])}")
            if photos <= 5000:
                exact = AgglomerativeClustering(n_clusters=None, distance_threshold=DEFAULT_DISTANCE, metric="cosine",
                                                linkage="average").fit_predict(normalised(features))
                agreement = adjusted_rand_score(exact, labels_of(grouping, photos))
                line += f"; vs exact full-matrix linkage: ARI {agreement:.3f}"
            if compare and photos <= 5000:
                from sklearn.cluster import HDBSCAN

                start = time.perf_counter()
                HDBSCAN(min_cluster_size=2, metric="euclidean").fit(normalised(features))
                line += f"; HDBSCAN {time.perf_counter() - start:.2f} s"
            print(line, flush=True)


def stored_features_figures(photos: int, dims: list[int]) -> None:
    """Reading features back from a library's feature store: what every grouping after the first pays."""
    import tempfile

    import torch

    from lakeview.core.training.features_on_disk import FeatureStore

    print(f"features of {photos:,} photos read back from the feature store:")
    for dimension in dims:
        _, features = holiday_features(photos, dimension)
        prints = [f"{i:032x}" for i in range(photos)]
        with tempfile.TemporaryDirectory() as folder, FeatureStore(Path(folder) / "features.sqlite") as store:
            store.put_many("body", 224, zip(prints, torch.from_numpy(features)))
            seconds, _ = median_time(
                lambda: np.stack([v.numpy() for v in store.get_many("body", 224, prints).values()]))
        print(f"  {dimension:>5} features: {seconds:.2f} s", flush=True)


def find_similar_figures(photos: int, dims: list[int], queries: int = 200) -> None:
    print(f"Find similar among {photos:,} photos ({queries} queries):")
    rng = np.random.default_rng(1)
    for dimension in dims:
        _, features = holiday_features(photos, dimension)
        start = time.perf_counter()
        index = SimilarIndex(np.arange(photos), features)
        built = time.perf_counter() - start
        asked = rng.choice(photos, queries, replace=False)
        times = []
        for photo in asked:
            start = time.perf_counter()
            index.nearest(int(photo), 50)
            times.append(time.perf_counter() - start)
        unit = normalised(features)
        plain = []
        for photo in asked[:50]:
            start = time.perf_counter()
            similarities = unit @ unit[photo]
            np.argpartition(-similarities, 51)[:51]
            plain.append(time.perf_counter() - start)
        print(f"  {dimension:>5} features: index built in {built:.2f} s, {photos * dimension * 2 / 2**20:.0f} MiB "
              f"(float16); query median {statistics.median(times) * 1000:.1f} ms, p95 "
              f"{np.percentile(times, 95) * 1000:.1f} ms; float32 matrix product ({unit.nbytes / 2**20:.0f} MiB) "
              f"median {statistics.median(plain) * 1000:.1f} ms", flush=True)


def real_figures() -> None:
    """Cosine distances on real photos and their burst copies, and what the default distance makes of them."""
    from PIL import Image, ImageEnhance

    from lakeview.core.models.model_file import ModelMeta, SavedModel
    from lakeview.core.models.network import build_network
    from lakeview.core.training.features import extract_features

    shared = Path(__file__).resolve().parents[2] / "shared"
    photos, weights = shared / "data" / "hymenoptera", shared / "weights" / "mobilenet_v2-imagenet.pth"
    if not weights.is_file():
        print("--real needs ../shared (hymenoptera and the MobileNetV2 weights)")
        return
    import random
    import tempfile

    rng = random.Random(0)
    sources = sorted(photos.glob("*/*/*.jpg"))
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for k, source in enumerate(sources):
            with Image.open(source) as image:
                image = image.convert("RGB")
                w, h = image.size
                dx, dy = rng.randint(0, w // 12), rng.randint(0, h // 12)
                image = image.crop((dx, dy, w - (w // 12 - dx), h - (h // 12 - dy))).resize((w, h))
                image = ImageEnhance.Color(image).enhance(rng.uniform(0.8, 1.25))
                image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.9, 1.1))
                image.save(Path(folder) / f"{k}.jpg", quality=rng.randint(60, 85))
            paths += [source, Path(folder) / f"{k}.jpg"]
        model = SavedModel(build_network("mobilenet_v2", 2, weights).eval(),
                           ModelMeta(arch="mobilenet_v2", classes=["a", "b"]))
        features = np.stack([v.numpy() for _, v, _ in extract_features(model, paths)])
    origin = np.repeat(np.arange(len(sources)), 2)
    kind = np.repeat([0 if "/ants/" in str(s) else 1 for s in sources], 2)
    unit = normalised(features)
    upper = np.triu_indices(len(unit), 1)
    distances = (1 - unit @ unit.T)[upper]
    copies = (origin[:, None] == origin[None, :])[upper]
    same_kind = (kind[:, None] == kind[None, :])[upper]
    quantiles = [0.01, 0.5, 0.99]
    print(f"MobileNetV2 on {len(sources)} hymenoptera photos and a burst copy of each, cosine distance (1%, 50%, 99%):")
    print(f"  photo and its copy: {np.quantile(distances[copies], quantiles).round(3)}")
    print(f"  other photos, same class: {np.quantile(distances[~copies & same_kind], quantiles).round(3)}")
    print(f"  ants and bees: {np.quantile(distances[~same_kind], quantiles).round(3)}")
    for distance in (0.15, 0.2, 0.25, 0.3, 0.35):
        grouping = group_vectors(np.arange(len(unit)), features, distance=distance)
        group_of = grouping.group_of
        together = sum(group_of.get(2 * k) is not None and group_of.get(2 * k) == group_of.get(2 * k + 1)
                       for k in range(len(sources)))
        mixed = sum(len(set(kind[g])) > 1 for g in grouping.groups)
        print(f"  distance {distance}: {len(grouping.groups)} groups (biggest {len(grouping.groups[0])}), copies "
              f"with their photo {together}/{len(sources)}, groups mixing ants and bees {mixed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--dims", default="512,1280")
    parser.add_argument("--library", type=int, default=100_000, help="photos for Find similar (0: skip)")
    parser.add_argument("--compare", action="store_true", help="also time HDBSCAN")
    parser.add_argument("--real", action="store_true", help="distances on real photos (needs ../shared)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; python {sys.version.split()[0]}")
    dims = [int(d) for d in args.dims.split(",")]
    grouping_figures([int(s) for s in args.sizes.split(",")], dims, args.compare)
    stored_features_figures(max(int(s) for s in args.sizes.split(",")), dims)
    if args.library:
        find_similar_figures(args.library, dims)
    if args.real:
        real_figures()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
