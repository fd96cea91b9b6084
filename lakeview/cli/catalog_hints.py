"""`lakeview catalog hints [--radius-km R] --csv FILE`: for each photo with a GPS position, what the labelled
photos taken near it are of (the app's place hint), as `file,place_hint,neighbours,distance_m` rows (the issue's
columns, first and in order), then `combined`: the app's combined guess of pixels and place, with the place
weighed as the app weighs it (core/location/place_weight.py)."""

from __future__ import annotations

import argparse
import csv

from lakeview.cli.arg_types import output_file, radius_km
from lakeview.cli.catalog_access import open_catalog, say_stopped
from lakeview.cli.console import EXIT_OK, Bar, UserError, ctrl_c_stops, say, writing
from lakeview.core.csv_cells import HOW_CELLS_ARE_WRITTEN


def add_hints(sub: argparse._SubParsersAction) -> None:
    from lakeview.core.location.hints import DEFAULT_RADIUS_KM

    hints = sub.add_parser("hints", help="place hints from GPS: the classes of the labelled photos taken near each "
                                         "photo")
    hints.add_argument("--radius-km", type=radius_km, default=DEFAULT_RADIUS_KM,
                       help=f"only labelled photos this close count (default {DEFAULT_RADIUS_KM:g} km)")
    hints.add_argument("--csv", type=output_file, required=True,
                       help="write file,place_hint,neighbours,distance_m,combined rows, one per photo with a GPS position; the "
                            "hint is empty where no labelled photo is within the radius (a labelled photo's own "
                            "label is not its hint); combined is the active model's guess with the place's, "
                            "empty without a prediction. " + HOW_CELLS_ARE_WRITTEN)
    hints.set_defaults(run=run_hints)


def run_hints(args: argparse.Namespace) -> int:
    from lakeview.core.csv_cells import csv_output, name_cell, text_cell
    from lakeview.core.jobs import Stopped
    from lakeview.core.location.fusion import best
    from lakeview.core.location.library_hints import library_hints
    from lakeview.core.location.place_weight import fit_library_weight

    with ctrl_c_stops() as stop, open_catalog(args) as catalog:
        try:
            if catalog.gps_unread_count():  # photos recorded before the catalog kept GPS
                with Bar("reading GPS", False, "photo") as bar:
                    catalog.read_unread_gps(progress=bar, should_stop=stop)
            hints = library_hints(catalog, args.radius_km, should_stop=stop, every=True)
            hints.weight = fit_library_weight(catalog, hints)
        except Stopped:
            return say_stopped("no hints were written")
    if not len(hints):
        raise UserError("none of the catalog's photos has a GPS position")
    rows = sorted(((photo.path, hints.of(photo.id)) for photo in hints.photos), key=lambda row: str(row[0]))
    with writing(args.csv), csv_output(args.csv) as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "place_hint", "neighbours", "distance_m", "combined"])
        for path, photo in rows:
            hint = photo.hint
            writer.writerow([name_cell(path), text_cell(hint.top) if hint else "",
                             hint.neighbours if hint else "", f"{hint.distance_m:.0f}" if hint else "",
                             text_cell(best(photo.combined)[0]) if photo.combined else ""])
    hinted = sum(photo.hint is not None for _, photo in rows)
    say(f"wrote {len(rows)} rows to {args.csv}: {hinted} photo(s) with a hint within {args.radius_km:g} km, "
        f"{len(rows) - hinted} without; combined guesses with the {hints.weight.text()}")
    return EXIT_OK
