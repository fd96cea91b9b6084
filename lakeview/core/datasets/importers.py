"""Building LabelledPhotos from folders, CSV files, file-name patterns, functions and plain lists."""

from __future__ import annotations

import codecs
import csv
import io
import os
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Sequence

from lakeview.core.csv_cells import existing_name, unquote
from lakeview.core.datasets.dataset import DatasetError, LabelledPhotos, Photo, SkippedFile
from lakeview.core.photos.file_names import distinct_readable_names, is_text
from lakeview.core.photos.files import file_kind, has_image_suffix, open_regular, is_hidden, iter_image_files, subfolders
from lakeview.core.photos.images import ImageLoadError, check_decodable
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress

DEFAULT_VALID_PCT = 0.2
DEFAULT_SEED = 42
VALID_NAMES = ("valid", "val")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "valid"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "", "train"}
FILE_COLUMNS = ("name", "file", "filename", "fname", "path", "image", "image_id", "id")
LABEL_COLUMNS = ("label", "labels", "class", "category", "tag", "tags")
MULTI_LABEL_SEPARATORS = (";", "|")
DELIMITERS = ",;\t|"
"""Column separators a labels CSV may use (spreadsheets in many countries write ';')."""
SNIFF_BYTES = 8192

Pairs = list[tuple[Path, str | None]]


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
) -> LabelledPhotos:
    """`path/train/<class>/`, `path/valid|val/<class>/`, optional `path/test/[<class>/]`; or `path/<class>/` only.

    Without a valid folder the train photos are split by `valid_pct` (stratified per class, seeded).
    """
    path = _existing_folder(path)
    skipped: list[SkippedFile] = []
    train_dir = path / train
    if train_dir.is_dir():
        train_pairs = _class_folder_pairs(train_dir, skipped)
        valid_dir = _first_folder(path, (valid,) if valid else VALID_NAMES)
        if valid_dir is not None:
            valid_pairs = _class_folder_pairs(valid_dir, skipped)
        else:
            train_pairs, valid_pairs = split_by_pct(train_pairs, valid_pct, seed)
        test_dir = path / test
        test_pairs = _test_folder_pairs(test_dir, skipped) if test_dir.is_dir() else []
    else:
        reserved = {train, test, *VALID_NAMES}
        pairs = _class_folder_pairs(path, skipped, exclude=reserved)
        train_pairs, valid_pairs = split_by_pct(pairs, valid_pct, seed)
        test_pairs = []
    return assemble(path, train_pairs, valid_pairs, test_pairs, skipped, [], check_images, progress, should_stop)


def from_csv(
    path: Path,
    csv_labels: Path | str = "labels.csv",
    folder: str = "",
    suffix: str = "",
    header: bool | None = None,
    delimiter: str | None = None,
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> LabelledPhotos:
    """A CSV of `name,label[,is_valid]` (header optional); names are relative to `path/folder` plus `suffix`.

    Without a `delimiter`, the columns may be separated by ',', ';', a tab or '|' (guessed from the start of the
    file). Names and labels written by LakeView's own CSV export read back exactly (see csv_cells: escaped bytes,
    the quote before a formula-like cell). Rows naming files outside `path` are refused. Multi-label and numeric
    (regression) labels raise DatasetError with an explanation.
    """
    path = _existing_folder(path)
    csv_path = Path(csv_labels)
    if not csv_path.is_absolute():
        csv_path = path / csv_path
    rows, delimiter, not_text = _read_csv_rows(csv_path, delimiter)
    if not rows:
        raise DatasetError(f"{csv_path} holds no rows")
    header_row = rows[0] if (header if header is not None else _looks_like_header(rows[0], path / folder, suffix)) else None
    file_col, label_col, valid_col = _csv_columns(header_row, csv_path)
    body = rows[1:] if header_row is not None else rows
    first_line = 2 if header_row is not None else 1
    root = path.resolve()
    base = path / folder
    skipped: list[SkippedFile] = []
    entries: list[tuple[Path, str, bool | None]] = []
    seen: set[Path] = set()
    for offset, row in enumerate(body):
        where = f"{csv_path.name} line {first_line + offset}"
        if not row or all(not cell.strip() for cell in row):
            continue
        needed = max(file_col, label_col) + 1
        if len(row) < needed:
            skipped.append(SkippedFile(where, f"expected at least {needed} columns (name,label), found {len(row)}"
                                              + _other_delimiter_hint(row, delimiter)))
            continue
        name, label = existing_name(row[file_col], base, suffix), unquote(row[label_col].strip()).strip()
        if not_text and not is_text(label):
            raise DatasetError(not_text)
        if not name:
            skipped.append(SkippedFile(where, "empty file name"))
            continue
        if not label:
            skipped.append(SkippedFile(where, f"'{name}' has an empty label"))
            continue
        if "\0" in label:
            skipped.append(SkippedFile(where, f"the label of '{name}' holds a NUL byte (a binary file, not text?)"))
            continue
        if "\n" in label or "\r" in label:
            skipped.append(SkippedFile(where, f"the label of '{name}' runs over several lines (a quote \" that is "
                                              "never closed takes in the lines after it)"))
            continue
        file_path = base / (name + suffix)
        try:
            resolved = file_path.resolve()
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
            skipped.append(SkippedFile(where, f"{name!r} is not a usable file name ({exc})"))
            continue
        if not resolved.is_relative_to(root):
            skipped.append(SkippedFile(where, f"'{name}' points outside the dataset folder {path}; refused"))
            continue
        if resolved in seen:
            skipped.append(SkippedFile(where, f"'{name}' is listed twice; the first row is kept"))
            continue
        seen.add(resolved)
        is_valid = None
        if valid_col is not None:
            cell = row[valid_col].strip().lower() if valid_col < len(row) else ""
            if cell not in TRUE_WORDS | FALSE_WORDS:
                skipped.append(SkippedFile(where, f"is_valid value '{row[valid_col]}' is not true/false"))
                continue
            is_valid = cell in TRUE_WORDS
        entries.append((file_path, label, is_valid))
    notes = _check_labels([label for _, label, _ in entries], csv_path)
    if valid_col is not None:
        train_pairs = [(p, lab) for p, lab, v in entries if not v]
        valid_pairs = [(p, lab) for p, lab, v in entries if v]
    else:
        train_pairs, valid_pairs = split_by_pct([(p, lab) for p, lab, _ in entries], valid_pct, seed)
    return assemble(path, train_pairs, valid_pairs, [], skipped, notes, check_images, progress, should_stop)


def from_name_re(
    files: Path | str | Iterable[Path | str],
    pattern: str | re.Pattern,
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
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

    return from_name_func(files, label_of, valid_pct, seed, check_images, progress, should_stop)


def from_name_func(
    files: Path | str | Iterable[Path | str],
    label_func: Callable[[Path], str],
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
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
    notes = _check_labels([lab for _, lab in pairs], "the labels")
    train_pairs, valid_pairs = split_by_pct(pairs, valid_pct, seed)
    return assemble(root, train_pairs, valid_pairs, [], skipped, notes, check_images, progress, should_stop)


def from_lists(
    paths: Sequence[Path | str],
    labels: Sequence[str],
    valid_pct: float = DEFAULT_VALID_PCT,
    seed: int | None = DEFAULT_SEED,
    root: Path | str | None = None,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
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
    notes = _check_labels([lab for _, lab in pairs], "the labels")
    train_pairs, valid_pairs = split_by_pct(pairs, valid_pct, seed)
    return assemble(base, train_pairs, valid_pairs, [], skipped, notes, check_images, progress, should_stop)


def split_by_pct(pairs: Pairs, valid_pct: float, seed: int | None) -> tuple[Pairs, Pairs]:
    """Stratified random split: each class keeps `valid_pct` of its photos (at least one if it has two)."""
    if not 0 <= valid_pct < 1:
        raise DatasetError(f"valid_pct must be at least 0 and below 1, got {valid_pct}")
    rng = random.Random(seed)
    by_label: dict[str | None, list[tuple[Path, str | None]]] = defaultdict(list)
    for pair in pairs:
        by_label[pair[1]].append(pair)
    train: Pairs = []
    valid: Pairs = []
    for label in sorted(by_label, key=str):
        group = sorted(by_label[label], key=lambda pr: str(pr[0]))
        rng.shuffle(group)
        n_valid = round(len(group) * valid_pct)
        if valid_pct > 0 and n_valid == 0 and len(group) >= 2:
            n_valid = 1
        valid.extend(group[:n_valid])
        train.extend(group[n_valid:])
    return train, valid


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
    return LabelledPhotos(classes, train_photos, valid_photos, test_photos, skipped, notes, root)


def _unusable_reason(path: Path, check_images: bool) -> str | None:
    if not check_images:
        return None if _is_file(path) else "file not found"
    try:
        check_decodable(path)
    except ImageLoadError as exc:
        return exc.reason
    return None


def _existing_folder(path: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"folder not found: {path}")
    if not path.is_dir():
        raise DatasetError(f"not a folder: {path}")
    return path


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
        root = _existing_folder(Path(files))
        errors: list[tuple[Path, str]] = []
        paths = list(iter_image_files(root, recursive=True, errors=errors))
        skipped.extend(SkippedFile(str(p), reason) for p, reason in errors)
        skipped.extend(_non_image_files(root))
        return root, paths, skipped
    return None, [Path(f) for f in files], skipped


def _read_csv_rows(csv_path: Path, delimiter: str | None) -> tuple[list[list[str]], str, str | None]:
    """The rows, the delimiter used (`delimiter`, or else the one guessed from the start of the file), and why
    the file is not UTF-8 (None if it is; see _decode)."""
    try:
        with _open_regular(csv_path) as handle:
            text, note = _decode(handle.read(), csv_path)
        if delimiter is None:
            delimiter = _guess_delimiter(text[:SNIFF_BYTES])
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter, note
    except FileNotFoundError:
        raise DatasetError(f"CSV file not found: {csv_path}") from None
    except csv.Error as exc:
        raise DatasetError(f"{csv_path} is not a readable CSV: {exc}") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {csv_path}: {exc.strerror or exc}") from None


def _decode(data: bytes, csv_path: Path) -> tuple[str, str | None]:
    """UTF-8 (with or without a BOM); UTF-16 with a BOM (a spreadsheet's "Unicode text"); else UTF-8 with each byte
    that is not kept as itself (os.fsdecode's surrogates), so a name matches the file named by those very bytes
    (a shell loop writes names so), or its UTF-8 namesake for a Latin-1 CSV (see csv_cells.name_candidates). Then
    the second value is why the file is not text, for a label with such bytes, which cannot be a class name."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{csv_path} starts as UTF-16 text but is not (byte {exc.start})") from None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8-sig", "surrogateescape"), (f"{csv_path} is not UTF-8 text (byte {exc.start}); "
                                                             "save it as UTF-8 CSV")


def _open_regular(csv_path: Path):
    """`csv_path` opened for reading bytes, only if it is a regular file: a pipe (which would block until someone
    writes to it), a device or a folder raises DatasetError instead."""
    return open_regular(csv_path, lambda mode: DatasetError(f"{csv_path} is {file_kind(mode)}, not a CSV file"))


def _guess_delimiter(sample: str) -> str:
    """',' when the first line has two columns with it; otherwise what csv.Sniffer finds among DELIMITERS."""
    first_line = next((line for line in sample.splitlines() if line.strip()), "")
    if len(next(csv.reader([first_line]), [])) >= 2:
        return ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _other_delimiter_hint(row: list[str], delimiter: str) -> str:
    """For a row that came out as one column: the separator it seems to use instead, if any."""
    text = delimiter.join(row)
    for other in DELIMITERS:
        if other != delimiter and other in text:
            shown = "a tab" if other == "\t" else f"'{other}'"
            return f"; the file seems to use {shown} between columns"
    return ""


def _looks_like_header(row: list[str], base: Path, suffix: str) -> bool:
    cells = [cell.strip().lower() for cell in row]
    if not cells or _is_file(base / (row[0].strip() + suffix)):
        return False
    return any(cell in FILE_COLUMNS + LABEL_COLUMNS + ("is_valid",) for cell in cells)


def _is_file(path: Path) -> bool:
    """Like Path.is_file, also False for a name the system cannot look up (too long, a NUL byte...)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _csv_columns(header: list[str] | None, csv_path: Path) -> tuple[int, int, int | None]:
    if header is None:
        return 0, 1, None
    cells = [cell.strip().lower() for cell in header]
    file_col = next((i for i, c in enumerate(cells) if c in FILE_COLUMNS), 0)
    label_col = next((i for i, c in enumerate(cells) if c in LABEL_COLUMNS), 1 if file_col != 1 else 0)
    valid_col = next((i for i, c in enumerate(cells) if c in ("is_valid", "valid")), None)
    if file_col == label_col:
        raise DatasetError(f"{csv_path}: cannot tell the file column from the label column in {header}")
    return file_col, label_col, valid_col


def _check_labels(labels: list[str], source: object) -> list[str]:
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
