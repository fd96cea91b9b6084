"""`lakeview catalog groups`: the library's photos in groups of similar photos (by their body features), written as
file,group rows and kept in the catalog, so that `lakeview catalog label --group N --as CLASS` labels group N."""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from lakeview.cli.arg_types import grouping_distance, output_file, positive_int
from lakeview.cli.catalog_access import catalog_command, open_catalog, say_stopped
from lakeview.cli.console import EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops, list_skipped, say, writing
from lakeview.core.csv_cells import HOW_CELLS_ARE_WRITTEN
from lakeview.core.models.architectures import ARCHITECTURES, DEFAULT_ARCH
from lakeview.core.similarity.grouping import DEFAULT_DISTANCE
from lakeview.core.photos.file_names import shown_path


def add_groups(sub: argparse._SubParsersAction) -> None:
    groups = sub.add_parser("groups", help="put similar photos in numbered groups (by their body features) and write "
                                           "file,group rows",
                            description="Groups the library's photos by the cosine distance of their body "
                                        "features: the active model's, or before any model, an ImageNet "
                                        "backbone's. Features are computed once and kept. Group 1 is the biggest; "
                                        "`lakeview catalog label --group N --as CLASS` labels the photos of group N "
                                        "of this grouping.")
    groups.add_argument("--csv", type=output_file, required=True,
                        help="write file,group rows, one per photo, the group empty for a photo in none; names "
                             "are relative to the folder holding all the photos. " + HOW_CELLS_ARE_WRITTEN)
    groups.add_argument("--min-size", type=positive_int, default=2,
                        help="smallest group; photos of smaller clusters are in none (default 2)")
    groups.add_argument("--distance", type=grouping_distance, default=DEFAULT_DISTANCE,
                        help="cosine distance at which groups stop merging (average linkage): smaller makes "
                             f"tighter groups (default {DEFAULT_DISTANCE}, as the app's Show ▸ Groups)")
    groups.add_argument("--arch", choices=sorted(ARCHITECTURES), default=DEFAULT_ARCH,
                        help=f"backbone when the library has no model yet (default {DEFAULT_ARCH})")
    groups.add_argument("--weights", default="imagenet",
                        help="its weights: imagenet (the file downloaded once by training) or a FILE.pth")
    groups.set_defaults(run=run_groups)


def run_groups(args: argparse.Namespace) -> int:
    from lakeview.core.jobs import Stopped
    from lakeview.core.models.model_file import ModelFileError
    from lakeview.core.models.weights import WeightsUnavailable
    from lakeview.core.similarity.library_groups import GroupingStep, group_library

    with ctrl_c_stops() as stop, open_catalog(args) as catalog:
        photos = {source.id: source.path for source in catalog.photo_sources()}
        if not photos:
            raise UserError(f"the catalog has no photos yet; add them with `{catalog_command(args)} add FOLDER`")
        bars = {GroupingStep.FEATURES: Bar("body features", False, "photo"), GroupingStep.GROUPING: Bar("grouping")}
        current: list[Bar] = []

        def on_step(step: GroupingStep) -> None:
            for bar in current:
                bar.close()
            current[:] = [bars[step]]

        try:
            result = group_library(catalog, min_size=args.min_size, distance=args.distance, arch=args.arch, weights=args.weights,
                                   progress=lambda done, total: current[0](done, total), should_stop=stop,
                                   on_step=on_step)
        except Stopped:
            return say_stopped("no grouping was stored; the features computed so far are kept, so the next run "
                               "goes on from there")
        except (WeightsUnavailable, ModelFileError) as exc:
            raise UserError(str(exc)) from None
        finally:
            for bar in current:
                bar.close()
    root = _write_rows(args.csv, photos, result.grouping.groups)
    say(f"{result.describe()}; wrote {len(photos)} rows to {args.csv}; names are relative to {shown_path(root)}")
    if result.features.computed:
        say(f"features of {result.features.computed} photo(s) computed and kept for the next time")
    skipped = [(shown_path(p), reason) for p, reason in result.skipped]
    list_skipped(skipped)
    return EXIT_SKIPPED if skipped else EXIT_OK


def _write_rows(target: Path, photos: dict[int, Path], groups: list[list[int]]) -> Path:
    """file,group rows: group 1's photos most central first, then group 2's..., then the photos in none by name.
    Returns the folder that the names are relative to."""
    from lakeview.core.csv_cells import csv_output, name_cell

    root = Path(os.path.commonpath([str(p.parent) for p in photos.values()]))
    rows = [(photo, number) for number, members in enumerate(groups, 1) for photo in members if photo in photos]
    grouped = {photo for photo, _ in rows}
    rows += [(photo, "") for photo in sorted(set(photos) - grouped, key=lambda i: str(photos[i]))]
    with writing(target), csv_output(target) as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "group"])
        writer.writerows([(name_cell(photos[photo].relative_to(root).as_posix()), number) for photo, number in rows])
    return root


def label_group(args: argparse.Namespace, label: str) -> int:
    """`catalog label --group N --as CLASS`: the photos of group N of the stored grouping, as one undoable action."""
    from lakeview.core.catalog import CatalogError

    with open_catalog(args) as catalog:
        count = len(catalog.group_photo_ids(args.group))
        try:
            action = catalog.label_group(args.group, label, source="user")
        except CatalogError as exc:
            advice = (f"; `{catalog_command(args)} groups --csv FILE` groups the photos"
                      if catalog.grouping_record() is None else "")
            raise UserError(f"{exc}{advice}") from None
    say(f"labelled the {count} photo(s) of group {args.group} '{label}'" if action else "nothing changed")
    return EXIT_OK
