"""A test photo's true class, read from where it lies: its folder's name, else a class named in its file name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

_TOKEN = re.compile(r"[^\W\d_]+|\d+")
"""Runs of letters or of digits: 'Moraine_Lake-012' -> moraine, lake, 012 (after casefolding)."""


def words(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text.casefold()))


def actual_label(path: Path | str, classes: Sequence[str]) -> str | None:
    """The class `path` belongs to, or None when its path does not say.

    The parent folder wins when its name is a class ('valid/louise/IMG_1.jpg'). Otherwise a class whose words
    appear as whole words in the file name ('louise_012.jpg', 'Lake Louise 3.jpg', 'louise012.jpg'; not
    'louisette.jpg'). Case, spaces, '_', '-' and '.' do not matter. A name that mentions two classes says
    nothing, unless one class's words are part of the other's ('moraine_lake_1' with 'lake' and 'moraine lake').
    """
    path = Path(path)
    by_words = {}
    for name in classes:
        key = words(name)
        if key:
            by_words.setdefault(key, name)
    folder = by_words.get(words(path.parent.name))
    if folder is not None:
        return folder
    stem = words(path.stem)
    found = [key for key in by_words if _contains(stem, key)]
    found = [key for key in found if not any(other != key and _contains(other, key) for other in found)]
    return by_words[found[0]] if len(found) == 1 else None


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))
