"""The undo journal of a copy or move into class folders: how it is named, written and read back.

A journal is a JSON Lines file, one record a line, each line flushed and synced before the file it names is touched:

    {"format": "lakeview-journal", "version": 2, "mode": "copy"|"move", "started": ISO time,
     "roots": [absolute folders], "hash": "sha256"}                      first line: the header
    {"folder": F}                                     LakeView created folder F (inside a root)
    {"place": I, "source": S, "planned": D, "temp": T, "sha256": H|null}
                                                      about to place photo I (H: the source's hash, for moves)
    {"done": I, "destination": D, "sha256": H, "size": N}   photo I is at D, with this content
    {"failed": I, "reason": R}                        photo I was not placed; nothing of it is left behind
    {"undone": I}                                     undo put photo I back (or removed its copy)
    {"undo_run": ISO time, "left": N}                 an undo ended with N photos left as they were

Paths are absolute and normalised. A name that is not valid UTF-8 (Linux allows any bytes) is kept losslessly:
Python decodes it with surrogateescape (`os.fsdecode`) and JSON writes each such byte as an escape "\\udcXX",
which reads back to the same bytes (`os.fsencode`). The file itself is plain ASCII.

Reading refuses, as a whole, a journal that LakeView did not write: no header, another format or version, a record
of a kind or shape LakeView does not write, a root that is the file system's root, a destination, temporary file or
folder outside the header's roots, a source that is not absolute. Destinations are written with their class
folder's real path (no symbolic links on the way), so undo leaves alone an entry whose folder is now reached
through a link. Only a cut-short last line (what a crash leaves) is tolerated, and reported.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from lakeview.core.placement.claimed_files import TEMP_NAME

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None

JOURNAL_FORMAT = "lakeview-journal"
JOURNAL_VERSION = 2
JOURNAL_PREFIX, JOURNAL_SUFFIX = ".lakeview-journal-", ".jsonl"
JOURNAL_PATTERN = f"{JOURNAL_PREFIX}*{JOURNAL_SUFFIX}"
_MAX_LINE = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class JournalError(ValueError):
    """A journal that cannot be undone as a whole (missing, not a journal, damaged, already undone)."""


class JournalIsFolder(JournalError):
    """A folder was named where a journal file was expected; `journals` lists the journals in it."""

    def __init__(self, message: str, journals: list["JournalSummary"]) -> None:
        super().__init__(message)
        self.journals = journals


def new_journal(into: Path) -> Path:
    """Create (exclusively, so never one that exists) and return `into/.lakeview-journal-<time>-<random>.jsonl`:
    the one place where journal names are made (core's `place` calls it, for the app and every command)."""
    into = Path(os.path.abspath(into))
    into.mkdir(parents=True, exist_ok=True)
    while True:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        journal = into / f"{JOURNAL_PREFIX}{stamp}-{secrets.token_hex(2)}{JOURNAL_SUFFIX}"
        try:
            os.close(os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return journal


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def path_text(path: Path | str) -> str:
    return os.fsdecode(os.path.abspath(path))


class JournalWriter:
    """Appends records, each synced to disk; a record that cannot be written whole is cut off again, so the
    journal never ends in half a line written by this process."""

    def __init__(self, path: Path, new: bool) -> None:
        self.path = Path(path)
        if new:
            self.fd = self._open_new()
        else:
            try:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            except OSError as exc:
                raise JournalError(f"cannot write to the journal {self.path} ({exc.strerror}): undo records there "
                                   "each photo it puts back; nothing was changed") from None
        if fcntl is None:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise JournalError(f"the journal {self.path} is in use by another LakeView right now; try again when "
                               "it has finished") from None
        except OSError:
            pass  # a filesystem without locks: go on without one

    def _open_new(self) -> int:
        """A journal that does not exist yet, or an empty one that `new_journal` reserved."""
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            not_a_file = JournalError(f"{self.path} is not a file (a pipe or device would lose the journal, and "
                                      "with it the undo); name a new file; nothing was placed")
            try:  # O_NONBLOCK: a pipe with no reader must not hang here
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NONBLOCK", 0))
            except OSError as exc:
                if exc.errno == errno.ENXIO:
                    raise not_a_file from None
                raise JournalError(f"cannot use {self.path} as the journal ({exc.strerror}); name a new file; "
                                   "nothing was placed") from None
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                os.close(fd)
                raise not_a_file
            if info.st_size:
                os.close(fd)
                raise JournalError(f"the journal {self.path} already exists; name a new one") from None
            os.set_blocking(fd, True)
            return fd

    def append(self, record: dict) -> None:
        data = (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")
        end = os.lseek(self.fd, 0, os.SEEK_END)
        try:
            written = os.write(self.fd, data)
            while written < len(data):
                written += os.write(self.fd, data[written:])
            os.fsync(self.fd)
        except OSError:
            try:
                os.ftruncate(self.fd, end)
            except OSError:
                pass
            raise

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- reading ------------------------------------------------------------------------------------------------------
@dataclass
class JournalEntry:
    """One photo: what was planned and, if it got that far, where it went."""

    index: int
    source: Path
    planned: Path
    temp: Path | None
    source_sha256: str | None
    destination: Path | None = None
    sha256: str | None = None
    size: int | None = None
    failed: str | None = None
    undone: bool = False

    @property
    def left(self) -> bool:
        """Still to be undone: placed (or interrupted while being placed) and not undone yet."""
        return self.failed is None and not self.undone


@dataclass
class Journal:
    path: Path
    mode: str
    roots: list[Path]
    started: str
    entries: list[JournalEntry] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    cut_line: int | None = None
    """The number of a last line cut short by a crash, if there is one."""
    undo_runs: int = 0


def read_journal(path: Path) -> Journal:
    """The journal at `path`, checked record by record; raises JournalError for one that cannot be trusted."""
    path = Path(path)
    if path.is_dir():
        journals = journals_in(path)
        raise JournalIsFolder(f"{path} is a folder; name one of its journals"
                              + (" (listed above)" if journals else " (it holds none)"), journals)
    if os.path.exists(path) and not path.is_file():
        raise JournalError(f"{path} is not a journal file (a device, pipe or socket); nothing was changed")
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise JournalError(f"journal not found: {path}") from None
    except OSError as exc:
        raise JournalError(f"cannot read the journal {path}: {exc.strerror}") from None
    with handle:
        lines = _numbered_lines(handle, path)
        reader = _Reader(path)
        for number, line, complete in lines:
            reader.read(number, line, complete)
    return reader.finish()


def _numbered_lines(handle, path: Path):
    number = 0
    while True:
        raw = handle.readline(_MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > _MAX_LINE:
            raise JournalError(f"line {number} of {path} is far too long for a journal record; nothing was changed")
        yield number, raw, raw.endswith(b"\n")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal: Journal | None = None
        self.by_index: dict[int, JournalEntry] = {}

    def refuse(self, number: int, why: str) -> JournalError:
        return JournalError(f"line {number} of {self.path} {why}; the journal was refused and nothing was changed")

    def read(self, number: int, raw: bytes, complete: bool) -> None:
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self.refuse(number, "holds bytes that are not text (LakeView writes plain ASCII)") from None
        except json.JSONDecodeError:
            if not complete and self.journal is not None:
                self.journal.cut_line = number  # a crash while writing it: that step was not recorded
                return
            raise self.refuse(number, "is damaged (not a complete record)") from None
        except (ValueError, RecursionError):
            raise self.refuse(number, "is not a record LakeView writes") from None
        if self.journal is None:
            self.journal = self._header(number, record)
            return
        if not isinstance(record, dict) or not record:
            raise self.refuse(number, "is not a record LakeView writes")
        self._record(number, record)

    def _header(self, number: int, record) -> Journal:
        if not isinstance(record, dict) or record.get("format") != JOURNAL_FORMAT:
            raise JournalError(f"{self.path} is not a LakeView journal (line {number} is no journal header); "
                               "nothing was changed")
        version = record.get("version")
        if version == 1:
            raise JournalError(f"{self.path} was written by an older LakeView that kept no content hashes, so undo "
                               "cannot prove which files it made; nothing was changed")
        if version != JOURNAL_VERSION:
            raise JournalError(f"{self.path} is a journal of another LakeView version ({version!r}); "
                               "nothing was changed")
        if set(record) != {"format", "version", "mode", "started", "roots", "hash"}:
            raise self.refuse(number, "is not a journal header LakeView writes")
        roots = record["roots"]
        if (record["mode"] not in ("copy", "move") or record["hash"] != "sha256" or not isinstance(roots, list)
                or not roots or not all(_is_clean_absolute(r) for r in roots)
                or not isinstance(record["started"], str)):
            raise self.refuse(number, "is not a journal header LakeView writes")
        if any(os.path.dirname(r) == r for r in roots):
            raise self.refuse(number, "names the whole file system as its folder, which LakeView never places into")
        return Journal(self.path, record["mode"], [Path(r) for r in roots], record["started"])

    def _record(self, number: int, record: dict) -> None:
        journal = self.journal
        keys = set(record)
        if keys == {"folder"}:
            journal.folders.append(self._inside_root(number, record["folder"], "folder"))
        elif keys == {"place", "source", "planned", "temp", "sha256"}:
            self._place(number, record)
        elif keys == {"done", "destination", "sha256", "size"}:
            entry = self._entry(number, record["done"])
            destination = self._inside_root(number, record["destination"], "destination")
            if entry.destination is not None or entry.failed is not None or destination.parent != entry.planned.parent:
                raise self.refuse(number, "records a destination LakeView did not plan")
            if not _is_sha256(record["sha256"]) or not _is_count(record["size"]):
                raise self.refuse(number, "records no valid content hash and size")
            entry.destination, entry.sha256, entry.size = destination, record["sha256"], record["size"]
        elif keys == {"failed", "reason"}:
            entry = self._entry(number, record["failed"])
            if entry.destination is not None or not isinstance(record["reason"], str):
                raise self.refuse(number, "is not a record LakeView writes")
            entry.failed = record["reason"]
        elif keys == {"undone"}:
            entry = self._entry(number, record["undone"])
            if entry.failed is not None:
                raise self.refuse(number, "undoes a photo that was never placed")
            entry.undone = True
        elif keys == {"undo_run", "left"}:
            journal.undo_runs += 1
        else:
            raise self.refuse(number, "is not a record LakeView writes")

    def _place(self, number: int, record: dict) -> None:
        index = record["place"]
        if not _is_count(index) or index in self.by_index:
            raise self.refuse(number, "numbers its photo wrongly")
        if not _is_clean_absolute(record["source"]):
            raise self.refuse(number, "names a source that is not an absolute path")
        planned = self._inside_root(number, record["planned"], "destination")
        temp = None
        if record["temp"] is not None:
            temp = self._inside_root(number, record["temp"], "temporary file")
            if temp.parent != planned.parent or not TEMP_NAME.fullmatch(temp.name):
                raise self.refuse(number, "names a temporary file LakeView would not make")
        sha = record["sha256"]
        if (sha is not None and not _is_sha256(sha)) or (sha is None and self.journal.mode == "move"):
            raise self.refuse(number, "records no valid content hash")
        entry = JournalEntry(index, Path(record["source"]), planned, temp, sha)
        self.by_index[index] = entry
        self.journal.entries.append(entry)

    def _entry(self, number: int, index) -> JournalEntry:
        if not _is_count(index) or index not in self.by_index:
            raise self.refuse(number, "refers to a photo the journal never planned")
        return self.by_index[index]

    def _inside_root(self, number: int, text, what: str) -> Path:
        if _is_clean_absolute(text):
            for root in self.journal.roots:
                if text != str(root) and os.path.commonpath([str(root), text]) == str(root):
                    return Path(text)
        raise self.refuse(number, f"names a {what} outside the folders the journal was made for")

    def finish(self) -> Journal:
        if self.journal is None:
            raise JournalError(f"{self.path} is empty: not a LakeView journal, or one cut short before its first "
                               "record; nothing was changed")
        return self.journal


def _is_clean_absolute(text) -> bool:
    return (isinstance(text, str) and "\0" not in text and os.path.isabs(text) and os.path.normpath(text) == text
            and not text.startswith("//"))


def _is_sha256(text) -> bool:
    return isinstance(text, str) and _SHA256.fullmatch(text) is not None


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- a folder of journals ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JournalSummary:
    path: Path
    date: str
    state: str


def journals_in(folder: Path) -> list[JournalSummary]:
    """The LakeView journals in `folder`, oldest first, each with its date and whether it is undone."""
    summaries = []
    try:
        paths = sorted(p for p in Path(folder).glob(JOURNAL_PATTERN) if p.is_file())
    except OSError:
        return []
    for path in paths:
        try:
            date = datetime.fromtimestamp(path.stat().st_mtime).isoformat(" ", "seconds")
        except OSError:
            continue
        try:
            journal = read_journal(path)
        except JournalError as exc:
            summaries.append(JournalSummary(path, date, f"cannot be undone: {exc}"))
            continue
        placed = [e for e in journal.entries if e.failed is None]
        left = sum(1 for e in placed if e.left)
        if not placed:
            state = "nothing placed"
        elif not left:
            state = "undone"
        elif left < len(placed):
            state = f"{journal.mode}: {left} of {len(placed)} photo(s) still to undo"
        else:
            state = f"{journal.mode}: {len(placed)} photo(s), not undone"
        summaries.append(JournalSummary(path, journal.started, state))
    return summaries
