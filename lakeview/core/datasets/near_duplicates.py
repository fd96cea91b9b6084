"""Near-duplicate groups: photos whose perceptual hashes lie within a Hamming distance of each other (burst shots,
re-saved or lightly edited copies), joined transitively, unless both carry EXIF capture times further apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.photos.perceptual_hash import HashCache, PhotoHash, hash_photos

MAX_DISTANCE = 10
"""Bits of the 64-bit pHash two photos of one burst may differ by. Measured by benchmarks/split_honesty.py on its
burst set (243 hymenoptera photos, each with 3 shifted, recoloured and recompressed copies): at 10 bits 99.6% of
the bursts are found whole and 2 of 470,448 pairs of unrelated photos are that close (one false merge of two
bursts); 8 bits finds 99.2% whole with none, 12 finds all with 10 such pairs, and the false pairs grow fast
beyond (16 bits: 158). Merging is transitive, so a low rate of false pairs keeps a large library from chaining
into one giant group."""
MAX_SECONDS = 10.0
"""Photos whose EXIF capture times both exist and differ by more than this are never one group."""


@dataclass
class NearDuplicates:
    group_of: list[int]
    """A group number per photo; a photo with no near-duplicate has a number of its own."""
    unreadable: dict[str, str] = field(default_factory=dict)
    """Photos that could not be hashed (each kept on its own), with the reason, by path."""


def group_hashes(hashes: Sequence[PhotoHash | None], max_distance: int = MAX_DISTANCE,
                 max_seconds: float | None = MAX_SECONDS) -> list[int]:
    """A group number per hash: connected components of 'within `max_distance` bits' (faiss's exact binary range
    search), an edge dropped when both photos' capture times differ by more than `max_seconds`. None hashes stay
    alone."""
    present = [i for i, h in enumerate(hashes) if h is not None]
    n = len(hashes)
    if len(present) < 2:
        return list(range(n))
    codes = np.array([hashes[i].phash for i in present], dtype=np.uint64).byteswap().view(np.uint8).reshape(-1, 8)
    index = faiss.IndexBinaryFlat(64)
    index.add(codes)
    limits, _, neighbours = index.range_search(codes, max_distance + 1)  # faiss keeps distances below the radius
    rows = np.repeat(np.arange(len(present)), np.diff(limits).astype(np.int64))
    keep = rows < neighbours
    rows, cols = rows[keep], neighbours[keep]
    if max_seconds is not None and len(rows):
        taken = np.array([np.nan if hashes[i].taken is None else hashes[i].taken for i in present])
        gap = np.abs(taken[rows] - taken[cols])
        close = ~(gap > max_seconds)  # NaN (a time missing) keeps the edge
        rows, cols = rows[close], cols[close]
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(present), len(present)))
    _, labels = connected_components(graph, directed=False)
    group_of = list(range(n))
    for position, i in enumerate(present):
        group_of[i] = n + int(labels[position])
    return group_of


def find_near_duplicates(paths: Sequence[Path | str], fingerprints: Sequence[str | None] | None = None,
                         progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop,
                         cache: HashCache | None = None, max_distance: int = MAX_DISTANCE,
                         max_seconds: float | None = MAX_SECONDS) -> NearDuplicates:
    """Hash the photos (from the cache where it has them) and group them."""
    hashed = hash_photos(paths, fingerprints, cache, progress, should_stop)
    return NearDuplicates(group_hashes(hashed.hashes, max_distance, max_seconds), hashed.unreadable)
