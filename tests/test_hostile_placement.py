"""Copying and moving photos into class folders, and undoing it, under hostile and unlucky use (issue 9, items 1-6):
two jobs into one folder at once, crafted and damaged journals, edited copies, a full disk, kill -9, raw-byte names.
Every test proves that nothing was lost (content hashes before and after), the exit code, no traceback, the message."""

from __future__ import annotations

import errno
import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakeview.core.placement.copy_or_move import PlannedFile, apply_placement, plan_placement
from lakeview.core.placement.journal import JournalError, new_journal, read_journal
from lakeview.core.placement.undo import undo_journal

from hostile_tools import (REPO, RAW_NAMES, content_counts, file_hash, raw_name, run_lakeview, small_filesystem,
                           tree_hashes)

PLACE = """
import errno, json, os, sys, time
from pathlib import Path
from lakeview.core.placement.copy_or_move import apply_placement, plan_placement
source, into, mode, journal, go, fake = sys.argv[1:7]
if fake == "exdev":  # another filesystem: a hard link only works within one folder tree
    real_link = os.link
    def link(src, dst, **kw):
        if Path(src).parent != Path(dst).parent:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        return real_link(src, dst, **kw)
    os.link = link
plan = plan_placement([(p, "lake") for p in sorted(Path(source).iterdir())], Path(into))
if go != "-":
    Path(go + "-planned-" + Path(journal).name).touch()
    while not Path(go).exists():
        time.sleep(0.001)
report = apply_placement(plan, mode, Path(journal))
print(json.dumps({"done": len(report.done), "failed": [r for _, r in report.failed], "halted": report.halted,
                  "not_started": len(report.not_started)}))
"""


def place_in_child(source: Path, into: Path, mode: str, journal: Path, go: Path | None = None, fake: str = "-",
                   **popen) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", PLACE, str(source), str(into), mode, str(journal),
                             str(go) if go else "-", fake], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **popen)


def finished(child: subprocess.Popen) -> dict:
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0 and b"Traceback" not in err, err.decode(errors="replace")
    return json.loads(out)


def same_size_photos(folder: Path, count: int, tag: str) -> Path:
    """`count` files named DSC_0000.JPG... whose content differs from every other folder's, all of one size.
    Each starts with a JPEG's signature, so the catalog takes it for a (damaged) photo: cheap, and enough here."""
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"DSC_{i:04d}.JPG").write_bytes(b"\xff\xd8\xff\xe0" + f"{tag}:{i:06d}".encode().ljust(48, b"."))
    return folder


def photo_files(folder: Path) -> dict[str, str]:
    """The photos under `folder` (journals left out)."""
    return {k: v for k, v in tree_hashes(folder).items() if not k.endswith(".jsonl")} if folder.exists() else {}


# --- item 1: never replace, even with a concurrent writer ----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["copy", "move"])
def test_two_jobs_into_one_folder_at_once_keep_every_photo_and_both_undo(tmp_path, mode):
    a = same_size_photos(tmp_path / "card_a", 1000, "a")
    b = same_size_photos(tmp_path / "card_b", 1000, "b")
    originals = content_counts(a) | content_counts(b)
    before = {"a": tree_hashes(a), "b": tree_hashes(b)}
    into, go = tmp_path / "sorted", tmp_path / "go"
    journals = [tmp_path / "journal_a.jsonl", tmp_path / "journal_b.jsonl"]
    children = [place_in_child(folder, into, mode, journal, go) for folder, journal in zip((a, b), journals)]
    planned = [tmp_path / f"go-planned-{journal.name}" for journal in journals]
    deadline = time.monotonic() + 120
    while not all(p.exists() for p in planned) and time.monotonic() < deadline:
        time.sleep(0.01)  # both have planned DSC_0000.JPG... before either places anything
    go.touch()
    reports = [finished(child) for child in children]

    assert [r["done"] for r in reports] == [1000, 1000] and not any(r["failed"] for r in reports)
    placed = content_counts(into)
    assert len(photo_files(into)) == 2000
    assert placed == originals  # every original content exactly once: none replaced, none lost
    assert not list(into.rglob(".lakeview-part-*"))
    if mode == "move":
        assert not any(a.iterdir()) and not any(b.iterdir())

    for journal in journals:
        result = run_lakeview("undo", journal).assert_clean()
        assert result.code == 0, result.err
        assert "undone: 1000 photo(s)" in result.err
    assert photo_files(into) == {}
    assert {"a": tree_hashes(a), "b": tree_hashes(b)} == before


def test_a_name_taken_after_planning_gets_the_next_free_name(tmp_path):
    photo = tmp_path / "in" / "IMG_1.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"the photo")
    into = tmp_path / "sorted"
    plan = plan_placement([(photo, "lake")], into)
    (into / "lake").mkdir(parents=True)
    (into / "lake" / "IMG_1.jpg").write_bytes(b"appeared meanwhile")
    (into / "lake" / "IMG_1-1.jpg").symlink_to(tmp_path / "nowhere")  # a dangling link is a taken name too

    report = apply_placement(plan, "move", tmp_path / "j.jsonl")

    assert [item.destination.name for item in report.done] == ["IMG_1-2.jpg"]
    assert (into / "lake" / "IMG_1.jpg").read_bytes() == b"appeared meanwhile"
    assert (into / "lake" / "IMG_1-2.jpg").read_bytes() == b"the photo"
    done = [e for e in read_journal(tmp_path / "j.jsonl").entries]
    assert done[0].destination == into / "lake" / "IMG_1-2.jpg"  # the journal has the name actually used


@pytest.mark.parametrize("unsupported", ["no-hard-links", "no-hard-links-nor-rename2", "other-filesystem"])
@pytest.mark.parametrize("mode", ["copy", "move"])
def test_without_hard_links_or_across_filesystems_nothing_is_replaced(tmp_path, monkeypatch, mode, unsupported):
    from lakeview.core.placement import claimed_files

    source = same_size_photos(tmp_path / "card", 5, "s")
    before = tree_hashes(source)
    into = tmp_path / "sorted"
    (into / "lake").mkdir(parents=True)
    (into / "lake" / "DSC_0001.JPG").write_bytes(b"the user's own")
    real_link = os.link

    def link(src, dst, **kw):
        if unsupported == "other-filesystem":
            if Path(src).parent != Path(dst).parent:
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
            return real_link(src, dst, **kw)
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", link)
    if unsupported == "no-hard-links-nor-rename2":
        monkeypatch.setattr(claimed_files, "_libc", lambda: None)

    report = apply_placement(plan_placement([(p, "lake") for p in sorted(source.iterdir())], into), mode,
                             tmp_path / "j.jsonl")

    assert len(report.done) == 5 and not report.failed
    assert (into / "lake" / "DSC_0001.JPG").read_bytes() == b"the user's own"
    assert sorted(content_counts(into).values()) == [1] * 6
    assert set(before.values()) <= set(content_counts(into))
    assert not list(into.rglob(".lakeview-part-*"))
    undone = undo_journal(tmp_path / "j.jsonl")
    assert not undone.problems and len(undone.restored) == 5
    assert tree_hashes(source) == before
    assert photo_files(into) == {"lake/DSC_0001.JPG": file_hash(into / "lake" / "DSC_0001.JPG")}


def test_journal_names_are_unique_and_created_exclusively(tmp_path):
    names = {new_journal(tmp_path) for _ in range(50)}
    assert len(names) == 50 and all(p.is_file() and p.stat().st_size == 0 for p in names)
    assert all(p.name.startswith(".lakeview-journal-") and p.suffix == ".jsonl" for p in names)
    used = tmp_path / "used.jsonl"
    used.write_text("someone's notes\n")
    with pytest.raises(JournalError, match="already exists"):
        apply_placement([], "copy", used)
    assert used.read_text() == "someone's notes\n"


# --- items 2 and 3: undo only touches what it can prove it made ----------------------------------------------------
def crafted(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def header(mode: str, *roots: Path) -> dict:
    return {"format": "lakeview-journal", "version": 2, "mode": mode, "started": "2026-01-01T00:00:00+00:00",
            "roots": [str(r) for r in roots], "hash": "sha256"}


@pytest.fixture
def thesis(tmp_path) -> Path:
    path = tmp_path / "home" / "thesis.docx"
    path.parent.mkdir()
    path.write_bytes(b"four years of work")
    return path


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_a_crafted_journal_naming_another_file_is_refused(tmp_path, thesis, mode):
    into = tmp_path / "sorted"
    into.mkdir()
    sha = file_hash(thesis)
    journals = {
        "v1, as in the issue": crafted(tmp_path / "v1.jsonl", {"format": "lakeview-journal", "version": 1,
                                                               "mode": mode, "started": "x"},
                                       {"source": "/x.jpg", "destination": str(thesis), "size": 18}),
        "no header": crafted(tmp_path / "bare.jsonl", {"source": "/x.jpg", "destination": str(thesis), "size": 18}),
        "outside its root": crafted(
            tmp_path / "outside.jsonl", header(mode, into),
            {"place": 0, "source": "/x.jpg", "planned": str(thesis), "temp": None, "sha256": sha},
            {"done": 0, "destination": str(thesis), "sha256": sha, "size": 18}),
        "a folder outside its root": crafted(tmp_path / "folder.jsonl", header(mode, into),
                                             {"folder": str(thesis.parent)}),
        "a relative source": crafted(
            tmp_path / "relative.jsonl", header(mode, thesis.parent),
            {"place": 0, "source": "x.jpg", "planned": str(thesis), "temp": None, "sha256": sha}),
        "a temp that is a real name": crafted(
            tmp_path / "temp.jsonl", header(mode, thesis.parent),
            {"place": 0, "source": "/x.jpg", "planned": str(thesis.parent / "a.jpg"), "temp": str(thesis),
             "sha256": sha}),
        "a dotted path": crafted(
            tmp_path / "dots.jsonl", header(mode, into),
            {"place": 0, "source": "/x.jpg", "planned": f"{into}/../home/thesis.docx", "temp": None, "sha256": sha}),
        "a newer version": crafted(tmp_path / "v3.jsonl", {**header(mode, into), "version": 3}),
    }
    before = tree_hashes(tmp_path)
    for what, journal in journals.items():
        result = run_lakeview("undo", journal, cwd=tmp_path).assert_clean()
        assert result.code == 2, what
        assert result.err.startswith("lakeview: error: ") and result.err.count("\n") == 1, (what, result.err)
        assert "nothing was changed" in result.err, (what, result.err)
        assert tree_hashes(tmp_path) == before, what
    assert "older LakeView" in run_lakeview("undo", journals["v1, as in the issue"]).err
    assert "outside the folders" in run_lakeview("undo", journals["outside its root"]).err


def test_a_journal_with_the_right_hash_still_never_costs_the_only_copy(tmp_path, thesis):
    """Even one naming a file inside its root with that file's true hash: a copy is deleted only while an identical
    original exists, and a photo moves back only onto a free name."""
    sha = file_hash(thesis)
    root = thesis.parent
    copy = crafted(tmp_path / "copy.jsonl", header("copy", root),
                   {"place": 0, "source": str(tmp_path / "gone.jpg"), "planned": str(thesis), "temp": None,
                    "sha256": None},
                   {"done": 0, "destination": str(thesis), "sha256": sha, "size": 18})
    same = crafted(tmp_path / "same.jsonl", header("move", root),
                   {"place": 0, "source": str(thesis), "planned": str(thesis), "temp": None, "sha256": sha},
                   {"done": 0, "destination": str(thesis), "sha256": sha, "size": 18})
    for journal in (copy, same):
        result = run_lakeview("undo", journal).assert_clean()
        assert result.code == 1 and "left alone" in result.err and "thesis.docx" in result.err
        assert file_hash(thesis) == sha


def test_an_edited_copy_of_the_same_size_is_kept_and_a_second_undo_retries_it(tmp_path):
    source = same_size_photos(tmp_path / "card", 4, "s")
    before = tree_hashes(source)
    into = tmp_path / "sorted"
    journal = tmp_path / "j.jsonl"
    apply_placement(plan_placement([(p, "lake") for p in sorted(source.iterdir())], into), "copy", journal)
    edited = into / "lake" / "DSC_0002.JPG"
    original = edited.read_bytes()
    edited.write_bytes(original[::-1])  # same size, other content: an edit size alone cannot see

    result = run_lakeview("undo", journal).assert_clean()

    assert result.code == 1
    assert "DSC_0002.JPG: changed since it was placed; left alone" in result.err
    assert "1 photo(s) still to undo" in result.err
    assert photo_files(into) == {"lake/DSC_0002.JPG": file_hash(edited)}
    assert tree_hashes(source) == before

    edited.write_bytes(original)  # the user puts it back as it was: undo again does just that one
    again = run_lakeview("undo", journal).assert_clean()
    assert again.code == 0 and "undone: 1 photo(s)" in again.err
    assert photo_files(into) == {} and tree_hashes(source) == before
    last = run_lakeview("undo", journal).assert_clean()
    assert last.code == 2 and "already undone" in last.err


def test_a_copy_whose_original_was_deleted_is_kept(tmp_path):
    source = same_size_photos(tmp_path / "card", 2, "s")
    into = tmp_path / "sorted"
    apply_placement(plan_placement([(p, "lake") for p in sorted(source.iterdir())], into), "copy", tmp_path / "j")
    (source / "DSC_0000.JPG").unlink()
    kept = file_hash(into / "lake" / "DSC_0000.JPG")

    result = run_lakeview("undo", tmp_path / "j").assert_clean()

    assert result.code == 1 and "is gone or changed, so this copy is kept" in result.err
    assert photo_files(into) == {"lake/DSC_0000.JPG": kept}


# --- item 4: absolute paths, undo from anywhere --------------------------------------------------------------------
def label_all_as_lake(catalog_path: Path, photos: Path) -> None:
    """A catalog in which every photo in `photos` is labelled 'lake' by the user."""
    from lakeview.core.catalog import Catalog

    with Catalog(catalog_path) as catalog:
        catalog.add_photos(sorted(photos.iterdir()))
        catalog.ensure_classes(["lake"])
        catalog.set_labels(sorted(photos.iterdir()), "lake", source="user")


def test_undo_from_another_folder_with_the_printed_command(tmp_path):
    work = tmp_path / "work dir"
    photos = same_size_photos(work / "photos", 3, "p")
    before = tree_hashes(photos)
    catalog_path = tmp_path / "lib" / "catalog.sqlite"
    label_all_as_lake(catalog_path, photos)

    export = run_lakeview("catalog", "--catalog", catalog_path, "export", "--into", "sorted", "--move",
                          cwd=work).assert_clean()

    assert export.code == 0, export.err
    assert not any(photos.iterdir()) and len(photo_files(work / "sorted")) == 3
    command = shlex.split(export.err.split("undo with: ")[1].splitlines()[0])
    assert command[:2] == ["lakeview", "undo"] and Path(command[2]).is_absolute()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    undo = run_lakeview(*command[1:], cwd=elsewhere).assert_clean()
    assert undo.code == 0 and "undone: 3 photo(s)" in undo.err
    assert tree_hashes(photos) == before and photo_files(work / "sorted") == {}


# --- item 5: a full disk leaves no partial photo -------------------------------------------------------------------
def limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("mode,fake", [("copy", "-"), ("move", "exdev")])
def test_a_full_disk_stops_the_job_and_leaves_no_partial_file(tmp_path, mode, fake):
    source = tmp_path / "card"
    source.mkdir()
    for i in range(12):  # photo 6 is bigger than the disk has room for
        (source / f"IMG_{i:02d}.jpg").write_bytes(os.urandom(300_000 if i == 6 else 20_000))
    before = tree_hashes(source)
    into, journal = tmp_path / "sorted", tmp_path / "j.jsonl"

    report = finished(place_in_child(source, into, mode, journal, fake=fake, preexec_fn=limit_file_size(200_000)))

    assert report["done"] == 6 and report["not_started"] == 5
    assert "File too large" in report["halted"] and "IMG_06.jpg" in report["halted"]
    assert "were not" in report["halted"] and "are where they were" in report["halted"]
    placed = tree_hashes(into)
    assert all(digest in before.values() for digest in placed.values())  # no zero-byte, truncated or temp file
    assert sorted(placed) == [f"lake/IMG_{i:02d}.jpg" for i in range(6)]
    if mode == "move":
        assert sorted(p.name for p in source.iterdir()) == [f"IMG_{i:02d}.jpg" for i in range(6, 12)]
    else:
        assert tree_hashes(source) == before

    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 0 and "undone: 6 photo(s)" in result.err
    assert tree_hashes(source) == before and photo_files(into) == {}


def test_the_command_line_says_the_disk_is_full_and_how_to_undo(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        (photos / f"IMG_{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2_000_000 if i == 2 else 10_000))
    before = tree_hashes(photos)
    catalog_path = tmp_path / "lib" / "catalog.sqlite"
    label_all_as_lake(catalog_path, photos)

    result = run_lakeview("catalog", "--catalog", catalog_path, "export", "--into", tmp_path / "sorted",
                          preexec_fn=limit_file_size(1_000_000)).assert_clean()

    assert result.code == 2
    assert "lakeview: error: stopped at IMG_2.jpg" in result.err and "File too large" in result.err
    assert "undo with: lakeview undo" in result.err
    assert sorted(photo_files(tmp_path / "sorted")) == ["lake/IMG_0.jpg", "lake/IMG_1.jpg"]
    assert all(d in before.values() for d in photo_files(tmp_path / "sorted").values())
    assert tree_hashes(photos) == before


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_undo_after_kill_9_in_the_middle_restores_everything(tmp_path, mode):
    source = same_size_photos(tmp_path / "card", 1500, "k")
    before = tree_hashes(source)
    into, journal = tmp_path / "sorted", tmp_path / "j.jsonl"
    child = place_in_child(source, into, mode, journal, fake="exdev" if mode == "move" else "-")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not journal.exists() or journal.stat().st_size < 20_000):
        time.sleep(0.005)
    child.kill()
    child.communicate()
    assert photo_files(into), "the child had not started placing"

    result = run_lakeview("undo", journal).assert_clean()

    assert result.code == 0, result.err
    assert tree_hashes(source) == before
    assert photo_files(into) == {} and not list(into.rglob(".lakeview-part-*"))


# --- item 6: damaged journals --------------------------------------------------------------------------------------
@pytest.fixture
def placed(tmp_path):
    """Five photos copied into sorted/lake with a journal: (source folder, into, journal, hashes of both)."""
    source = same_size_photos(tmp_path / "card", 5, "d")
    into = tmp_path / "sorted"
    journal = tmp_path / "j.jsonl"
    apply_placement(plan_placement([(p, "lake") for p in sorted(source.iterdir())], into), "copy", journal)
    return source, into, journal, tree_hashes(tmp_path)


@pytest.mark.parametrize("damage,line,says", [
    ("middle line", 4, "is damaged"),
    ("non-UTF-8", 3, "not text"),
    ("unknown record", 5, "not a record LakeView writes"),
])
def test_a_damaged_journal_is_refused_with_its_line_number(tmp_path, placed, damage, line, says):
    source, into, journal, before = placed
    lines = journal.read_bytes().splitlines(keepends=True)
    if damage == "middle line":
        lines[line - 1] = lines[line - 1][: len(lines[line - 1]) // 2] + b"\n"
    elif damage == "non-UTF-8":
        lines[line - 1] = lines[line - 1].replace(b"DSC", b"D\xff\xfeC")
    else:
        lines[line - 1] = b'{"delete": "/home/me"}\n'
    journal.write_bytes(b"".join(lines))
    before = tree_hashes(tmp_path)

    result = run_lakeview("undo", journal).assert_clean()

    assert result.code == 2
    assert f"line {line} of {journal} " in result.err and says in result.err and "nothing was changed" in result.err
    assert tree_hashes(tmp_path) == before


def test_a_journal_cut_short_undoes_what_it_recorded_and_says_so(tmp_path, placed):
    source, into, journal, before = placed
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) - 30])  # the last "done" record, cut by a crash
    last_line = data.count(b"\n")

    result = run_lakeview("undo", journal).assert_clean()

    assert result.code == 1
    assert f"line {last_line} was cut short" in result.err
    assert "DSC_0004.JPG" in result.err and "may be its copy; left alone" in result.err
    assert sorted(photo_files(into)) == ["lake/DSC_0004.JPG"]  # the one it cannot prove is its own
    assert tree_hashes(source) == {k.removeprefix("card/"): v for k, v in before.items() if k.startswith("card/")}


def test_an_empty_journal_and_a_folder_are_refused(tmp_path, placed):
    source, into, journal, before = placed
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    result = run_lakeview("undo", empty).assert_clean()
    assert result.code == 2 and "is empty" in result.err

    listed = new_journal(into)
    apply_placement(plan_placement([(source / "DSC_0000.JPG", "other")], into), "move", listed)
    before = tree_hashes(tmp_path)
    folder = run_lakeview("undo", into).assert_clean()
    assert folder.code == 2
    assert f"lakeview: error: {into} is a folder; name one of its journals" in folder.err
    assert listed.name in folder.err and "move: 1 photo(s), not undone" in folder.err
    assert tree_hashes(tmp_path) == before


# --- names made of raw bytes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["copy", "move"])
def test_raw_byte_names_are_placed_and_undone_losslessly(tmp_path, mode):
    source = Path(os.fsdecode(bytes(tmp_path) + b"/Karte_\xe4\xff"))
    source.mkdir()
    for i, raw in enumerate(RAW_NAMES):
        (source / raw_name(raw)).write_bytes(f"photo {i}".encode())
    before = tree_hashes(source)
    into = tmp_path / "sorted"

    report = finished(place_in_child(source, into, mode, tmp_path / "j.jsonl"))

    assert report["done"] == len(RAW_NAMES)
    assert sorted(os.listdir(os.fsencode(into / "lake"))) == sorted(RAW_NAMES)
    assert (tmp_path / "j.jsonl").read_bytes().isascii()
    result = run_lakeview("undo", tmp_path / "j.jsonl").assert_clean()
    assert result.code == 0 and f"undone: {len(RAW_NAMES)} photo(s)" in result.err
    assert tree_hashes(source) == before
    assert sorted(os.listdir(os.fsencode(source))) == sorted(RAW_NAMES)


def test_a_pipe_or_a_device_given_as_the_journal_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "journal.jsonl"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        result = run_lakeview("undo", path, timeout=30).assert_clean()
        assert result.code == 2 and "is not a journal file" in result.err


# --- real filesystems, where the machine has them ------------------------------------------------------------------
@pytest.fixture
def other_filesystem(tmp_path):
    """A folder on another filesystem than tmp_path (/dev/shm), or skip."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK) or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem to move across")
    import tempfile

    folder = Path(tempfile.mkdtemp(dir=shm, prefix="lakeview-test-"))
    yield folder
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system mounted in tmp_path, where this process may mount one; else skip."""
    with small_filesystem(tmp_path / "small", "1m"):
        yield tmp_path / "small"


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_a_move_across_filesystems_claims_verifies_and_undoes(tmp_path, other_filesystem, mode):
    source = same_size_photos(other_filesystem / "card", 20, "x")
    before = tree_hashes(source)
    into = tmp_path / "sorted"
    (into / "lake").mkdir(parents=True)
    (into / "lake" / "DSC_0003.JPG").write_bytes(b"the user's own")

    report = finished(place_in_child(source, into, mode, tmp_path / "j.jsonl"))

    assert report["done"] == 20 and not report["failed"]
    assert (into / "lake" / "DSC_0003.JPG").read_bytes() == b"the user's own"
    assert set(before.values()) <= set(content_counts(into)) and not list(into.rglob(".lakeview-part-*"))
    assert (source.exists() and any(source.iterdir())) == (mode == "copy")
    result = run_lakeview("undo", tmp_path / "j.jsonl").assert_clean()
    assert result.code == 0 and "undone: 20 photo(s)" in result.err
    assert tree_hashes(source) == before and list(photo_files(into)) == ["lake/DSC_0003.JPG"]


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_a_real_full_disk_stops_the_job_and_leaves_no_partial_file(tmp_path, small_disk, mode):
    source = tmp_path / "card"
    source.mkdir()
    for i in range(30):
        (source / f"IMG_{i:02d}.jpg").write_bytes(os.urandom(100_000))
    before = tree_hashes(source)

    report = finished(place_in_child(source, small_disk, mode, small_disk / "j.jsonl"))

    assert report["halted"] and "No space left on device" in report["halted"]
    assert 0 < report["done"] < 30 and report["done"] + 1 + report["not_started"] == 30
    placed = photo_files(small_disk)
    assert len(placed) == report["done"] and all(d in before.values() for d in placed.values())
    assert not list(small_disk.rglob(".lakeview-part-*"))
    assert set(before.values()) == set(tree_hashes(source).values()) | set(placed.values())  # every photo somewhere
    result = run_lakeview("undo", small_disk / "j.jsonl").assert_clean()
    assert result.code == 0, result.err
    assert tree_hashes(source) == before and photo_files(small_disk) == {}


# --- names and labels at the file system's limits ------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["copy", "move"])
def test_a_name_of_255_bytes_whose_name_is_taken_gets_a_shortened_free_name(tmp_path, mode):
    long_name = "é" * 124 + "a_1.jpg"  # 255 bytes: the most a Linux name may have
    assert len(os.fsencode(long_name)) == 255
    source = tmp_path / "card"
    source.mkdir()
    (source / long_name).write_bytes(b"\xff\xd8\xff new photo")
    (tmp_path / "sorted" / "lake").mkdir(parents=True)
    (tmp_path / "sorted" / "lake" / long_name).write_bytes(b"\xff\xd8\xff already there")
    before = tree_hashes(tmp_path)
    journal = tmp_path / "j.jsonl"

    report = apply_placement(plan_placement([(source / long_name, "lake")], tmp_path / "sorted"), mode, journal)

    assert report.failed == [] and len(report.done) == 1
    placed = report.done[0].destination
    assert placed.name.endswith("-1.jpg") and len(os.fsencode(placed.name)) <= 255
    assert file_hash(placed) == before[f"card/{long_name}"]
    assert file_hash(tmp_path / "sorted" / "lake" / long_name) == before[f"sorted/lake/{long_name}"]
    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 0, result.err
    assert photo_files(tmp_path) == {k: v for k, v in before.items()}


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_labels_a_file_system_would_refuse_still_make_one_class_folder_each(tmp_path, mode):
    labels = ["..", ".", "a/b/../c", "nul\0byte", "x" * 300, "ü" * 200, "new\nline", " ", "=1+1"]
    source = same_size_photos(tmp_path / "card", len(labels), "s")
    before = tree_hashes(source)
    into = tmp_path / "sorted"
    journal = tmp_path / "j.jsonl"

    report = apply_placement(plan_placement(zip(sorted(source.iterdir()), labels), into), mode, journal)

    assert report.failed == [] and len(report.done) == len(labels)
    folders = [p for p in into.iterdir()]
    assert all(p.is_dir() and p.parent == into and len(os.fsencode(p.name)) <= 255 for p in folders)
    assert content_counts(into) == content_counts(source if mode == "copy" else into)
    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 0, result.err
    assert tree_hashes(source) == before and list(into.iterdir()) == []


def test_a_name_with_a_newline_is_placed_and_the_undo_hint_is_one_pasteable_line(tmp_path):
    source = tmp_path / "card"
    source.mkdir()
    (source / "new\nline.jpg").write_bytes(b"\xff\xd8\xff photo")
    into = tmp_path / "sorted\nfolder"
    journal = tmp_path / "j\nj.jsonl"
    report = apply_placement(plan_placement([(source / "new\nline.jpg", "lake")], into), "move", journal)
    assert len(report.done) == 1

    from lakeview.core.photos.file_names import shown_path
    from lakeview.cli.shell_quoting import shell_quoted

    assert "\n" not in shown_path(report.done[0].destination) + shell_quoted(journal)
    result = subprocess.run(["bash", "-c", f"cat {shell_quoted(journal)} > /dev/null"], capture_output=True)
    assert result.returncode == 0, result.stderr
    assert run_lakeview("undo", journal).assert_clean().code == 0
    assert (source / "new\nline.jpg").read_bytes() == b"\xff\xd8\xff photo"


# --- journals that lead elsewhere ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["copy", "move"])
def test_a_journal_whose_root_is_the_file_system_root_is_refused(tmp_path, thesis, mode):
    sha = file_hash(thesis)
    twin = tmp_path / "twin.docx"
    twin.write_bytes(thesis.read_bytes())
    journal = crafted(tmp_path / "root.jsonl", header(mode, Path("/")),
                      {"place": 0, "source": str(twin if mode == "copy" else tmp_path / "taken.docx"),
                       "planned": str(thesis), "temp": None, "sha256": sha},
                      {"done": 0, "destination": str(thesis), "sha256": sha, "size": 18})
    before = tree_hashes(tmp_path)
    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 2 and "whole file system" in result.err and "nothing was changed" in result.err
    assert tree_hashes(tmp_path) == before


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_a_journal_reaching_another_folder_through_a_link_leaves_it_alone(tmp_path, thesis, mode):
    """A crafted journal that knows the file's true hash, naming it through a linked class folder in its root."""
    sha = file_hash(thesis)
    root = tmp_path / "sorted"
    root.mkdir()
    (root / "lake").symlink_to(thesis.parent)
    twin = tmp_path / "twin.docx"
    twin.write_bytes(thesis.read_bytes())
    through_link = root / "lake" / thesis.name
    journal = crafted(tmp_path / "link.jsonl", header(mode, root),
                      {"folder": str(root / "lake")},
                      {"place": 0, "source": str(twin if mode == "copy" else tmp_path / "taken.docx"),
                       "planned": str(through_link), "temp": None, "sha256": sha},
                      {"done": 0, "destination": str(through_link), "sha256": sha, "size": 18})
    before = photo_files(tmp_path)
    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 1 and "symbolic link" in result.err and "left alone" in result.err, result.err
    assert photo_files(tmp_path) == before and (root / "lake").is_symlink()


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_placing_through_linked_folders_undoes_and_a_link_swapped_later_is_left_alone(tmp_path, mode):
    source = same_size_photos(tmp_path / "card", 3, "s")
    before = tree_hashes(source)
    real = tmp_path / "disk" / "sorted"
    real.mkdir(parents=True)
    (tmp_path / "sorted").symlink_to(real)  # the destination the user names is a link to another disk
    (real / "lake").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (real / "sky").symlink_to(tmp_path / "elsewhere")  # and so is one class folder
    photos = sorted(source.iterdir())
    plan = plan_placement(zip(photos, ["lake", "sky", "lake"]), tmp_path / "sorted")
    journal = tmp_path / "j.jsonl"

    report = apply_placement(plan, mode, journal)

    assert len(report.done) == 3
    assert len(list((tmp_path / "elsewhere").iterdir())) == 1
    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 0, result.err
    assert tree_hashes(source) == before
    assert photo_files(real) == {} and list((tmp_path / "elsewhere").iterdir()) == []

    # Again; then the link is pointed at another folder that holds the same photos under the same names. The journal
    # names the folder the photos really went to, so undo removes those and never touches the other folder.
    journal2 = tmp_path / "j2.jsonl"
    report = apply_placement(plan_placement(zip(photos, ["sky"] * 3), tmp_path / "sorted"), mode, journal2)
    (tmp_path / "other").mkdir()
    for placed in report.done:
        (tmp_path / "other" / placed.destination.name).write_bytes(placed.destination.read_bytes())
    (real / "sky").unlink()
    (real / "sky").symlink_to(tmp_path / "other")
    other = tree_hashes(tmp_path / "other")
    result = run_lakeview("undo", journal2).assert_clean()
    assert result.code == 0, result.err
    assert tree_hashes(tmp_path / "other") == other and list((tmp_path / "elsewhere").iterdir()) == []
    assert tree_hashes(source) == before


def test_nothing_is_placed_at_the_top_of_the_file_system(tmp_path):
    photo = same_size_photos(tmp_path / "card", 1, "s") / "DSC_0000.JPG"
    journal = new_journal(tmp_path / "journals")
    with pytest.raises(JournalError, match="top of the file system"):
        apply_placement([PlannedFile(photo, Path("/lake/DSC_0000.JPG"))], "copy", journal)
    assert not Path("/lake").exists() and photo.exists()
    assert not journal.exists()  # the journal reserved for the job that never started is not left behind


@pytest.mark.parametrize("move", [True, False])
def test_exporting_into_the_same_folder_again_leaves_the_photos_as_they_are(tmp_path, move):
    """A second `catalog export --into` used to rename every photo to '-1' (move) or copy it beside itself."""
    from lakeview.core.catalog import Catalog

    photos = sorted(same_size_photos(tmp_path / "card", 3, "s").iterdir())
    catalog = tmp_path / "c.lvcatalog"
    with Catalog(catalog) as open_catalog:
        open_catalog.add_photos(photos)
        open_catalog.ensure_classes(["lake"])
        open_catalog.set_labels(photos, "lake")
    into = tmp_path / "sorted"
    export = ["catalog", "--catalog", catalog, "export", "--into", into] + (["--move"] if move else [])
    assert run_lakeview(*export).assert_clean().code == 0
    placed = photo_files(into)
    assert sorted(placed) == ["lake/DSC_0000.JPG", "lake/DSC_0001.JPG", "lake/DSC_0002.JPG"]
    if not move:  # the catalog still knows the originals; export those of the copies' folder again via a link
        (tmp_path / "card").rename(tmp_path / "card-old")
        (tmp_path / "card").symlink_to(into / "lake")
    again = run_lakeview(*export).assert_clean()
    assert again.code == 0 and "3 photo(s) already in their class folder" in again.err, again.err
    assert photo_files(into) == placed


@pytest.mark.parametrize("option", ["--move-into", "--copy-into"])
def test_classifying_a_class_folder_into_its_own_parent_leaves_its_photos_as_they_are(tmp_path, capsys, option):
    import torch

    from photo_tools import make_photo
    from lakeview.cli.main import main
    from lakeview.core.models.model_file import ModelMeta, save_model
    from lakeview.core.models.network import bare_network

    torch.manual_seed(0)
    model = save_model(tmp_path / "tiny.lvmodel", bare_network("tiny", 2), ModelMeta(arch="tiny", classes=["a", "b"],
                                                                                       size=32))
    into = tmp_path / "sorted"
    for i in range(3):
        make_photo(into / "_unsure" / f"p{i}.jpg", seed=i)
    before = tree_hashes(into)
    code = main(["classify", str(into / "_unsure"), "--model", str(model), option, str(into), "--min-confidence", "1",
                 "--quiet"])
    assert code == 0
    assert "3 photo(s) already in their class folder" in capsys.readouterr().err
    assert tree_hashes(into) == before


@pytest.mark.parametrize("kind", ["pipe", "device"])
def test_a_journal_option_naming_a_pipe_or_a_device_is_refused_before_anything_moves(tmp_path, kind):
    """`--journal /dev/null` used to be taken (it is empty), so the undo was thrown away; a pipe hung."""
    source = same_size_photos(tmp_path / "card", 2, "s")
    before = tree_hashes(source)
    journal = tmp_path / "j.jsonl"
    if kind == "pipe":
        os.mkfifo(journal)
    else:
        journal = Path("/dev/null")
    plan = plan_placement([(p, "lake") for p in sorted(source.iterdir())], tmp_path / "sorted")
    with pytest.raises(JournalError, match="is not a file"):
        apply_placement(plan, "move", journal)
    assert tree_hashes(source) == before and photo_files(tmp_path / "sorted") == {}


def test_thousands_of_photos_of_one_name_are_planned_and_placed_in_linear_work(tmp_path, monkeypatch):
    """A recursive classify of a camera archive (100CANON/IMG_0001.JPG, 101CANON/IMG_0001.JPG...): planning used to
    try every '-n' from 1 for each photo, 4,000 photos of one name took 85 s."""
    count = 3000
    sources = [Path(f"/nowhere/{i}/IMG_0001.JPG") for i in range(count)]
    calls = []
    real_lexists = os.path.lexists
    monkeypatch.setattr(os.path, "lexists", lambda path: calls.append(path) or real_lexists(path))
    plan = plan_placement([(s, "lake") for s in sources], tmp_path / "sorted")
    monkeypatch.undo()
    assert len({item.destination for item in plan}) == count
    assert len(calls) <= 3 * count

    card = tmp_path / "card"
    for i in range(60):
        (card / str(i)).mkdir(parents=True)
        (card / str(i) / "IMG_0001.JPG").write_bytes(b"\xff\xd8\xff" + bytes([i]))
    photos = sorted(card.glob("*/IMG_0001.JPG"))
    plan = plan_placement([(p, "lake") for p in photos], tmp_path / "sorted")
    (tmp_path / "sorted" / "lake").mkdir(parents=True)
    (tmp_path / "sorted" / "lake" / plan[30].destination.name).write_bytes(b"someone else's")  # taken meanwhile
    links = []
    real_link = os.link
    monkeypatch.setattr(os, "link", lambda a, b, **kw: links.append(b) or real_link(a, b, **kw))
    report = apply_placement(plan, "copy", tmp_path / "j.jsonl")
    assert len(report.done) == 60 and len(links) <= 2 * 60  # each photo after the taken name moves up one
    assert content_counts(tmp_path / "sorted") == {**content_counts(card), file_hash(
        tmp_path / "sorted" / "lake" / plan[30].destination.name): 1}


def test_copies_of_linked_photos_are_undone_but_never_when_the_link_now_leads_to_the_copy(tmp_path):
    """Copies follow links, so a copy of a photo reached through a link used to be kept by undo for ever ('the
    original is gone or changed'), exit 1."""
    real = same_size_photos(tmp_path / "archive", 2, "r")
    card = tmp_path / "card"
    card.mkdir()
    for photo in real.iterdir():
        (card / photo.name).symlink_to(photo)
    before = tree_hashes(real)
    journal = tmp_path / "j.jsonl"
    report = apply_placement(plan_placement([(p, "lake") for p in sorted(card.iterdir())], tmp_path / "sorted"),
                             "copy", journal)
    assert len(report.done) == 2
    result = run_lakeview("undo", journal).assert_clean()
    assert result.code == 0 and "undone: 2 photo(s)" in result.err, result.err
    assert photo_files(tmp_path / "sorted") == {} and tree_hashes(real) == before

    journal2 = tmp_path / "j2.jsonl"
    report = apply_placement(plan_placement([(card / "DSC_0000.JPG", "lake")], tmp_path / "sorted"), "copy", journal2)
    copy = report.done[0].destination
    (real / "DSC_0000.JPG").unlink()  # the original is deleted, and its link now leads to the copy
    (card / "DSC_0000.JPG").unlink()
    (card / "DSC_0000.JPG").symlink_to(copy)
    result = run_lakeview("undo", journal2).assert_clean()
    assert result.code == 1 and "left alone" in result.err
    assert file_hash(copy) == before["DSC_0000.JPG"]


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_labels_that_clean_to_one_folder_name_never_mix_their_photos(tmp_path, mode):
    labels = ["a/b", "a_b", "a:b", ".", "..", "x" * 300 + "1", "x" * 300 + "2"]
    source = same_size_photos(tmp_path / "card", len(labels), "s")
    photos = sorted(source.iterdir())
    before = tree_hashes(source)
    into = tmp_path / "sorted"
    report = apply_placement(plan_placement(zip(photos, labels), into), mode, tmp_path / "j.jsonl")
    assert len(report.done) == len(labels)
    folders = {item.destination.parent for item in report.done}
    assert len(folders) == len(labels) and all(len(os.fsencode(f.name)) <= 255 for f in folders)
    assert (into / "a_b" / photos[1].name).is_file()  # the label that needed no cleaning keeps its plain name
    assert run_lakeview("undo", tmp_path / "j.jsonl").assert_clean().code == 0
    assert tree_hashes(source) == before
