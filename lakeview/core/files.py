"""Finding photos on disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".heic", ".heif"}
)
RAW_SUFFIXES = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".rw2", ".raf", ".srw", ".pef"})


def has_image_suffix(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_hidden(name: str) -> bool:
    """Dotfiles, including macOS's AppleDouble '._photo.jpg' companions, which are not photos."""
    return name.startswith(".")


def iter_image_files(folder: Path, recursive: bool = False, errors: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    """Yield image files under `folder` in a stable (sorted) order, streaming folder by folder.

    Folders that cannot be read are reported through `errors` and skipped, and so are folders reached
    a second time through a link (or links to a folder above the start), which would repeat photos.
    """
    root = Path(folder)
    root_real = Path(os.path.realpath(root))
    walked: dict[Path, Path] = {}  # real path -> the path it was walked as
    stack = [root]
    while stack:
        current = stack.pop()
        real = Path(os.path.realpath(current))
        if real in walked or (current != root and root_real.is_relative_to(real)):
            if errors is not None:
                first = walked.get(real, root)
                errors.append((current, f"a link to a folder already included (as {first})"))
            continue
        walked[real] = current
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if errors is not None:
                errors.append((current, f"cannot read folder: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in entries:
            if is_hidden(entry.name):
                continue
            try:
                if entry.is_dir():
                    subfolders.append(Path(entry.path))
                elif entry.is_file() and has_image_suffix(Path(entry.name)):
                    yield Path(entry.path)
            except OSError as exc:
                if errors is not None:
                    errors.append((Path(entry.path), f"cannot read: {exc.strerror or exc}"))
        if recursive:
            stack.extend(reversed(subfolders))


def subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.is_dir() and not is_hidden(p.name))
