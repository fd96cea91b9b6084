"""The session's similar-photo jobs: grouping the photos in view (one pass through the body for the photos whose
features the store lacks, then the clustering), and the index Find similar asks, built in a worker the first time
(or kept from the grouping's features) and then asked on the GUI thread.

A mixin of LibrarySession: the signals it sends (job_step, job_units) are the session's own, declared there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from lakeview.core.similarity.grouping import DEFAULT_DISTANCE
from lakeview.gui.worker import JobKind

if TYPE_CHECKING:
    from lakeview.core.similarity.library_groups import LibraryGrouping
    from lakeview.core.similarity.similar_index import SimilarIndex

LABELLING_DISTANCE = DEFAULT_DISTANCE
"""Where Show ▸ Groups starts; Larger and Smaller groups move it by DISTANCE_STEP."""
DISTANCE_STEP = 0.05
DISTANCES = (0.10, 0.60)
"""The loosest and tightest grouping offered."""


@dataclass(frozen=True)
class NoFeatures:
    """Why no photo features can be made (no model, no ImageNet weights), in core's words, and what to do."""
    reason: str

    def describe(self) -> str:
        return (f"No photo features can be made: {self.reason}. Get the ImageNet weights in Help ▸ Welcome "
                "(download them, or choose a .pth file you have), or train a model, then try again.")


@dataclass(frozen=True)
class SimilarIndexFor:
    """The index Find similar asks, and what it was built for: the folder, the active model (None: ImageNet), the
    photos (those that could not be read are not in the index)."""
    folder: object
    model_id: str | None
    photo_ids: frozenset[int]
    index: SimilarIndex

    def serves(self, key: tuple[object, str | None], photo_ids: list[int]) -> bool:
        """Whether it answers for these photos, as the library is now."""
        return (self.folder, self.model_id) == key and self.photo_ids.issuperset(photo_ids)


class SessionSimilar:
    _similar: SimilarIndexFor | None = None

    def group_photos(self, photo_ids: list[int], distance: float, arch: str,
                     on_grouped: Callable[[LibraryGrouping], None],
                     on_not_grouped: Callable[[str | None], None]) -> bool:
        """Group these photos by their body features (the active model's, else ImageNet `arch`'s), as this library's
        job, with progress and Cancel. `on_grouped` gets the grouping; `on_not_grouped` why there is none (None:
        cancelled; the status bar says so). False when another job runs (the user is told)."""
        catalog_path, count = self.catalog.path, len(photo_ids)
        key = self._index_key()

        def job(progress, should_stop, emit_partial):
            from lakeview.core.catalog import Catalog
            from lakeview.core.models.weights import WeightsUnavailable
            from lakeview.core.similarity.library_groups import group_library
            from lakeview.core.similarity.similar_index import SimilarIndex

            with Catalog(catalog_path) as catalog:
                try:
                    grouped = group_library(catalog, photo_ids, distance=distance, arch=arch, name_places=True,
                                            progress=progress, should_stop=should_stop,
                                            on_step=lambda step: emit_partial(step.name))
                except WeightsUnavailable as exc:
                    return NoFeatures(exc.reason)
            features = grouped.features
            return grouped, SimilarIndex(features.photo_ids, features.vectors)  # Find similar's, for free

        def ended(result) -> str:
            if isinstance(result, NoFeatures):
                on_not_grouped(result.describe())
                return result.describe()
            grouped, index = result
            self._similar = SimilarIndexFor(*key, frozenset(photo_ids), index)
            on_grouped(grouped)
            return self._skipped_note(grouped.describe(), grouped.features.skipped)

        def step(name: str) -> None:
            self.job_step.emit(f"Reading the features of {count:,} photos" if name == "FEATURES"
                               else f"Grouping {count:,} photos")
            self.job_units.emit("photos" if name == "FEATURES" else "")

        return self.start_job(JobKind.GROUP_PHOTOS, "Groups", job, ended, on_partial=step,
                              on_failed=on_not_grouped, on_cancelled=lambda: on_not_grouped(None))

    def find_similar(self, photo_id: int, photo_ids: list[int], count: int, arch: str,
                     on_found: Callable[[list[int]], None], on_not_found: Callable[[str], None]) -> None:
        """The photo and the `count` photos of `photo_ids` nearest it, nearest first, to `on_found`: asked of the
        index at once when it holds the photo, else once a job has built it."""
        built = self._similar
        if built is not None and built.serves(self._index_key(), photo_ids):
            self._ask(built.index, photo_id, count, on_found, on_not_found)
            return
        catalog_path, key = self.catalog.path, self._index_key()

        def job(progress, should_stop, emit_partial):
            from lakeview.core.catalog import Catalog
            from lakeview.core.models.weights import WeightsUnavailable
            from lakeview.core.similarity.library_features import library_features
            from lakeview.core.similarity.similar_index import SimilarIndex

            with Catalog(catalog_path) as catalog:
                try:
                    features = library_features(catalog, photo_ids, arch=arch, progress=progress,
                                                should_stop=should_stop)
                except WeightsUnavailable as exc:
                    return NoFeatures(exc.reason)
            return SimilarIndex(features.photo_ids, features.vectors)

        def ended(result) -> str:
            if isinstance(result, NoFeatures):
                on_not_found(result.describe())
                return result.describe()
            self._similar = SimilarIndexFor(*key, frozenset(photo_ids), result)
            self._ask(result, photo_id, count, on_found, on_not_found)
            return ""

        if self.start_job(JobKind.SIMILAR_INDEX, "Find similar", job, ended, on_failed=on_not_found):
            self.job_step.emit(f"Reading the features of {len(photo_ids):,} photos")

    @staticmethod
    def _ask(index: SimilarIndex, photo_id: int, count: int, on_found: Callable[[list[int]], None],
             on_not_found: Callable[[str], None]) -> None:
        if photo_id not in index:
            on_not_found("Find similar: this photo could not be read, so there is nothing to compare it by")
            return
        on_found([photo_id] + [other for other, _ in index.nearest(photo_id, count)])

    def _index_key(self) -> tuple[object, str | None]:
        active = self.catalog.active_model()
        return self.folder, (active.id if active is not None else None)

    @staticmethod
    def _skipped_note(text: str, skipped: list) -> str:
        if not skipped:
            return text
        return f"{text}; {len(skipped)} photo{'s' if len(skipped) != 1 else ''} could not be read (in no group)"
