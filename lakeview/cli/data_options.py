"""The dataset options every command that reads labelled photos shares, and turning them into LabelledPhotos."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from lakeview.cli.arg_types import fraction_below_one, given_path, label_pattern, seed
from lakeview.cli.console import UserError
from lakeview.core.jobs import ProgressFn, ShouldStopFn

if TYPE_CHECKING:
    from lakeview.core.datasets.dataset import LabelledPhotos

LAYOUTS = ("folder", "csv", "regex", "func")


def add_data_options(parser: argparse.ArgumentParser, split_flag: bool = True) -> None:
    """`split_flag`: offer --split-by-similarity (for the commands that use the validation split)."""
    parser.add_argument("data", type=given_path, help="the dataset folder")
    group = parser.add_argument_group("dataset layout (fast.ai lesson-1 forms)")
    group.add_argument("--layout", choices=LAYOUTS, default="folder",
                       help="folder: train/ valid|val/ [test/] with class subfolders, or class subfolders only; "
                            "csv: a CSV of name,label[,is_valid] (names and labels as LakeView's CSVs write them "
                            "read back exactly); regex: label = first group of --pattern in "
                            "each path; func: label = --label-func(path)")
    group.add_argument("--csv", default="labels.csv", help="CSV file, relative to DATA (default: labels.csv)")
    group.add_argument("--delimiter", choices=(",", ";", "tab", "|"),
                       help="what separates the CSV's columns (default: guessed from ',', ';', tab and '|')")
    group.add_argument("--folder", default="", help="subfolder of DATA that the CSV names are relative to")
    group.add_argument("--suffix", default="", help="appended to each CSV name, e.g. .jpg")
    group.add_argument("--pattern", type=label_pattern, help=r"regex whose first group is the label, e.g. '/([^/]+)_\d+\.jpg$'")
    group.add_argument("--label-func", help="MODULE:FUNCTION or FILE.py:FUNCTION taking a pathlib.Path")
    group.add_argument("--valid-pct", type=fraction_below_one, default=0.2,
                       help="share of photos held out for validation when the layout does not say (default 0.2)")
    group.add_argument("--seed", type=seed, default=42, help="seed for the split and training (default 42)")
    if split_flag:
        group.add_argument("--split-by-similarity", action=argparse.BooleanOptionalAction, default=True,
                           help="keep each group of near-duplicate photos (bursts, edited copies: perceptual hashes, "
                                "cached) on one side of the --valid-pct split, so the validation error is honest "
                                "(default: on)")


def load_dataset(args: argparse.Namespace, should_stop: ShouldStopFn, quiet: bool = False) -> LabelledPhotos | None:
    """The dataset the options describe, checked photo by photo under a progress bar (after the hash pass of a
    split by similarity); None if stopped. A dataset that cannot be made is a UserError."""
    from lakeview.cli.console import Bar
    from lakeview.core.datasets.dataset import DatasetError
    from lakeview.core.jobs import Stopped

    try:
        with Bar("checking photos", quiet, "photo") as bar:
            return _import(args, bar, should_stop)
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    except Stopped:
        return None


def _import(args: argparse.Namespace, progress: ProgressFn, should_stop: ShouldStopFn) -> LabelledPhotos:
    from lakeview.core.datasets.csv_importer import from_csv
    from lakeview.core.datasets.importers import from_folder, from_name_func, from_name_re

    common = dict(valid_pct=args.valid_pct, seed=args.seed, progress=progress, should_stop=should_stop,
                  split_by_similarity=getattr(args, "split_by_similarity", False))
    if args.layout == "folder":
        return from_folder(args.data, **common)
    if args.layout == "csv":
        delimiter = "\t" if args.delimiter == "tab" else args.delimiter
        return from_csv(args.data, args.csv, folder=args.folder, suffix=args.suffix, delimiter=delimiter, **common)
    if args.layout == "regex":
        if not args.pattern:
            raise UserError("--layout regex needs --pattern")
        return from_name_re(args.data, args.pattern, **common)
    if not args.label_func:
        raise UserError("--layout func needs --label-func MODULE:FUNCTION")
    return from_name_func(args.data, import_function(args.label_func), **common)


def import_function(spec: str) -> Callable:
    target, _, name = spec.rpartition(":")
    if not target or not name:
        raise UserError(f"--label-func must look like MODULE:FUNCTION or FILE.py:FUNCTION, not {spec!r}")
    try:
        if target.endswith(".py"):
            module_spec = importlib.util.spec_from_file_location(Path(target).stem, target)
            if module_spec is None or module_spec.loader is None:
                raise UserError(f"cannot load {target}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
        return getattr(module, name)
    except UserError:
        raise
    except Exception as exc:  # the user's module may fail in any way as it loads (a SyntaxError, a NameError...)
        raise UserError(f"cannot use --label-func {spec}: {type(exc).__name__}: {exc}") from None
