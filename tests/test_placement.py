"""Copying or moving photos into class folders: never overwriting, journaled, undoable."""

from __future__ import annotations

import json

import pytest

from lakeview.core.placement import JournalError, apply_placement, plan_placement, undo_journal

from conftest import make_photo


@pytest.fixture
def photos(tmp_path):
    source = tmp_path / "holiday"
    return [make_photo(source / f"IMG_{i}.jpg", seed=i) for i in range(4)]


def _snapshot(paths):
    return {p: p.read_bytes() for p in paths}


def test_the_plan_never_overwrites(tmp_path, photos):
    into = tmp_path / "sorted"
    make_photo(into / "Lake Louise" / "IMG_0.jpg", seed=99)
    other = tmp_path / "other" / "IMG_0.jpg"
    make_photo(other, seed=5)

    plan = plan_placement([(photos[0], "Lake Louise"), (other, "Lake Louise"), (photos[1], "a/b:c")], into)

    assert [p.destination.relative_to(into).as_posix() for p in plan] == [
        "Lake Louise/IMG_0-1.jpg", "Lake Louise/IMG_0-2.jpg", "a_b_c/IMG_1.jpg"]


def test_copy_then_undo_restores_the_tree(tmp_path, photos):
    into = tmp_path / "sorted"
    originals = _snapshot(photos)
    plan = plan_placement([(p, "moraine" if i % 2 else "emerald") for i, p in enumerate(photos)], into)
    journal = into / "journal.jsonl"

    report = apply_placement(plan, "copy", journal)

    assert len(report.done) == 4 and not report.failed
    assert (into / "moraine" / "IMG_1.jpg").read_bytes() == originals[photos[1]]
    assert _snapshot(photos) == originals

    undone = undo_journal(journal)

    assert len(undone.restored) == 4 and not undone.problems
    assert sorted(p.name for p in into.iterdir()) == ["journal.jsonl"]
    assert _snapshot(photos) == originals
    with pytest.raises(JournalError, match="already undone"):
        undo_journal(journal)


def test_move_then_undo_puts_photos_back(tmp_path, photos):
    into = tmp_path / "sorted"
    originals = _snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    apply_placement(plan_placement([(p, "grassi") for p in photos], into), "move", journal)
    assert not any(p.exists() for p in photos)
    assert len(list((into / "grassi").iterdir())) == 4

    undo_journal(journal)

    assert _snapshot(photos) == originals
    assert not into.exists() or list(into.iterdir()) == []


def test_undo_leaves_changed_files_alone(tmp_path, photos):
    into = tmp_path / "sorted"
    journal = tmp_path / "j.jsonl"
    apply_placement(plan_placement([(photos[0], "x"), (photos[1], "x")], into), "copy", journal)
    (into / "x" / "IMG_0.jpg").write_bytes(b"edited by the user")

    report = undo_journal(journal)

    assert [p.name for p, _ in report.problems] == ["IMG_0.jpg"]
    assert "changed" in report.problems[0][1]
    assert (into / "x" / "IMG_0.jpg").read_bytes() == b"edited by the user"
    assert not (into / "x" / "IMG_1.jpg").exists()


def test_a_stopped_placement_is_journaled_up_to_where_it_stopped(tmp_path, photos):
    into = tmp_path / "sorted"
    journal = tmp_path / "j.jsonl"
    done = []
    report = apply_placement(plan_placement([(p, "x") for p in photos], into), "move", journal,
                             progress=lambda d, t: done.append(d), should_stop=lambda: len(done) >= 2)
    assert report.stopped and len(report.done) == 2
    with open(journal, "a") as handle:
        handle.write('{"source": "cut short by a cra')

    undo_journal(journal)

    assert all(p.exists() for p in photos)


def test_not_a_journal(tmp_path):
    bogus = tmp_path / "notes.jsonl"
    bogus.write_text(json.dumps({"hello": 1}) + "\n")
    with pytest.raises(JournalError, match="not a LakeView journal"):
        undo_journal(bogus)
    with pytest.raises(JournalError, match="not found"):
        undo_journal(tmp_path / "missing.jsonl")
