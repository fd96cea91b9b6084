"""Training's speed defaults: each architecture's memory layout, followed by its batches and the feature pass, and
how many DataLoader processes a machine gets."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from lakeview.core.datasets.importers import from_folder
from lakeview.core.models.architectures import ARCHITECTURES, get_architecture, register
from lakeview.core.models.network import memory_format, memory_format_of
from lakeview.core.models.photo_tensors import PhotoTensors
from lakeview.core.models.transforms import NO_AUGMENTATION, decode_side, valid_transform
from lakeview.core.threads import training_workers
from lakeview.core.training.features import body_pass
from lakeview.core.training.learner import Learner
from lakeview.core.training.plan import TrainingPlan

SIZE = 32


@pytest.fixture
def tiny_nchw(tiny_architecture):
    arch = register(dataclasses.replace(tiny_architecture, name="tiny_nchw", channels_last=False))
    yield arch
    ARCHITECTURES.pop(arch.name, None)


def _learner(folder, arch: str) -> Learner:
    with pytest.warns(UserWarning, match="random weights"):
        return Learner(from_folder(folder), arch=arch, weights="none", size=SIZE, batch_size=4, seed=7,
                       augmentation=NO_AUGMENTATION)


def test_the_registered_architectures_run_channels_last_where_measured_faster():
    assert memory_format("mobilenet_v2") == torch.channels_last
    assert memory_format(get_architecture("resnet34")) == torch.channels_last


@pytest.mark.parametrize("layout", [torch.channels_last, torch.contiguous_format])
def test_a_networks_layout_is_read_from_its_convolution_weights(layout):
    network = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.Conv2d(4, 8, 3)).to(memory_format=layout)

    assert memory_format_of(network) == layout


def test_a_network_without_spatial_convolutions_counts_as_contiguous():
    assert memory_format_of(torch.nn.Linear(3, 2)) == torch.contiguous_format


@pytest.mark.parametrize("arch, layout", [("tiny", torch.channels_last), ("tiny_nchw", torch.contiguous_format)])
def test_the_learner_and_the_feature_pass_use_the_architectures_layout(colour_folders, tiny_nchw, arch, layout):
    learner = _learner(colour_folders, arch)
    photos = list(learner.data.valid)
    dataset = PhotoTensors(photos, learner.data.classes, valid_transform(SIZE), decode_side(SIZE))
    seen = []
    hook = learner.network.body.register_forward_pre_hook(lambda module, args: seen.append(args[0]))

    list(body_pass(learner.network.eval(), dataset, learner.device, batch_size=4))
    batch = learner._to_device(torch.zeros(2, 3, SIZE, SIZE))
    hook.remove()

    assert memory_format_of(learner.network) == layout
    assert seen and all(x.is_contiguous(memory_format=layout) for x in seen)
    assert batch.is_contiguous(memory_format=layout)


def test_both_layouts_compute_the_same_features(colour_folders, tiny_nchw):
    features = []
    for arch in ("tiny", "tiny_nchw"):
        learner = _learner(colour_folders, arch)
        learner.ensure_features(("valid",), lambda *_: None, lambda: False)
        features.append(learner.cached_features("valid")[0])

    torch.testing.assert_close(features[0], features[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cores, workers", [(1, 0), (2, 0), (3, 1), (4, 1), (8, 2), (16, 4), (64, 4)])
def test_photos_load_in_process_on_two_cores_and_in_workers_on_more(cores, workers):
    assert training_workers(cores) == workers


def test_the_plan_defaults_to_this_machines_worker_count():
    assert TrainingPlan().workers == training_workers()
