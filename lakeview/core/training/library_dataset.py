"""A library's labelled photos as training data (split by fingerprint, near-duplicates kept together), and a
labelled dataset brought in."""

from __future__ import annotations

import math
from pathlib import Path

from lakeview.core.catalog import NONE_OF_THESE, Catalog
from lakeview.core.catalog.photo_rows import AddReport, read_photos
from lakeview.core.datasets.dataset import SPLITS, GroupsKept, LabelledPhotos, Photo
from lakeview.core.datasets.grouped_split import place_groups, shared_groups
from lakeview.core.datasets.near_duplicates import find_near_duplicates
from lakeview.core.photos.file_names import absolute_path
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

DEFAULT_HOLDOUT_PCT = 0.2


def in_holdout(photo_fingerprint: str, pct: float) -> bool:
    """Stable held-out membership: the same photo is on the same side in every run."""
    return int(photo_fingerprint[:8], 16) < pct * 0x1_0000_0000


def library_dataset(catalog: Catalog, holdout_pct: float = DEFAULT_HOLDOUT_PCT, split_by_similarity: bool = True,
                    progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop
                    ) -> tuple[LabelledPhotos, dict[str, str]]:
    """The library's labelled photos ("none of these" left out), split by fingerprint, and each photo's fingerprint
    by path. The classes are those with at least one labelled photo, in the library's order.

    With `split_by_similarity` the photos are hashed (from the hash cache where it has them, with `progress`)
    and near-duplicate groups are kept on one side: a photo in no group keeps its side by fingerprint, and each
    class's groups, in the order of their first fingerprint, fill its held-out share around them."""
    labelled = [(p, label, fp) for p, label, _, fp in catalog.labelled_photos() if label != NONE_OF_THESE]
    used = {label for _, label, _ in labelled}
    classes = [c for c in catalog.class_names() if c in used]
    held = [in_holdout(fp, holdout_pct) for _, _, fp in labelled]
    kept = None
    if split_by_similarity and holdout_pct > 0 and len(labelled) > 1:
        found = find_near_duplicates([p for p, _, _ in labelled], [fp for _, _, fp in labelled], progress, should_stop)
        orders = {c: sorted((i for i, (_, label, _) in enumerate(labelled) if label == c),
                            key=lambda i: (labelled[i][2], str(labelled[i][0]))) for c in classes}
        held = place_groups([label for _, label, _ in labelled], found.group_of, orders, holdout_pct,
                            side_of_single=held.__getitem__)
        kept = GroupsKept(*shared_groups(found.group_of), unhashed=len(found.unreadable))
    train = [Photo(p, label) for (p, label, _), h in zip(labelled, held) if not h]
    valid = [Photo(p, label) for (p, label, _), h in zip(labelled, held) if h]
    data = LabelledPhotos(classes, train, valid, groups_kept=kept)
    return data, {str(p): fp for p, _, fp in labelled}


def library_counts(catalog: Catalog, holdout_pct: float = DEFAULT_HOLDOUT_PCT) -> tuple[list[str], dict[str, dict[str, int]]]:
    """The classes and `counts()` of `library_dataset(catalog, holdout_pct, split_by_similarity=False)[0]` (with
    near-duplicate groups kept together a few photos may change sides), counted in SQL: no Python object
    per photo (at 100,000 labels those cost a second, and their garbage collection stalled the window)."""
    cut = math.ceil(holdout_pct * 0x1_0000_0000)  # in_holdout: int(fp[:8], 16) < pct * 2**32, as 8 hex digits
    rows = catalog.label_counts_by_side(f"{cut:08x}" if cut <= 0xFFFF_FFFF else None)
    used = {name for name, _, _ in rows}
    classes = [name for name in catalog.class_names() if name in used]
    counts = {split: {name: 0 for name in classes} for split in SPLITS}
    for name, held, photos in rows:
        counts["valid" if held else "train"][name] += photos
    return classes, counts


def import_labelled(catalog: Catalog, data: LabelledPhotos, progress: ProgressFn = no_progress,
                    should_stop: ShouldStopFn = never_stop, overwrite_user_labels: bool = False) -> tuple[AddReport, int]:
    """Record a labelled dataset's photos in the library with their labels (source 'imported'; in the history,
    not on the undo stack). Labels the user set or accepted are kept unless `overwrite_user_labels`. Returns the
    add report (photos that could not be read are in its `failed`, and the others go in) and the labels written.

    All or nothing: the photos are read first, changing nothing; then the photos, classes and labels are written
    in one transaction. A stop (Stopped) or an error at any point leaves the catalog as it was."""
    photos = [p for split in ("train", "valid", "test") for p in data.split(split)]
    read, failed = read_photos([p.path for p in photos], progress, should_stop)
    recorded = {photo.path for photo in read}
    with catalog.all_or_nothing():
        report = catalog.record_photos(read, should_stop=should_stop)
        report.failed.extend(failed)
        catalog.ensure_classes(data.classes)
        by_label: dict[str, list[Path]] = {}
        for photo in photos:
            if photo.label is None or absolute_path(photo.path) not in recorded:
                continue
            if not overwrite_user_labels:
                current = catalog.label_of(photo.path)
                if current is not None and current.source != "imported":
                    continue
            by_label.setdefault(photo.label, []).append(photo.path)
        for label, paths in by_label.items():
            if should_stop():
                raise Stopped()
            catalog.set_labels(paths, label, source="imported", undoable=False)
    return report, sum(map(len, by_label.values()))
