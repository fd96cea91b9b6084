"""Training: the loss falls, stopping is prompt, runs repeat with a seed, frozen heads train on cached features."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.datasets.importers import from_folder
from lakeview.core.models.inference import classify_files
from lakeview.core.training.learner import Learner
from lakeview.core.training.lr_finder import lr_find
from lakeview.core.training.plan import spread_learning_rates
from lakeview.core.models.model_file import load_model
from lakeview.core.models.transforms import NO_AUGMENTATION

SIZE = 32


def _learner(folder, **kwargs) -> Learner:
    data = from_folder(folder)
    options = dict(arch="tiny", weights="none", size=SIZE, batch_size=4, seed=7)
    options.update(kwargs)
    with pytest.warns(UserWarning, match="random weights"):
        return Learner(data, **options)


def test_training_lowers_the_loss_and_learns_the_colours(colour_folders):
    learner = _learner(colour_folders)
    learner.unfreeze()
    result = learner.fit_one_cycle(4, 1e-2)

    losses = [e.train_loss for e in result.epochs]
    assert len(result.epochs) == 4 and not result.stopped
    assert losses[-1] < losses[0]
    assert result.epochs[-1].error_rate <= 0.25
    assert [e.epoch for e in learner.history] == [1, 2, 3, 4]
    assert all(e.valid_loss is not None and e.seconds > 0 for e in result.epochs)


def test_stop_is_honoured_within_one_batch(colour_folders):
    learner = _learner(colour_folders)
    steps = []
    result = learner.fit_one_cycle(3, 1e-3, progress=lambda done, total: steps.append(done),
                                   should_stop=lambda: len(steps) >= 2)
    assert result.stopped
    assert steps == [1, 2]
    assert result.epochs == []


def test_a_stop_during_a_batch_ends_it_before_the_next_stage_of_the_body(colour_folders):
    """A Stop pressed while a (long) forward pass runs ends it within one stage: the optimizer never steps."""
    learner = _learner(colour_folders)
    learner.unfreeze()
    before = [p.detach().clone() for p in learner.network.parameters()]
    stages_run: list[str] = []
    for name, stage in learner.network.body.named_children():
        stage.register_forward_hook(lambda module, inputs, output, name=name: stages_run.append(name))

    result = learner.fit_one_cycle(1, 1e-2, should_stop=lambda: len(stages_run) >= 2)

    assert result.stopped and result.epochs == []
    assert stages_run == list(dict(learner.network.body.named_children()))[:2], "no stage ran after the stop"
    assert all(torch.equal(a, b) for a, b in zip(before, learner.network.parameters()))


def test_a_stop_during_the_backward_pass_ends_it_before_the_next_stage_and_nothing_steps(colour_folders):
    learner = _learner(colour_folders)
    learner.unfreeze()
    before = [p.detach().clone() for p in learner.network.parameters()]
    stages = list(dict(learner.network.body.named_children()).values())
    backward_stages: list[int] = []
    for i, stage in enumerate(stages):
        stage.register_full_backward_hook(lambda module, grad_in, grad_out, i=i: backward_stages.append(i))

    result = learner.fit_one_cycle(1, 1e-2, should_stop=lambda: len(backward_stages) >= 1)

    assert result.stopped and result.epochs == []
    assert backward_stages == [len(stages) - 1], "the backward pass ended one stage after the stop"
    assert all(torch.equal(a, b) for a, b in zip(before, learner.network.parameters()))


def test_a_stop_during_the_feature_pass_ends_it_within_the_batch(colour_folders):
    from lakeview.core.models.model_file import SavedModel
    from lakeview.core.training.features import extract_features

    learner = _learner(colour_folders)
    stages_run: list[str] = []
    for name, stage in learner.network.body.named_children():
        stage.register_forward_hook(lambda module, inputs, output, name=name: stages_run.append(name))
    paths = [p.path for p in learner.data.train]

    rows = list(extract_features(SavedModel(learner.network, learner.meta()), paths, batch_size=len(paths),
                                 should_stop=lambda: len(stages_run) >= 3))

    assert rows == [] and len(stages_run) == 3


def test_the_same_seed_gives_the_same_run(colour_folders):
    first = _learner(colour_folders).fit_one_cycle(2, 1e-2)
    second = _learner(colour_folders).fit_one_cycle(2, 1e-2)
    assert [e.train_loss for e in first.epochs] == [e.train_loss for e in second.epochs]
    assert [e.valid_loss for e in first.epochs] == [e.valid_loss for e in second.epochs]


def test_freeze_and_unfreeze_choose_what_trains(colour_folders):
    learner = _learner(colour_folders)
    body = learner.network.body
    assert not any(p.requires_grad for p in body.parameters())
    assert all(p.requires_grad for p in learner.network.head.parameters())
    learner.freeze(train_bn=True)
    assert body.bn1.weight.requires_grad and not body.conv1.weight.requires_grad
    learner.unfreeze()
    assert all(p.requires_grad for p in learner.network.parameters())
    groups = learner._param_groups(slice(1e-5, 1e-3))
    assert [g["lr"] for g in groups] == pytest.approx([1e-5, 1e-4, 1e-3])


def test_discriminative_learning_rates():
    assert spread_learning_rates(1e-3, 3) == [1e-3] * 3
    assert spread_learning_rates(slice(1e-3), 3) == pytest.approx([1e-4, 1e-4, 1e-3])
    assert spread_learning_rates(slice(1e-6, 1e-4), 3) == pytest.approx([1e-6, 1e-5, 1e-4])


def test_frozen_training_without_augmentation_runs_the_body_once_per_photo(colour_folders):
    learner = _learner(colour_folders, augmentation=NO_AUGMENTATION)
    assert learner.uses_feature_cache
    seen = []
    learner.network.body.register_forward_hook(lambda module, inputs, output: seen.append(output.shape[0]))

    result = learner.fit_one_cycle(5, 1e-2)

    photos = len(learner.data.train) + len(learner.data.valid)
    assert sum(seen) == photos
    assert result.epochs[-1].phase == "head (cached features)"
    assert result.epochs[-1].train_loss < result.epochs[0].train_loss


def test_cached_predictions_match_a_full_forward_pass(colour_folders):
    learner = _learner(colour_folders, augmentation=NO_AUGMENTATION)
    learner.fit_one_cycle(2, 1e-2)
    cached = learner.predict("valid")
    features, keep = learner.cached_features("valid")
    assert features.shape == (len(keep), 16) and keep == list(range(len(learner.data.valid)))
    learner.feature_cache.clear()
    learner.augmentation = learner.augmentation.__class__()
    full = learner.predict("valid")
    assert torch.allclose(cached.probs, full.probs, atol=1e-5)


def test_lr_find_sweeps_suggests_and_restores_the_network(colour_folders):
    learner = _learner(colour_folders)
    before = {k: v.clone() for k, v in learner.network.state_dict().items()}
    steps = []

    result = lr_find(learner, num_it=30, progress=lambda d, t: steps.append((d, t)))

    assert len(result.lrs) == len(result.losses) == len(result.raw_losses) >= 10
    assert result.lrs == sorted(result.lrs) and result.lrs[0] == pytest.approx(1e-7)
    assert result.suggestion is not None and result.lrs[0] <= result.suggestion <= result.lrs[-1]
    assert steps[-1][1] == 30
    for key, value in learner.network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert result.to_csv().splitlines()[0] == "lr,loss,raw_loss"


def test_a_broken_photo_is_reported_and_training_goes_on(colour_folders):
    broken = colour_folders / "train" / "red" / "red_0.jpg"
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) * 2 // 3])
    learner = _learner(colour_folders)
    result = learner.fit_one_cycle(1, 1e-3)
    assert len(result.epochs) == 1
    assert "truncated" in result.failures[str(broken)]


@pytest.mark.slow
def test_spawned_data_loader_workers(colour_folders):
    learner = _learner(colour_folders, workers=1)
    result = learner.fit_one_cycle(1, 1e-3)
    assert len(result.epochs) == 1 and result.epochs[0].error_rate is not None


def test_exported_model_classifies_like_the_learner(colour_folders, tmp_path):
    learner = _learner(colour_folders)
    learner.fit_one_cycle(2, 1e-2)
    saved = learner.export(tmp_path / "colours.lvmodel", notes="test")
    loaded = load_model(tmp_path / "colours.lvmodel")
    assert loaded.meta.version_id == saved.meta.version_id
    assert loaded.meta.metrics["error_rate"] == learner.history[-1].error_rate
    assert len(loaded.meta.history) == 2

    expected = learner.predict("valid")
    results = list(classify_files(loaded, [p.path for p in expected.photos], batch_size=3, top_k=2))
    got = torch.tensor([[dict(r.top)[c] for c in loaded.classes] for r in results])
    assert torch.allclose(got, expected.probs, atol=1e-5)
