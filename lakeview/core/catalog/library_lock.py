"""One app per library: an OS lock on `<library folder>/lock`, holding the owner's PID for the message.

The operating system drops the lock when its process ends, however it ends, so a crashed or killed app
never leaves the library blocked; the file itself stays behind and is simply locked again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCK_NAME = "lock"
# Windows locks are mandatory: the PID sits in bytes 0..31, the locked byte well beyond them, so a second
# process can still read who holds the library.
_LOCKED_BYTE = 1024
_PID_BYTES = 32


class LibraryLocked(RuntimeError):
    """Another process has the library open."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        self.folder = folder
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"the library {folder} is in use by {who}")


class LibraryLock:
    """Held from `acquire()` to `release()` (or the end of the process). Also a context manager."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "LibraryLock":
        """Take the lock or raise LibraryLocked (with the holder's PID when it can be read); never waits."""
        if self._fd is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise LibraryLocked(self.folder, pid) from None
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode().ljust(_PID_BYTES))
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, b" " * _PID_BYTES)
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> "LibraryLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder_of(folder: Path | str) -> int | None:
    """The PID in the folder's lock file (whether or not it still holds the lock), or None."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read_pid(fd)
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, _PID_BYTES).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
