"""Which fast recipe: how many augmented views the frozen phase caches, how long the head trains on them, and
what the unfrozen phase adds, in validation error and seconds, on real photos.

Needs ../shared (hymenoptera photos and the ImageNet MobileNetV2 weights). Run on purpose:

    .venv/bin/python benchmarks/fast_recipe.py                 # views x head epochs, 3 seeds (about 5 minutes)
    .venv/bin/python benchmarks/fast_recipe.py --unfrozen 4    # then each seed's best row unfrozen, early stopping

For each seed, the body runs once over the training photos per view (the most views asked for), once over them
as validated (the centre crop), and once over the validation photos; fewer views reuse the first of them, which is
exactly what a run with fewer views computes. "(1 centre)" rows replace one augmented view with the centre crop.
Prints validation error (153 photos: one photo is 0.65 points) and the seconds each part took.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

from lakeview.core.datasets.importers import from_folder
from lakeview.core.training.best_epoch import EarlyStopping
from lakeview.core.training.features_in_memory import SplitFeatures
from lakeview.core.training.learner import Learner
from lakeview.core.training.learner_features import TRAIN_VIEWS
from lakeview.core.training.plan import DEFAULT_LR, DEFAULT_UNFROZEN_LR

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"


def percent(value: float | None) -> str:
    return "  -  " if value is None else f"{100 * value:5.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--head-epochs", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--lr", type=float, default=DEFAULT_LR)
    parser.add_argument("--unfrozen", type=int, default=0, help="unfrozen epochs after the best head (0: none)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not (args.data.is_dir() and WEIGHTS.is_file()):
        print(f"needs {args.data} and {WEIGHTS} (../shared is absent on a user's clone)", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    data = from_folder(args.data)
    print(f"{len(data.train)} training and {len(data.valid)} validation photos, {len(data.classes)} classes; "
          f"mobilenet_v2 (ImageNet), {torch.get_num_threads()} threads")
    table: dict[tuple[int, int], list[float]] = {}
    for seed in args.seeds:
        learner = Learner(data, arch="mobilenet_v2", weights=WEIGHTS, seed=seed, views=max(args.views))
        started = time.perf_counter()
        learner.ensure_features((TRAIN_VIEWS, "valid", "train"), lambda *_: None, lambda: False)
        pass_seconds = time.perf_counter() - started
        print(f"seed {seed}: feature pass {pass_seconds:.1f} s ({learner.body_rate:.0f} photos/s, "
              f"{max(args.views)} views of {len(data.train)} + {len(data.valid)} validation photos)")
        all_views = learner.feature_cache.fresh(TRAIN_VIEWS)
        centre = learner.feature_cache.fresh("train").features.unsqueeze(0)
        assert learner.feature_cache.fresh("train").kept == all_views.kept
        head = {k: v.clone() for k, v in learner.network.head.state_dict().items()}
        best = None
        for views, with_centre in [(v, c) for v in args.views for c in (False, True)]:
            for epochs in args.head_epochs:
                chosen = torch.cat([centre, all_views.features[:views - 1]]) if with_centre else all_views.features[:views]
                learner.feature_cache.put(TRAIN_VIEWS, SplitFeatures(chosen, all_views.targets, all_views.kept))
                learner.network.head.load_state_dict(head)
                torch.manual_seed(seed)
                started = time.perf_counter()
                result = learner.fit_one_cycle(epochs, args.lr)
                error = result.epochs[-1].error_rate
                table.setdefault((views, with_centre, epochs), []).append(error)
                print(f"  views {views:>2}{' (1 centre)' if with_centre else '           '}  head epochs {epochs:>3}: error {percent(error)}%  "
                      f"({time.perf_counter() - started:.1f} s)")
                if best is None or error < best[0]:
                    best = (error, views, epochs, {k: v.clone() for k, v in learner.network.head.state_dict().items()})
        if args.unfrozen:
            error, views, epochs, weights = best
            learner.network.head.load_state_dict(weights)
            baseline = learner.history[-1].__class__(0, "head", 0.0, None, error, 0.0, 0.0)
            learner.unfreeze()
            started = time.perf_counter()
            result = learner.fit_one_cycle(args.unfrozen, slice(DEFAULT_UNFROZEN_LR / 10, DEFAULT_UNFROZEN_LR),
                                           early_stopping=EarlyStopping(patience=1), baseline=baseline)
            errors = " ".join(percent(e.error_rate) for e in result.epochs)
            kept = result.kept.epoch if result.kept else "last"
            print(f"  unfrozen after views {views} x {epochs}: per epoch {errors}; ended: "
                  f"{result.ended.value if result.ended else 'all epochs'}; kept {kept}; "
                  f"{time.perf_counter() - started:.1f} s")
    print("\nmean error % over seeds")
    for (views, with_centre, epochs), errors in sorted(table.items()):
        print(f"  views {views:>2}{' (1 centre)' if with_centre else '           '}  head epochs {epochs:>3}: {statistics.mean(errors) * 100:5.2f}  "
              f"({' '.join(percent(e) for e in errors)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
