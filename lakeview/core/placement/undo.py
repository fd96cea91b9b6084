"""Undoing a copy or move into class folders, touching only what the journal proves LakeView made.

A copy is deleted only when its content still has the journaled hash and the original is still there with the
same content; a moved photo goes back only when its content has the journaled hash and nothing took its old name.
Every other entry is left alone and named. Each entry undone is journaled, so a second undo retries just the rest.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lakeview.core.placement.claimed_files import (CrossDevice, claim, copy_to_temp, is_regular_file, link_or_rename,
                                         number_of, same_file, sha256_of, temp_name_in)
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.placement.journal import JournalEntry, JournalError, JournalWriter, now, read_journal


@dataclass
class UndoReport:
    restored: list[Path] = field(default_factory=list)
    """The copies removed (copy mode) or the photos put back where they were (move mode)."""
    moved_back: list[tuple[Path, Path]] = field(default_factory=list)
    """(where it was placed, where it is again) for each photo a move put back."""
    problems: list[tuple[Path, str]] = field(default_factory=list)
    """Each file left alone, and why; also a journal line that was cut short."""
    left: int = 0
    """Photos still to undo (a later undo retries them)."""


class _LeftAlone(Exception):
    """This entry cannot be proven to be LakeView's, or undoing it could lose something: leave it, say why."""


def undo_journal(journal: Path, progress: ProgressFn = no_progress,
                 should_stop: ShouldStopFn = never_stop) -> UndoReport:
    """Reverse a placement: delete the copies (if unchanged and the original is there) or move the photos back;
    remove the folders it created once empty. Raises JournalError for a journal that cannot be trusted as a whole."""
    parsed = read_journal(journal)
    entries = [e for e in parsed.entries if e.left]
    if not entries:
        if not any(e.failed is None for e in parsed.entries):
            raise JournalError(f"{journal} records no placed photo; nothing to undo")
        raise JournalError(f"{journal} was already undone")
    report = UndoReport()
    with JournalWriter(parsed.path, new=False) as log:
        parsed = read_journal(journal)  # again, now that no other LakeView can be writing it
        entries = [e for e in parsed.entries if e.left]
        for n, entry in enumerate(reversed(entries), 1):
            if should_stop():
                break
            try:
                _undo_entry(entry, parsed.mode, report)
            except _LeftAlone as why:
                report.problems.append((entry.destination or entry.source, str(why)))
            except OSError as exc:
                report.problems.append((entry.destination or entry.source, f"{exc.strerror or exc}; left alone"))
            else:
                try:
                    log.append({"undone": entry.index})
                except OSError as exc:
                    report.problems.append((parsed.path, f"cannot record the undo in the journal ({exc.strerror}); "
                                                         "run undo again when there is room"))
                    break
                entry.undone = True
            progress(n, len(entries))
        _remove_empty_folders(parsed.folders)
        if parsed.cut_line is not None:
            report.problems.append((parsed.path, f"line {parsed.cut_line} was cut short (LakeView was interrupted "
                                                 "while writing it); the photos recorded before it were handled"))
        report.left = sum(1 for e in parsed.entries if e.left)
        try:
            log.append({"undo_run": now(), "left": report.left})
        except OSError:
            pass
    return report


def _undo_entry(entry: JournalEntry, mode: str, report: UndoReport) -> None:
    for folder in {entry.planned.parent, *(p.parent for p in (entry.destination, entry.temp) if p is not None)}:
        real = os.path.realpath(folder)
        if real != str(folder):
            raise _LeftAlone(f"its folder {folder} now leads elsewhere through a symbolic link ({real}), so it may not "
                             "be the file LakeView placed; left alone")
    if entry.destination is None:
        _finish_interrupted(entry, mode, report)
    elif mode == "copy":
        _remove_copy(entry, report)
    else:
        _move_back(entry, report)


def _remove_copy(entry: JournalEntry, report: UndoReport) -> None:
    copy, source = entry.destination, entry.source
    _drop_temp(entry, "copy")
    if _same_entry(copy, source):
        raise _LeftAlone("the journal names the same file as the copy and its original; left alone")
    if not os.path.lexists(copy):
        if _original_holds(source, entry.sha256):
            return  # already gone, the original is there: nothing left to undo
        raise _LeftAlone("the copy is no longer there (and the original is gone or changed)")
    _check_placed_file(copy, entry.sha256)
    if _same_file_followed(copy, source) or not _original_holds(source, entry.sha256):
        raise _LeftAlone(f"the original {source} is gone or changed, so this copy is kept")
    os.unlink(copy)
    report.restored.append(copy)


def _move_back(entry: JournalEntry, report: UndoReport) -> None:
    placed, source = entry.destination, entry.source
    if _same_entry(placed, source):
        raise _LeftAlone("the journal names the same file as the photo and where it came from; left alone")
    if _drop_temp(entry, "move"):
        report.restored.append(source)
        report.moved_back.append((placed, source))
        return
    if os.path.lexists(source):
        if _holds(source, entry.sha256):
            if os.path.lexists(placed) and _holds(placed, entry.sha256):
                os.unlink(placed)  # a second name or copy left by an interrupted move; the photo is back
            return
        raise _LeftAlone(f"{source} exists again (another file); the photo stays at {placed}")
    if not os.path.lexists(placed):
        raise _LeftAlone(f"no longer there, and not back at {source}")
    _check_placed_file(placed, entry.sha256)
    _put_back(placed, source, entry.sha256)
    report.restored.append(source)
    report.moved_back.append((placed, source))


def _finish_interrupted(entry: JournalEntry, mode: str, report: UndoReport) -> None:
    """An entry journaled as started but not as done: LakeView stopped mid-way (killed, power cut)."""
    source, expected = entry.source, entry.source_sha256
    if _drop_temp(entry, mode):
        report.restored.append(source)
        return
    if is_regular_file(source) or (mode == "copy" and _regular_followed(source)):
        for name in _candidate_names(entry):
            if same_file(name, source) and not _same_entry(name, source):
                os.unlink(name)  # the second name an interrupted move made; the photo stays at the source
        if mode == "copy":
            original = sha256_of(source)
            copies = [name for name in _candidate_names(entry) if _holds(name, original)]
            if copies:
                raise _LeftAlone(f"LakeView was stopped while copying {source.name}; {copies[0]} has the same "
                                 "content and may be its copy; left alone")
        return
    if mode == "move":
        for name in _candidate_names(entry):
            if _holds(name, expected):
                _put_back(name, source, expected)
                report.restored.append(source)
                report.moved_back.append((name, source))
                return
    raise _LeftAlone(f"LakeView was stopped while placing it, and it is not at {source} nor in "
                     f"{entry.planned.parent}; look for it there")


def _drop_temp(entry: JournalEntry, mode: str) -> bool:
    """Remove the hidden temporary file an interrupted job may have left. If it holds the moved photo while the
    photo is nowhere else, it is the photo: put it back instead (True)."""
    temp = entry.temp
    if temp is None or not is_regular_file(temp):
        return False
    placed = entry.destination
    if placed is not None and same_file(temp, placed):
        os.unlink(temp)  # a second name of the placed file
        return False
    content = sha256_of(temp)
    if _holds(entry.source, content):
        for name in _candidate_names(entry):
            if same_file(name, temp):
                os.unlink(name)  # named, never journaled as done; the content is still at the source
    elif (mode == "move" and content == entry.source_sha256 and not os.path.lexists(entry.source)
          and not (placed is not None and _holds(placed, content))):
        _put_back(temp, entry.source, content)
        for name in _candidate_names(entry):
            if same_file(name, entry.source) and not _same_entry(name, entry.source):
                os.unlink(name)
        return True
    os.unlink(temp)
    return False


def _same_entry(a: Path, b: Path) -> bool:
    """`a` and `b` are one name in one folder (not two names of one file), even through linked folders."""
    return os.path.realpath(a.parent) == os.path.realpath(b.parent) and a.name == b.name


def _candidate_names(entry: JournalEntry) -> list[Path]:
    """The names the placement could have given the photo: the planned one, then `<stem>-<n><suffix>`."""
    folder, name = entry.planned.parent, entry.source.name
    try:
        names = [folder / e.name for e in os.scandir(folder) if e.name == name or number_of(e.name, name) is not None]
    except OSError:
        names = []
    if entry.planned not in names and os.path.lexists(entry.planned):
        names.insert(0, entry.planned)
    return [n for n in names if is_regular_file(n)]


def _original_holds(source: Path, sha: str | None) -> bool:
    """The original of a copy is there with this content; it may be a link to the photo (copies follow links)."""
    try:
        return sha is not None and stat.S_ISREG(os.stat(source).st_mode) and sha256_of(source) == sha
    except OSError:
        return False


def _regular_followed(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _same_file_followed(a: Path, b: Path) -> bool:
    """`a` and `b` are one file, links followed (an original that is now a link to its own copy)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_placed_file(path: Path, sha: str) -> None:
    if not is_regular_file(path):
        raise _LeftAlone("is no longer the file LakeView placed (now a link, folder or device); left alone")
    if sha256_of(path) != sha:
        raise _LeftAlone("changed since it was placed; left alone")


def _holds(path: Path, sha: str | None) -> bool:
    """`path` is a regular file whose content has this hash."""
    if sha is None or not is_regular_file(path):
        return False
    try:
        return sha256_of(path) == sha
    except OSError:
        return False


def _put_back(placed: Path, source: Path, sha: str) -> None:
    """Move `placed` to `source` without ever replacing a file there."""
    source.parent.mkdir(parents=True, exist_ok=True)
    try:
        if link_or_rename(placed, source):
            os.unlink(placed)
        return
    except FileExistsError:
        raise _LeftAlone(f"{source} exists again (another file); the photo stays where it is") from None
    except CrossDevice:
        pass
    temp = temp_name_in(source.parent)
    copied, _ = copy_to_temp(placed, temp)
    try:
        if copied != sha:
            raise _LeftAlone("changed while being put back; left where it is")
        kept = claim(temp, source)
    except FileExistsError:
        raise _LeftAlone(f"{source} exists again (another file); the photo stays where it is") from None
    finally:
        if os.path.lexists(temp) and not same_file(temp, source):
            os.unlink(temp)
    if kept:
        os.unlink(temp)
    os.unlink(placed)


def _remove_empty_folders(folders: list[Path]) -> None:
    """The folders the placement created, deepest first, where empty now (rmdir refuses any other)."""
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        if os.path.realpath(folder.parent) != str(folder.parent):
            continue  # reached through a link now: not necessarily the folder LakeView made
        try:
            os.rmdir(folder)
        except OSError:
            pass
