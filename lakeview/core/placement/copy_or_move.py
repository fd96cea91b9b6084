"""Copying or moving photos into class folders: planned first, never overwriting, journaled, undoable.

Every photo is journaled before it is touched and again once it is in place (with its content hash), so `undo`
can prove which files LakeView made. A name is taken only by the filesystem's exclusive operations (see
claimed_files), so a photo is never replaced, even by another process placing into the same folder at once; a copy
is written under a hidden temporary name and named only when complete, so a full disk leaves no partial photo.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from lakeview.core.placement.claimed_files import (NAME_MAX, CrossDevice, claim, copy_to_temp, fit_name, link_or_rename,
                                         number_of, numbered_name, sha256_of, temp_name_in)
from lakeview.core.photos.file_names import shown_path
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.placement.journal import (JOURNAL_FORMAT, JOURNAL_PATTERN, JOURNAL_VERSION, JournalError,
                                             JournalWriter, now, path_text)

__all__ = ["Mode", "PAST", "DOING", "PlannedFile", "PlacementReport", "safe_folder_name", "class_folder_names",
           "in_class_folder", "plan_placement", "apply_placement"]

Mode = Literal["copy", "move"]
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_MAX_NAME_TRIES = 100_000
PAST = {"copy": "copied", "move": "moved"}
"""Each mode's word in a sentence about what was done: '3 photo(s) copied', 'nothing was moved'."""
DOING = {"copy": "copying", "move": "moving"}


@dataclass(frozen=True)
class PlannedFile:
    source: Path
    destination: Path


@dataclass
class PlacementReport:
    done: list[PlannedFile] = field(default_factory=list)
    """Each photo placed, with the destination it actually got (the next free name if the planned one was taken)."""
    failed: list[tuple[PlannedFile, str]] = field(default_factory=list)
    stopped: bool = False
    halted: str | None = None
    """Why the job stopped early by itself (a full disk, an unwritable journal), as a sentence; None otherwise."""
    not_started: list[PlannedFile] = field(default_factory=list)
    """Photos left untouched because the job stopped or halted first."""
    journal: Path | None = None
    """Where the placement was journaled (what `undo` takes); None when it could not be started."""


def safe_folder_name(label: str) -> str:
    """A class folder's name for `label`: separators, characters Windows forbids and control characters become '_',
    no leading or trailing dots or spaces ('..' and '.' become '_'), at most NAME_MAX bytes."""
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 or c == "\x7f" else c for c in label)
    return fit_name(cleaned.strip().strip(".").strip()).rstrip(". ") or "_"


def class_folder_names(labels: Iterable[str]) -> dict[str, str]:
    """Each label's class folder name: safe_folder_name, except where two labels would share one folder ('a/b' and
    'a_b', '.' and '..', long labels alike in their first 255 bytes). Then each label the cleaning changed gets
    '-' and 6 hex digits of its hash, so two classes are never mixed in one folder."""
    distinct = sorted(set(labels))
    by_name: dict[str, list[str]] = {}
    for label in distinct:
        by_name.setdefault(safe_folder_name(label), []).append(label)
    names = {}
    for name, group in by_name.items():
        for label in group:
            if len(group) == 1 or label == name:
                names[label] = name
            else:
                tag = "-" + hashlib.sha256(os.fsencode(label)).hexdigest()[:6]
                names[label] = fit_name(name, NAME_MAX - len(tag)) + tag
    return names


def in_class_folder(source: Path, label: str, into: Path) -> bool:
    """`source` is already in `into`'s class folder for `label` (placing it would only rename it to '-1')."""
    return os.path.realpath(Path(source).parent) == os.path.realpath(Path(into) / safe_folder_name(label))


def plan_placement(assignments: Iterable[tuple[Path, str]], into: Path) -> list[PlannedFile]:
    """Where each photo would go: `into/<label>/<name>`, with '-1', '-2'... added rather than overwriting."""
    assignments = list(assignments)
    folders = class_folder_names(label for _, label in assignments)
    taken: set[Path] = set()
    next_number: dict[Path, int] = {}  # so that thousands of photos of one name stay linear, not quadratic
    plan = []
    for source, label in assignments:
        folder = Path(into) / folders[label]
        name = Path(source).name
        candidate = folder / name
        n = next_number.get(candidate, 1)
        while candidate in taken or os.path.lexists(candidate):
            candidate = folder / numbered_name(name, n)
            n += 1
        next_number[folder / name] = n
        taken.add(candidate)
        plan.append(PlannedFile(Path(source), candidate))
    return plan


class _Failed(Exception):
    """This photo could not be placed; nothing of it is left behind. The job goes on."""


class _Halt(Exception):
    """The job cannot go on (full disk, journal not writable); nothing of this photo is left behind."""


def apply_placement(
    plan: list[PlannedFile],
    mode: Mode,
    journal: Path,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> PlacementReport:
    """Carry out `plan`, journaling into `journal` (a new file, or an empty one from `new_journal`).

    Destinations are claimed exclusively: a name taken meanwhile gets the next free one. The job stops at the
    first full-disk error (or journal failure), leaving the rest untouched; `report.halted` says why."""
    if mode not in ("copy", "move"):
        raise ValueError(f"mode must be 'copy' or 'move', not {mode!r}")
    items = [PlannedFile(Path(os.path.abspath(p.source)), _real_destination(p.destination)) for p in plan]
    journal = Path(os.path.abspath(journal))
    roots = sorted({path_text(item.destination.parent.parent) for item in items}) or [path_text(journal.parent)]
    if any(os.path.dirname(root) == root for root in roots):
        _drop_unused(journal)
        raise JournalError(f"LakeView does not make class folders at the top of the file system ({roots[0]}); "
                           f"choose a folder; nothing was {PAST[mode]}")
    report = PlacementReport(journal=journal)
    journal.parent.mkdir(parents=True, exist_ok=True)
    with JournalWriter(journal, new=True) as log:
        try:
            log.append({"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "mode": mode, "started": now(),
                        "roots": roots, "hash": "sha256"})
        except OSError as exc:
            _drop_unused(journal)
            raise JournalError(f"cannot write the journal {journal} ({exc.strerror}); "
                               f"nothing was {PAST[mode]}") from None
        for n, item in enumerate(items):
            if should_stop():
                report.stopped, report.not_started = True, items[n:]
                break
            try:
                report.done.append(_Placer(log, n, item, mode).run())
            except _Failed as failure:
                report.failed.append((item, str(failure)))
            except _Halt as halt:
                report.failed.append((item, str(halt)))
                report.not_started = items[n + 1:]
                report.halted = _halt_sentence(str(halt), item, mode, len(report.not_started))
                break
            progress(n + 1, len(items))
    return report


def _drop_unused(journal: Path) -> None:
    """Remove the empty journal `new_journal` reserved for a job that placed nothing (no other file)."""
    try:
        if fnmatch.fnmatch(journal.name, JOURNAL_PATTERN) and os.lstat(journal).st_size == 0:
            os.unlink(journal)
    except OSError:
        pass


def _real_destination(destination: Path) -> Path:
    """`destination` with its class folder's real path: what undo checks it is still reached by, so a folder
    swapped for a link (or a crafted journal going through one) cannot lead undo elsewhere."""
    destination = Path(os.path.abspath(destination))
    return Path(os.path.realpath(destination.parent)) / destination.name


def _journal_failed(journal: Path, exc: OSError) -> str:
    return f"cannot write the journal {journal} ({exc.strerror}), so nothing more is placed"


def _halt_sentence(reason: str, item: PlannedFile, mode: str, untouched: int) -> str:
    return (f"stopped at {shown_path(item.source.name)}: {shown_path(reason)}; it and the {untouched} photo(s) after "
            f"it were not {PAST[mode]} and are where they were")


class _Placer:
    """Places one photo: journal the intent, write, claim a free name, journal the result, tidy up."""

    def __init__(self, log: JournalWriter, index: int, item: PlannedFile, mode: str) -> None:
        self.log, self.index, self.item, self.mode = log, index, item, mode
        self.folder = item.destination.parent
        self.temp = temp_name_in(self.folder)

    def run(self) -> PlannedFile:
        source = self.item.source
        if not _is_photo_file(source, follow_links=self.mode == "copy"):
            raise _Failed("not a regular file (a link, folder or device); it stays where it was")
        try:
            self._make_folders()
            source_sha = sha256_of(source) if self.mode == "move" else None
        except OSError as exc:
            raise self._problem(exc, journaled=False) from None
        self._journal({"place": self.index, "source": path_text(source), "planned": path_text(self.item.destination),
                       "temp": path_text(self.temp), "sha256": source_sha})
        try:
            if self.mode == "copy":
                return self._copy()
            try:
                return self._move_by_link(source_sha)
            except CrossDevice:
                return self._move_by_copy(source_sha)
        except OSError as exc:
            _discard(self.temp)
            raise self._problem(exc, journaled=True) from None

    def _copy(self) -> PlannedFile:
        sha, size = copy_to_temp(self.item.source, self.temp)
        final, temp_kept = self._claim_free_name(lambda name: claim(self.temp, name))
        self._journal_done(final, sha, size, undo=lambda: _remove(final))
        if temp_kept:
            _discard(self.temp)
        return PlannedFile(self.item.source, final)

    def _move_by_link(self, source_sha: str) -> PlannedFile:
        source = self.item.source
        final, linked = self._claim_free_name(lambda name: link_or_rename(source, name))
        size = os.lstat(final).st_size
        if not linked:  # renamed: the source is already gone
            self._journal_done(final, source_sha, size, undo=lambda: link_or_rename(final, source) and _remove(final))
            return PlannedFile(source, final)
        self._journal_done(final, source_sha, size, undo=lambda: _remove(final))
        self._remove_source(final)
        return PlannedFile(source, final)

    def _move_by_copy(self, source_sha: str) -> PlannedFile:
        source = self.item.source
        sha, size = copy_to_temp(source, self.temp)
        if sha != source_sha:
            _discard(self.temp)
            raise self._problem(OSError(errno.EAGAIN, "it changed while being moved; it stays where it was"), True)
        final, temp_kept = self._claim_free_name(lambda name: claim(self.temp, name))
        if sha256_of(final) != sha:
            _remove(final)
            _discard(self.temp)
            raise self._problem(OSError(errno.EIO, "the copy did not read back the same; it stays where it was"), True)
        self._journal_done(final, sha, size, undo=lambda: _remove(final))
        self._remove_source(final)
        if temp_kept:
            _discard(self.temp)
        return PlannedFile(source, final)

    def _remove_source(self, final: Path) -> None:
        try:
            os.unlink(self.item.source)
        except OSError as exc:
            _remove(final)
            _discard(self.temp)
            self._journal({"undone": self.index})
            raise _Failed(f"cannot be removed from its folder ({exc.strerror}); it stays where it was") from None

    def _claim_free_name(self, take: Callable[[Path], bool]) -> tuple[Path, bool]:
        for name in _free_name_candidates(self.item):
            try:
                return name, take(name)
            except FileExistsError:
                continue
        raise OSError(errno.EEXIST, "no free name in its class folder")

    def _make_folders(self) -> None:
        root = self.folder.parent
        root.mkdir(parents=True, exist_ok=True)
        missing, current = [], self.folder
        while current != root and current != current.parent and not os.path.lexists(current):
            missing.append(current)
            current = current.parent
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except FileExistsError:
                continue  # made meanwhile by someone else: not ours to remove on undo
            try:
                self.log.append({"folder": path_text(folder)})
            except OSError as exc:
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
                raise _Halt(_journal_failed(self.log.path, exc)) from None

    def _journal(self, record: dict) -> None:
        try:
            self.log.append(record)
        except OSError as exc:
            raise _Halt(_journal_failed(self.log.path, exc)) from None

    def _journal_done(self, final: Path, sha: str, size: int, undo: Callable[[], object]) -> None:
        try:
            self.log.append({"done": self.index, "destination": path_text(final), "sha256": sha, "size": size})
        except OSError as exc:
            undo()
            _discard(self.temp)
            raise _Halt(_journal_failed(self.log.path, exc)) from None

    def _problem(self, exc: OSError, journaled: bool) -> Exception:
        reason = exc.strerror or str(exc)
        if exc.errno in _DISK_FULL:
            problem: Exception = _Halt(f"{self.folder} has no room for it ({reason})")
        else:
            problem = _Failed(reason)
        if journaled:
            self._journal({"failed": self.index, "reason": reason})
        return problem


def _free_name_candidates(item: PlannedFile) -> Iterator[Path]:
    """The planned name, then `<stem>-1<suffix>`, `<stem>-2<suffix>`... of the source's name (stem shortened where
    the name would be too long)."""
    yield item.destination
    planned = number_of(item.destination.name, item.source.name) or 0
    for n in [*range(planned + 1, _MAX_NAME_TRIES), *range(1, planned)]:  # above the planned number first: the
        yield item.destination.parent / numbered_name(item.source.name, n)  # names below are mostly taken


def _is_photo_file(path: Path, follow_links: bool) -> bool:
    try:
        return stat.S_ISREG((os.stat if follow_links else os.lstat)(path).st_mode)
    except OSError:
        return True  # let the copy or move itself say what is wrong (not found, no permission...)


def _discard(path: Path) -> None:
    """Remove a file of ours if it is there; a failure here must not hide the error being handled."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _remove(path: Path) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return True
