"""Grouping a library's photos: their body features (stored, or computed once), grouped, and the grouping kept
in the catalog so that its group numbers mean the same photos until the next grouping."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable, Sequence

from lakeview.core.catalog import Catalog
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.models.architectures import DEFAULT_ARCH
from lakeview.core.similarity.feature_body import IMAGENET, FeatureBody
from lakeview.core.similarity.grouping import DEFAULT_DISTANCE, DEFAULT_MIN_SIZE, Grouping, group_vectors
from lakeview.core.similarity.library_features import LibraryFeatures, library_features


class GroupingStep(Enum):
    """The steps of a grouping, in the words a status bar shows before the step's counts."""
    FEATURES = "body features"
    """`progress` counts photos."""
    GROUPING = "grouping"
    """`progress` counts 3 stages."""


@dataclass
class LibraryGrouping:
    grouping: Grouping
    features: LibraryFeatures
    """What was grouped: its ids, vectors (for Find similar), the body, the photos skipped and why."""
    places: list[str] = field(default_factory=list)
    """Where each group was taken, named ("" where unknown), when asked for (name_places)."""

    @property
    def skipped(self) -> list[tuple[Path, str]]:
        return self.features.skipped

    def describe(self) -> str:
        """"12 groups of 2 or more photos (84 photos); 16 photos in none (ImageNet resnet34 features)"."""
        return f"{self.grouping.describe()} ({self.features.described} features)"


def group_library(catalog: Catalog, photo_ids: Sequence[int] | None = None, min_size: int = DEFAULT_MIN_SIZE,
                  distance: float = DEFAULT_DISTANCE, arch: str = DEFAULT_ARCH, weights: str | Path = IMAGENET,
                  body: FeatureBody | None = None, progress: ProgressFn = no_progress,
                  should_stop: ShouldStopFn = never_stop,
                  on_step: Callable[[GroupingStep], None] = lambda step: None,
                  name_places: bool = False) -> LibraryGrouping:
    """Group every catalogued photo (or `photo_ids`: the photos in view) and store the grouping in the catalog,
    replacing the one before. Features come from `body`, by default the active model's body, else `arch` with
    `weights` (see feature_body). Raises Stopped when `should_stop` says so: the stored grouping is then left as
    it was (the features computed by then are kept). `name_places` names where each group was taken, from its
    photos' GPS positions (the place-name table loads when some photo has one)."""
    on_step(GroupingStep.FEATURES)
    features = library_features(catalog, photo_ids, arch, weights, body, progress, should_stop)
    on_step(GroupingStep.GROUPING)
    grouping = group_vectors(features.photo_ids, features.vectors, distance, min_size, progress=progress,
                             should_stop=should_stop)
    catalog.store_grouping(grouping.groups, features.body_id, distance, min_size, len(features))
    places = []
    if name_places:
        from lakeview.core.location.group_places import group_place_names

        places = group_place_names(grouping.groups, catalog.positions_of_ids(int(i) for i in features.photo_ids))
    return LibraryGrouping(grouping, features, places)
