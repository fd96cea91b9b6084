"""Copying or moving photos into class folders: never overwriting, journaled, undoable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakeview.core.placement.copy_or_move import apply_placement, plan_placement
from lakeview.core.placement.journal import JournalError, read_journal
from lakeview.core.placement.undo import undo_journal

from photo_tools import make_photo


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


class Killed(BaseException):
    """Stands in for kill -9 at one exact point: nothing after it runs, no clean-up."""


@pytest.mark.parametrize("crash", ["before the done record", "after the done record"])
@pytest.mark.parametrize("mode", ["copy", "move", "move to another disk"])
def test_undo_finishes_a_placement_killed_at_any_step(tmp_path, monkeypatch, photos, mode, crash):
    import errno
    import os

    from lakeview.core.placement import journal as placement_journal

    into, journal = tmp_path / "sorted", tmp_path / "j.jsonl"
    originals = _snapshot(photos)
    real_append, real_unlink, real_link = placement_journal.JournalWriter.append, os.unlink, os.link
    state = {"done": 0}

    def append(self, record):
        if "done" in record and crash == "before the done record" and state["done"] == 2:
            raise Killed
        real_append(self, record)
        state["done"] += "done" in record

    def unlink(path, *args, **kwargs):
        if crash == "after the done record" and state["done"] == 3:
            raise Killed
        real_unlink(path, *args, **kwargs)

    def link(src, dst, **kwargs):
        if mode == "move to another disk" and os.path.dirname(src) != os.path.dirname(dst):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(placement_journal.JournalWriter, "append", append)
    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(os, "link", link)
    with pytest.raises(Killed):
        apply_placement(plan_placement([(p, "x") for p in photos], into), mode.split()[0], journal)
    monkeypatch.undo()
    assert any((into / "x").iterdir())

    report = undo_journal(journal)

    assert report.problems == [] and report.left == 0
    assert _snapshot(photos) == originals
    assert not (into / "x").exists()  # emptied, and made by this placement: removed


def test_a_journal_record_that_cannot_be_written_whole_is_cut_off_again(tmp_path, monkeypatch, photos):
    import errno
    import os

    into, journal = tmp_path / "sorted", tmp_path / "j.jsonl"
    real_write = os.write
    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += 1
        if calls["n"] == 6:  # the disk fills up in the middle of a record
            real_write(fd, data[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    report = apply_placement(plan_placement([(p, "x") for p in photos], into), "copy", journal)
    monkeypatch.undo()

    assert report.halted.startswith("stopped at IMG_1.jpg: cannot write the journal")
    assert "No space left on device" in report.halted and len(report.done) == 1
    assert journal.read_bytes().endswith(b"\n") and all(json.loads(line) for line in journal.read_text().splitlines())
    assert sorted(p.name for p in (into / "x").iterdir()) == ["IMG_0.jpg"]  # IMG_1's copy taken back
    assert not undo_journal(journal).problems
    assert not (into / "x").exists()


def test_paths_are_journaled_absolute_and_raw_bytes_round_trip(tmp_path, monkeypatch):
    import os

    raw = os.fsdecode(b"IMG_\xff\xfe.jpg")
    make_photo(tmp_path / "in" / raw)
    monkeypatch.chdir(tmp_path)
    journal = Path("j.jsonl")
    apply_placement(plan_placement([(Path("in") / raw, "x")], Path("sorted")), "move", journal)
    text = (tmp_path / "j.jsonl").read_text(encoding="ascii")
    assert "\\udcff\\udcfe" in text
    entry = read_journal(tmp_path / "j.jsonl").entries[0]
    assert entry.source == tmp_path / "in" / raw and entry.destination == tmp_path / "sorted" / "x" / raw
    assert os.fsencode(entry.destination.name) == b"IMG_\xff\xfe.jpg" and entry.destination.is_file()
    monkeypatch.chdir(tmp_path / "in")
    assert not undo_journal(tmp_path / "j.jsonl").problems
    assert (tmp_path / "in" / raw).is_file()


def test_a_placement_still_running_cannot_be_undone_at_the_same_time(tmp_path, photos):
    journal = tmp_path / "j.jsonl"
    refused = []

    def progress(done, total):
        if done == 2:
            with pytest.raises(JournalError, match="in use by another LakeView") as error:
                undo_journal(journal)
            refused.append(str(error.value))

    report = apply_placement(plan_placement([(p, "x") for p in photos], tmp_path / "sorted"), "move", journal,
                             progress=progress)

    assert len(report.done) == 4 and len(refused) == 1
    assert len(undo_journal(journal).restored) == 4 and all(p.is_file() for p in photos)
