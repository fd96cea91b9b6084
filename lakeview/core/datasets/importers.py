"""LabelledPhotos from class folders, file-name patterns, a labelling function or plain lists (CSV: csv_importer)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

from lakeview.core.datasets.dataset import DatasetError, LabelledPhotos, SkippedFile
from lakeview.core.datasets.labelled_pairs import (DEFAULT_SEED, DEFAULT_VALID_PCT, Pairs, assemble, check_labels,
                                                   existing_folder, split_pairs)
from lakeview.core.photos.files import has_image_suffix, is_hidden, iter_image_files, subfolders
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress

VALID_NAMES = ("valid", "val")


def from_folder(
    path: Path,
    train: str = "train",
    valid: str | None = None,
    test: str = "test",
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    split_by_similarity: bool = True,
) -> LabelledPhotos:
    """`path/train/<class>/`, `path/valid|val/<class>/`, optional `path/test/[<class>/]`; or `path/<class>/` only.

    Without a valid folder the train photos are split by `valid_pct` (stratified per class, seeded; with
    `split_by_similarity`, each near-duplicate group kept on one side).
    """
    path = existing_folder(path)
    skipped: list[SkippedFile] = []
    train_dir = path / train
    kept = None
    if train_dir.is_dir():
        train_pairs = _class_folder_pairs(train_dir, skipped)
        valid_dir = _first_folder(path, (valid,) if valid else VALID_NAMES)
        if valid_dir is not None:
            valid_pairs = _class_folder_pairs(valid_dir, skipped)
        else:
            train_pairs, valid_pairs, kept = split_pairs(train_pairs, valid_pct, seed, split_by_similarity,
                                                         progress, should_stop)
        test_dir = path / test
        test_pairs = _test_folder_pairs(test_dir, skipped) if test_dir.is_dir() else []
    else:
        reserved = {train, test, *VALID_NAMES}
        pairs = _class_folder_pairs(path, skipped, exclude=reserved)
        train_pairs, valid_pairs, kept = split_pairs(pairs, valid_pct, seed, split_by_similarity, progress,
                                                     should_stop)
        test_pairs = []
    return assemble(path, train_pairs, valid_pairs, test_pairs, skipped, [], check_images, progress, should_stop,
                    kept)


def from_name_re(
    files: Path | str | Iterable[Path | str],
    pattern: str | re.Pattern,
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    split_by_similarity: bool = True,
) -> LabelledPhotos:
    """Label each file by the first group of `pattern`, searched in its full path (as fast.ai does)."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    if regex.groups < 1:
        raise DatasetError(f"the pattern {regex.pattern!r} needs a group, e.g. r'/([^/]+)_\\d+\\.jpg$'")

    def label_of(path: Path) -> str:
        match = regex.search(path.as_posix())
        if match is None or not match.group(1):
            raise ValueError(f"does not match the pattern {regex.pattern!r}")
        return match.group(1)

    return from_name_func(files, label_of, valid_pct, seed, check_images, progress, should_stop, split_by_similarity)


def from_name_func(
    files: Path | str | Iterable[Path | str],
    label_func: Callable[[Path], str],
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    split_by_similarity: bool = True,
) -> LabelledPhotos:
    """Label each file with `label_func(path)`; a file whose label cannot be made is skipped with the reason."""
    root, paths, skipped = _gather_files(files)
    pairs: Pairs = []
    for path in paths:
        try:
            label = label_func(path)
        except Exception as exc:  # a user's function may fail in any way; report it per file
            skipped.append(SkippedFile(str(path), f"no label: {exc}"))
            continue
        if label is None or str(label).strip() == "":
            skipped.append(SkippedFile(str(path), "no label: the function returned nothing"))
            continue
        pairs.append((path, str(label)))
    pairs = _drop_repeats(pairs, skipped)
    notes = check_labels([lab for _, lab in pairs], "the labels")
    train_pairs, valid_pairs, kept = split_pairs(pairs, valid_pct, seed, split_by_similarity, progress, should_stop)
    return assemble(root, train_pairs, valid_pairs, [], skipped, notes, check_images, progress, should_stop, kept)


def from_lists(
    paths: Sequence[Path | str],
    labels: Sequence[str],
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    root: Path | str | None = None,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    split_by_similarity: bool = True,
) -> LabelledPhotos:
    """Plain lists of paths (absolute, or relative to `root`) and their labels."""
    if len(paths) != len(labels):
        raise DatasetError(f"{len(paths)} paths but {len(labels)} labels; the lists must match one to one")
    base = Path(root) if root is not None else None
    skipped: list[SkippedFile] = []
    pairs: Pairs = []
    for p, label in zip(paths, labels):
        path = Path(p)
        if base is not None and not path.is_absolute():
            path = base / path
        text = "" if label is None else str(label).strip()
        if not text:
            skipped.append(SkippedFile(str(path), "empty label"))
            continue
        pairs.append((path, text))
    pairs = _drop_repeats(pairs, skipped)
    notes = check_labels([lab for _, lab in pairs], "the labels")
    train_pairs, valid_pairs, kept = split_pairs(pairs, valid_pct, seed, split_by_similarity, progress, should_stop)
    return assemble(base, train_pairs, valid_pairs, [], skipped, notes, check_images, progress, should_stop, kept)


def _first_folder(path: Path, names: Iterable[str]) -> Path | None:
    for name in names:
        if (path / name).is_dir():
            return path / name
    return None


def _class_folder_pairs(
    folder: Path, skipped: list[SkippedFile], exclude: set[str] = frozenset(), keep_loose: bool = False
) -> Pairs:
    """One class per subfolder; loose photos in `folder` itself are unlabelled if `keep_loose`, else skipped."""
    pairs: Pairs = []
    for entry in sorted(folder.iterdir()):
        if is_hidden(entry.name) or entry.name in exclude or not entry.is_file():
            continue
        if not keep_loose:
            skipped.append(SkippedFile(str(entry), "not inside a class folder"))
        elif has_image_suffix(entry):
            pairs.append((entry, None))
        else:
            skipped.append(SkippedFile(str(entry), _not_an_image_reason(entry)))
    for class_dir in subfolders(folder):
        if class_dir.name in exclude:
            continue
        errors: list[tuple[Path, str]] = []
        for image in iter_image_files(class_dir, recursive=True, errors=errors):
            pairs.append((image, class_dir.name))
        skipped.extend(SkippedFile(str(p), reason) for p, reason in errors)
        skipped.extend(_non_image_files(class_dir))
    return pairs


def _test_folder_pairs(folder: Path, skipped: list[SkippedFile]) -> Pairs:
    return _class_folder_pairs(folder, skipped, keep_loose=True)


def _non_image_files(folder: Path) -> list[SkippedFile]:
    result = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not has_image_suffix(path) and not any(is_hidden(part) for part in path.relative_to(folder).parts):
            result.append(SkippedFile(str(path), _not_an_image_reason(path)))
    return result


def _not_an_image_reason(path: Path) -> str:
    return f"not an image file (extension '{path.suffix or 'none'}')"


def _drop_repeats(pairs: Pairs, skipped: list[SkippedFile]) -> Pairs:
    """Keep the first of several entries for one file, which could otherwise land in both train and valid."""
    seen: set[str] = set()
    kept: Pairs = []
    for path, label in pairs:
        key = os.path.normpath(os.path.abspath(path))
        if key in seen:
            skipped.append(SkippedFile(str(path), "listed twice; the first entry is kept"))
        else:
            seen.add(key)
            kept.append((path, label))
    return kept


def _gather_files(files: Path | str | Iterable[Path | str]) -> tuple[Path | None, list[Path], list[SkippedFile]]:
    skipped: list[SkippedFile] = []
    if isinstance(files, (str, Path)):
        root = existing_folder(Path(files))
        errors: list[tuple[Path, str]] = []
        paths = list(iter_image_files(root, recursive=True, errors=errors))
        skipped.extend(SkippedFile(str(p), reason) for p, reason in errors)
        skipped.extend(_non_image_files(root))
        return root, paths, skipped
    return None, [Path(f) for f in files], skipped
