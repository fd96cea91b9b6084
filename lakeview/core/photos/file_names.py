"""File names that are not valid UTF-8 (Linux allows any bytes but '/' and NUL; cameras and old archives write
Latin-1 or Shift-JIS names): stored in the catalog without losing a byte, and shown as readable text.

Python names such a file with a str whose undecodable bytes are surrogate escapes ('\\udcff' for the byte 0xff).
SQLite, JSON and Qt cannot hold those, so:

- the catalog stores a path as TEXT when it is valid UTF-8 (every ordinary name) and as a BLOB of the exact
  bytes (`os.fsencode`) when it is not; `path_to_db` and `path_from_db` are the only way paths go in and out;
- where a name becomes text for people or for a file format (a class named after a folder, a label in a model
  file), each undecodable byte is written as the four characters '\\xff' (`readable_name`). That form can be some
  other folder's real name (a folder literally named 'caf\\xe9' beside the Latin-1 'caf\xe9'): `distinct_readable_names`
  then numbers it ('caf\\xe9 (2)'), so distinct folders keep distinct class names; the photos' own paths stay exact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

PathInDb = str | bytes


def is_text(name: str) -> bool:
    """True when the name is valid Unicode text (no surrogate escapes for undecodable bytes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def path_to_db(path: Path | str) -> PathInDb:
    """The value that stands for `path` in the catalog's path column (one canonical form per path).

    Raises UnicodeEncodeError only for a str that no file system could have produced (a lone surrogate
    outside the escapes of undecodable bytes)."""
    text = os.fspath(path)
    return text if is_text(text) else os.fsencode(text)


def path_from_db(value: PathInDb) -> Path:
    """The path a catalog value stands for: exactly the bytes that were stored."""
    return Path(os.fsdecode(value) if isinstance(value, bytes) else value)


def readable_name(name: str) -> str:
    """`name` as valid text: each byte that is not UTF-8 becomes '\\xNN'. Ordinary names come back unchanged."""
    if is_text(name):
        return name
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def readable_path(path: Path | str) -> str:
    """A path as text for a message, a label or a table cell; see `readable_name`."""
    return readable_name(os.fspath(path))


def distinct_readable_names(names: Iterable[str]) -> dict[str, str]:
    """A class name for each distinct name, no two alike, each one the catalog keeps as it is: a clean text name
    keeps itself; a name with undecodable bytes becomes its `readable_name`, and one with spaces around it is
    trimmed (the catalog trims class names); when that is already another name's, ' (2)', ' (3)'... is added.
    Clean names are placed first, so an ordinary folder name never changes because of an odd neighbour."""
    unique = sorted(set(names), key=lambda n: (_class_form(n) != n, n.encode("utf-8", "surrogatepass")))
    taken: set[str] = set()
    result: dict[str, str] = {}
    for name in unique:
        readable = candidate = _class_form(name)
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{readable} ({number})"
        taken.add(candidate)
        result[name] = candidate
    return result


def _class_form(name: str) -> str:
    """`readable_name`, trimmed; a name of spaces alone keeps them, as \x20."""
    readable = readable_name(name)
    return readable.strip() or "".join(f"\\x{ord(c):02x}" for c in readable)


SETTING_PREFIX = "bytes:"
"""`path_to_setting`'s mark of a path kept as hex bytes; no absolute path starts with it."""


def path_to_setting(path: Path | str) -> str:
    """`path` as text that Qt settings, INI and JSON keep exactly: itself when it is text, else 'bytes:' and
    the hex of its bytes. `path_from_setting` reads both back."""
    text = os.fspath(path)
    return text if is_text(text) else SETTING_PREFIX + os.fsencode(text).hex()


def path_from_setting(value: str) -> Path:
    if value.startswith(SETTING_PREFIX):
        try:
            return Path(os.fsdecode(bytes.fromhex(value[len(SETTING_PREFIX):])))
        except ValueError:
            pass
    return Path(value)


def _as_qt_shows(name: str) -> str:
    """A file name as Qt reports it: Qt drops (or replaces with U+FFFD) the bytes that are not UTF-8."""
    return "".join(c for c in name if not "\udc80" <= c <= "\udcff" and c != "\ufffd")


def resolve_lossy_path(path: Path | str) -> Path:
    """The path that a folder chooser (Qt) meant when the one it gave does not exist: Qt cannot hold bytes that
    are not UTF-8, so it drops them. Each missing part is looked up among its folder's entries by that lossy
    form; a part that matches no entry, or more than one, leaves `path` as it was."""
    path = Path(path)
    if os.path.lexists(path) or not path.is_absolute():
        return path
    resolved = Path(path.anchor)
    for part in path.parts[1:]:
        candidate = resolved / part
        if not os.path.lexists(candidate):
            try:
                matches = [entry for entry in os.listdir(resolved) if _as_qt_shows(entry) == _as_qt_shows(part)]
            except OSError:
                return path
            if len(matches) != 1:
                return path
            candidate = resolved / matches[0]
        resolved = candidate
    return resolved


_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown_path(path: Path | str) -> str:
    """A path on one line of a message: `readable_path`, with control characters (a newline in a file name)
    written as \\n, \\r, \\t or \\xNN, so that one name never looks like two lines."""
    return "".join(_CONTROL_ESCAPES.get(c, f"\\x{ord(c):02x}") if ord(c) < 32 or ord(c) == 127 else c
                   for c in readable_path(path))


def absolute_path(path: Path | str) -> Path:
    """The one form the catalog knows a photo by: absolute, and without '..' (photos/x/../x/a.jpg is the same
    file as photos/x/a.jpg, so it must not become a second row). A folder part with '..' is resolved on disk
    (a link followed by '..' leads where the system says); the file's own name is kept, link or not."""
    path = Path(path).absolute()
    if ".." not in path.parts:
        return path
    return Path(os.path.realpath(path.parent)) / path.name if path.name not in ("", "..") else \
        Path(os.path.realpath(path))
