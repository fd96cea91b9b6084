"""Similar-photo groups from body features: scikit-learn's average-linkage clustering by cosine distance, cut at a
distance threshold, exact in the features' own dimension, but only among photos that some chain of near pairs
joins, so that 10,000 photos take about 2 s rather than a 10,000 x 10,000 distance matrix.

Why average linkage with a threshold: one number a person can reason about (on average, a group's photos are at
most `distance` apart, whatever else is in the library), deterministic, and fast enough. HDBSCAN (scikit-learn)
found benchmarks/similar_photos.py's synthetic scenes more faithfully (adjusted Rand 0.998 against 0.85 at 5,000
photos) but took 37 s for 5,000 photos of 512 features on the 2-core CPU, against 0.6 s here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from threadpoolctl import threadpool_limits

from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

DEFAULT_DISTANCE = 0.40
"""Cosine distance at which groups stop merging (average linkage): groups to label at once, looser than
near-duplicates. On the 398 hymenoptera photos with ImageNet MobileNetV2 features, 0.25 puts 281 photos in no group
(a photo and a shifted, recoloured, recompressed copy of it are 0.04 to 0.14 apart, other photos 0.27 or more), 0.40
puts 44 in none and keeps 34 groups mostly of one class, and 0.50 merges ants and bees into a few big groups
(benchmarks/similar_photos.py --real, tests/gui/test_groups_walk.py)."""
DEFAULT_MIN_SIZE = 2
NEIGHBOURS = 15
"""Each photo's nearest photos looked at for near pairs."""


@dataclass(frozen=True)
class Grouping:
    """Photos in groups: `groups[0]` is group 1, the biggest; each group's photo ids most central first."""
    groups: list[list[int]]
    ungrouped: list[int] = field(default_factory=list)
    """Photos in no group (their cluster was smaller than the minimum size), by id."""
    distance: float = DEFAULT_DISTANCE
    min_size: int = DEFAULT_MIN_SIZE

    @cached_property
    def group_of(self) -> dict[int, int]:
        """Photo id -> group number (from 1), for the photos in a group."""
        return {photo: number for number, members in enumerate(self.groups, 1) for photo in members}

    @property
    def grouped_photos(self) -> int:
        return sum(len(g) for g in self.groups)

    def describe(self) -> str:
        """"12 groups of 2 or more photos (84 photos); 16 photos in none"."""
        return (f"{len(self.groups)} group{'' if len(self.groups) == 1 else 's'} of {self.min_size} or more photos "
                f"({self.grouped_photos} photos); {len(self.ungrouped)} photo{'' if len(self.ungrouped) == 1 else 's'}"
                " in none")


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32), so that an inner product is a cosine similarity."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def group_vectors(photo_ids: np.ndarray | list[int], vectors: np.ndarray, distance: float = DEFAULT_DISTANCE,
                  min_size: int = DEFAULT_MIN_SIZE, neighbours: int = NEIGHBOURS, progress: ProgressFn = no_progress,
                  should_stop: ShouldStopFn = never_stop) -> Grouping:
    """Group photos whose feature rows (`vectors`, one per id) are within `distance` (cosine, average linkage).

    Deterministic: the same ids and vectors, in any order, give the same groups. `progress` counts 3 steps (the
    neighbour graph, the merging, the ordering); raises Stopped when `should_stop` says so between them."""
    if not distance > 0:
        raise ValueError("the grouping distance must be above 0")
    if min_size < 1:
        raise ValueError("the smallest group size must be at least 1")
    ids = np.asarray(photo_ids, dtype=np.int64)
    if len(ids) != len(vectors):
        raise ValueError(f"{len(ids)} photo ids for {len(vectors)} feature rows")
    order = np.argsort(ids, kind="stable")
    ids, unit = ids[order], normalised(np.asarray(vectors)[order])
    progress(0, 3)
    with threadpool_limits(1, user_api="blas"):
        labels = _cluster_labels(unit, distance, neighbours, progress, should_stop)
    if should_stop():
        raise Stopped()
    progress(2, 3)
    grouping = _numbered(ids, unit, labels, distance, min_size)
    progress(3, 3)
    return grouping


def _cluster_labels(unit: np.ndarray, distance: float, neighbours: int, progress: ProgressFn,
                    should_stop: ShouldStopFn) -> np.ndarray:
    """Cluster labels by average linkage (cosine, in the features' own dimension) cut at `distance`.

    Two clusters merge only when their average distance is within the threshold, so some pair of their photos is
    within it: the photos joined by such pairs (among each photo's nearest) fall into parts that clustering never
    crosses. Each part is clustered alone, exactly; small parts packed together into one matrix at a time."""
    from scipy.sparse import coo_matrix, csgraph

    n = len(unit)
    space = _search_space(unit)
    rows, cols = _candidate_pairs(space, min(neighbours, n - 1))
    if should_stop():
        raise Stopped()
    progress(1, 3)
    close = _cosine_distances(unit, rows, cols) <= distance
    _, part_of = csgraph.connected_components(
        coo_matrix((np.ones(int(close.sum())), (rows[close], cols[close])), shape=(n, n)), directed=False)
    labels = part_of.astype(np.int64)
    by_part = np.argsort(part_of, kind="stable")
    parts = [p for p in np.split(by_part, np.flatnonzero(np.diff(part_of[by_part])) + 1) if len(p) > 2]
    batch: list[np.ndarray] = []
    for part in sorted(parts, key=len):
        if should_stop():
            raise Stopped()
        if len(part) > PACKED_PHOTOS:
            for piece in _pieces(space, part):
                _cluster_parts(unit, [piece], distance, labels)
            continue
        if batch and sum(len(p) for p in batch) + len(part) > PACKED_PHOTOS:
            _cluster_parts(unit, batch, distance, labels)
            batch = []
        batch.append(part)
    if batch:
        _cluster_parts(unit, batch, distance, labels)
    return labels


PACKED_PHOTOS = 3000
"""Photos clustered in one exact call: their distance matrix (3,000 x 3,000 is 72 MB). A bigger part is cut into
pieces first (see `_pieces`)."""


def _cluster_parts(unit: np.ndarray, parts: list[np.ndarray], distance: float, labels: np.ndarray) -> None:
    """Average linkage over the parts' exact cosine distances, in one matrix whose entries between parts are the
    largest cosine distance there is (2), so that no parts merge. Their new labels follow the highest so far."""
    from sklearn.cluster import AgglomerativeClustering

    members = np.concatenate(parts)
    matrix = np.full((len(members), len(members)), 2.0)
    start = 0
    for part in parts:
        block = unit[part]
        matrix[start:start + len(part), start:start + len(part)] = np.clip(1.0 - block @ block.T, 0.0, 2.0)
        start += len(part)
    np.fill_diagonal(matrix, 0.0)
    found = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="precomputed",
                                    linkage="average").fit_predict(matrix)
    labels[members] = labels.max() + 1 + found


def _pieces(space: np.ndarray, part: np.ndarray) -> list[np.ndarray]:
    """A part too big for one distance matrix, cut into pieces of at most about PACKED_PHOTOS photos by bisecting
    k-means (scikit-learn) on the search space's rows: a piece holds photos near each other, so few clusters are
    cut in two. The one approximation of the exact clustering, for a library where near pairs chain thousands of
    photos together."""
    from sklearn.cluster import BisectingKMeans

    count = int(np.ceil(len(part) / (PACKED_PHOTOS / 2)))
    found = BisectingKMeans(count, random_state=0, bisecting_strategy="largest_cluster").fit_predict(space[part])
    return [part[found == piece] for piece in range(count) if (found == piece).any()]


def _search_space(unit: np.ndarray) -> np.ndarray:
    """Where near pairs are looked for: the rows themselves, or past CANDIDATES_EXACT photos a random projection to
    COMPONENTS dimensions, which keeps distances between unit vectors to within a few percent
    (Johnson-Lindenstrauss); the pairs' distances are then measured in full."""
    if len(unit) <= CANDIDATES_EXACT or unit.shape[1] <= COMPONENTS:
        return unit
    from sklearn.random_projection import GaussianRandomProjection

    return normalised(GaussianRandomProjection(COMPONENTS, random_state=0).fit_transform(unit))


def _candidate_pairs(space: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), row < col, each pair once: each photo with its `k` nearest photos by inner product."""
    import faiss

    if k < 1:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    index = faiss.IndexFlatIP(space.shape[1])
    index.add(space)
    _, nearest = index.search(space, k + 1)
    rows = np.repeat(np.arange(len(space), dtype=np.int64), k + 1)
    cols = nearest.ravel().astype(np.int64)
    keep = (cols >= 0) & (cols != rows)
    low, high = np.minimum(rows[keep], cols[keep]), np.maximum(rows[keep], cols[keep])
    pairs = np.unique(low * len(space) + high)
    return pairs // len(space), pairs % len(space)


CANDIDATES_EXACT = 2000
COMPONENTS = 128


def _cosine_distances(unit: np.ndarray, rows: np.ndarray, cols: np.ndarray, chunk: int = 4096) -> np.ndarray:
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        a, b = unit[rows[start:start + chunk]], unit[cols[start:start + chunk]]
        out[start:start + chunk] = 1.0 - np.einsum("ij,ij->i", a, b)
    return out


def _numbered(ids: np.ndarray, unit: np.ndarray, labels: np.ndarray, distance: float, min_size: int) -> Grouping:
    """Clusters of at least `min_size` photos, biggest first (then by their most central photo's id), each most
    central first: by cosine similarity to the cluster's mean direction, then by id."""
    clusters = []
    by_label = np.argsort(labels, kind="stable")
    for members in np.split(by_label, np.flatnonzero(np.diff(labels[by_label])) + 1):
        if len(members) < max(min_size, 1):
            continue
        centre = unit[members].mean(axis=0)
        closeness = unit[members] @ (centre / max(float(np.linalg.norm(centre)), 1e-12))
        ranked = members[np.lexsort((ids[members], -np.round(closeness, 6)))]
        clusters.append([int(i) for i in ids[ranked]])
    clusters.sort(key=lambda c: (-len(c), c[0]))
    grouped = {photo for c in clusters for photo in c}
    return Grouping(clusters, [int(i) for i in ids if int(i) not in grouped], distance, min_size)
