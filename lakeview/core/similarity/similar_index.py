"""Find similar: the photos nearest to one by cosine similarity of their body features.

A faiss flat index of half-precision vectors (IndexScalarQuantizer, QT_fp16) searched by inner product on unit
vectors: an exact scan, about 10 ms for one photo among 100,000 of 512 features, in half the memory of float32
(benchmarks/similar_photos.py). Built once, in a worker; searched on the GUI thread."""

from __future__ import annotations

import numpy as np

from lakeview.core.similarity.grouping import normalised


class SimilarIndex:
    def __init__(self, photo_ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """An index of `vectors` (one row per photo id; any scale: rows are made unit length)."""
        import faiss

        ids = np.asarray(photo_ids, dtype=np.int64)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} photo ids for {len(vectors)} feature rows")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("a photo id is given more than once")
        self.photo_ids = ids
        self._row_of = {int(photo): row for row, photo in enumerate(ids)}
        dimension = int(vectors.shape[1]) if len(vectors) else 1
        self._index = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        if len(ids):
            self._index.add(normalised(vectors))

    def __len__(self) -> int:
        return len(self.photo_ids)

    def __contains__(self, photo_id: int) -> bool:
        return int(photo_id) in self._row_of

    def nearest(self, photo_id: int, k: int = 50) -> list[tuple[int, float]]:
        """(photo id, cosine similarity) of the `k` photos nearest to `photo_id`, nearest first (ties by id), the
        photo itself left out; [] for a photo the index does not hold."""
        row = self._row_of.get(int(photo_id))
        if row is None or k < 1:
            return []
        query = self._index.reconstruct(row).reshape(1, -1)
        return self.nearest_to(query, k, exclude=int(photo_id))

    def nearest_to(self, vector: np.ndarray, k: int = 50, exclude: int | None = None) -> list[tuple[int, float]]:
        """(photo id, cosine similarity) of the `k` photos nearest to a feature vector, nearest first."""
        if not len(self) or k < 1:
            return []
        wanted = min(k + (exclude is not None), len(self))
        similarities, rows = self._index.search(normalised(np.asarray(vector).reshape(1, -1)), wanted)
        found = [(int(self.photo_ids[r]), float(s)) for s, r in zip(similarities[0], rows[0]) if r >= 0]
        found = [(photo, similarity) for photo, similarity in found if photo != exclude]
        found.sort(key=lambda item: (-item[1], item[0]))
        return found[:k]
