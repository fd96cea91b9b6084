"""`lakeview catalog classify [FOLDER] [--all]`: the library's photos predicted by its model, the predictions stored
in the catalog (what the app's Classify does, from the command line). Photos the model has classified as they are
now are left alone unless --all is given."""

from __future__ import annotations

import argparse
from pathlib import Path

from lakeview.cli.arg_types import DEVICE_FORMS, device_name, require_device
from lakeview.cli.catalog_access import catalog_command, open_catalog, say_stopped, version_by_prefix
from lakeview.cli.console import EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops, list_skipped, say
from lakeview.cli.shell_quoting import shell_quoted
from lakeview.core.photos.file_names import absolute_path, shown_path


def add_classify(sub: argparse._SubParsersAction) -> None:
    classify = sub.add_parser("classify", help="predict the library's photos with the active model and store the "
                                               "predictions (as the app's Classify does)")
    classify.add_argument("folder", type=Path, nargs="?",
                          help="only the catalog's photos in this folder and its sub-folders (default: all)")
    classify.add_argument("--version", help="a model version instead of the active one (a unique prefix is enough)")
    classify.add_argument("--all", action="store_true", dest="everything",
                          help="classify every photo again, even those this model has classified as they are now "
                               "(by default they are left alone, so a stopped classification goes on where it "
                               "stopped)")
    classify.add_argument("--device", type=device_name, default="auto",
                          help=f"where the network runs: {DEVICE_FORMS} (default auto: CUDA, then MPS, then CPU)")
    classify.set_defaults(run=run_classify)


def run_classify(args: argparse.Namespace) -> int:
    from lakeview.core.models.classify_library import classify_library, plan_library

    with ctrl_c_stops() as stop, open_catalog(args) as catalog:
        if args.version is not None:
            version = version_by_prefix(catalog, args.version)
        elif catalog.active_model() is not None:
            version = catalog.active_model().id
        else:
            raise UserError(f"the library has no model yet; train one with `{catalog_command(args)} retrain`")
        folder = absolute_path(args.folder) if args.folder is not None else None
        if not catalog.query_ids(folder=folder, limit=1):
            where, add = (f"in {shown_path(folder)}", shell_quoted(folder)) if folder else ("yet", "FOLDER")
            raise UserError(f"the catalog has no photos {where}; add them with `{catalog_command(args)} add {add}`")
        require_device(args.device)
        plan = plan_library(catalog, folder=folder, version=version, everything=args.everything)
        say(plan.describe())
        with Bar("classifying", False, "photo") as bar:
            summary = classify_library(catalog, plan=plan, device=args.device, progress=bar, should_stop=stop)
    if summary.stopped:
        return say_stopped(f"{summary.classified} prediction(s) stored before the stop stay in the catalog")
    left_alone = plan.describe_skipped()
    say(f"classified {summary.classified} photo(s) with {version[:12]}"
        + (f"; {left_alone} (--all classifies them again)" if left_alone else ""))
    skipped = [(shown_path(p), reason) for p, reason in summary.missing + summary.unreadable]
    list_skipped(skipped)
    if summary.missing:
        say(f"{len(summary.missing)} photo(s) of the catalog are not on disk; `{catalog_command(args)} rescan` "
            "flags deleted photos and finds moved ones")
    return EXIT_SKIPPED if skipped else EXIT_OK
