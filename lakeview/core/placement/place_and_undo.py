"""The one way photos are placed into class folders, and a placement undone, for the app and every command.

Placing: a new journal, the copy or move, the catalog's rows following moved photos, and the library's last placement
(`placements/last.json` beside the catalog) set to it. Undoing: the journal undone, the rows following the photos
back, and the last placement forgotten once nothing of it is left. So the app, `lakeview classify`,
`lakeview catalog export` and `lakeview undo` leave a library in the same state whichever of them placed or undid.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import ContextManager, Iterable

from lakeview.core.catalog import Catalog
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.photos.file_names import shown_path
from lakeview.core.placement.copy_or_move import (PAST, Mode, PlacementReport, PlannedFile, apply_placement,
                                                  in_class_folder)
from lakeview.core.placement.journal import JournalError, new_journal
from lakeview.core.placement.last_placement import LastPlacement, last_placement, remember
from lakeview.core.placement.undo import UndoReport, undo_journal


def not_in_class_folder(assignments: Iterable[tuple[Path, str]],
                        into: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(the photos still to place, with their class; the photos already in their class folder in `into`, which
    placing would only rename to '-1')."""
    to_place, in_place = [], []
    for path, label in assignments:
        if in_class_folder(path, label, into):
            in_place.append(path)
        else:
            to_place.append((path, label))
    return to_place, in_place


def place(plan: list[PlannedFile], mode: Mode, into: Path, catalog: Path | None = None, journal: Path | None = None,
          progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop) -> PlacementReport:
    """Copy or move as planned, journaled into `journal` (default: a new one in `into`).

    With a `catalog`, moved photos' rows follow them, and the placement becomes its library's last placement when it
    placed anything (the previous one stays the last otherwise). The catalog is opened before any photo moves, so
    one that cannot follow them (locked, damaged) stops the job first. `report.journal` is None when nothing could
    be started; `report.halted` then says why, and every photo is in `report.not_started`."""
    with _opened(catalog if mode == "move" else None) as records:
        report = _place(plan, mode, into, None if catalog is None else Path(catalog).parent, journal, progress,
                        should_stop)
        if records is not None and report.done:
            records.record_moves([(item.source, item.destination) for item in report.done])
    return report


def _place(plan: list[PlannedFile], mode: Mode, into: Path, library: Path | None, journal: Path | None,
           progress: ProgressFn, should_stop: ShouldStopFn) -> PlacementReport:
    made_journal = journal is None
    try:
        journal = new_journal(into) if made_journal else Path(journal).absolute()
    except OSError as exc:  # a file where the folder should be, a read-only disk...
        return _not_started(plan, f"cannot start the journal in {shown_path(into)}: {exc.strerror or exc}")
    previous = None if library is None else last_placement(library)
    if library is not None:
        try:
            remember(library, LastPlacement(journal, mode, Path(into), len(plan),
                                            datetime.now().isoformat(" ", "minutes")))
        except OSError as exc:  # no placement the app could not undo
            if made_journal:
                journal.unlink(missing_ok=True)
            return _not_started(plan, f"cannot write in {shown_path(library)} ({exc.strerror or exc}); nothing "
                                      f"was {PAST[mode]}")
    try:
        report = apply_placement(plan, mode, journal, progress, should_stop)
    except (JournalError, OSError) as exc:  # the journal could not be started: nothing was placed
        if library is not None:
            remember(library, previous)
        return _not_started(plan, str(exc) if isinstance(exc, JournalError) else
                            f"cannot start the journal in {shown_path(into)}: {exc.strerror or exc}")
    except BaseException:
        if library is not None:
            remember(library, previous)
        raise
    if library is not None and not report.done:
        remember(library, previous)
    return report


def _not_started(plan: list[PlannedFile], why: str) -> PlacementReport:
    return PlacementReport(halted=why, not_started=list(plan))


def undo_placement(journal: Path, catalog: Path | None = None, progress: ProgressFn = no_progress,
                   should_stop: ShouldStopFn = never_stop) -> UndoReport:
    """Undo the placement journaled in `journal`: copies deleted (if unchanged), moved photos put back.

    With a `catalog` (opened first: one that cannot follow the photos stops the undo before it starts), the rows of
    the photos put back go back with them, and when this is its library's last placement it is forgotten once
    nothing of it is left to undo (or its journal is refused), so undoing again retries just the photos left.
    Raises JournalError for a journal that cannot be undone as a whole."""
    library = None if catalog is None else Path(catalog).parent
    with _opened(catalog) as records:
        last = None if library is None else last_placement(library)
        is_last = last is not None and _same_file(last.journal, journal)
        try:
            report = undo_journal(journal, progress, should_stop)
        except JournalError:
            if is_last:
                remember(library, None)
            raise
        if is_last and not report.left:
            remember(library, None)
        if records is not None and report.moved_back:
            records.record_moves(report.moved_back)
    return report


def _opened(catalog: Path | None) -> ContextManager[Catalog | None]:
    return nullcontext() if catalog is None else Catalog(catalog)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
