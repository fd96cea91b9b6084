"""The session's similar-photo jobs: grouping the photos in view (one pass through the body for the photos whose
features the store lacks, then the clustering), and the index that Find similar asks, built in a worker the first
time and then asked on the GUI thread.

A mixin of LibrarySession: the signals it sends (job_step, job_units) are the session's own, declared there."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from lakeview.gui.worker import JobKind

NO_FEATURES = ("Similar photos need photo features, and none can be made yet: there is no model and no ImageNet "
               "weights. Get the weights in Help ▸ Welcome (download them, or choose a .pth file), or train a "
               "model, then try again.")


class SessionSimilar:
    _similar_index = None
    """The index Find similar asks (core's), and what it was built for: (folder, model id, index)."""

    def group_photos(self, photo_ids: list[int], on_grouped: Callable[[list[list[int]], str], None],
                     on_not_grouped: Callable[[str | None], None]) -> bool:
        """Group these photos by their features, as this library's job (progress and Cancel in the status bar).
        `on_grouped(groups, description)` gets the groups' ids, each group in display order; `on_not_grouped`
        hears why not (None: cancelled, as the status bar says). False when another job runs."""
        catalog_path = self.catalog.path

        def job(progress, should_stop, emit_partial):
            from lakeview.core.similarity.library import group_library

            return group_library(catalog_path, photo_ids, progress=progress, should_stop=should_stop,
                                 on_step=emit_partial)

        def grouped(grouping) -> str:
            on_grouped(grouping.groups, grouping.describe())
            return grouping.describe()

        return self.start_job(JobKind.GROUP_PHOTOS, "Grouping similar photos", job, grouped,
                              on_partial=self._similar_step, on_failed=lambda message: on_not_grouped(
                                  self._why_no_features(message)), on_cancelled=lambda: on_not_grouped(None))

    def find_similar(self, photo_id: int, photo_ids: list[int], count: int, on_found: Callable[[list[int]], None],
                     on_not_found: Callable[[str], None]) -> None:
        """The `count` photos of `photo_ids` nearest `photo_id`, nearest first, to `on_found`: asked of the index at
        once when it has the photo, else after building it in a job."""
        key = (self.folder, self._model_key())
        built = self._similar_index
        if built is not None and built[0] == key and built[1].has(photo_id):
            self._ask_index(built[1], photo_id, count, on_found, on_not_found)
            return
        catalog_path = self.catalog.path

        def job(progress, should_stop, emit_partial):
            from lakeview.core.similarity.library import similar_index

            return similar_index(catalog_path, photo_ids, progress=progress, should_stop=should_stop,
                                 on_step=emit_partial)

        def indexed(index) -> str:
            self._similar_index = (key, index)
            self._ask_index(index, photo_id, count, on_found, on_not_found)
            return ""

        self.start_job(JobKind.SIMILAR_INDEX, "Indexing photos for Find similar", job, indexed,
                       on_partial=self._similar_step,
                       on_failed=lambda message: on_not_found(self._why_no_features(message)))

    @staticmethod
    def _ask_index(index, photo_id: int, count: int, on_found: Callable[[list[int]], None],
                   on_not_found: Callable[[str], None]) -> None:
        if not index.has(photo_id):
            on_not_found("Find similar: this photo could not be read, so it has no features to compare")
            return
        on_found(index.nearest(photo_id, count))

    def _similar_step(self, step: str) -> None:
        self.job_step.emit(step)

    def _model_key(self) -> str | None:
        active = self.catalog.active_model()
        return active.id if active is not None else None

    @staticmethod
    def _why_no_features(message: str) -> str:
        return message

    def forget_similar_index(self, folder: Path | None = None) -> None:
        self._similar_index = None
