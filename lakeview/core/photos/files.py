"""Finding photos on disk, and telling a photo from a folder, a FIFO, a device or a file that is not an image."""

from __future__ import annotations

import os
import stat
from enum import Enum
from functools import cache
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".heic", ".heif"}
)
JPEG_START = b"\xff\xd8"
PNG_START = b"\x89PNG\r\n\x1a\n"
JPEG_END, PNG_END = b"\xff\xd9", b"IEND\xaeB`\x82"
END_WITHIN = 4096
"""Bytes from its end where a complete file's end marker must be (cameras may pad after a JPEG's end)."""
_NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)
RAW_SUFFIXES = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".rw2", ".raf", ".srw", ".pef"})


class NotAPhoto(Exception):
    """A path that names something other than a photo (a folder, a FIFO, a device...), with the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = Path(path)
        self.reason = reason


def file_kind(mode: int) -> str:
    """What a file of this `st_mode` is, in words, for messages."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def kind_reason(mode: int, via_link: bool = False) -> str | None:
    """Why a file of this `st_mode` is not a photo; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return f"{'a link to ' if via_link else ''}{file_kind(mode)}, not a photo"


def open_regular(path: Path | str, refuse: Callable[[int], BaseException]) -> BinaryIO:
    """`path` opened for reading bytes, only if it is a regular file; else raises `refuse(st_mode)`. The check is
    made on the open descriptor (the name may be replaced after any earlier check), and the open does not wait
    for a FIFO's writer."""
    fd = os.open(path, os.O_RDONLY | _NON_BLOCKING | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(mode)
        if _NON_BLOCKING:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def not_a_file_reason(path: Path | str) -> str | None:
    """Why `path` (links followed) is not a regular file that can be read; None when it is one. Opens nothing."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "a broken link (its target does not exist)" if os.path.islink(path) else "file not found"
    except PermissionError:
        return "permission denied"
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        return f"cannot read: {getattr(exc, 'strerror', None) or exc}"
    reason = kind_reason(info.st_mode, os.path.islink(path))
    if reason is None and not os.access(path, os.R_OK):
        return "permission denied"
    return reason


class WholeFormat(Enum):
    """The formats whose complete files `whole_jpeg_or_png` recognises."""
    JPEG = "jpeg"
    PNG = "png"


def whole_jpeg_or_png(path: Path | str) -> WholeFormat | None:
    """The format of a regular file that starts and ends like a complete JPEG or PNG; None for anything else: other
    formats, a truncated file (a decoder may show it half grey, with only a logged warning), a FIFO (never waited
    for), a file that cannot be read."""
    try:
        with open_regular(path, lambda mode: NotAPhoto(path, kind_reason(mode) or "")) as handle:
            head = handle.read(len(PNG_START))
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - END_WITHIN))
            tail = handle.read(END_WITHIN)
    except (OSError, ValueError, NotAPhoto):
        return None
    if head.startswith(JPEG_START) and head[2:3] == b"\xff" and JPEG_END in tail:  # the next marker follows
        return WholeFormat.JPEG
    if head == PNG_START and tail.endswith(PNG_END):
        return WholeFormat.PNG
    return None


def looks_like_image(head: bytes) -> bool:
    """Whether a file whose first bytes are `head` (16 are enough) is a photo in a format LakeView reads: PIL's
    own signature check of each such format, nothing parsed beyond it. A JPEG whose start-of-image marker is
    intact counts (a damaged photo is shown as damaged, not hidden), and so does HEIC without pillow-heif."""
    from lakeview.core.photos.images import HEIF_BRANDS

    if head.startswith(JPEG_START) or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS):
        return True
    return any(accept(head) for accept in _photo_signatures())


@cache
def _photo_signatures() -> tuple:
    """PIL's signature checks of the formats of IMAGE_SUFFIXES."""
    from PIL import Image

    registered = Image.registered_extensions()
    formats = {registered[s] for s in IMAGE_SUFFIXES if s in registered}
    return tuple(Image.OPEN[f][1] for f in sorted(formats) if f in Image.OPEN and Image.OPEN[f][1] is not None)


def has_image_suffix(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_hidden(name: str) -> bool:
    """Dotfiles, including macOS's AppleDouble '._photo.jpg' companions, which are not photos."""
    return name.startswith(".")


def iter_image_files(folder: Path, recursive: bool = False, errors: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    """Yield image files under `folder` in a stable (sorted) order, streaming folder by folder.

    Folders that cannot be read are reported through `errors` and skipped, and so are folders reached
    a second time through a link (or links to a folder above the start), which would repeat photos, and
    entries that are not files or folders (FIFOs, devices, sockets, broken links), whatever their names. Without
    `recursive`, a folder named like a photo ('album.jpg/') is reported too.
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
                    if not recursive and has_image_suffix(Path(entry.name)) and errors is not None:
                        errors.append((Path(entry.path), kind_reason(stat.S_IFDIR, entry.is_symlink())))
                elif entry.is_file():
                    if has_image_suffix(Path(entry.name)):
                        yield Path(entry.path)
                elif errors is not None:
                    errors.append((Path(entry.path), not_a_file_reason(entry.path) or "not a regular file"))
            except OSError as exc:
                if errors is not None:
                    errors.append((Path(entry.path), f"cannot read: {exc.strerror or exc}"))
        if recursive:
            stack.extend(reversed(subfolders))


def subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.is_dir() and not is_hidden(p.name))
