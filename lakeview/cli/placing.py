"""What `lakeview classify --copy-into/--move-into` and `lakeview catalog export --into` share when they place photos
into class folders: the photos already in place left out, the dry run's lines, the job with its bar (core's `place`),
the printed undo command and the exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from lakeview.cli.console import EXIT_INTERRUPTED, EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops, say
from lakeview.cli.shell_quoting import shell_quoted
from lakeview.core.photos.file_names import shown_path
from lakeview.core.placement.copy_or_move import DOING, Mode, PlacementReport, PlannedFile, plan_placement
from lakeview.core.placement.place_and_undo import not_in_class_folder, place


def plan_left_to_place(assignments: Iterable[tuple[Path, str]], into: Path) -> list[PlannedFile] | None:
    """The plan for the photos not already in their class folder in `into` (those are counted, and stay); None
    when every photo is already in its class folder."""
    to_place, in_place = not_in_class_folder(assignments, into)
    if in_place:
        say(f"{len(in_place)} photo(s) already in their class folder in {shown_path(into)}: left as they are")
        if not to_place:
            return None
    return plan_placement(to_place, into)


def print_plan(plan: list[PlannedFile]) -> None:
    for item in plan:
        print(f"{shown_path(item.source)} -> {shown_path(item.destination)}")


def place_with_bar(plan: list[PlannedFile], mode: Mode, into: Path, catalog: Path | None = None,
                   journal: Path | None = None, quiet: bool = False) -> PlacementReport:
    """Place as planned (Ctrl+C stops between photos); a placement that could not start is a UserError."""
    with ctrl_c_stops() as stop, Bar(DOING[mode], quiet, "photo") as bar:
        report = place(plan, mode, into, catalog, journal, bar, stop)
    if report.journal is None:
        raise UserError(report.halted)
    return report


def undo_command(report: PlacementReport, catalog: Path | None = None) -> str:
    """The command that undoes this placement, to paste back into a shell."""
    return f"lakeview undo {shell_quoted(report.journal)}" + (f" --catalog {shell_quoted(catalog)}" if catalog else "")


def placement_exit_code(report: PlacementReport) -> int:
    if report.halted:
        raise UserError(report.halted)
    if report.stopped:
        return EXIT_INTERRUPTED
    return EXIT_SKIPPED if report.failed else EXIT_OK
