"""`lakeview catalog ...`: the catalog for a headless user (import, export, status, labels, retraining, versions;
classifying is in catalog_classify)."""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from lakeview.cli.arg_types import (DEVICE_FORMS, class_name, device_name, existing_folder, output_file,
                                     output_folder, positive_int)
from lakeview.cli.catalog_access import (catalog_command, catalog_errors_as_sentences, open_catalog,
                                          say_stopped, version_by_prefix)
from lakeview.cli.catalog_classify import add_classify
from lakeview.cli.catalog_groups import add_groups, label_group
from lakeview.cli.console import (EXIT_INTERRUPTED, EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops,
                                  list_skipped, say, writing)
from lakeview.cli.data_options import add_data_options, load_dataset
from lakeview.core.training.error_figures import error_text, measured_photos
from lakeview.core.models.architectures import ARCHITECTURES, DEFAULT_ARCH
from lakeview.core.csv_cells import HOW_CELLS_ARE_WRITTEN
from lakeview.core.photos.file_names import absolute_path, shown_path


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("catalog", help="labels, corrections and model versions of a photo library",
                                 description="The catalog keeps labels, corrections, predictions and model versions "
                                             "in one SQLite database per library.")
    parser.add_argument("--catalog", type=Path, help="catalog file (default: $LAKEVIEW_CATALOG, else the "
                                                     "'default' library in your user data folder)")
    sub = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)

    imp = sub.add_parser("import", help="import a labelled dataset (labels marked 'imported')")
    add_data_options(imp)
    imp.set_defaults(run=run_import)

    add = sub.add_parser("add", help="add a folder of photos (unlabelled)")
    add.add_argument("folder", type=existing_folder, help="folder of photos")
    add.add_argument("--no-recursive", action="store_true", help="only the folder itself")
    add.set_defaults(run=run_add)
    add_classify(sub)
    add_groups(sub)

    sub.add_parser("status", help="counts per class and source, the active model and its metrics").set_defaults(run=run_status)
    sub.add_parser("check", help="check every page and reference; says healthy (exit 0) or what is wrong (exit 2)"
                   ).set_defaults(run=run_check)
    recover = sub.add_parser("recover", help="copy every readable row of a damaged catalog into a fresh one",
                             description="Copies every row that can still be read into a fresh catalog, which "
                                         "takes the damaged one's place; the damaged file is kept beside it as "
                                         "catalog.sqlite.damaged-<time>. With --into, the fresh catalog is "
                                         "written there and the damaged one is left where it is.")
    recover.add_argument("--into", type=Path, help="write the recovered catalog to this new file instead")
    recover.set_defaults(run=run_recover)
    sub.add_parser("rescan", help="flag photos gone from disk; reattach moved ones").set_defaults(run=run_rescan)

    label = sub.add_parser("label", help="label photos, or a group of similar photos (a correction: undoable)")
    label.add_argument("photos", type=Path, nargs="*")
    label.add_argument("--group", type=positive_int, metavar="N",
                       help="instead of photos: every photo of group N as `catalog groups` last numbered them")
    label.add_argument("--as", dest="label", type=class_name, required=True,
                       help="class name, or 'none' for none of these")
    label.set_defaults(run=run_label)
    sub.add_parser("undo", help="undo the latest labelling action").set_defaults(run=run_undo)
    sub.add_parser("redo", help="redo the latest undone action").set_defaults(run=run_redo)

    export = sub.add_parser("export", help="export labels as a fast.ai CSV or a class-folder tree")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--csv", type=output_file,
                        help="write name,label rows (fast.ai's from_csv form). " + HOW_CELLS_ARE_WRITTEN)
    target.add_argument("--into", type=output_folder, help="copy (or --move) labelled photos into DIR/<class>/")
    export.add_argument("--move", action="store_true", help="move instead of copying")
    export.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")
    export.set_defaults(run=run_export)

    retrain = sub.add_parser("retrain", help="retrain on the labels now (quick: head on cached features)")
    retrain.add_argument("--full", action="store_true", help="full fine-tune with augmentation (slow)")
    retrain.add_argument("--arch", choices=sorted(ARCHITECTURES), default=DEFAULT_ARCH,
                         help=f"backbone when there is no model yet (default {DEFAULT_ARCH})")
    retrain.add_argument("--weights", default="imagenet", help="its weights: imagenet, a FILE.pth or none")
    retrain.add_argument("--device", type=device_name, default="auto",
                         help=f"where the network runs: {DEVICE_FORMS} (default auto: CUDA, then MPS, then CPU)")
    retrain.set_defaults(run=run_retrain)

    sub.add_parser("models", help="list model versions").set_defaults(run=run_models)
    promote = sub.add_parser("promote", help="make a version active (roll back or forward) and re-score")
    promote.add_argument("version", help="version id (a unique prefix is enough)")
    promote.set_defaults(run=run_promote)

    for command in sub.choices.values():
        command.set_defaults(run=catalog_errors_as_sentences(command.get_default("run")))


def run_import(args: argparse.Namespace) -> int:
    from lakeview.core.catalog import CatalogError
    from lakeview.core.jobs import Stopped
    from lakeview.core.training.library_dataset import import_labelled

    with ctrl_c_stops() as stop, open_catalog(args) as catalog:
        data = load_dataset(args, stop)
        if data is None:
            return say_stopped("nothing was imported")
        total = sum(len(data.split(split)) for split in ("train", "valid", "test"))
        try:
            with Bar("recording", False, "photo") as bar:
                report, written = import_labelled(catalog, data, bar, stop, overwrite_user_labels=True)
        except Stopped:
            return say_stopped("nothing was imported (an import goes in whole or not at all)")
        except CatalogError as exc:
            raise UserError(f"{exc}; nothing was imported") from None
    say(f"imported {written} labelled photo(s) in {len(data.classes)} class(es) into {catalog.path}"
        + (f" ({total - written} without a label)" if total > written else ""))
    skipped = [(shown_path(s.where), s.reason) for s in data.skipped] + [(shown_path(p), r) for p, r in report.failed]
    list_skipped(skipped)
    return EXIT_SKIPPED if skipped else EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    from lakeview.core.jobs import Stopped

    folder = _existing_folder(args.folder)
    with ctrl_c_stops() as stop, open_catalog(args) as catalog, Bar("adding", False, "photo") as bar:
        before = catalog.photo_count()
        try:
            report = catalog.add_folder(folder, not args.no_recursive, bar, stop)
        except Stopped:
            bar.close()
            return say_stopped(f"{catalog.photo_count() - before} new photo(s) recorded before the stop stay in "
                            "the catalog; run the same command again to add the rest")
    say(f"added {report.added}, updated {report.updated}, reattached {len(report.reattached)}")
    list_skipped([(shown_path(p), r) for p, r in report.failed])
    return EXIT_SKIPPED if report.failed else EXIT_OK


def _existing_folder(folder: Path) -> Path:
    if not folder.exists():
        raise UserError(f"folder not found: {shown_path(folder)}")
    if not folder.is_dir():
        raise UserError(f"not a folder: {shown_path(folder)} "
                        "(to label one photo: lakeview catalog label PHOTO --as CLASS)")
    return folder


def run_status(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        counts = catalog.label_counts()
        total = catalog.photo_count()
        missing = len(catalog.query()) - len(catalog.photos_on_disk())
        print(f"catalog: {catalog.path}")
        print(f"photos: {total} ({missing} missing on disk), labelled: {sum(counts.values())}")
        print(f"{'class':<24} {'imported':>9} {'user':>6} {'accepted':>9}")
        names = catalog.class_names() + sorted({label for label, _ in counts} - set(catalog.class_names()))
        for name in names:
            print(f"{name:<24} " + " ".join(f"{counts.get((name, s), 0):>{w}}" for s, w in
                                           (("imported", 9), ("user", 6), ("accepted", 9))))
        active = catalog.active_model()
        if active is None:
            print("active model: none yet (lakeview catalog retrain)")
        else:
            error = error_text(active.metrics.get("error_rate"), measured_photos(active.metrics), "held-out")
            print(f"active model: {active.id[:12]} ({active.kind}, {active.arch}, created {active.created}), {error}")
        print(f"model versions: {len(catalog.models())}")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from lakeview.core.catalog.health import check_catalog
    from lakeview.core.catalog.store import default_catalog_path

    path = args.catalog or default_catalog_path()
    health = check_catalog(path)
    if health.healthy:
        say(f"the catalog {path} is healthy: every page reads and every reference is whole "
            f"({health.photos} photo(s), {health.labels} label(s))")
        return EXIT_OK
    for problem in health.problems:
        print(problem)
    command = catalog_command(args)
    raise UserError(f"the catalog {path} is damaged ({len(health.problems)} problem(s), listed above); run "
                    f"`{command} recover` to copy what can be read into a fresh catalog (the damaged file is kept)")


def run_recover(args: argparse.Namespace) -> int:
    from lakeview.core.catalog.recovery import check_recoverable, recover_catalog
    from lakeview.core.catalog.store import default_catalog_path
    from lakeview.core.jobs import Stopped
    from lakeview.core.catalog.library_lock import LibraryLock, LibraryLocked

    path = args.catalog or default_catalog_path()
    check_recoverable(path)
    lock = LibraryLock(path.parent)
    try:
        if args.into is None:  # the catalog is about to be replaced: not under a running app
            lock.acquire()
    except LibraryLocked as exc:
        raise UserError(f"{exc}; close LakeView first, then recover") from None
    except OSError as exc:
        raise UserError(f"cannot lock the library folder {path.parent} ({exc.strerror or exc})") from None
    try:
        with ctrl_c_stops() as stop, Bar("recovering", False, "row") as bar:
            report = recover_catalog(path, args.into, bar, stop)
    except Stopped:
        say("stopped: nothing was changed (the partial copy was removed)")
        return EXIT_INTERRUPTED
    finally:
        lock.release()
    for name, table in report.tables.items():
        say(f"  {name}: {table.copied} row(s) recovered"
            + (f", {table.dropped} dropped (what they refer to was lost)" if table.dropped else "")
            + (", some pages unreadable" if table.unreadable else ""))
    where = (f"the damaged catalog was left at {report.damaged}" if args.into else
             f"the damaged catalog was kept as {report.damaged}")
    say(f"recovered into {report.recovered}; {where}"
        + ("" if report.complete else "; check the labels of recently changed photos"))
    return EXIT_OK


def run_rescan(args: argparse.Namespace) -> int:
    from lakeview.core.jobs import Stopped

    with ctrl_c_stops() as stop, open_catalog(args) as catalog, Bar("rescanning", False, "photo") as bar:
        try:
            report = catalog.rescan(progress=bar, should_stop=stop)
        except Stopped:
            bar.close()
            return say_stopped("the photos missing on disk are flagged; new and moved photos found before the stop "
                            "are recorded")
    say(f"missing: {len(report.missing)}, reattached: {len(report.reattached)}, found again: "
        f"{len(report.found_again)}, new: {report.added}")
    for old, new in report.reattached:
        say(f"  {shown_path(old)} -> {shown_path(new)}")
    return EXIT_OK


def run_label(args: argparse.Namespace) -> int:
    """Photos the catalog does not know yet are added first; one that is not a photo (a folder, a FIFO, an
    unreadable file) is listed with what it is, and the others are labelled."""
    from lakeview.core.catalog import NONE_OF_THESE, CatalogError

    label = NONE_OF_THESE if args.label.lower() in ("none", NONE_OF_THESE) else args.label
    if args.group is not None and args.photos:
        raise UserError("give the photos to label or --group N, not both")
    if args.group is None and not args.photos:
        raise UserError("give the photos to label, or --group N for a group that `catalog groups` numbered")
    if args.group is not None:
        return label_group(args, label)
    with open_catalog(args) as catalog:
        try:
            unknown = [p for p in args.photos if catalog.photo_id(p) is None]
            failed = catalog.add_photos(unknown).failed if unknown else []
            refused = {path for path, _ in failed}
            photos = [p for p in args.photos if absolute_path(p) not in refused]
            if not photos:
                raise UserError("; ".join(f"{shown_path(path)}: {reason}" for path, reason in failed)
                                + "; nothing labelled")
            action = catalog.set_labels(photos, label, source="user")
        except CatalogError as exc:
            raise UserError(str(exc)) from None
    say(f"labelled {len(photos)} photo(s) '{label}'" if action else "nothing changed")
    list_skipped([(shown_path(p), r) for p, r in failed])
    return EXIT_SKIPPED if failed else EXIT_OK


def run_undo(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        changed = catalog.undo()
    say(f"undid the labels of {len(changed)} photo(s)" if changed else "nothing to undo")
    return EXIT_OK


def run_redo(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        changed = catalog.redo()
    say(f"redid the labels of {len(changed)} photo(s)" if changed else "nothing to redo")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from lakeview.core.csv_cells import csv_output, is_stream, name_cell, text_cell
    from lakeview.core.catalog import NONE_OF_THESE

    with open_catalog(args) as catalog:
        rows = [(p, label) for p, label, _, _ in catalog.labelled_photos() if label != NONE_OF_THESE]
        catalog_path = Path(catalog.path).absolute()
    if not rows:
        raise UserError("no labelled photos to export")
    if args.csv:
        root = Path(os.path.commonpath([str(p.parent) for p, _ in rows]))
        with writing(args.csv), csv_output(args.csv) as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "label"])
            writer.writerows([(name_cell(p.relative_to(root).as_posix()), text_cell(label)) for p, label in rows])
        say(f"wrote {len(rows)} rows to {args.csv}; names are relative to {root}"
            + ("" if is_stream(args.csv) else f" (lakeview train {root} --layout csv --csv {args.csv.resolve()})"))
        return EXIT_OK
    from lakeview.cli.placing import place_with_bar, placement_exit_code, plan_left_to_place, print_plan, undo_command

    mode = "move" if args.move else "copy"
    plan = plan_left_to_place(rows, args.into)
    if plan is None:
        return EXIT_OK
    if args.dry_run:
        print_plan(plan)
        say(f"dry run: would {mode} {len(plan)} photo(s); nothing changed")
        return EXIT_OK
    report = place_with_bar(plan, mode, args.into, catalog=catalog_path)
    say(f"{mode}: {len(report.done)} done; undo with: {undo_command(report, args.catalog and catalog_path)}")
    list_skipped([(shown_path(item.source), reason) for item, reason in report.failed])
    return placement_exit_code(report)


def run_retrain(args: argparse.Namespace) -> int:
    from lakeview.core.training.retrain import RetrainSettings, full_retrain_plan, retrain

    with open_catalog(args) as catalog:
        path = catalog.path
    settings = RetrainSettings(full_retrain_plan(arch=args.arch, weights=args.weights, device=args.device))
    with ctrl_c_stops() as stop, Bar("retraining", False, "step") as bar:
        outcome = retrain(path, "full" if args.full else "quick", settings, bar, stop)
    if outcome.stopped:
        say(outcome.message)
        return EXIT_INTERRUPTED
    if outcome.version_id is None:
        raise UserError(outcome.message)
    previous = "-" if outcome.previous_error is None else f"{outcome.previous_error:.2%}"
    say(f"new version {outcome.version_id[:12]}: {error_text(outcome.error_rate, outcome.holdout_photos, 'held-out')} "
        f"(active was {previous} on the same photos); "
        + (f"now active, {outcome.rescored} photo(s) re-scored" if outcome.promoted else "kept, not promoted"))
    return EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        versions = catalog.models()
    for v in versions:
        error = error_text(v.metrics.get("error_rate"), measured_photos(v.metrics), "held-out")
        print(f"{'*' if v.active else ' '} {v.id[:12]}  {v.created}  {v.kind:<6} {v.arch:<13} "
              f"{error:<36}  parent {(v.parent or '-')[:12]}")
    return EXIT_OK


def run_promote(args: argparse.Namespace) -> int:
    from lakeview.core.training.retrain import rescore

    with open_catalog(args) as catalog:
        version = version_by_prefix(catalog, args.version)
        catalog.set_active(version)
        with ctrl_c_stops() as stop, Bar("re-scoring", False, "photo") as bar:
            count = rescore(catalog, progress=bar, should_stop=stop)
    say(f"{version[:12]} is active; {count} photo(s) re-scored")
    return EXIT_OK
