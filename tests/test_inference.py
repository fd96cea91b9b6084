"""Classifying folders: results in order, bad files reported in place, streaming with bounded look-ahead."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.models.inference import Failure, Prediction, classify_files, top_classes
from lakeview.core.models.model_file import ModelMeta, SavedModel
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
