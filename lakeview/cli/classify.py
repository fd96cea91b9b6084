"""`lakeview classify` (to CSV, or copied / moved into class folders) and `lakeview undo`."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from lakeview.cli.arg_types import (DEVICE_FORMS, batch_size, device_name, given_path, output_file, output_folder,
                                     positive_int, probability, require_device)
from lakeview.cli.catalog_access import catalog_errors_as_sentences
from lakeview.cli.console import (EXIT_INTERRUPTED, EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops,
                                  list_skipped, say, writing)
from lakeview.cli.team import exit_code, torchrun_team
from lakeview.core.csv_cells import HOW_CELLS_ARE_WRITTEN
from lakeview.core.placement.journal import JOURNAL_PREFIX, JOURNAL_SUFFIX


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("classify", help="classify a folder of photos",
                                 description="Predict a class for every photo in FOLDER. Writes a CSV (file, "
                                             "label, confidence, top_k, error) to --csv or standard output, "
                                             "and/or copies or moves the photos into class folders.")
    parser.add_argument("folder", type=given_path, help="folder of photos")
    parser.add_argument("--model", type=given_path, required=True, help="model file (.lvmodel)")
    parser.add_argument("--recursive", "-r", action="store_true", help="include subfolders")
    parser.add_argument("--files-from", type=given_path, metavar="LIST",
                        help="classify the photos this file lists, one per line, relative to FOLDER (or "
                             "absolute), instead of looking through FOLDER; under torchrun only rank 0 reads it")
    parser.add_argument("--csv", type=output_file,
                        help="write the predictions here (default: standard output, unless copying or moving). "
                             + HOW_CELLS_ARE_WRITTEN)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--copy-into", type=output_folder, metavar="DIR", help="copy each photo into DIR/<class>/")
    target.add_argument("--move-into", type=output_folder, metavar="DIR", help="move each photo into DIR/<class>/")
    parser.add_argument("--dry-run", action="store_true", help="show where photos would go; change nothing")
    parser.add_argument("--min-confidence", type=probability, default=0.0,
                        help="photos below this confidence go to DIR/_unsure instead (default 0: none)")
    parser.add_argument("--journal", type=output_file,
                        help=f"undo journal (default: DIR/{JOURNAL_PREFIX}<time>{JOURNAL_SUFFIX})")
    parser.add_argument("--top-k", type=positive_int, default=3,
                        help="how many classes to list per photo (default 3; at most the model's classes)")
    parser.add_argument("--tta", action="store_true", help="test-time augmentation (slower, a little more accurate)")
    parser.add_argument("--bs", type=batch_size, default=32, help="batch size (default 32)")
    parser.add_argument("--device", type=device_name, default="auto",
                        help=f"where the network runs: {DEVICE_FORMS} (default auto: CUDA, then MPS, then CPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run_classify)

    undo = commands.add_parser("undo", help="reverse a copy or move made by 'classify' or 'catalog export'",
                               description="Delete the copies or move the photos back. Only files whose content "
                                           "still matches the journal are touched: a copy is deleted only while its "
                                           "original is still there unchanged, a photo goes back only where no file "
                                           "took its old name. Anything else is left alone and listed; run the same "
                                           "undo again later to retry just those.",
                               epilog="exit codes: 0 all undone, 1 some files left alone (listed), 2 the journal "
                                      "was refused or is not there (nothing changed), 130 stopped by Ctrl+C")
    undo.add_argument("journal", type=Path, help="the journal file that 'classify' printed (a folder: list its "
                                                 "journals)")
    undo.add_argument("--catalog", type=Path, help="the catalog whose rows follow the photos put back (default: "
                                                   "$LAKEVIEW_CATALOG, else the 'default' library, where there is one)")
    undo.set_defaults(run=run_undo)


def run_classify(args: argparse.Namespace) -> int:
    """Alone, or as one rank of a torchrun launch: then each rank classifies its share of the photos, and rank 0
    lists them, prints, writes the one CSV in the photos' order and places the photos."""
    from lakeview.core.models.model_file import ModelFileError, load_model

    if not args.folder.is_dir():
        raise UserError(f"not a folder: {args.folder}")
    destination = args.copy_into or args.move_into
    if destination is not None and destination.resolve().is_relative_to(args.folder.resolve()) and args.recursive:
        raise UserError("--recursive with a destination inside FOLDER would classify the sorted photos again")
    try:
        model = load_model(args.model)
    except ModelFileError as exc:
        raise UserError(str(exc)) from None
    require_device(args.device)
    with torchrun_team(args.device) as team:
        if team is not None and not team.leader:
            args.quiet = True
        return exit_code(team, _classify(args, model, destination, team))


def _classify(args: argparse.Namespace, model, destination: Path | None, team) -> int:
    listing = _listing(args, team)
    paths = [args.folder / name for name in listing.names]
    skipped = list(listing.errors)
    if listing.raw:
        say(f"note: {listing.raw} RAW file(s) ignored (LakeView reads JPEG, PNG, TIFF, WebP, HEIC...; "
            "classify their JPEG exports)")
    if not paths:
        raise UserError(f"no photos found in {args.folder}" + ("" if args.recursive or args.files_from else " (try --recursive)"))

    from lakeview.core.csv_cells import csv_output

    try:
        with ctrl_c_stops() as stop:
            say(f"{len(paths)} photo(s); classes: {shown_classes(model.classes)}", quiet=args.quiet)
            if team is not None:
                rows = _classify_shared(model, paths, args, stop, team)
                if rows is None:
                    return EXIT_OK  # rank 0 writes, places and reports
                if args.csv is not None:
                    with writing(args.csv), csv_output(args.csv) as handle:
                        _write_rows(csv.writer(handle), rows, args.folder)
                elif destination is None:
                    _write_rows(csv.writer(sys.stdout), rows, args.folder)
                say(f"classified {len(paths)} photos on {team.size} processes ({_shares_text(len(paths), team.size)})")
            elif args.csv is not None:
                with writing(args.csv), csv_output(args.csv) as handle:
                    rows = _classify_into(csv.writer(handle), model, paths, args, stop)
            else:
                sink = None if destination is not None else csv.writer(sys.stdout)
                rows = _classify_into(sink, model, paths, args, stop)
    except _Interrupted:
        say("stopped; no CSV written" if args.csv else "stopped")
        return EXIT_INTERRUPTED
    failures = [r for r in rows if not hasattr(r, "label")]
    skipped += [(str(f.path), f.reason) for f in failures]
    code = EXIT_OK
    if destination is not None:
        code = _place(args, [r for r in rows if hasattr(r, "label")], destination)
    list_skipped(skipped)
    if code != EXIT_OK:
        return code
    return EXIT_SKIPPED if skipped else EXIT_OK


SHOWN_CLASSES = 20


def shown_classes(classes: list[str], limit: int = SHOWN_CLASSES) -> str:
    """The class names for the terminal: control characters (a model file's ESC sequences, newlines) escaped
    as \\xNN, and at most `limit` of them (a model may hold 10,000)."""
    def safe(name: str) -> str:
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)

    shown = ", ".join(safe(name) for name in classes[:limit])
    return shown + (f" and {len(classes) - limit:,} more" if len(classes) > limit else "")


class _Interrupted(Exception):
    pass


def _classify_into(sink, model, paths: list[Path], args: argparse.Namespace, stop) -> list:
    """Run the model over `paths`, writing CSV rows to `sink` as results stream in; raise _Interrupted on stop.

    Returns the failures, and the predictions too when photos are to be placed (memory stays flat otherwise)."""
    from lakeview.core.models.inference import classify_files

    keep_predictions = bool(args.copy_into or args.move_into)

    rows = []
    with Bar("classifying", args.quiet, "photo") as bar:
        if sink is not None:
            sink.writerow(["file", "label", "confidence", "top_k", "error"])
        top_k = min(args.top_k, len(model.classes))
        for result in classify_files(model, paths, batch_size=args.bs, top_k=top_k, tta=args.tta, device=args.device,
                                     total=len(paths), progress=bar, should_stop=stop):
            if keep_predictions or not hasattr(result, "label"):
                rows.append(result)
            if sink is not None:
                sink.writerow(_csv_row(result, args.folder))
    if stop():
        raise _Interrupted()
    return rows


@dataclass(frozen=True)
class _Listing:
    names: list[str]
    """The photos, relative to FOLDER where they are inside it: a shared folder may sit at another path on
    each machine."""
    errors: list[tuple[str, str]]
    raw: int


def _listing(args: argparse.Namespace, team) -> _Listing:
    """The photos to classify, listed once (by rank 0 under torchrun, then sent to every rank)."""
    if team is None or team.leader:
        try:
            listing, problem = _list_photos(args), None
        except UserError as exc:
            listing, problem = None, str(exc)
    else:
        listing, problem = None, None
    if team is not None:
        listing, problem = team.leaders((listing, problem))
    if problem is not None:
        raise UserError(problem if team is None or team.leader else "process 0 could not list the photos")
    return listing


def _list_photos(args: argparse.Namespace) -> _Listing:
    from lakeview.core.photos.files import RAW_SUFFIXES, iter_image_files

    if args.files_from is not None:
        try:
            lines = args.files_from.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
        except OSError as exc:
            raise UserError(f"cannot read --files-from {args.files_from}: {exc.strerror or exc}") from None
        return _Listing([_listed_name(Path(line), args.folder) for line in lines if line.strip()], [], 0)
    listing_errors: list[tuple[Path, str]] = []
    paths = list(iter_image_files(args.folder, args.recursive, listing_errors))
    raw = [p for p in (args.folder.rglob("*") if args.recursive else args.folder.iterdir()) if p.suffix.lower() in RAW_SUFFIXES]
    return _Listing([str(p.relative_to(args.folder)) for p in paths], [(str(p), r) for p, r in listing_errors],
                    len(raw))


def _listed_name(path: Path, folder: Path) -> str:
    """A --files-from line: relative to FOLDER already, or absolute (made relative when inside FOLDER)."""
    if path.is_absolute() and path.is_relative_to(folder.absolute()):
        return str(path.relative_to(folder.absolute()))
    return str(path)


def _classify_shared(model, paths: list[Path], args: argparse.Namespace, stop, team) -> list | None:
    """This rank's share of `paths` classified; on rank 0, every rank's results in the order of `paths` (None
    on the others). Each result names its photo by position, and rank 0 puts its own path back. Raises
    _Interrupted on every rank when any was stopped."""
    from lakeview.core.models.inference import Failure, Prediction, classify_files

    share = team.shard(len(paths))
    whole = len(paths)
    found = []
    with Bar("classifying", args.quiet, "photo") as bar:
        top_k = min(args.top_k, len(model.classes))
        for position, result in zip(share, classify_files(
                model, paths[share.start:share.stop], batch_size=args.bs, top_k=top_k, tta=args.tta,
                device=team.device, decode_threads=max(1, (os.cpu_count() or 1) // team.local_size), total=len(share), progress=lambda n, _: bar(min(whole, n * team.size), whole),
                should_stop=stop)):
            found.append((position, result.label, result.confidence, result.top) if hasattr(result, "label")
                         else (position, result.reason))
    if team.any(stop())[0]:
        raise _Interrupted()
    merged = team.gather_to_leader(found)
    if merged is None:
        return None
    return [Prediction(paths[row[0]], *row[1:]) if len(row) == 4 else Failure(paths[row[0]], row[1]) for row in merged]


def _shares_text(count: int, ranks: int) -> str:
    """'150 each', '5 and 4', '4, 4 and 3'; '12 or 13 each' for more than 4 processes."""
    from lakeview.core.distributed import shard_of

    sizes = [len(shard_of(count, rank, ranks)) for rank in range(ranks)]
    if min(sizes) == max(sizes):
        return f"{sizes[0]} each"
    if ranks > 4:
        return f"{max(sizes)} or {min(sizes)} each"
    return ", ".join(map(str, sizes[:-1])) + f" and {sizes[-1]}"


def _write_rows(sink, rows: list, folder: Path) -> None:
    sink.writerow(["file", "label", "confidence", "top_k", "error"])
    for result in rows:
        sink.writerow(_csv_row(result, folder))


def _csv_row(result, folder: Path) -> list[str]:
    """One CSV row; names that are not UTF-8 and cells that look like formulas are written as csv_cells says."""
    from lakeview.core.csv_cells import name_cell, text_cell

    try:
        name = name_cell(result.path.relative_to(folder))
    except ValueError:
        name = name_cell(result.path)
    if not hasattr(result, "label"):
        return [name, "", "", "", text_cell(result.reason)]
    top = ";".join(f"{label}:{prob:.4f}" for label, prob in result.top)
    return [name, text_cell(result.label), f"{result.confidence:.4f}", text_cell(top), ""]


def _place(args: argparse.Namespace, predictions, destination: Path) -> int:
    from lakeview.cli.placing import place_with_bar, placement_exit_code, plan_left_to_place, print_plan, undo_command
    from lakeview.core.photos.file_names import shown_path

    mode = "copy" if args.copy_into else "move"
    plan = plan_left_to_place([(p.path, p.label if p.confidence >= args.min_confidence else "_unsure")
                               for p in predictions], destination)
    if plan is None:
        return EXIT_OK
    counts: dict[str, int] = {}
    for item in plan:
        counts[item.destination.parent.name] = counts.get(item.destination.parent.name, 0) + 1
    say(f"{mode} {len(plan)} photo(s) into {shown_path(destination)}: "
        + ", ".join(f"{shown_path(k)} {v}" for k, v in sorted(counts.items())))
    if args.dry_run:
        print_plan(plan)
        say("dry run: nothing changed")
        return EXIT_OK
    report = place_with_bar(plan, mode, destination, journal=args.journal, quiet=args.quiet)
    say(f"{mode}: {len(report.done)} done" + (f", {len(report.failed)} failed" if report.failed else ""))
    for item, reason in report.failed:
        say(f"  {shown_path(item.source)}: {reason}")
    say(f"undo with: {undo_command(report)}")
    return placement_exit_code(report)


@catalog_errors_as_sentences
def run_undo(args: argparse.Namespace) -> int:
    """The catalog (when there is one) follows the photos put back, and the library forgets its last placement
    once this was it and nothing of it is left: as the app's Undo last placement does."""
    from lakeview.core.catalog.store import CATALOG_ENV, default_catalog_path
    from lakeview.core.photos.file_names import shown_path
    from lakeview.core.placement.journal import JournalError, JournalIsFolder
    from lakeview.core.placement.place_and_undo import undo_placement

    catalog = args.catalog or default_catalog_path()
    if not catalog.is_file():
        if args.catalog:
            raise UserError(f"no catalog at {shown_path(catalog)}; nothing was changed")
        catalog = None
    elif not (args.catalog or os.environ.get(CATALOG_ENV)):
        catalog = _usable_default_catalog(catalog)
    try:
        with ctrl_c_stops() as stop:
            report = undo_placement(args.journal, catalog, should_stop=stop)
    except JournalIsFolder as exc:
        if exc.journals:
            say(f"journals in {shown_path(args.journal)} (date, state):")
        for journal in exc.journals:
            say(f"  {shown_path(journal.path)}  {journal.date}  {journal.state}")
        raise UserError(shown_path(str(exc))) from None
    except JournalError as exc:
        raise UserError(shown_path(str(exc))) from None
    say(f"undone: {len(report.restored)} photo(s)")
    if report.problems:
        say(f"{len(report.problems)} left alone:")
    for path, problem in report.problems:
        say(f"  {shown_path(path)}: {shown_path(problem)}")
    if report.left:
        say(f"{report.left} photo(s) still to undo; run the same undo again to retry just those")
    if stop():
        return EXIT_INTERRUPTED
    return EXIT_SKIPPED if report.problems else EXIT_OK


def _usable_default_catalog(catalog: Path) -> Path | None:
    """The default library, when it opens. It was not asked for, and the journal may have nothing to do with it
    (`classify --move-into` uses no catalog), so a damaged or locked one does not stand between the user and their
    photos: the undo goes on without it, and says what to do about its rows."""
    import sqlite3

    from lakeview.core.catalog import Catalog
    from lakeview.core.catalog.connection import busy_timeout
    from lakeview.core.catalog.errors import CatalogError, translate
    from lakeview.core.photos.file_names import shown_path

    try:
        with Catalog(catalog):
            return catalog
    except (CatalogError, sqlite3.Error, OSError) as exc:
        reason = translate(exc, catalog, busy_timeout()) or exc
        say(f"note: the default library's catalog {shown_path(catalog)} cannot be opened ({shown_path(str(reason))}); "
            "undoing without it, so its rows of these photos stay where they were: `lakeview catalog rescan` "
            "finds them again once the catalog is mended")
        return None
