"""The body-feature pass, written once: the learner's cache and the feature store's extraction use the same one."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.datasets.importers import from_folder
from lakeview.core.models.model_file import SavedModel
from lakeview.core.models.photo_tensors import PhotoTensors
from lakeview.core.models.transforms import NO_AUGMENTATION, decode_side, valid_transform
from lakeview.core.training.features import body_pass, extract_features
from lakeview.core.training.learner import Learner

SIZE = 32


def _learner(folder) -> Learner:
    with pytest.warns(UserWarning, match="random weights"):
        return Learner(from_folder(folder), arch="tiny", weights="none", size=SIZE, batch_size=4, seed=7,
                       augmentation=NO_AUGMENTATION)


def test_the_pass_reports_an_unreadable_photo_by_position_and_counts_every_photo(colour_folders):
    learner = _learner(colour_folders)
    photos = list(learner.data.valid)
    broken = photos[2].path
    broken.write_bytes(b"not a photo")
    dataset = PhotoTensors(photos, learner.data.classes, valid_transform(SIZE), decode_side(SIZE))
    steps = []

    batches = list(body_pass(learner.network.eval(), dataset, learner.device, batch_size=3,
                             progress=lambda done, total: steps.append((done, total))))

    assert [i for b in batches for i in b.indices] == [i for i in range(len(photos)) if i != 2]
    assert [f for b in batches for f in b.failures][0][0] == 2
    assert all(b.outputs.shape == (len(b.indices), learner.head_width()) for b in batches)
    assert steps[-1] == (len(photos), len(photos))


def test_a_stop_before_the_first_batch_yields_nothing(colour_folders):
    learner = _learner(colour_folders)
    dataset = PhotoTensors(learner.data.valid, learner.data.classes, valid_transform(SIZE), decode_side(SIZE))
    assert list(body_pass(learner.network, dataset, learner.device, 4, should_stop=lambda: True)) == []


def test_extracted_features_are_the_learners_cached_features(colour_folders):
    learner = _learner(colour_folders)
    learner.fit_one_cycle(1, 1e-2)
    cached, keep = learner.cached_features("valid")
    model = SavedModel(learner.network, learner.meta())
    paths = [learner.data.valid[i].path for i in keep] + [colour_folders / "missing.jpg"]

    rows = list(extract_features(model, paths, batch_size=3, device="cpu"))

    assert [path for path, _, _ in rows] == paths
    assert torch.allclose(torch.stack([vector for _, vector, _ in rows[:-1]]), cached, atol=1e-5)
    assert rows[-1][1] is None and rows[-1][2]
