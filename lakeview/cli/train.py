"""`lakeview train` and `lakeview lr-find`."""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

from lakeview.cli.arg_types import (DEVICE_FORMS, batch_size, device_name, duration, image_size, learning_rate,
                                     non_negative_int, output_file, plot_file, positive_int, require_device,
                                     worker_count)
from lakeview.cli.console import (EXIT_INTERRUPTED, EXIT_OK, EXIT_SKIPPED, Bar, UserError, ctrl_c_stops,
                                  list_skipped, say, writing)
from lakeview.cli.data_options import add_data_options, load_dataset
from lakeview.cli.team import all_ready, exit_code, processes_text, torchrun_team
from lakeview.core.models.architectures import ARCHITECTURES, HEADS
from lakeview.core.threads import usable_cores
from lakeview.core.training.plan import TrainingPlan

DEFAULTS = TrainingPlan()


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train a classifier on labelled photos",
                                description="Transfer learning: the head on a frozen ImageNet body, then the "
                                            "whole network with discriminative learning rates.")
    add_data_options(train)
    add_model_options(train)
    train.add_argument("--epochs", type=non_negative_int, default=DEFAULTS.frozen_epochs,
                       help=f"epochs with the body frozen (default {DEFAULTS.frozen_epochs})")
    train.add_argument("--unfreeze-epochs", type=non_negative_int, default=DEFAULTS.unfrozen_epochs,
                       help=f"epochs with the whole network (default {DEFAULTS.unfrozen_epochs})")
    train.add_argument("--lr", type=learning_rate, default=DEFAULTS.lr,
                       help=f"peak learning rate, frozen (default {DEFAULTS.lr})")
    train.add_argument("--unfreeze-lr", type=learning_rate, default=DEFAULTS.unfrozen_lr,
                       help=f"peak learning rate of the head when unfrozen; the first layers get a tenth, spread "
                            f"geometrically (default {DEFAULTS.unfrozen_lr})")
    train.add_argument("--views", type=non_negative_int, default=DEFAULTS.views,
                       help=f"augmented views of each photo whose body features the frozen phase computes once "
                            f"and trains on; 0 runs the body every frozen epoch (default {DEFAULTS.views})")
    train.add_argument("--patience", type=positive_int, default=DEFAULTS.patience,
                       help=f"unfrozen epochs without a gain on the validation photos before the phase ends; "
                            f"the best epoch is kept either way (default {DEFAULTS.patience})")
    train.add_argument("--no-early-stop", action="store_true",
                       help="run every unfrozen epoch (the best one is still kept)")
    train.add_argument("--time-budget", type=duration, metavar="TIME",
                       help="finish within about this long, e.g. 60s or 5m: the unfrozen phase gets the epochs "
                            "that fit (default: no limit)")
    train.add_argument("--out", type=output_file, required=True, help="model file to write (.lvmodel)")
    train.set_defaults(run=run_train)

    finder = commands.add_parser("lr-find", help="sweep the learning rate and suggest one",
                                 description="Train briefly with an exponentially growing learning rate; the "
                                             "network is left as it was.")
    add_data_options(finder)
    add_model_options(finder)
    finder.add_argument("--unfrozen", action="store_true", help="sweep with the whole network trainable")
    finder.add_argument("--iterations", type=positive_int, default=100, help="steps in the sweep (default 100)")
    finder.add_argument("--plot", type=plot_file, help="write the curve to this file: .png (needs matplotlib) or .csv")
    finder.set_defaults(run=run_lr_find)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--arch", choices=sorted(ARCHITECTURES), default=DEFAULTS.arch,
                       help=f"backbone (default {DEFAULTS.arch})")
    group.add_argument("--weights", default=DEFAULTS.weights,
                       help="imagenet (torchvision's, downloaded once), a .pth state_dict FILE of the torchvision "
                            "model, or none")
    group.add_argument("--head", choices=HEADS, default=DEFAULTS.head,
                       help=f"classifier head (default {DEFAULTS.head})")
    group.add_argument("--size", type=image_size, default=DEFAULTS.size,
                       help=f"image size in pixels (default {DEFAULTS.size})")
    group.add_argument("--bs", type=batch_size, default=DEFAULTS.batch_size,
                       help=f"batch size (default {DEFAULTS.batch_size})")
    group.add_argument("--no-flip", action="store_true", help="no mirror images in augmentation (scenes, text)")
    group.add_argument("--no-augment", action="store_true", help="no augmentation at all")
    group.add_argument("--device", type=device_name, default=DEFAULTS.device,
                       help=f"where the network runs: {DEVICE_FORMS} (default auto: CUDA, then MPS, then CPU)")
    group.add_argument("--workers", type=worker_count, default=DEFAULTS.workers,
                       help=f"data-loading processes; 0 loads photos in-process (default here {DEFAULTS.workers}, "
                            f"for {usable_cores()} cores: none on 2 or fewer, one per 4 on more, at most 4)")
    group.add_argument("--quiet", action="store_true", help="no progress bars")


def plan_of(args: argparse.Namespace) -> TrainingPlan:
    return TrainingPlan(arch=args.arch, weights=args.weights, head=args.head, size=args.size, batch_size=args.bs,
                        flip=not args.no_flip, augment=not args.no_augment,
                        frozen_epochs=getattr(args, "epochs", 0), unfrozen_epochs=getattr(args, "unfreeze_epochs", 0),
                        lr=getattr(args, "lr", DEFAULTS.lr),
                        unfrozen_lr=getattr(args, "unfreeze_lr", DEFAULTS.unfrozen_lr),
                        views=getattr(args, "views", DEFAULTS.views),
                        patience=None if getattr(args, "no_early_stop", False) else getattr(args, "patience", DEFAULTS.patience),
                        time_budget=getattr(args, "time_budget", None),
                        seed=args.seed, device=args.device, workers=args.workers,
                        split_by_similarity=getattr(args, "split_by_similarity", True))


def make_learner(args: argparse.Namespace, stop, team=None):
    from lakeview.core.jobs import Stopped
    from lakeview.core.training.phases import make_learner as learner_for
    from lakeview.core.models.weights import WeightsUnavailable

    data = load_dataset(args, stop, args.quiet)
    if data is None:
        return None
    if team is not None and team.leaders(dataset_key(data, args.data)) != dataset_key(data, args.data):
        raise UserError(f"process {team.rank} of {team.size} sees other photos in {args.data} than process 0 "
                        "(every machine needs the same dataset, at any path)")
    say(data.summary(), quiet=args.quiet)
    for note in data.notes:
        say(f"note: {note}")
    list_skipped([(s.where, s.reason) for s in data.skipped])
    try:
        with Bar("downloading weights", args.quiet, "B") as bar:
            learner = learner_for(data, plan_of(args), bar, stop, team=team)
    except (WeightsUnavailable, ValueError) as exc:
        raise UserError(str(exc)) from None
    except Stopped:
        return None
    from lakeview.core.models.device import describe

    on = describe(learner.device) if team is None else f"{processes_text(team)}, each on {describe(learner.device)}"
    say(f"{args.arch} on {on}", quiet=args.quiet)
    return learner


def dataset_key(data, folder: Path) -> int:
    """The photos, labels and split, relative to the dataset folder: the same on every rank, whatever the path."""
    import zlib

    def names(photos):
        return [(str(p.path.relative_to(folder)) if p.path.is_relative_to(folder) else str(p.path), p.label)
                for p in photos]

    return zlib.crc32(repr((data.classes, names(data.train), names(data.valid))).encode())


def print_epoch(stats) -> None:
    valid = "-" if stats.valid_loss is None else f"{stats.valid_loss:.4f}"
    error = "-" if stats.error_rate is None else f"{stats.error_rate:.2%}"
    print(f"{stats.epoch:>5}  {stats.phase:<24} {stats.train_loss:>10.4f} {valid:>10} {error:>8} {stats.seconds:>7.1f}s",
          flush=True)


def run_train(args: argparse.Namespace) -> int:
    """Alone, or as one rank of a torchrun launch: then rank 0 alone prints and writes the model, once every rank
    has finished training."""
    plan = plan_of(args)
    try:
        plan.check()
    except ValueError as exc:
        raise UserError(str(exc).replace("the frozen and/or unfrozen phase", "--epochs and/or --unfreeze-epochs")) from None
    if args.out.exists() and args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder; give a file name such as lakes.lvmodel")
    require_device(args.device)
    with torchrun_team(args.device) as team:
        if team is not None and (args.bs % team.size or args.bs < 2 * team.size):
            raise UserError(f"--bs {args.bs} cannot be shared by {team.size} processes, at least 2 photos each and "
                            f"as many each; give a multiple of {team.size} from {2 * team.size} (it is the batch "
                            "of all of them together)")
        if team is not None and not team.leader:
            args.quiet = True
        return exit_code(team, _train(args, plan, team))


def _train(args: argparse.Namespace, plan: TrainingPlan, team) -> int:
    from lakeview.core.training.phases import train

    started = time.perf_counter()
    with ctrl_c_stops() as stop:
        learner, problem = None, None
        try:
            learner = make_learner(args, stop, team)
        except UserError as exc:
            problem = exc
        if not all_ready(team, learner is not None, "start training"):
            if problem is not None:
                raise problem
            say("stopped; nothing written")
            return EXIT_INTERRUPTED
        if learner.data.groups_kept is not None and (team is None or team.leader):
            print(learner.data.groups_kept)
        print(f"error: on the {len(learner.data.valid)} validation photo(s)")
        print(f"{'epoch':>5}  {'phase':<24} {'train_loss':>10} {'valid_loss':>10} {'error':>8} {'time':>8}")
        with Bar("training", args.quiet, "‰") as bar:
            stopped = train(learner, plan, progress=bar, should_stop=stop,
                            on_epoch=lambda report: print_epoch(report.stats),
                            on_phase_end=lambda summary: print(summary.describe(), flush=True))
        if stopped:
            say("stopped; nothing written")
            return EXIT_INTERRUPTED
    failed = [(p, r) for p, r in learner.failures.items()]
    if team is not None:  # each rank read its own share of the photos in the unfrozen phase
        failed = sorted(dict(team.gather(failed)).items())
    if team is None or team.leader:
        with writing(args.out):
            learner.export(args.out, notes=f"trained by 'lakeview train' on {args.data}"
                                           + ("" if team is None else f" by {team.size} processes"))
        say(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    list_skipped(failed)
    return EXIT_SKIPPED if (failed or learner.data.skipped) else EXIT_OK


def run_lr_find(args: argparse.Namespace) -> int:
    from lakeview.core.distributed import started_by_torchrun

    if started_by_torchrun():
        raise UserError("lr-find runs in one process: start it without torchrun")
    require_device(args.device)
    if args.plot and args.plot.suffix.lower() == ".png" and importlib.util.find_spec("matplotlib") is None:
        raise UserError("a PNG plot needs matplotlib (pip install matplotlib); or use --plot curve.csv")
    with ctrl_c_stops() as stop:
        learner = make_learner(args, stop)
        if learner is None:
            return EXIT_INTERRUPTED
        if args.unfrozen:
            learner.unfreeze()
        from lakeview.core.training.lr_finder import lr_find

        with Bar("lr sweep", args.quiet, "step") as bar:
            result = lr_find(learner, num_it=args.iterations, progress=bar, should_stop=stop)
    if result.stopped:
        say("stopped; nothing written")
        return EXIT_INTERRUPTED
    if result.suggestion is None:
        raise UserError("the sweep was too short to suggest a rate; use more photos or --iterations")
    print(f"suggested learning rate: {result.suggestion:.2e}")
    if args.plot:
        with writing(args.plot):
            write_curve(result, args.plot)
        say(f"wrote {args.plot}")
    return EXIT_OK


def write_curve(result, path: Path) -> None:
    from lakeview.core.atomic import write_atomically

    if path.suffix.lower() == ".csv":
        write_atomically(path, result.to_csv().encode())
        return
    if path.suffix.lower() != ".png":
        raise UserError(f"--plot must end in .png or .csv, not {path.suffix or 'nothing'}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("a PNG plot needs matplotlib (pip install matplotlib); or use --plot curve.csv") from None
    import io

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    axes.plot(result.lrs, result.losses, label="loss (smoothed)")
    axes.axvline(result.suggestion, color="tab:red", linestyle="--", label=f"suggestion {result.suggestion:.1e}")
    axes.set_xscale("log")
    axes.set_xlabel("learning rate")
    axes.set_ylabel("loss")
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    write_atomically(path, buffer.getvalue())
