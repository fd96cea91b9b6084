"""Putting a file under a new name without ever replacing one that is there: the filesystem decides who gets a name.

`claim(temp, final)` and `move_file(source, final)` raise FileExistsError when `final` exists, even when another
process creates it a moment earlier, because the name is taken by `os.link` (or `renameat2(RENAME_NOREPLACE)` where
a filesystem has no hard links), never by a check followed by a rename.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import secrets
import shutil
import stat
from pathlib import Path

TEMP_PREFIX = ".lakeview-part-"
TEMP_NAME = re.compile(r"\.lakeview-part-[0-9a-f]{16}")
"""Hidden names LakeView writes a file under until it is complete."""

_LINK_UNSUPPORTED = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


class CrossDevice(OSError):
    """The source and the destination are on different filesystems: the file has to be copied."""


NAME_MAX = 255
"""The most bytes one name may have on the file systems LakeView writes to (ext4, btrfs, APFS, NTFS...)."""
_NUMBERED = re.compile(r"(?s)(.*)-([1-9][0-9]*)(.*)")


def fit_name(name: str, limit: int = NAME_MAX) -> str:
    """`name` shortened, if its bytes exceed `limit`, by dropping characters from the end of its stem (its suffix,
    '.jpg', is kept); never cut inside a character. Names are str as os.fsdecode makes them."""
    if len(os.fsencode(name)) <= limit:
        return name
    stem, suffix = _split(name)
    if len(os.fsencode(suffix)) >= limit:
        stem, suffix = name, ""
    while stem and len(os.fsencode(stem + suffix)) > limit:
        stem = stem[:-1]
    return stem + suffix


def numbered_name(name: str, n: int) -> str:
    """The n-th free-name variant of `name`: `<stem>-<n><suffix>`, its stem shortened to fit NAME_MAX."""
    stem, suffix = _split(name)
    tag = f"-{n}"
    if len(os.fsencode(tag + suffix)) >= NAME_MAX:
        stem, suffix = name, ""
    while stem and len(os.fsencode(stem + tag + suffix)) > NAME_MAX:
        stem = stem[:-1]
    return stem + tag + suffix


def number_of(candidate: str, name: str) -> int | None:
    """n when `candidate` is numbered_name(name, n); None otherwise."""
    match = _NUMBERED.fullmatch(candidate)
    if match is None or len(match[2]) > 9:
        return None
    n = int(match[2])
    return n if numbered_name(name, n) == candidate else None


def _split(name: str) -> tuple[str, str]:
    path = Path(name)
    return name[:len(name) - len(path.suffix)], path.suffix


def temp_name_in(folder: Path) -> Path:
    return Path(folder) / f"{TEMP_PREFIX}{secrets.token_hex(8)}"


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def copy_to_temp(source: Path, temp: Path) -> tuple[str, int]:
    """Copy `source` into the new file `temp` (made exclusively), synced to disk, with the source's times and mode.

    Returns the sha256 and size of the bytes written. On any failure `temp` is removed and the error raised."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(source, "rb") as reader, open(temp, "xb") as writer:
            while chunk := reader.read(1 << 20):
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        shutil.copystat(source, temp)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def claim(temp: Path, final: Path) -> bool:
    """Give the complete file `temp` the name `final`, which must not exist (FileExistsError otherwise).

    Returns True when `temp` is still there as a second name of `final` (the caller removes it once the name is
    journaled, so that an interrupted job can be told apart from a file someone else put there); False when the
    filesystem has no hard links and `temp` was renamed."""
    try:
        os.link(temp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _LINK_UNSUPPORTED:
            raise
        _rename_without_replacing(temp, final)
        return False
    return True


def link_or_rename(source: Path, final: Path) -> bool:
    """Give the file `source` the extra name `final` (True), or rename it there where hard links are unsupported
    (False: `source` is gone). Raises FileExistsError if `final` exists, CrossDevice across filesystems."""
    try:
        os.link(source, final)
        return True
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            raise CrossDevice(exc.errno, exc.strerror, str(source)) from None
        if exc.errno not in _LINK_UNSUPPORTED:
            raise
    try:
        _rename_without_replacing(source, final, reserve=False)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, *_LINK_UNSUPPORTED, errno.EINVAL):
            raise CrossDevice(exc.errno, exc.strerror, str(source)) from None
        raise
    return False


def _rename_without_replacing(old: Path, new: Path, reserve: bool = True) -> None:
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(old), _AT_FDCWD, os.fsencode(new), _RENAME_NOREPLACE)
        if result == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise FileExistsError(code, os.strerror(code), str(new))
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP) or not reserve:
            raise OSError(code, os.strerror(code), str(new))
    elif not reserve:
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP), str(new))
    # No hard links and no rename-without-replacing: reserve the name exclusively, then replace only our reservation.
    os.close(os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        os.replace(old, new)
    except BaseException:
        os.unlink(new)
        raise


_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _LIBC = False
    return _LIBC or None


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samestat(os.lstat(a), os.lstat(b))
    except OSError:
        return False


def is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
