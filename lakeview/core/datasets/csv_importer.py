"""LabelledPhotos from a labels CSV (fast.ai's from_csv), in any common encoding and delimiter."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from lakeview.core.csv_cells import existing_name, unquote
from lakeview.core.datasets.dataset import DatasetError, LabelledPhotos, SkippedFile
from lakeview.core.datasets.labelled_pairs import (DEFAULT_SEED, DEFAULT_VALID_PCT, assemble, check_labels,
                                                   existing_folder, is_file, split_pairs)
from lakeview.core.photos.file_names import is_text
from lakeview.core.photos.files import file_kind, open_regular
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress

TRUE_WORDS = {"1", "true", "yes", "y", "t", "valid"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "", "train"}
FILE_COLUMNS = ("name", "file", "filename", "fname", "path", "image", "image_id", "id")
LABEL_COLUMNS = ("label", "labels", "class", "category", "tag", "tags")
DELIMITERS = ",;\t|"
"""Column separators a labels CSV may use (spreadsheets in many countries write ';')."""
SNIFF_BYTES = 8192


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
    split_by_similarity: bool = True,
) -> LabelledPhotos:
    """A CSV of `name,label[,is_valid]` (header optional); names are relative to `path/folder` plus `suffix`.

    Without a `delimiter`, the columns may be separated by ',', ';', a tab or '|' (guessed from the start of the
    file). Names and labels written by LakeView's own CSV export read back exactly (see csv_cells: escaped bytes,
    the quote before a formula-like cell). Rows naming files outside `path` are refused. Multi-label and numeric
    (regression) labels raise DatasetError with an explanation.
    """
    path = existing_folder(path)
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
    notes = check_labels([label for _, label, _ in entries], csv_path)
    kept = None
    if valid_col is not None:
        train_pairs = [(p, lab) for p, lab, v in entries if not v]
        valid_pairs = [(p, lab) for p, lab, v in entries if v]
    else:
        train_pairs, valid_pairs, kept = split_pairs([(p, lab) for p, lab, _ in entries], valid_pct, seed,
                                                     split_by_similarity, progress, should_stop)
    return assemble(path, train_pairs, valid_pairs, [], skipped, notes, check_images, progress, should_stop, kept)


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
    if not cells or is_file(base / (row[0].strip() + suffix)):
        return False
    return any(cell in FILE_COLUMNS + LABEL_COLUMNS + ("is_valid",) for cell in cells)


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
