"""What can go wrong with a catalog, one type per kind, so that callers choose what to offer by type.

`CatalogError` itself is a refused operation (a duplicate class name, an unknown model version).
`CatalogUnavailable` and its subclasses say that the catalog file cannot be used as it is; each carries the
path, and its message says what happened (the CLI and the app add what to do about it).
`translate` turns SQLite's and the operating system's errors into these types.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path


class CatalogError(RuntimeError):
    """A catalog that cannot be opened, or an operation it refuses, with a message for the user."""


class CatalogUnavailable(CatalogError):
    """The catalog file cannot be used as it is."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        super().__init__(message)


class CatalogDamaged(CatalogUnavailable):
    """Pages of the file cannot be read (overwritten, truncated): recover what can be read."""

    def __init__(self, path: Path | str, detail: str) -> None:
        self.detail = detail
        super().__init__(path, f"the catalog {path} is damaged ({detail})")


class CatalogTooNew(CatalogUnavailable):
    """Written by a newer LakeView: its schema version is beyond what this one knows."""

    def __init__(self, path: Path | str, version: int, known: int) -> None:
        from lakeview import __version__

        self.version, self.known = version, known
        super().__init__(path, f"the catalog {path} was written by a newer LakeView (catalog schema {version}; "
                               f"this LakeView, {__version__}, reads catalog schemas up to {known}); open it with a newer LakeView")


class NotACatalog(CatalogUnavailable):
    """Some other file (another application's database, a document, a folder): never changed."""

    def __init__(self, path: Path | str, what: str) -> None:
        self.what = what
        super().__init__(path, f"{path} is not a LakeView catalog ({what}); LakeView left it untouched")


class CatalogLocked(CatalogUnavailable):
    """Another connection held the write lock for longer than the busy timeout."""

    def __init__(self, path: Path | str, seconds: float, holder: int | None = None) -> None:
        self.seconds, self.holder = seconds, holder
        who = f" (LakeView process {holder} has this library open)" if holder else ""
        super().__init__(path, f"the catalog {path} is busy: another program has been writing to it for more "
                               f"than {seconds:g} s{who}; retry when it has finished")


class CatalogWriteFailed(CatalogUnavailable):
    """A write did not reach the disk (I/O error, a file-size limit); the transaction was rolled back."""

    def __init__(self, path: Path | str, detail: str) -> None:
        self.detail = detail
        super().__init__(path, f"could not write to the catalog {path} ({detail}); the last change was not saved; "
                               "the disk may be full or failing")


class CatalogDiskFull(CatalogWriteFailed):
    def __init__(self, path: Path | str, detail: str = "database or disk is full") -> None:
        self.detail = detail
        CatalogUnavailable.__init__(self, path, f"the disk holding the catalog {path} is full ({detail}); "
                                                "the last change was not saved; free some space and retry")


class CatalogFolderUnwritable(CatalogUnavailable):
    """The library folder cannot be made or written (read-only, a file in the way, no permission)."""

    def __init__(self, path: Path | str, folder: Path | str, detail: str) -> None:
        self.folder, self.detail = Path(folder), detail
        where = "the library folder" if Path(folder) == Path(path).parent else "the folder"
        super().__init__(path, f"LakeView cannot write in {where} {folder} ({detail}), which the catalog {path} "
                               "needs; make it writable, or choose another place for the library")


_DAMAGE_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_BUSY_CODES = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_NEARLY_FULL = 1 << 20
"""Below this many free bytes, an I/O error is taken for a full disk (SQLite says 'disk I/O error' when the
shared-memory file, rather than the database, found no room)."""
_UNWRITABLE_CODES = {"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"}


def translate(exc: BaseException, path: Path | str, timeout: float = 0.0) -> CatalogError | None:
    """The catalog error that `exc` (from SQLite or the OS, about the catalog at `path`) means, or None
    when it means none of them (a constraint, a bug: let it surface as it is)."""
    if isinstance(exc, CatalogError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return _from_sqlite(exc, Path(path), timeout)
    if isinstance(exc, OSError):
        return _from_os(exc, Path(path))
    return None


def _sqlite_code(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", None)  # Python 3.11+
    if name:
        return "_".join(name.split("_")[:2])  # SQLITE_IOERR_WRITE is an SQLITE_IOERR
    text = str(exc)  # Python 3.10 has no error codes; SQLite's fixed texts for them
    for code, words in (("SQLITE_CORRUPT", "malformed"), ("SQLITE_NOTADB", "not a database"),
                        ("SQLITE_BUSY", "is locked"), ("SQLITE_FULL", "is full"),
                        ("SQLITE_READONLY", "readonly database"), ("SQLITE_CANTOPEN", "unable to open"),
                        ("SQLITE_IOERR", "I/O error")):
        if words in text:
            return code
    return ""


def _from_sqlite(exc: sqlite3.Error, path: Path, timeout: float) -> CatalogError | None:
    code = _sqlite_code(exc)
    if code in _DAMAGE_CODES:
        return CatalogDamaged(path, _damage_detail(path, str(exc)))
    if code in _BUSY_CODES:
        from lakeview.core.catalog.library_lock import holder_of

        holder = holder_of(path.parent)
        return CatalogLocked(path, timeout, holder if holder != os.getpid() and _alive(holder) else None)
    if code == "SQLITE_FULL":
        return CatalogDiskFull(path, str(exc))
    if code == "SQLITE_IOERR":
        free = _free_bytes(path.parent)
        if free is not None and free < _NEARLY_FULL:
            return CatalogDiskFull(path, f"{exc}; {free:,} bytes free")
        return CatalogWriteFailed(path, str(exc))
    if code in _UNWRITABLE_CODES:
        if path.is_dir():
            return NotACatalog(path, "it is a folder")
        if path.is_symlink() and not path.exists():  # a link to a catalog in a folder that is not there
            target = Path(os.path.realpath(path))
            return CatalogFolderUnwritable(path, target.parent, _why_unwritable(target) or
                                           f"it does not exist, and {path} is a link to {target} there")
        return CatalogFolderUnwritable(path, path.parent, _why_unwritable(path) or str(exc))
    return None


def _from_os(exc: OSError, path: Path) -> CatalogError | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return CatalogDiskFull(path, exc.strerror or str(exc))
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG):
        folder = Path(os.fsdecode(exc.filename)) if exc.filename else path.parent
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and not folder.is_dir():
            folder = folder.parent  # a file that could not be made (the lock, the catalog) or a folder: its parent
        if exc.errno in (errno.ENOTDIR, errno.EEXIST):
            folder = _file_in_the_way(Path(os.path.realpath(folder))) or folder  # through links to the real file
        return CatalogFolderUnwritable(path, folder, _os_reason(exc))
    return None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "it is on a read-only file system"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "it is a file, where a folder is needed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: it is read-only for you"
    return exc.strerror or str(exc)


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest of `folder` and its parents that exists and is not a folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def _why_unwritable(path: Path) -> str | None:
    """Why SQLite could not open or write the catalog, when the folder or file is the cause."""
    folder = path.parent
    if not folder.is_dir():
        return "it does not exist" if not folder.exists() else "a file is in the way where a folder is needed"
    if _read_only_file_system(folder):
        return "it is on a read-only file system"
    if not os.access(folder, os.W_OK):
        return "permission denied: it is read-only for you"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the catalog file {path.name} is read-only"
    return None


def _read_only_file_system(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # Windows has no statvfs
        return False


def _damage_detail(path: Path, message: str) -> str:
    """SQLite's words, and how much of the file is missing when it was cut short."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError:
        return message
    if len(header) == 100 and header.startswith(b"SQLite format 3\x00"):
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        if page_size and pages and size < pages * page_size:
            return f"{message}; truncated: the file holds {size:,} of its {pages * page_size:,} bytes"
    elif size < 100:
        return f"{message}; truncated to {size} bytes"
    return message


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    if os.name == "nt":  # signal 0 would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True
