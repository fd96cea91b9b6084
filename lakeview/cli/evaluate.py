"""`lakeview evaluate`: error rate, confusion matrix and top losses of a model on labelled photos."""

from __future__ import annotations

import argparse
import json

from lakeview.cli.arg_types import (DEVICE_FORMS, batch_size, device_name, given_path, non_negative_int, output_file,
                                     require_device)
from lakeview.cli.console import (EXIT_INTERRUPTED, EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops,
                                  list_skipped, say, writing)
from lakeview.cli.data_options import add_data_options, load_dataset


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("evaluate", help="measure a model on labelled photos",
                                 description="Error rate, accuracy per class, confusion matrix, most confused "
                                             "pairs and top losses.")
    add_data_options(parser)
    parser.add_argument("--model", type=given_path, required=True, help="model file (.lvmodel)")
    parser.add_argument("--split", choices=("valid", "test", "train"), default="valid",
                        help="which photos to evaluate on (default valid)")
    parser.add_argument("--top", type=non_negative_int, default=9, help="how many top losses to list (default 9)")
    parser.add_argument("--json", type=output_file, help="also write the figures to this JSON file")
    parser.add_argument("--tta", action="store_true", help="test-time augmentation")
    parser.add_argument("--bs", type=batch_size, default=32, help="batch size (default 32)")
    parser.add_argument("--device", type=device_name, default="auto",
                        help=f"where the network runs: {DEVICE_FORMS} (default auto: CUDA, then MPS, then CPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from lakeview.core.atomic import write_atomically
    from lakeview.core.models.model_file import ModelFileError, load_model
    from lakeview.core.training.evaluation import classify_labelled

    try:
        model = load_model(args.model)
    except ModelFileError as exc:
        raise UserError(str(exc)) from None
    require_device(args.device)
    with ctrl_c_stops() as stop:
        data = load_dataset(args, stop, args.quiet)
        if data is None:
            return EXIT_INTERRUPTED
        skipped = [(s.where, s.reason) for s in data.skipped]
        if data.groups_kept is not None and args.split == "valid":
            print(data.groups_kept)
        lookup = {name: i for i, name in enumerate(model.classes)}
        photos = []
        for photo in data.split(args.split):
            if photo.label is None:
                continue
            if photo.label not in lookup:
                skipped.append((str(photo.path), f"class '{photo.label}' is not one the model knows"))
            else:
                photos.append(photo)
        if not photos:
            unknown = sorted({photo.label for photo in data.split(args.split) if photo.label is not None})
            if unknown:
                raise UserError(f"none of the photos in the {args.split} split has a class the model knows "
                                f"(the model knows {_names(model.classes)}; the photos are labelled "
                                f"{_names(unknown)})")
            raise UserError(f"no labelled photos in the {args.split} split to evaluate on")
        with Bar("evaluating", args.quiet, "photo") as bar:
            interpretation, failures = classify_labelled(model, photos, batch_size=args.bs, tta=args.tta,
                                                         device=args.device, progress=bar, should_stop=stop)
        skipped += [(str(failure.path), failure.reason) for failure in failures]
        if stop():
            say("stopped; nothing written")
            return EXIT_INTERRUPTED
    if interpretation is None:
        list_skipped(skipped)
        raise UserError(f"none of the {len(photos)} photo(s) in the {args.split} split could be classified "
                        "(listed above)")
    print(interpretation.report(args.top))
    if args.json:
        figures = {
            "model": str(args.model),
            "split": args.split,
            "photos": len(interpretation.paths),
            "error_rate": interpretation.error_rate,
            "classes": model.classes,
            "confusion_matrix": interpretation.confusion_matrix(),
            "accuracy_per_class": interpretation.accuracy_per_class(),
            "most_confused": interpretation.most_confused(),
            "top_losses": [
                {"file": str(t.path), "predicted": t.predicted, "actual": t.actual, "loss": t.loss,
                 "probability_actual": t.prob_actual}
                for t in interpretation.top_losses(args.top)
            ],
        }
        with writing(args.json):
            write_atomically(args.json, json.dumps(figures, indent=2).encode())
    list_skipped(skipped)
    return EXIT_SKIPPED if skipped else EXIT_OK


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
