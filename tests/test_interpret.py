"""Interpretation figures on a case small enough to check by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

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
