"""Copying or moving photos into class folders: planned first, never overwriting, journaled, undoable."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Literal

from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress

Mode = Literal["copy", "move"]
JOURNAL_FORMAT = "lakeview-journal"


@dataclass(frozen=True)
class PlannedFile:
    source: Path
    destination: Path


@dataclass
class PlacementReport:
    done: list[PlannedFile] = field(default_factory=list)
    failed: list[tuple[PlannedFile, str]] = field(default_factory=list)
    stopped: bool = False


@dataclass
class UndoReport:
    restored: list[Path] = field(default_factory=list)
    moved_back: list[tuple[Path, Path]] = field(default_factory=list)
    """(where it was placed, where it is again) for each photo a move put back."""
    problems: list[tuple[Path, str]] = field(default_factory=list)


class JournalError(ValueError):
    """A journal that cannot be undone as a whole (missing, not a journal, already undone)."""


def safe_folder_name(label: str) -> str:
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in label).strip().strip(".")
    return cleaned or "_"


def plan_placement(assignments: Iterable[tuple[Path, str]], into: Path) -> list[PlannedFile]:
    """Where each photo would go: `into/<label>/<name>`, with '-1', '-2'... added rather than overwriting."""
    taken: set[Path] = set()
    plan = []
    for source, label in assignments:
        folder = Path(into) / safe_folder_name(label)
        candidate = folder / Path(source).name
        n = 1
        while candidate in taken or candidate.exists():
            candidate = folder / f"{Path(source).stem}-{n}{Path(source).suffix}"
            n += 1
        taken.add(candidate)
        plan.append(PlannedFile(Path(source), candidate))
    return plan


def apply_placement(
    plan: list[PlannedFile],
    mode: Mode,
    journal: Path,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> PlacementReport:
    """Carry out `plan`. Each finished file is appended to `journal` (and flushed) before the next begins."""
    if mode not in ("copy", "move"):
        raise ValueError(f"mode must be 'copy' or 'move', not {mode!r}")
    report = PlacementReport()
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a", encoding="utf-8") as log:
        _append(log, {"format": JOURNAL_FORMAT, "version": 1, "mode": mode, "started": _now()})
        for n, item in enumerate(plan, 1):
            if should_stop():
                report.stopped = True
                break
            try:
                created = _make_folders(item.destination.parent)
                for folder in created:
                    _append(log, {"created_folder": str(folder)})
                _place(item, mode)
                stat = item.destination.stat()
                _append(log, {"source": str(item.source), "destination": str(item.destination),
                              "size": stat.st_size})
                report.done.append(item)
            except OSError as exc:
                report.failed.append((item, exc.strerror or str(exc)))
            progress(n, len(plan))
    return report


def undo_journal(journal: Path, progress: ProgressFn = no_progress) -> UndoReport:
    """Reverse a placement: delete the copies (if unchanged) or move the photos back; remove emptied folders."""
    entries = _read_journal(journal)
    header = entries[0]
    if any("undone" in e for e in entries):
        raise JournalError(f"{journal} was already undone")
    mode = header["mode"]
    files = [e for e in entries if "destination" in e]
    folders = [Path(e["created_folder"]) for e in entries if "created_folder" in e]
    report = UndoReport()
    for n, entry in enumerate(reversed(files), 1):
        source, destination = Path(entry["source"]), Path(entry["destination"])
        problem = _reverse(source, destination, entry.get("size"), mode)
        if problem:
            report.problems.append((destination, problem))
        else:
            report.restored.append(source if mode == "move" else destination)
            if mode == "move":
                report.moved_back.append((destination, source))
        progress(n, len(files))
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            pass
    with open(journal, "a", encoding="utf-8") as log:
        _append(log, {"undone": _now(), "problems": len(report.problems)})
    return report


def _reverse(source: Path, destination: Path, size: int | None, mode: str) -> str | None:
    if not destination.exists():
        return "no longer there; left alone"
    if size is not None and destination.stat().st_size != size:
        return "changed since it was placed; left alone"
    try:
        if mode == "copy":
            destination.unlink()
        else:
            if source.exists():
                return f"{source} exists again; left alone"
            source.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(destination), str(source))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _place(item: PlannedFile, mode: Mode) -> None:
    if item.destination.exists():
        raise FileExistsError(17, f"{item.destination} already exists; not overwritten")
    if mode == "move":
        shutil.move(str(item.source), str(item.destination))
        return
    partial = item.destination.with_name(f".{item.destination.name}.lakeview-part")
    try:
        shutil.copy2(item.source, partial)
        if item.destination.exists():
            raise FileExistsError(17, f"{item.destination} appeared meanwhile; not overwritten")
        os.replace(partial, item.destination)
    finally:
        partial.unlink(missing_ok=True)


def _make_folders(folder: Path) -> list[Path]:
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _append(log, record: dict) -> None:
    log.write(json.dumps(record) + "\n")
    log.flush()
    os.fsync(log.fileno())


def _read_journal(journal: Path) -> list[dict]:
    try:
        lines = Path(journal).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise JournalError(f"journal not found: {journal}") from None
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a crash: the file it names was not recorded as done
    if not entries or entries[0].get("format") != JOURNAL_FORMAT:
        raise JournalError(f"{journal} is not a LakeView journal")
    return entries


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
