"""Interpretation figures on a case small enough to check by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from lakeview.core.datasets.dataset import Photo
from lakeview.core.training.error_figures import error_text, measured_photos
from lakeview.core.training.evaluation import Interpretation

CLASSES = ["emerald", "louise", "moraine"]
# photo: actual -> probabilities
CASES = [
    ("a.jpg", 0, [0.7, 0.2, 0.1]),   # right
    ("b.jpg", 0, [0.1, 0.8, 0.1]),   # emerald taken for louise
    ("c.jpg", 1, [0.2, 0.6, 0.2]),   # right
    ("d.jpg", 1, [0.3, 0.3, 0.4]),   # louise taken for moraine
    ("e.jpg", 2, [0.05, 0.05, 0.9]), # right
    ("f.jpg", 0, [0.3, 0.6, 0.1]),   # emerald taken for louise
    ("g.jpg", -1, [0.9, 0.05, 0.05]),# unlabelled: left out
]


@pytest.fixture
def interpretation() -> Interpretation:
    return Interpretation.from_predictions(
        CLASSES, [Path(n) for n, _, _ in CASES], torch.tensor([p for _, _, p in CASES]), torch.tensor([t for _, t, _ in CASES])
    )


def test_error_rate_and_confusion_matrix(interpretation):
    assert len(interpretation.targets) == 6
    assert interpretation.error_rate == pytest.approx(3 / 6)
    assert interpretation.confusion_matrix() == [[1, 2, 0], [0, 1, 1], [0, 0, 1]]


def test_accuracy_per_class_and_most_confused(interpretation):
    assert interpretation.accuracy_per_class() == pytest.approx({"emerald": 1 / 3, "louise": 0.5, "moraine": 1.0})
    assert interpretation.most_confused() == [("emerald", "louise", 2), ("louise", "moraine", 1)]
    assert interpretation.most_confused(min_count=2) == [("emerald", "louise", 2)]


def test_top_losses_are_ordered_and_captioned(interpretation):
    top = interpretation.top_losses(3)
    assert [t.path.name for t in top] == ["b.jpg", "d.jpg", "f.jpg"]
    first = top[0]
    assert (first.predicted, first.actual) == ("louise", "emerald")
    assert first.loss == pytest.approx(-math.log(0.1), rel=1e-5)
    assert first.prob_actual == pytest.approx(0.1) and first.prob_predicted == pytest.approx(0.8)


def test_report_mentions_every_figure(interpretation):
    text = interpretation.report(top=2)
    assert "error rate: 50.00% on 6 photos" in text
    assert "emerald -> louise: 2" in text
    assert "louise / emerald / 2.30 / 0.10  b.jpg" in text


def test_a_class_with_no_photos_has_no_accuracy():
    empty = Interpretation.from_predictions(["a", "b"], [Path("x")], torch.tensor([[0.9, 0.1]]), torch.tensor([0]))
    assert empty.accuracy_per_class() == {"a": 1.0, "b": None}


def test_classifying_labelled_photos_matches_the_learner_and_lists_the_unreadable_ones(colour_folders):
    from lakeview.core.datasets.importers import from_folder
    from lakeview.core.models.model_file import SavedModel
    from lakeview.core.training.evaluation import classify_labelled, interpretation_of
    from lakeview.core.training.learner import Learner

    with pytest.warns(UserWarning, match="random weights"):
        learner = Learner(from_folder(colour_folders), arch="tiny", weights="none", size=32, batch_size=4, seed=7)
    learner.fit_one_cycle(2, 1e-2)
    expected = interpretation_of(learner)
    broken = colour_folders / "valid" / "red" / "gone.jpg"
    photos = [*learner.data.valid[:3], Photo(broken, "red"), *learner.data.valid[3:]]
    steps = []

    got, failures = classify_labelled(SavedModel(learner.network, learner.meta()), photos, batch_size=3,
                                      device="cpu", progress=lambda done, total: steps.append((done, total)))

    assert got.paths == expected.paths and got.classes == expected.classes
    assert torch.equal(got.targets, expected.targets)
    assert torch.allclose(got.probs, expected.probs, atol=1e-5)
    assert got.error_rate == expected.error_rate
    assert [(f.path, bool(f.reason)) for f in failures] == [(broken, True)]
    assert steps[-1] == (len(photos), len(photos))


def test_classifying_refuses_a_class_the_model_does_not_know(colour_folders):
    from lakeview.core.training.evaluation import classify_labelled

    class Model:
        classes = ["red", "blue"]

    with pytest.raises(ValueError, match="green"):
        classify_labelled(Model(), [Photo(colour_folders / "x.jpg", "green")])


def test_nothing_classifiable_gives_no_interpretation_but_every_failure(tmp_path, colour_folders):
    from lakeview.core.datasets.importers import from_folder
    from lakeview.core.models.model_file import SavedModel
    from lakeview.core.training.evaluation import classify_labelled
    from lakeview.core.training.learner import Learner

    with pytest.warns(UserWarning, match="random weights"):
        learner = Learner(from_folder(colour_folders), arch="tiny", weights="none", size=32, seed=7)
    photos = [Photo(tmp_path / "a.jpg", "red"), Photo(tmp_path / "b.jpg", "blue")]

    interpretation, failures = classify_labelled(SavedModel(learner.network, learner.meta()), photos, device="cpu")

    assert interpretation is None and [f.path for f in failures] == [p.path for p in photos]


def test_top_losses_list_each_photo_once_at_its_worst():
    paths = [Path("a.jpg"), Path("b.jpg"), Path("a.jpg"), Path("c.jpg")]
    probs = torch.tensor([[0.1, 0.9], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])
    checked = Interpretation.from_predictions(["cat", "dog"], paths, probs, torch.tensor([0, 0, 0, 0]))

    top = checked.top_losses(3)

    assert [t.path for t in top] == [Path("a.jpg"), Path("b.jpg"), Path("c.jpg")]
    assert top[0].prob_actual == pytest.approx(0.1)


def test_the_predictions_are_each_photos_top_classes():
    checked = Interpretation.from_predictions(["cat", "dog"], [Path("a.jpg")], torch.tensor([[0.25, 0.75]]),
                                              torch.tensor([0]))
    assert checked.predictions() == [(Path("a.jpg"), [("dog", 0.75), ("cat", 0.25)])]


@pytest.mark.parametrize("rate, photos, which, text", [
    (0.0, 12, "", "0.0% error on 12 photos"),
    (0.0132, 76, "held-out", "1.3% error on 76 held-out photos"),
    (0.5, 1, "", "50.0% error on 1 photo"),
    (0.5, None, "", "50.0% error (number of photos not recorded)"),
    (None, 5, "", "error not measured"),
])
def test_an_error_figure_always_says_on_how_many_photos(rate, photos, which, text):
    assert error_text(rate, photos, which) == text


def test_a_versions_photo_count_is_read_from_first_trainings_and_retrains():
    assert measured_photos({"error_rate": 0.1, "valid_photos": 40}) == 40
    assert measured_photos({"error_rate": 0.1, "holdout_photos": 12}) == 12
    assert measured_photos({"error_rate": 0.1}) is None
