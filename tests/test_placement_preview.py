"""Which class folder each photo goes to, and the library's last placement: Qt-free."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lakeview.core.catalog import NONE_OF_THESE, Catalog
from lakeview.core.placement.last_placement import LAST, PLACEMENTS, LastPlacement, last_placement, remember
from lakeview.core.placement.preview import PhotoFacts, facts_of, choose_class, preview

from photo_tools import COLOURS, make_photo


def facts(path: Path, label=None, predicted=None, confidence=None, exists=True) -> PhotoFacts:
    return PhotoFacts(Path(path), label, predicted, confidence, exists)


@pytest.mark.parametrize("photo, use_predictions, expected", [
    (facts("gone.jpg", "red", exists=False), True, (None, "file not found")),
    (facts("a.jpg", NONE_OF_THESE, "red", 0.99), True, (None, "labelled none of these")),
    (facts("a.jpg", "blue", "red", 0.99), True, ("blue", "label blue")),
    (facts("a.jpg"), True, (None, "no label, no prediction")),
    (facts("a.jpg", predicted="red"), True, (None, "no label, no prediction")),
    (facts("a.jpg", predicted="red", confidence=0.95), False, (None, "no label")),
    (facts("a.jpg", predicted="red", confidence=0.6), True, (None, "no label; predicted red only 60%")),
    (facts("a.jpg", predicted="red", confidence=0.8), True, ("red", "predicted red (80%)")),
    (facts("a.jpg", predicted="red", confidence=0.91), True, ("red", "predicted red (91%)")),
])
def test_choose_class_goes_by_the_label_then_a_confident_prediction(photo, use_predictions, expected):
    assert choose_class(photo, use_predictions, 0.8) == expected


def test_without_a_destination_the_preview_names_relative_class_folders(tmp_path):
    rows = preview([facts(tmp_path / "a.jpg", "a/b"), facts(tmp_path / "b.jpg", predicted="red", confidence=0.5),
                    facts(tmp_path / "c.jpg", predicted="red", confidence=0.9)], None, True, 0.8)
    assert [(row.source.name, row.destination) for row in rows] == [
        ("a.jpg", Path("a_b") / "a.jpg"), ("b.jpg", None), ("c.jpg", Path("red") / "c.jpg")]
    assert rows[1].why == "no label; predicted red only 50%"


def test_with_a_destination_taken_names_get_numbers_and_a_photo_in_its_folder_stays(tmp_path):
    into = tmp_path / "sorted"
    (into / "red").mkdir(parents=True)
    (into / "red" / "a.jpg").write_bytes(b"taken")
    settled = make_photo(into / "blue" / "b.jpg", COLOURS["blue"])
    new = make_photo(tmp_path / "card" / "a.jpg", COLOURS["red"])
    rows = preview([facts(new, "red"), facts(settled, "blue")], into, True, 0.8)
    assert rows[0].destination == into / "red" / "a-1.jpg" and rows[0].why == "label red"
    assert rows[1].destination is None and rows[1].why == "already in its class folder"


def test_facts_come_from_the_catalog(tmp_path):
    red, lost = make_photo(tmp_path / "p" / "red.jpg", COLOURS["red"]), tmp_path / "p" / "lost.jpg"
    make_photo(lost, COLOURS["blue"], seed=1)
    with Catalog(tmp_path / "library" / "catalog.sqlite") as catalog:
        catalog.add_photos([red, lost])
        catalog.ensure_classes(["blue", "red"])
        catalog.set_labels([red], "red", source="user")
        catalog.add_model("m1", tmp_path / "m1.lvmodel", "tiny", ["blue", "red"], None, {}, "2024-01-01", "imported",
                          active=True)
        catalog.store_predictions("m1", [(lost, [("blue", 0.7), ("red", 0.3)])])
        lost.unlink()
        assert facts_of(catalog, [red, lost]) == [PhotoFacts(red, "red", None, None, True),
                                                  PhotoFacts(lost, None, "blue", 0.7, False)]


def test_the_last_placement_round_trips_and_is_forgotten(tmp_path):
    journal = tmp_path / "sorted" / ".lakeview-journal-x.jsonl"
    journal.parent.mkdir()
    journal.write_text("{}\n")
    last = LastPlacement(journal, "move", tmp_path / "sorted", 3, "2026-01-02 10:11")
    assert last_placement(tmp_path / "library") is None
    remember(tmp_path / "library", last)
    assert last_placement(tmp_path / "library") == last
    remember(tmp_path / "library", None)
    assert last_placement(tmp_path / "library") is None
    remember(tmp_path / "library", None)  # nothing to forget is fine


def remembered(library: Path) -> Path:
    path = library / PLACEMENTS / LAST
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_hostile_last_placement_is_none(tmp_path):
    library = tmp_path / "library"
    path = remembered(library)
    os.mkfifo(path)  # reading it would block forever
    assert last_placement(library) is None
    path.unlink()
    path.write_bytes(b" " * (1 << 20) + b"{}")
    assert last_placement(library) is None
    for text in ("{not json", "[]", '{"journal": "j"}', '{"journal": 1, "mode": "copy", "into": "x", "count": "many", '
                 '"time": "t"}', b"\xff\xfe".decode("latin-1")):
        path.write_text(text, encoding="latin-1")
        assert last_placement(library) is None, text
    path.write_text(json.dumps({"journal": str(tmp_path / "gone.jsonl"), "mode": "copy", "into": str(tmp_path),
                                "count": 1, "time": "t"}))
    assert last_placement(library) is None  # its journal no longer exists
