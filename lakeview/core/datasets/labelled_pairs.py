"""From (photo path, label) pairs to LabelledPhotos: the validation split, the label checks, the assembly.

Every importer ends here; files that cannot be used are skipped with the reason."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from lakeview.core.datasets.dataset import DatasetError, GroupsKept, LabelledPhotos, Photo, SkippedFile
from lakeview.core.datasets.grouped_split import place_groups, shared_groups
from lakeview.core.datasets.near_duplicates import find_near_duplicates
from lakeview.core.photos.file_names import distinct_readable_names
from lakeview.core.photos.images import ImageLoadError, check_decodable
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

DEFAULT_VALID_PCT = 0.2
DEFAULT_SEED = 42
MULTI_LABEL_SEPARATORS = (";", "|")

Pairs = list[tuple[Path, str | None]]


def split_by_pct(pairs: Pairs, valid_pct: float, seed: int | None,
                 group_of: Sequence[int] | None = None) -> tuple[Pairs, Pairs]:
    """Stratified random split: each class keeps `valid_pct` of its photos (at least one if it has two). With
    `group_of` (a group number per pair), each group lands whole on one side (grouped_split.place_groups)."""
    if not 0 <= valid_pct < 1:
        raise DatasetError(f"valid_pct must be at least 0 and below 1, got {valid_pct}")
    rng = random.Random(seed)
    by_label: dict[str | None, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        by_label[pair[1]].append(i)
    class_orders: dict[str | None, list[int]] = {}
    for label in sorted(by_label, key=str):
        order = sorted(by_label[label], key=lambda i: str(pairs[i][0]))
        rng.shuffle(order)
        class_orders[label] = order
    groups = list(group_of) if group_of is not None else list(range(len(pairs)))
    held = place_groups([label for _, label in pairs], groups, class_orders, valid_pct)
    train: Pairs = []
    valid: Pairs = []
    for order in class_orders.values():
        for i in order:
            (valid if held[i] else train).append(pairs[i])
    return train, valid


def split_pairs(pairs: Pairs, valid_pct: float, seed: int | None, by_similarity: bool,
                progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop
                ) -> tuple[Pairs, Pairs, GroupsKept | None]:
    """`split_by_pct`, keeping near-duplicate groups together when `by_similarity` (the photos are hashed first,
    from the hash cache where it has them, with progress). The report is None when no
    grouping was done."""
    if not by_similarity or valid_pct == 0 or len(pairs) < 2:
        return *split_by_pct(pairs, valid_pct, seed), None
    found = find_near_duplicates([path for path, _ in pairs], progress=progress, should_stop=should_stop)
    train, valid = split_by_pct(pairs, valid_pct, seed, found.group_of)
    return train, valid, GroupsKept(*shared_groups(found.group_of), unhashed=len(found.unreadable))


def assemble(
    root: Path | None,
    train: Pairs,
    valid: Pairs,
    test: Pairs,
    skipped: list[SkippedFile],
    notes: list[str],
    check_images: bool,
    progress: ProgressFn,
    should_stop: ShouldStopFn,
    groups_kept: GroupsKept | None = None,
) -> LabelledPhotos:
    """Drop unusable files (with reasons), derive the classes and make the dataset. Labels are text: one made from
    a name that is not UTF-8 (a class folder's) is its readable form, while the photo keeps its exact path."""
    total = len(train) + len(valid) + len(test)
    done = 0
    kept: list[list[Photo]] = []
    names = distinct_readable_names(label for pairs in (train, valid, test) for _, label in pairs if label is not None)
    for pairs in (train, valid, test):
        photos = []
        for path, label in pairs:
            if should_stop():
                raise Stopped()
            reason = _unusable_reason(path, check_images)
            if reason:
                skipped.append(SkippedFile(str(path), reason))
            else:
                photos.append(Photo(path, None if label is None else names[label]))
            done += 1
            if done % 32 == 0 or done == total:
                progress(done, total)
        kept.append(photos)
    train_photos, valid_photos, test_photos = kept
    classes = sorted({p.label for p in train_photos if p.label is not None})
    if not classes:
        raise DatasetError("no labelled training photos were found" + _skipped_hint(skipped))
    unknown = sorted({p.label for p in valid_photos if p.label not in classes})
    if unknown:
        notes.append(f"validation classes with no training photos: {', '.join(unknown)}")
    if len(classes) < 2:
        notes.append(f"only one class ({classes[0]}); a classifier needs at least two")
    return LabelledPhotos(classes, train_photos, valid_photos, test_photos, skipped, notes, root, groups_kept)


def _unusable_reason(path: Path, check_images: bool) -> str | None:
    if not check_images:
        return None if is_file(path) else "file not found"
    try:
        check_decodable(path)
    except ImageLoadError as exc:
        return exc.reason
    return None


def existing_folder(path: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"folder not found: {path}")
    if not path.is_dir():
        raise DatasetError(f"not a folder: {path}")
    return path


def is_file(path: Path) -> bool:
    """Like Path.is_file, also False for a name the system cannot look up (too long, a NUL byte...)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def check_labels(labels: list[str], source: object) -> list[str]:
    """Refuse multi-label and regression targets, which a single-label classifier cannot learn."""
    distinct = sorted(set(labels))
    multi = [lab for lab in distinct if any(sep in lab for sep in MULTI_LABEL_SEPARATORS)]
    known = set(distinct)
    multi += [lab for lab in distinct if " " in lab and len(lab.split()) > 1 and all(part in known for part in lab.split())]
    if multi:
        raise DatasetError(
            f"{source} look multi-label (e.g. {', '.join(repr(m) for m in multi[:3])}); "
            "LakeView learns one label per photo. Give each photo a single class."
        )
    numbers = [lab for lab in distinct if _is_number(lab)]
    if distinct and len(numbers) == len(distinct):
        if any(not _is_int(lab) for lab in numbers) or (len(distinct) > 20 and len(distinct) > len(labels) // 2):
            raise DatasetError(
                f"{source} are numbers (e.g. {', '.join(numbers[:3])}), which looks like a regression target; "
                "LakeView learns named classes. Use class names (or whole-number class ids) as labels."
            )
        return [f"labels are whole numbers; treating them as class names ({', '.join(distinct[:5])}...)"]
    return []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None


def _skipped_hint(skipped: list[SkippedFile]) -> str:
    if not skipped:
        return ""
    examples = "; ".join(str(s) for s in skipped[:3])
    return f" ({len(skipped)} skipped, e.g. {examples})"
