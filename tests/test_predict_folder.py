"""Predicting a folder of test photos, Qt-free: the class each path names, the prediction, the score."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lakeview.core.models.inference import Prediction, classify_files
from lakeview.core.models.model_file import ModelMeta, load_model, save_model
from lakeview.core.models.network import bare_network
from lakeview.core.models.predict_folder import FolderScore, PhotoResult, predict_folder, score, summary

from photo_tools import COLOURS, make_photo


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    return load_model(save_model(tmp_path / "tiny.lvmodel", bare_network("tiny", 2),
                                 ModelMeta(arch="tiny", classes=["blue", "red"], size=32)))


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "test"
    make_photo(folder / "red" / "IMG_0.jpg", COLOURS["red"])
    make_photo(folder / "Blue" / "IMG_1.jpg", COLOURS["blue"], seed=1)
    make_photo(folder / "mixed" / "BLUE-3.png", COLOURS["blue"], seed=2)
    make_photo(folder / "mixed" / "IMG_9.jpg", COLOURS["green"], seed=3)
    (folder / "mixed" / "red_broken.jpg").write_bytes(b"\xff\xd8 not a photo")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_every_image_gets_its_actual_class_and_the_models_prediction(model, folder):
    steps = []
    results = {r.path.relative_to(folder).as_posix(): r
               for r in predict_folder(model, folder, lambda done, total: steps.append((done, total)))}
    assert {name: r.actual for name, r in results.items()} == {
        "Blue/IMG_1.jpg": "blue", "mixed/BLUE-3.png": "blue", "mixed/IMG_9.jpg": None,
        "mixed/red_broken.jpg": "red", "red/IMG_0.jpg": "red"}
    broken = results.pop("mixed/red_broken.jpg")
    assert broken.reason and broken.predicted is None and broken.confidence is None and broken.correct is None
    expected = {r.path: r for r in classify_files(model, [folder / name for name in results])
                if isinstance(r, Prediction)}
    for result in results.values():
        truth = expected[result.path]
        assert (result.predicted, result.confidence, result.reason) == (truth.label, truth.confidence, None)
        assert result.correct == (None if result.actual is None else result.actual == truth.label)
    assert steps[-1] == (5, 5)


def test_a_folder_that_cannot_be_listed_comes_first_with_its_reason(model, folder, monkeypatch):
    import lakeview.core.photos.files as files

    real = files.iter_image_files

    def with_an_error(start, recursive=False, errors=None):
        errors.append((start / "locked", "permission denied"))
        return real(start, recursive, errors)

    monkeypatch.setattr(files, "iter_image_files", with_an_error)
    first = next(predict_folder(model, folder))
    assert first == PhotoResult(folder / "locked", None, None, None, "permission denied")


def test_stopping_ends_the_results_early(model, folder):
    assert list(predict_folder(model, folder, should_stop=lambda: True)) == []


def test_an_empty_folder_has_no_results(model, tmp_path):
    (tmp_path / "empty").mkdir()
    assert list(predict_folder(model, tmp_path / "empty")) == []
    assert summary([]) == "0 photos, 0 with a known class, accuracy –"


def result(actual, predicted, reason=None) -> PhotoResult:
    return PhotoResult(Path("a.jpg"), actual, predicted, None if predicted is None else 0.9, reason)


def test_the_score_counts_only_photos_with_a_known_class_that_were_predicted():
    results = [result("red", "red"), result("red", "blue"), result("blue", "blue"), result(None, "red"),
               result("red", None, "cannot be read")]
    assert [r.correct for r in results] == [True, False, True, None, None]
    figures = score(results)
    assert figures == FolderScore(photos=5, judged=3, right=2, unreadable=1)
    assert figures.accuracy == pytest.approx(2 / 3)
    assert summary(results) == "5 photos, 3 with a known class, accuracy 66.7% (2 of 3); 1 unreadable"
    assert summary(results[:1]) == "1 photos, 1 with a known class, accuracy 100.0% (1 of 1)"
    assert score([result(None, "red")]).accuracy is None
