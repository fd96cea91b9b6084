"""The one way photos are placed and a placement undone (core/placement/place_and_undo), whoever calls it: the app,
`lakeview classify`, `lakeview catalog export` and `lakeview undo` leave the catalog's rows and the library's last
placement alike. Qt-free."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog
from lakeview.core.placement.copy_or_move import PlannedFile, plan_placement
from lakeview.core.placement.last_placement import PLACEMENTS, LastPlacement, last_placement, remember
from lakeview.core.placement.place_and_undo import not_in_class_folder, place, undo_placement

from photo_tools import COLOURS, make_photo


def labelled_library(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A library whose catalog knows a red and a blue photo on a card, each labelled by its colour."""
    catalog_path = tmp_path / "library" / "catalog.sqlite"
    photos = [make_photo(tmp_path / "card" / f"{colour}.jpg", COLOURS[colour]) for colour in ("red", "blue")]
    with Catalog(catalog_path) as catalog:
        catalog.add_photos(photos)
        catalog.ensure_classes(["red", "blue"])
        for photo in photos:
            catalog.set_labels([photo], photo.stem, source="user")
    return catalog_path, photos


def labelled_rows(catalog_path: Path) -> list[tuple[Path, str]]:
    with Catalog(catalog_path) as catalog:
        return sorted((path, label) for path, label, _, _ in catalog.labelled_photos())


def move_plan(photos: list[Path], into: Path) -> list[PlannedFile]:
    return plan_placement([(photo, photo.stem) for photo in photos], into)


def test_a_move_is_remembered_and_the_catalog_follows_the_photos(tmp_path):
    catalog_path, photos = labelled_library(tmp_path)
    into = tmp_path / "sorted"
    steps = []
    report = place(move_plan(photos, into), "move", into, catalog_path, progress=lambda done, total: steps.append(done))
    assert sorted(item.destination for item in report.done) == [into / "blue" / "blue.jpg", into / "red" / "red.jpg"]
    assert steps == [1, 2] and report.journal.parent == into
    last = last_placement(catalog_path.parent)
    assert (last.journal, last.mode, last.into, last.count) == (report.journal, "move", into, 2)
    assert labelled_rows(catalog_path) == [(into / "blue" / "blue.jpg", "blue"), (into / "red" / "red.jpg", "red")]


@pytest.mark.parametrize("undone_by", ["the app", "lakeview undo --catalog", "lakeview undo with $LAKEVIEW_CATALOG"])
def test_undo_from_the_command_line_leaves_the_library_as_the_apps_undo_does(tmp_path, monkeypatch, undone_by):
    catalog_path, photos = labelled_library(tmp_path)
    before = labelled_rows(catalog_path)
    into = tmp_path / "sorted"
    journal = place(move_plan(photos, into), "move", into, catalog_path).journal
    assert last_placement(catalog_path.parent).journal == journal
    if undone_by == "the app":
        report = undo_placement(last_placement(catalog_path.parent).journal, catalog_path)
        assert len(report.moved_back) == 2
    elif undone_by == "lakeview undo --catalog":
        assert main(["undo", str(journal), "--catalog", str(catalog_path)]) == 0
    else:
        monkeypatch.setenv("LAKEVIEW_CATALOG", str(catalog_path))
        assert main(["undo", str(journal)]) == 0
    assert all(photo.is_file() for photo in photos)
    assert labelled_rows(catalog_path) == before
    assert last_placement(catalog_path.parent) is None
    assert not (catalog_path.parent / PLACEMENTS / "last.json").exists()


def test_an_export_is_the_apps_last_placement_and_its_printed_undo_keeps_the_catalog_in_step(tmp_path, capsys):
    catalog_path, photos = labelled_library(tmp_path)
    before = labelled_rows(catalog_path)
    into = tmp_path / "tree"
    assert main(["catalog", "--catalog", str(catalog_path), "export", "--into", str(into), "--move"]) == 0
    last = last_placement(catalog_path.parent)
    assert (last.mode, last.into, last.count) == ("move", into, 2)
    assert labelled_rows(catalog_path) == [(into / "blue" / "blue.jpg", "blue"), (into / "red" / "red.jpg", "red")]
    printed = capsys.readouterr().err.split("undo with: ")[1].splitlines()[0]
    command = shlex.split(printed)
    assert command == ["lakeview", "undo", str(last.journal), "--catalog", str(catalog_path)]
    assert main(command[1:]) == 0
    assert "undone: 2 photo(s)" in capsys.readouterr().err
    assert labelled_rows(catalog_path) == before and last_placement(catalog_path.parent) is None


def test_undoing_an_earlier_placement_keeps_the_later_one_as_the_last(tmp_path):
    catalog_path, (red, blue) = labelled_library(tmp_path)
    into = tmp_path / "sorted"
    earlier = place(move_plan([red], into), "move", into, catalog_path).journal
    later = place(move_plan([blue], into), "copy", into, catalog_path).journal
    assert main(["undo", str(earlier), "--catalog", str(catalog_path)]) == 0
    assert red.is_file() and labelled_rows(catalog_path)[1] == (red, "red")
    assert last_placement(catalog_path.parent).journal == later


def test_a_placement_left_partly_undone_stays_the_last_one_so_undo_can_retry(tmp_path):
    catalog_path, photos = labelled_library(tmp_path)
    into = tmp_path / "sorted"
    report = place(move_plan(photos, into), "copy", into, catalog_path)
    edited = report.done[0].destination
    edited.write_bytes(edited.read_bytes() + b"edited")
    assert main(["undo", str(report.journal), "--catalog", str(catalog_path)]) == 1
    assert last_placement(catalog_path.parent).journal == report.journal
    edited.unlink()
    assert undo_placement(report.journal, catalog_path).left == 0
    assert last_placement(catalog_path.parent) is None


def test_a_refused_journal_of_the_last_placement_is_forgotten(tmp_path):
    catalog_path, photos = labelled_library(tmp_path)
    into = tmp_path / "sorted"
    journal = place(move_plan(photos, into), "copy", into, catalog_path).journal
    journal.write_text("not a journal\n")
    assert main(["undo", str(journal), "--catalog", str(catalog_path)]) == 2
    assert last_placement(catalog_path.parent) is None


def test_a_placement_that_places_nothing_keeps_the_previous_one(tmp_path):
    catalog_path = tmp_path / "library" / "catalog.sqlite"
    into = tmp_path / "sorted"
    earlier = into / ".lakeview-journal-earlier.jsonl"
    into.mkdir()
    earlier.write_text("{}\n")
    previous = LastPlacement(earlier, "copy", into, 1, "2026-01-01 09:00")
    remember(catalog_path.parent, previous)
    report = place([PlannedFile(tmp_path / "missing.jpg", into / "red" / "missing.jpg")], "copy", into, catalog_path)
    assert not report.done and report.failed and report.journal is not None
    assert last_placement(catalog_path.parent) == previous
    blocked = tmp_path / "a file"
    blocked.write_text("where the folder would go")
    report = place([PlannedFile(tmp_path / "x.jpg", blocked / "red" / "x.jpg")], "move", blocked, catalog_path)
    assert report.journal is None and report.halted.startswith(f"cannot start the journal in {blocked}: ")
    assert len(report.not_started) == 1 and last_placement(catalog_path.parent) == previous


def test_a_library_that_cannot_remember_the_placement_places_nothing(tmp_path):
    catalog_path, photos = labelled_library(tmp_path)
    (catalog_path.parent / PLACEMENTS).write_text("a file where the folder would go")
    into = tmp_path / "sorted"
    report = place(move_plan(photos, into), "move", into, catalog_path)
    assert report.journal is None and report.halted.startswith(f"cannot write in {catalog_path.parent} (")
    assert report.halted.endswith("nothing was moved") and len(report.not_started) == 2
    assert all(photo.is_file() for photo in photos) and not any(into.iterdir())


def test_without_a_catalog_nothing_is_remembered_and_undo_touches_only_the_photos(tmp_path):
    photo = make_photo(tmp_path / "card" / "red.jpg", COLOURS["red"])
    into = tmp_path / "sorted"
    report = place(move_plan([photo], into), "move", into)
    assert [item.destination for item in report.done] == [into / "red" / "red.jpg"]
    assert undo_placement(report.journal).moved_back == [(into / "red" / "red.jpg", photo)] and photo.is_file()


def test_photos_already_in_their_class_folder_are_set_apart(tmp_path):
    into = tmp_path / "sorted"
    placed, loose = into / "red" / "a.jpg", tmp_path / "card" / "b.jpg"
    assert not_in_class_folder([(placed, "red"), (loose, "red"), (placed, "blue")], into) == (
        [(loose, "red"), (placed, "blue")], [placed])


def test_a_catalog_that_cannot_follow_the_photos_stops_a_move_or_its_undo_before_it_starts(tmp_path, capsys):
    from lakeview.core.catalog import CatalogError

    catalog_path, photos = labelled_library(tmp_path)
    into = tmp_path / "sorted"
    journal = place(move_plan(photos[:1], into), "move", into, catalog_path).journal
    good = catalog_path.read_bytes()
    catalog_path.write_bytes(b"not a catalog" * 100)
    with pytest.raises(CatalogError):
        place(move_plan(photos[1:], into), "move", into, catalog_path)
    assert photos[1].is_file() and last_placement(catalog_path.parent).journal == journal
    assert main(["undo", str(journal), "--catalog", str(catalog_path)]) == 2
    assert "not a LakeView catalog" in capsys.readouterr().err
    assert not photos[0].exists() and (into / "red" / "red.jpg").is_file()
    catalog_path.write_bytes(good)
    assert main(["undo", str(journal), "--catalog", str(catalog_path)]) == 0
    assert photos[0].is_file() and labelled_rows(catalog_path)[1] == (photos[0], "red")


def test_a_damaged_default_library_the_user_did_not_name_does_not_block_undoing_a_plain_classify(tmp_path, monkeypatch,
                                                                                                 capsys):
    from lakeview.core.catalog.store import CATALOG_ENV, default_catalog_path

    monkeypatch.delenv(CATALOG_ENV, raising=False)
    default = default_catalog_path()
    default.parent.mkdir(parents=True)
    default.write_bytes(b"not a catalog" * 100)
    photo = make_photo(tmp_path / "card" / "red.jpg", COLOURS["red"])
    into = tmp_path / "sorted"
    journal = place(move_plan([photo], into), "move", into).journal  # as `lakeview classify --move-into` does

    assert main(["undo", str(journal)]) == 0
    assert photo.is_file() and not (into / "red" / "red.jpg").exists()
    said = capsys.readouterr().err
    assert "default library's catalog" in said and "undoing without it" in said and "catalog rescan" in said
    assert default.read_bytes() == b"not a catalog" * 100
