"""Classifying folders: results in order, bad files reported in place, streaming with bounded look-ahead."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.models.inference import Failure, Prediction, classify_files, top_classes
from lakeview.core.models.inference_network import fold_batchnorm
from lakeview.core.models.model_file import ModelMeta, SavedModel, load_model, save_model
from lakeview.core.models.transforms import decode_side, valid_transform
from lakeview.core.photos.images import open_image
from lakeview.core.models.network import bare_network

from photo_tools import make_photo


@pytest.fixture
def model() -> SavedModel:
    torch.manual_seed(0)
    return SavedModel(bare_network("tiny", 3).eval(), ModelMeta(arch="tiny", classes=["a", "b", "c"], size=32))


@pytest.fixture
def folder(tmp_path):
    for i in range(10):
        make_photo(tmp_path / f"p{i}.jpg", (20 * i, 100, 200 - 15 * i), seed=i)
    (tmp_path / "p3.jpg").write_bytes(b"")
    (tmp_path / "p7.jpg").write_text("hello")
    return tmp_path


def test_every_path_gets_a_result_in_order(model, folder):
    paths = sorted(folder.glob("*.jpg"))
    done = []
    results = list(classify_files(model, paths, batch_size=4, top_k=2, total=len(paths),
                                  progress=lambda d, t: done.append((d, t))))
    assert [r.path for r in results] == paths
    assert [type(r) for r in results].count(Failure) == 2
    assert results[3].reason == "empty file (0 bytes)"
    predictions = [r for r in results if isinstance(r, Prediction)]
    for p in predictions:
        assert len(p.top) == 2 and p.top[0] == (p.label, p.confidence) and p.top[0][1] >= p.top[1][1]
    assert done[-1] == (10, 10)


def test_results_stream_with_bounded_look_ahead(model, folder):
    paths = sorted(folder.glob("*.jpg")) * 20
    pulled = 0

    def source():
        nonlocal pulled
        for path in paths:
            pulled += 1
            yield path

    stream = classify_files(model, source(), batch_size=4)
    next(stream)
    assert pulled <= 3 * 4
    stream.close()


def test_stop_ends_the_stream_early(model, folder):
    paths = sorted(folder.glob("*.jpg")) * 10
    seen = []
    for result in classify_files(model, paths, batch_size=4, should_stop=lambda: len(seen) >= 8):
        seen.append(result)
    assert 8 <= len(seen) < len(paths)


def test_test_time_augmentation_still_gives_probabilities(model, folder):
    paths = [p for p in sorted(folder.glob("*.jpg")) if p.name not in ("p3.jpg", "p7.jpg")]
    plain = list(classify_files(model, paths, top_k=3))
    tta = list(classify_files(model, paths, top_k=3, tta=True))
    for a, b in zip(plain, tta):
        assert sum(p for _, p in b.top) == pytest.approx(1.0, abs=1e-4)
        assert {label for label, _ in a.top} == {label for label, _ in b.top}


def test_top_classes_are_the_most_probable_first_and_no_answer_for_nan():
    probs = torch.tensor([[0.1, 0.6, 0.3], [float("nan"), 0.5, 0.5], [0.2, 0.3, 0.5]])

    rows = top_classes(probs, ["a", "b", "c"], k=2)

    assert rows[0] == [("b", pytest.approx(0.6)), ("c", pytest.approx(0.3))]
    assert rows[1] is None
    assert [name for name, _ in rows[2]] == ["c", "b"]
    assert len(top_classes(probs[:1], ["a", "b", "c"], k=5)[0]) == 3, "at most every class"


def _with_learned_batchnorm(model: SavedModel) -> SavedModel:
    """Running statistics and affine weights far from a fresh BatchNorm's, so that folding them has work to do."""
    generator = torch.Generator().manual_seed(1)
    for module in model.network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            size = module.num_features
            module.running_mean.copy_(torch.randn(size, generator=generator))
            module.running_var.copy_(torch.rand(size, generator=generator) * 3 + 0.2)
            module.weight.data.copy_(torch.randn(size, generator=generator))
            module.bias.data.copy_(torch.randn(size, generator=generator))
    return model


def test_the_folded_network_gives_the_saved_networks_answers_and_leaves_it_alone(model, folder, tmp_path):
    model = _with_learned_batchnorm(model)
    paths = [p for p in sorted(folder.glob("*.jpg")) if p.name not in ("p3.jpg", "p7.jpg")]
    before = {k: v.clone() for k, v in model.network.state_dict().items()}
    transform = valid_transform(model.meta.size, model.meta.mean, model.meta.std)
    with torch.inference_mode():
        inputs = torch.stack([transform(open_image(p, min_side=decode_side(model.meta.size))) for p in paths])
        expected = model.network(inputs).softmax(1)

    results = list(classify_files(model, paths, top_k=3, device="cpu"))

    for result, probs in zip(results, expected):
        assert result.label == model.classes[int(probs.argmax())]
        for label, p in result.top:
            assert p == pytest.approx(float(probs[model.classes.index(label)]), abs=1e-5)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.network.modules()), "the model keeps its BN"
    after = model.network.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    saved = load_model(save_model(tmp_path / "after.lvmodel", model.network, model.meta))
    assert saved.network.state_dict().keys() == before.keys()


def test_fold_batchnorm_removes_every_batchnorm_and_keeps_the_outputs(model):
    network = _with_learned_batchnorm(model).network.eval()
    x = torch.randn(4, 3, 32, 32)

    folded = fold_batchnorm(network)

    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    with torch.inference_mode():
        assert torch.allclose(folded(x), network(x), atol=1e-4)

