"""The library's last placement, remembered in `<library folder>/placements/last.json` so that it can be undone
after a restart, and the two jobs that keep it right: placing (remembered once it placed something) and undoing
(forgotten once nothing of it is left). When photos move, the catalog follows them: their rows, with labels and
predictions, are reattached by fingerprint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lakeview.core.atomic import write_atomically
from lakeview.core.catalog import Catalog
from lakeview.core.jobs import ProgressFn, ShouldStopFn
from lakeview.core.photos.file_names import shown_path
from lakeview.core.placement.copy_or_move import (JournalError, Mode, PlacementReport, PlannedFile, UndoReport,
                                                  apply_placement, undo_journal)
from lakeview.core.placement.journal import new_journal

PLACEMENTS = "placements"
LAST = "last.json"
_MAX_LAST = 1 << 20


@dataclass(frozen=True)
class LastPlacement:
    journal: Path
    mode: Mode
    into: Path
    count: int
    time: str


def last_placement(library: Path) -> LastPlacement | None:
    """The library's last placement not yet undone (`library` is the catalog's folder)."""
    path = Path(library) / PLACEMENTS / LAST
    try:
        if not path.is_file() or path.stat().st_size > _MAX_LAST:  # never a pipe that would hang the window
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        last = LastPlacement(Path(data["journal"]), data["mode"], Path(data["into"]), int(data["count"]), data["time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return last if last.journal.is_file() else None


def remember(library: Path, last: LastPlacement | None) -> None:
    """Make `last` the library's last placement; None forgets it."""
    path = Path(library) / PLACEMENTS / LAST
    if last is None:
        path.unlink(missing_ok=True)
        return
    data = {"journal": str(last.journal), "mode": last.mode, "into": str(last.into), "count": last.count,
            "time": last.time}
    write_atomically(path, json.dumps(data, indent=1).encode())


def place_and_remember(library: Path, catalog_path: Path, plan: list[PlannedFile], mode: Mode, into: Path,
                       progress: ProgressFn, should_stop: ShouldStopFn) -> PlacementReport:
    """Copy or move as planned, journaled into a new journal in `into`, which becomes the library's last placement
    when anything was placed (the previous one stays the last otherwise). Moved photos' catalog rows follow them."""
    try:
        journal = new_journal(into)
    except OSError as exc:  # a file where the folder should be, a read-only disk...
        return PlacementReport(halted=f"cannot write in {shown_path(into)} ({exc.strerror or exc}); nothing was "
                                      f"{'copied' if mode == 'copy' else 'moved'}", not_started=list(plan))
    previous = last_placement(library)
    remember(library, LastPlacement(journal, mode, Path(into), len(plan), datetime.now().isoformat(" ", "minutes")))
    try:
        report = apply_placement(plan, mode, journal, progress, should_stop)
    except JournalError as exc:  # the journal could not be started: nothing was placed
        remember(library, previous)
        return PlacementReport(halted=shown_path(str(exc)), not_started=list(plan))
    except BaseException:
        remember(library, previous)
        raise
    if not report.done:
        remember(library, previous)
    if mode == "move" and report.done:
        with Catalog(catalog_path) as catalog:
            catalog.record_moves([(item.source, item.destination) for item in report.done])
    return report


def undo_and_forget(library: Path, catalog_path: Path, last: LastPlacement, progress: ProgressFn,
                    should_stop: ShouldStopFn) -> UndoReport:
    """Undo `last`: copies deleted (if unchanged), moved photos put back and their catalog rows with them. It is
    forgotten once nothing of it is left to undo, so undoing again retries just the photos left."""
    try:
        report = undo_journal(last.journal, progress, should_stop)
    except JournalError:
        remember(library, None)
        raise
    if not report.left:
        remember(library, None)
    with Catalog(catalog_path) as catalog:
        catalog.record_moves(report.moved_back)
    return report
