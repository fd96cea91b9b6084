"""What LakeView writes in, and reads back from, a CSV cell, so that every file name a disk allows survives the
round trip and no cell runs as a spreadsheet formula.

- A name that is not valid UTF-8 (Linux allows any bytes) is written with each undecodable byte as `\\xNN`
  (Python's backslashreplace of its bytes); valid names are written as they are.
- A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, also after leading spaces, gets a leading
  `'` (OWASP's advice against CSV formula injection), so a spreadsheet shows it as text instead of running it.

Reading a name back tries it as written first, then without that quote, then with `\\xNN` turned back into bytes:
the first one that exists on disk wins, so a file really named `'=x.jpg` or `a\\x41.jpg` still works.
"""

from __future__ import annotations

import os
import re
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator

from lakeview.core.photos.file_names import readable_path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula (OWASP, 'CSV Injection')."""
QUOTE = "'"
HOW_CELLS_ARE_WRITTEN = ("Bytes of a file name that are not UTF-8 are written as \\xNN; a cell starting with = + - @ "
                         "(or a tab; also after spaces) gets a leading ' so that spreadsheets do not run it as a "
                         "formula. LakeView reads both back.")
_ESCAPED_BYTE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def escape_name(name: str | os.PathLike) -> str:
    """`name` as text that any UTF-8 writer accepts: undecodable bytes become `\\xNN`, all else is unchanged."""
    return readable_path(name)


def unescape_name(text: str) -> str:
    """The name whose escape_name is `text` (os.fsdecode of the bytes: undecodable ones become surrogates)."""
    raw = _ESCAPED_BYTE.sub(lambda match: bytes([int(match[1], 16)]), text.encode("utf-8", "surrogateescape"))
    return os.fsdecode(raw)


def looks_like_formula(cell: str) -> bool:
    """A spreadsheet may run `cell`: it starts with a formula character, also after spaces (which some
    spreadsheets trim on import)."""
    return cell.startswith(FORMULA_STARTS) or cell.lstrip(" ").startswith(FORMULA_STARTS)


def spreadsheet_safe(cell: str) -> str:
    """`cell`, with a leading `'` if a spreadsheet would otherwise read it as a formula."""
    return QUOTE + cell if looks_like_formula(cell) else cell


def unquote(cell: str) -> str:
    """Undo spreadsheet_safe: drop the leading `'` that it adds (and only that one)."""
    if cell.startswith(QUOTE) and looks_like_formula(cell[1:]):
        return cell[1:]
    return cell


def name_cell(name: str | os.PathLike) -> str:
    """A file name as LakeView writes it in a CSV cell: escaped, then made spreadsheet-safe."""
    return spreadsheet_safe(escape_name(name))


def text_cell(text: str) -> str:
    """Any other text (a label, a reason) as LakeView writes it in a CSV cell."""
    return spreadsheet_safe(escape_name(text))


def name_candidates(cell: str) -> list[str]:
    """The names a cell may stand for, most literal first: as written, trimmed of surrounding spaces, without the
    spreadsheet quote, with `\\xNN` unescaped. The caller keeps the first that exists on disk."""
    found: list[str] = []

    def add(options: Iterable[str]) -> None:
        for option in options:
            if option and option not in found:
                found.append(option)

    add([cell, cell.strip()])
    add([unquote(c) for c in list(found)])
    add([unescape_name(c) for c in list(found) if _ESCAPED_BYTE.search(c.encode("utf-8", "surrogateescape"))])
    add([latin1_text(c) for c in list(found)])  # a Latin-1 CSV naming files whose names are UTF-8
    return found


def latin1_text(cell: str) -> str:
    """A cell read from a CSV that is not UTF-8 (its other bytes kept as os.fsdecode's surrogates) as text: those
    bytes read as Windows-1252, or Latin-1 where that has no character. A cell that is valid text is unchanged."""
    try:
        cell.encode("utf-8")
        return cell
    except UnicodeEncodeError:
        pass
    raw = cell.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def existing_name(cell: str, base: Path, suffix: str = "") -> str:
    """The name `cell` stands for: the first of name_candidates that names a file under `base` (with `suffix`),
    else the cell trimmed of surrounding spaces (whose absence the caller reports)."""
    for name in name_candidates(cell):
        try:
            if (base / (name + suffix)).exists():
                return name
        except (OSError, ValueError):  # ValueError: a NUL byte; the caller says why the name is unusable
            continue
    return cell.strip()


@contextmanager
def csv_output(path: Path) -> Iterator[IO[str]]:
    """`path` opened for writing a CSV (UTF-8), through `atomic_writer`: a file appears whole or not at all, a link
    to it stays a link, and a pipe or device (`--csv /dev/stdout`, a shell's `>(gzip > x.gz)`) is written into."""
    from lakeview.core.atomic import atomic_writer

    real = os.path.realpath(path)
    try:
        with atomic_writer(path, "w", newline="", encoding="utf-8") as handle:
            yield handle
    except OSError as exc:
        if exc.filename is None or os.path.dirname(os.fspath(exc.filename)) != os.path.dirname(real):
            raise
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None  # named as the user named it


def is_stream(path: Path) -> bool:
    """`path` is a pipe or a device (or under /dev or /proc), not a file to replace."""
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)
