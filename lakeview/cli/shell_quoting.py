"""Paths written into the commands LakeView prints (`lakeview undo ...`, `lakeview catalog --catalog ...`), quoted so
that they can be pasted back into a POSIX shell."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from lakeview.core.photos.file_names import shown_path


def shell_quoted(path: Path | str) -> str:
    """`path` quoted for a POSIX shell; raw bytes and control characters as bash's $'\\xNN' (one line, the same
    bytes when pasted back)."""
    raw = os.fsencode(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text == shown_path(text):
        return shlex.quote(text)
    return "$'" + "".join(chr(b) if 32 <= b < 127 and b not in b"'\\" else f"\\x{b:02x}" for b in raw) + "'"
