"""A test photo's true class from its path: the folder's name, else a class named in the file name."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeview.core.datasets.actual_label import actual_label

CLASSES = ["louise", "Moraine Lake", "lake", "peyto"]


@pytest.mark.parametrize("path, expected", [
    ("test/louise/IMG_0001.jpg", "louise"),
    ("test/Louise/IMG_0001.jpg", "louise"),
    ("test/moraine_lake/IMG_0001.jpg", "Moraine Lake"),
    ("test/louise/peyto_3.jpg", "louise"),  # the folder wins over the name
    ("test/louise_012.jpg", "louise"),
    ("test/LOUISE-012.JPG", "louise"),
    ("test/louise012.jpg", "louise"),
    ("test/IMG_2231_peyto.jpg", "peyto"),
    ("test/moraine-lake.01.jpg", "Moraine Lake"),  # 'lake' is part of 'moraine lake'
    ("test/louisette_1.jpg", None),
    ("test/peytonplace.jpg", None),
    ("test/IMG_0001.jpg", None),
    ("test/louise_vs_peyto.jpg", None),
])
def test_actual_label(path, expected):
    assert actual_label(Path(path), CLASSES) == expected


def test_spaces_in_the_file_name_separate_words():
    assert actual_label(Path("test/Lake Louise 3.jpg"), ["louise", "peyto"]) == "louise"


def test_two_classes_in_a_name_say_nothing():
    assert actual_label(Path("lake_louise.jpg"), ["lake", "louise"]) is None


def test_no_classes_or_classes_without_words():
    assert actual_label(Path("louise/a.jpg"), []) is None
    assert actual_label(Path("x/--.jpg"), ["--"]) is None


def test_digits_are_words_of_their_own():
    assert actual_label(Path("x/camp2_01.jpg"), ["camp2"]) == "camp2"
    assert actual_label(Path("x/camp23.jpg"), ["camp2"]) is None
