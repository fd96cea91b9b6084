"""The fast recipe: the frozen phase on cached augmented views, the unfrozen phase's best epoch, early stopping
and the time budget, as the learner, train() and `lakeview train` run them."""

from __future__ import annotations

import argparse

import pytest
import torch

from lakeview.cli.arg_types import duration
from lakeview.core.datasets.importers import from_folder
from lakeview.core.training.best_epoch import BestEpoch, EarlyStopping
from lakeview.core.training.fit_records import EpochStats, PhaseEnd
from lakeview.core.training.learner import Learner
from lakeview.core.training.learner_features import TRAIN_VIEWS
from lakeview.core.training.phases import PhaseSummary, make_learner, train
from lakeview.core.training.plan import QUICK_SECONDS, TrainingPlan, quick, thorough

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights")

TINY = dict(arch="tiny", weights="none", size=32, batch_size=4, lr=1e-2, unfrozen_lr=1e-2, seed=7)


def _learner(folder, **options) -> Learner:
    return Learner(from_folder(folder), **({k: v for k, v in TINY.items() if k not in ("lr", "unfrozen_lr")} | options))


def _stats(epoch: int, error: float | None, loss: float | None = 1.0) -> EpochStats:
    return EpochStats(epoch, "unfrozen", 1.0, loss, error, 1.0, 1e-3)


def _weights(network) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in network.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_best_epoch_is_put_back_and_ties_go_to_the_lower_loss():
    network = torch.nn.Linear(2, 2)
    tracker = BestEpoch(network, baseline=_stats(1, 0.2))
    at_baseline = _weights(network)
    with torch.no_grad():
        network.weight.add_(1.0)
    assert tracker.offer(_stats(2, 0.2, loss=0.5)), "the same error at a lower loss is a gain"
    better = _weights(network)
    with torch.no_grad():
        network.weight.add_(1.0)
    assert not tracker.offer(_stats(3, 0.3)) and tracker.epochs_without_gain == 1
    assert tracker.restore().epoch == 2 and _same(_weights(network), better)
    assert not _same(better, at_baseline)


def test_without_validation_figures_nothing_is_put_back():
    network = torch.nn.Linear(2, 2)
    tracker = BestEpoch(network)
    assert not tracker.offer(_stats(1, None, None))
    assert tracker.restore() is None


def test_the_frozen_phase_trains_on_augmented_views_the_same_for_the_same_seed(colour_folders):
    runs = []
    for _ in range(2):
        learner = _learner(colour_folders, views=3)
        runs.append(learner)
        assert learner.uses_feature_cache and learner.cached_train_split == TRAIN_VIEWS
        assert learner.pending_feature_passes((TRAIN_VIEWS, "valid")) == 3 * len(learner.data.train) + len(learner.data.valid)
        learner.fit_one_cycle(2, 1e-2)
    first, second = runs
    views = first.feature_cache.fresh(TRAIN_VIEWS).features
    assert views.shape[:2] == (3, len(first.data.train))
    assert torch.equal(views, second.feature_cache.fresh(TRAIN_VIEWS).features), "views are chosen by the seed"
    assert not torch.equal(views[0], views[1]), "each view is augmented differently"
    assert first.history[-1].phase == "frozen (3 cached views)"
    assert _same(_weights(first.network), _weights(second.network))


def test_without_views_every_frozen_epoch_runs_the_body_on_fresh_augmentation(colour_folders):
    learner = _learner(colour_folders, views=0)
    assert not learner.uses_feature_cache
    learner.fit_one_cycle(1, 1e-2)
    assert learner.history[-1].phase == "frozen" and learner.feature_cache.fresh(TRAIN_VIEWS) is None


def test_an_unfrozen_phase_without_gain_ends_early_with_the_weights_it_started_from(colour_folders):
    learner = _learner(colour_folders, views=2)
    learner.fit_one_cycle(3, 1e-2)
    before = _weights(learner.network)
    learner.unfreeze()
    result = learner.fit_one_cycle(5, 10.0, early_stopping=EarlyStopping(patience=1),
                                   baseline=_stats(0, 0.0, loss=0.0))  # nothing can beat a perfect baseline

    assert result.ended is PhaseEnd.NO_GAIN and len(result.epochs) == 1
    assert result.kept.epoch == 0 and learner.kept is result.kept
    assert _same(_weights(learner.network), before), "a learning rate of 10 wrecked the network; it was undone"
    assert learner.meta().metrics["kept_epoch"] == 0


def test_a_time_budget_spent_by_the_frozen_phase_skips_the_unfrozen_one(colour_folders):
    plan = TrainingPlan(**TINY, frozen_epochs=2, unfrozen_epochs=3, time_budget=1e-6)
    learner = make_learner(from_folder(colour_folders), plan)
    summaries: list[PhaseSummary] = []

    assert not train(learner, plan, on_phase_end=summaries.append)

    assert [stats.phase for stats in learner.history] == ["frozen (1 cached view)"] * 2
    (summary,) = summaries
    assert summary.unfrozen and summary.ran == 0 and summary.planned == 3
    assert summary.describe() == "Unfrozen phase skipped: the time budget was spent before it could run one epoch"


def test_a_time_budget_ends_the_unfrozen_phase_between_epochs(colour_folders):
    learner = _learner(colour_folders, views=2)
    learner.fit_one_cycle(1, 1e-2)
    learner.unfreeze()
    import time

    result = learner.fit_one_cycle(4, 1e-3, early_stopping=EarlyStopping(patience=None, deadline=time.perf_counter()))
    assert result.ended is PhaseEnd.TIME_BUDGET and len(result.epochs) == 1


def test_phase_summaries_say_what_happened_with_the_photo_count():
    kept = _stats(5, 1 / 30)
    assert PhaseSummary(True, 4, 2, PhaseEnd.NO_GAIN, kept, 30).describe() == (
        "Unfrozen phase ended after 2 of 4 epochs: no gain on the validation photos; kept the weights of epoch 5 "
        "(3.3% error on 30 photos), the best")
    assert PhaseSummary(True, 4, 3, PhaseEnd.TIME_BUDGET, None, 30).describe() == (
        "Unfrozen phase ended after 3 of 4 epochs to stay within the time budget")
    assert PhaseSummary(True, 4, 4, None, kept, 30).describe() == (
        "Unfrozen phase ran its 4 epochs; kept the weights of epoch 5 (3.3% error on 30 photos), the best")


def test_quick_and_thorough_plans():
    plan = TrainingPlan()
    assert (quick(plan).time_budget, quick(plan).patience) == (QUICK_SECONDS, 1)
    assert (thorough(plan).time_budget, thorough(plan).patience) == (None, 2)
    assert plan.views > 0 and plan.patience == 1 and plan.time_budget is None
    for bad in (dict(views=-1), dict(patience=0), dict(time_budget=0.0)):
        with pytest.raises(ValueError):
            TrainingPlan(**bad).check()


@pytest.mark.parametrize("text, seconds", [("60", 60), ("60s", 60), ("1.5m", 90), ("2m30s", 150), ("1h", 3600),
                                           (" 90S ", 90)])
def test_time_budgets_are_read_as_a_person_writes_them(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0s", "-5", "soon", "5 minutes", "1m1h"])
def test_a_time_budget_that_is_not_a_duration_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="more than 0 seconds|duration"):
        duration(text)


def test_lakeview_train_reads_the_recipe_flags(tmp_path):
    from lakeview.cli.main import build_parser
    from lakeview.cli.train import plan_of

    parser = build_parser()
    default = plan_of(parser.parse_args(["train", str(tmp_path), "--out", str(tmp_path / "m.lvmodel")]))
    assert (default.views, default.patience, default.time_budget) == (TrainingPlan().views, 1, None)
    chosen = plan_of(parser.parse_args(["train", str(tmp_path), "--out", str(tmp_path / "m.lvmodel"), "--views", "0",
                                        "--time-budget", "2m", "--no-early-stop"]))
    assert (chosen.views, chosen.patience, chosen.time_budget) == (0, None, 120.0)


def test_a_photo_unread_in_one_view_is_left_out_of_every_view():
    from lakeview.core.training.features_in_memory import SplitFeatures
    from lakeview.core.training.learner_features import stack_views

    first = SplitFeatures(torch.tensor([[0.0], [1.0], [2.0]]), torch.tensor([0, 1, 0]), [0, 1, 2])
    second = SplitFeatures(torch.tensor([[10.0], [12.0]]), torch.tensor([0, 0]), [0, 2])  # photo 1 failed here
    stacked = stack_views([first, second])
    assert stacked.kept == [0, 2] and stacked.targets.tolist() == [0, 0]
    assert stacked.features.squeeze(-1).tolist() == [[0.0, 2.0], [10.0, 12.0]]
