"""Replacing a file so that readers see the old one or the new one, never half of either."""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def atomic_writer(path: Path | str, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Write to a temporary file beside `path`; on success flush, fsync and rename it over `path`.

    However the block ends otherwise (an error, KeyboardInterrupt from Ctrl+C or SIGTERM, SystemExit), the
    temporary file is removed and `path` is untouched.

    A `path` that is a FIFO, a device or a pipe (`--csv /dev/stdout`, `--csv >(gzip > x.gz)`, a named pipe) is
    written straight into, since renaming over it would replace it with a plain file (/dev/null itself, when
    run as root). A symbolic link stays a link: the file it points to is the one replaced.
    """
    path = Path(path)
    try:
        kind = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        kind = None
    if kind is not None and not stat.S_ISREG(kind) and not stat.S_ISDIR(kind):
        with open(path, mode, **open_kwargs) as stream:
            yield stream
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = None
    try:
        # The name is chosen before the file exists, so an interrupt at any point still knows what to remove.
        while True:
            temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
                break
            except FileExistsError:  # someone else's; never remove it
                temp = None
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_atomically(path: Path | str, data: bytes) -> None:
    with atomic_writer(path) as handle:
        handle.write(data)


def fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
