"""Damaged, truncated, newer, foreign, busy, full and unwritable catalogs: each is one sentence and exit 2,
never a traceback; a file that must not be touched keeps every byte; `catalog recover` brings back what
can be read."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lakeview.core.catalog import Catalog
from lakeview.core.catalog.schema import LATEST

from photo_tools import make_photo
from hostile_tools import file_hash, run_lakeview, small_filesystem, tree_hashes

PAGE = 4096
CLASSES = ("emerald", "louise", "moraine")
EVERY_COMMAND = (("status",), ("check",), ("add", "{photos}"), ("label", "{photo}", "--as", "louise"),
                 ("export", "--csv", "{out}"), ("rescan",), ("undo",), ("redo",), ("models",))


def labelled_catalog(folder: Path, photos: int = 300) -> tuple[Path, Path, dict[str, str]]:
    """(catalog, photo folder, {path: label}): enough rows to fill a few dozen pages."""
    photo_folder = folder / "photos"
    original = make_photo(photo_folder / "p0000.jpg", size=(16, 12))
    for i in range(1, photos):
        shutil.copy(original, photo_folder / f"p{i:04}.jpg")
        with open(photo_folder / f"p{i:04}.jpg", "ab") as handle:  # a distinct fingerprint for each
            handle.write(i.to_bytes(4, "big"))
    path = folder / "library" / "catalog.sqlite"
    with Catalog(path) as catalog:
        catalog.add_folder(photo_folder)
        catalog.ensure_classes(list(CLASSES))
        paths = sorted(photo_folder.iterdir())
        labels = {}
        for i, photo in enumerate(paths):
            labels[str(photo)] = CLASSES[i % 3]
        for name in CLASSES:
            catalog.set_labels([Path(p) for p, label in labels.items() if label == name], name)
    return path, photo_folder, labels


def damage_pages(path: Path, share: float = 0.2, seed: int = 3) -> None:
    """Overwrite a share of the pages with random bytes: leaves of the tables and indexes, never the first
    page (it names the tables) nor a root page (whose loss leaves nothing to compare)."""
    with sqlite3.connect(path) as db:
        roots = [row[0] for row in db.execute("SELECT rootpage FROM sqlite_master WHERE rootpage > 0")]
    db.close()
    spared = {0, *(root - 1 for root in roots)}
    pages = [p for p in range(path.stat().st_size // PAGE) if p not in spared]
    rng = random.Random(seed)
    with open(path, "r+b") as handle:
        for page in rng.sample(pages, max(1, int(len(pages) * share))):
            handle.seek(page * PAGE)
            handle.write(rng.randbytes(PAGE))


def run_all(catalog: Path, tmp_path: Path, photos: Path, env: dict | None = None):
    for command in EVERY_COMMAND:
        args = [a.format(photos=photos, photo=photos / "p0001.jpg", out=tmp_path / "out.csv") for a in command]
        yield command[0], run_lakeview("catalog", "--catalog", catalog, *args, env=env)


def assert_refused(finished, *words: str) -> None:
    finished.assert_clean()
    assert finished.code == 2, finished.err
    errors = [line for line in finished.err.splitlines() if line.startswith("lakeview: error: ")]
    assert len(errors) == 1 and finished.err.rstrip().endswith(errors[0]), finished.err  # one sentence, last
    for word in words:
        assert word in finished.err, finished.err


@pytest.fixture
def damaged(tmp_path):
    catalog, photos, labels = labelled_catalog(tmp_path)
    intact = tmp_path / "intact.sqlite"
    shutil.copy(catalog, intact)
    damage_pages(catalog)
    return catalog, photos, labels, intact


def test_a_damaged_catalog_is_refused_by_every_command_and_never_written(damaged, tmp_path):
    catalog, photos, _, _ = damaged
    before = tree_hashes(catalog.parent)
    for name, finished in run_all(catalog, tmp_path, photos):
        if name == "check":
            assert finished.code == 2 and "Traceback" not in finished.err
            assert "is damaged" in finished.err and "recover" in finished.err
            continue
        assert_refused(finished, "is damaged", f"lakeview catalog --catalog {catalog} recover")
    assert tree_hashes(catalog.parent) == before
    assert not (tmp_path / "out.csv").exists()


def test_recover_brings_back_every_label_that_can_still_be_read(damaged):
    catalog, _, labels, _ = damaged
    damaged_bytes = file_hash(catalog)
    readable = _labels_readable_one_by_one(catalog)
    assert 0 < len(readable) < len(labels)  # the damage hit labels, and left some

    finished = run_lakeview("catalog", "--catalog", catalog, "recover").assert_clean()
    assert finished.code == 0, finished.err
    assert "labels:" in finished.err and "recovered" in finished.err
    kept = [p for p in catalog.parent.iterdir() if p.name.startswith("catalog.sqlite.damaged-")]
    assert len(kept) == 1 and file_hash(kept[0]) == damaged_bytes  # moved aside, not deleted or changed

    with Catalog(catalog) as recovered:
        assert recovered.integrity_check() == ["ok"]
        back = {str(p): label for p, label, _, _ in recovered.labelled_photos()}
    assert back.items() >= readable.items(), finished.err  # every readable label came back
    assert all(labels[p] == label for p, label in back.items())  # and nothing came back wrong
    healthy = run_lakeview("catalog", "--catalog", catalog, "check").assert_clean()
    assert healthy.code == 0 and "is healthy" in healthy.err


def test_recover_into_another_file_leaves_the_damaged_one_in_place(damaged, tmp_path):
    catalog, _, labels, _ = damaged
    before = tree_hashes(catalog.parent)
    finished = run_lakeview("catalog", "--catalog", catalog, "recover", "--into", tmp_path / "new.sqlite")
    assert finished.assert_clean().code == 0, finished.err
    assert tree_hashes(catalog.parent) == before
    with Catalog(tmp_path / "new.sqlite") as recovered:
        assert 0 < len(recovered.labelled_photos()) < len(labels)
    again = run_lakeview("catalog", "--catalog", catalog, "recover", "--into", tmp_path / "new.sqlite")
    assert_refused(again, "already exists")


def test_a_healthy_catalog_checks_healthy_and_recovers_whole(tmp_path):
    catalog, _, labels = labelled_catalog(tmp_path, photos=30)
    finished = run_lakeview("catalog", "--catalog", catalog, "check").assert_clean()
    assert finished.code == 0 and "is healthy" in finished.err and "30 photo(s), 30 label(s)" in finished.err
    finished = run_lakeview("catalog", "--catalog", catalog, "recover").assert_clean()
    assert finished.code == 0 and "some pages unreadable" not in finished.err
    with Catalog(catalog) as recovered:
        assert {str(p): label for p, label, _, _ in recovered.labelled_photos()} == labels


def test_recover_keeps_the_grouping_the_history_summaries_and_the_gps_positions(tmp_path):
    from lakeview.core.catalog.recovery import recover_catalog

    catalog, _, _ = labelled_catalog(tmp_path, photos=30)
    with Catalog(catalog) as before:
        ids = sorted(source.id for source in before.photo_sources())
        before.store_grouping([ids[:5], ids[5:8]], "body", 0.4, 2, len(ids))
        groups, record = before.photo_groups(), before.grouping_record()
    with sqlite3.connect(catalog) as db:
        db.execute("UPDATE photos SET latitude = 51.32, longitude = -116.19, gps_read = 1 WHERE id = ?", (ids[0],))
        summaries = db.execute("SELECT * FROM actions ORDER BY action").fetchall()
    db.close()
    assert summaries and groups

    report = recover_catalog(catalog, tmp_path / "recovered.sqlite")

    assert report.complete
    with Catalog(tmp_path / "recovered.sqlite") as recovered:
        assert recovered.photo_groups() == groups and recovered.grouping_record() == record
        assert recovered.positions_of_ids([ids[0], ids[1]]) == {ids[0]: (51.32, -116.19)}
        assert recovered.group_photo_ids(1) == ids[:5]
    with sqlite3.connect(tmp_path / "recovered.sqlite") as db:
        assert db.execute("SELECT * FROM actions ORDER BY action").fetchall()[:len(summaries)] == summaries
    db.close()


@pytest.mark.parametrize("keep", [0.6, 0.1, 10 / 4096])
def test_a_truncated_catalog_is_damaged_and_untouched(tmp_path, keep):
    catalog, photos, _ = labelled_catalog(tmp_path, photos=100)
    os.truncate(catalog, int(catalog.stat().st_size * keep))
    before = tree_hashes(catalog.parent)
    for name, finished in run_all(catalog, tmp_path, photos):
        if name != "check":
            assert_refused(finished, "is damaged", "truncated")
    assert tree_hashes(catalog.parent) == before


def test_a_catalog_from_a_newer_lakeview_says_which_schema_it_needs(tmp_path):
    catalog, photos, _ = labelled_catalog(tmp_path, photos=10)
    with sqlite3.connect(catalog) as db:
        db.execute("PRAGMA user_version = 97")
    db.close()
    before = tree_hashes(catalog.parent)
    for _, finished in run_all(catalog, tmp_path, photos):
        assert_refused(finished, "newer LakeView", "catalog schema 97", "open it with a newer LakeView")
    assert_refused(run_lakeview("catalog", "--catalog", catalog, "recover"), "catalog schema 97")
    assert tree_hashes(catalog.parent) == before


def _foreign_files(folder: Path) -> list[Path]:
    folder.mkdir()
    made = []
    for name, statements in {
        "app.db": ["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)", "INSERT INTO notes (text) VALUES ('x')"],
        "versioned.db": ["CREATE TABLE photos (id INTEGER PRIMARY KEY, url TEXT)", "PRAGMA user_version = 2"],
        "with_id.db": ["PRAGMA application_id = 1196444487", "CREATE TABLE t (x)"],  # a GeoPackage's id
        "wal.db": ["PRAGMA journal_mode = WAL", "CREATE TABLE t (x)", "INSERT INTO t VALUES (1)"],
    }.items():
        db = sqlite3.connect(folder / name, isolation_level=None)
        for statement in statements:
            db.execute(statement)
        db.close()
        made.append(folder / name)
    (folder / "notes.txt").write_text("not a database at all\n")
    (folder / "photo.sqlite").write_bytes(b"\xff\xd8\xff\xe0" + bytes(5000))
    (folder / "a folder.sqlite").mkdir()
    return made + [folder / "notes.txt", folder / "photo.sqlite", folder / "a folder.sqlite"]


def test_another_applications_file_is_never_touched(tmp_path):
    folder = tmp_path / "elsewhere"
    files = _foreign_files(folder)
    photos = tmp_path / "photos"
    make_photo(photos / "p0001.jpg")
    before = tree_hashes(folder)
    for path in files:
        for _, finished in run_all(path, tmp_path, photos):
            assert_refused(finished, "is not a LakeView catalog", "left it untouched")
        assert_refused(run_lakeview("catalog", "--catalog", path, "recover"), "not a LakeView catalog")
    assert tree_hashes(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in files)  # no -wal, -shm, journal


def test_an_empty_file_or_empty_database_becomes_a_catalog(tmp_path):
    (tmp_path / "empty.sqlite").touch()
    sqlite3.connect(tmp_path / "empty-db.sqlite").close()
    for name in ("empty.sqlite", "empty-db.sqlite"):
        finished = run_lakeview("catalog", "--catalog", tmp_path / name, "status").assert_clean()
        assert finished.code == 0, finished.err
        with sqlite3.connect(tmp_path / name) as db:
            assert db.execute("PRAGMA application_id").fetchone()[0] == 0x4C6B5677
        db.close()


HOLDER = textwrap.dedent("""
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO classes (name, colour, position) VALUES ('held', '#000000', 99)")
    print("holding", flush=True)
    sys.stdin.readline()
""")


def test_a_catalog_another_process_keeps_writing_to_is_busy_not_a_traceback(tmp_path):
    catalog, photos, _ = labelled_catalog(tmp_path, photos=10)
    make_photo(photos / "new.jpg", size=(8, 8), seed=99)  # something for `add` to write (the rest is unchanged)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(catalog)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        env = dict(os.environ, LAKEVIEW_CATALOG_TIMEOUT="0.3")
        for command in (("add", photos), ("label", photos / "p0001.jpg", "--as", "louise"), ("undo",)):
            finished = run_lakeview("catalog", "--catalog", catalog, *command, env=env)
            assert_refused(finished, "is busy", "more than 0.3 s", "retry")
        status = run_lakeview("catalog", "--catalog", catalog, "status", env=env).assert_clean()
        assert status.code == 0  # readers are not blocked by a writer
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def _file_size_limit(limit: int):
    def apply() -> None:
        import resource  # POSIX only

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="a file-size limit is POSIX")
def test_a_write_that_finds_no_room_is_a_sentence_and_loses_nothing_committed(tmp_path):
    catalog, photos, labels = labelled_catalog(tmp_path, photos=40)
    more = tmp_path / "more"
    for i in range(400):
        make_photo(more / f"m{i:04}.jpg", size=(8, 8), seed=i)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    finished = run_lakeview("catalog", "--catalog", catalog, "add", more, env=env, preexec_fn=_file_size_limit(16384))
    assert_refused(finished, "could not write to the catalog", "the last change was not saved")
    check = run_lakeview("catalog", "--catalog", catalog, "check").assert_clean()
    assert check.code == 0 and "40 photo(s), 40 label(s)" in check.err


@pytest.fixture
def mounted_tmpfs(tmp_path):
    """A 256 KB file system: (folder, remount(options)). Skipped where it cannot be had."""
    with small_filesystem(tmp_path / "mnt", "256k") as remount:
        yield tmp_path / "mnt", remount


def test_a_full_disk_says_so(tmp_path, mounted_tmpfs):
    folder, _ = mounted_tmpfs
    catalog, _, _ = labelled_catalog(tmp_path, photos=40)
    shutil.copy(catalog, folder / "catalog.sqlite")
    (folder / "filler").write_bytes(b"\0" * (256 * 1024 - catalog.stat().st_size - 8192))
    more = tmp_path / "more"
    for i in range(400):
        make_photo(more / f"m{i:04}.jpg", size=(8, 8), seed=i)
    finished = run_lakeview("catalog", "--catalog", folder / "catalog.sqlite", "add", more)
    assert_refused(finished, "is full", "free some space and retry")


def test_a_read_only_library_folder_is_named_not_unable_to_open(tmp_path, mounted_tmpfs):
    folder, remount = mounted_tmpfs
    catalog, photos, _ = labelled_catalog(tmp_path, photos=10)
    (folder / "library").mkdir()
    shutil.copy(catalog, folder / "library" / "catalog.sqlite")
    remount("ro")
    for name, finished in run_all(folder / "library" / "catalog.sqlite", tmp_path, photos):
        if name == "check":
            assert finished.assert_clean().code == 0  # reading needs no writing
            continue
        assert_refused(finished, f"cannot write in the library folder {folder / 'library'}", "read-only")
        assert "unable to open database file" not in finished.err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="chmod does not bind root (see the tmpfs case)")
def test_a_library_folder_without_write_permission_is_named(tmp_path):
    catalog, photos, _ = labelled_catalog(tmp_path, photos=10)
    catalog.parent.chmod(0o555)
    try:
        finished = run_lakeview("catalog", "--catalog", catalog, "add", photos)
        assert_refused(finished, f"cannot write in the library folder {catalog.parent}", "read-only")
    finally:
        catalog.parent.chmod(0o755)


def test_a_data_folder_that_cannot_be_made_is_named(tmp_path):
    """A file where the data folder should be: mkdir fails for root as for anyone (ENOTDIR)."""
    blocker = tmp_path / "home-file"
    blocker.write_text("in the way\n")
    env = dict(os.environ, LAKEVIEW_DATA_DIR=str(blocker / "lakeview"))
    env.pop("LAKEVIEW_CATALOG", None)
    photos = tmp_path / "photos"
    make_photo(photos / "p0001.jpg")
    for command in (("status",), ("add", photos), ("label", photos / "p0001.jpg", "--as", "x"), ("check",)):
        finished = run_lakeview("catalog", *command, env=env)
        assert_refused(finished, f"cannot write in the folder {blocker}", "a file, where a folder is needed")
    assert blocker.read_text() == "in the way\n"


def test_a_read_only_home_is_named(tmp_path, mounted_tmpfs):
    home, remount = mounted_tmpfs
    remount("ro")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LAKEVIEW_DATA", "LAKEVIEW_CATALOG"))}
    env["HOME"] = str(home)
    finished = run_lakeview("catalog", "status", env=env)
    assert_refused(finished, f"cannot write in the folder {home}", "read-only file system")


def _labels_readable_one_by_one(catalog: Path) -> dict[str, str]:
    """Each photo's label as a careful reader gets it from the damaged file, one row at a time."""
    db = sqlite3.connect(f"{catalog.as_uri()}?mode=ro&immutable=1", uri=True)
    readable = {}
    try:
        names = dict(db.execute("SELECT id, name FROM classes NOT INDEXED").fetchall())
        for photo_id in range(1, 400):
            try:
                path = db.execute("SELECT path FROM photos WHERE id = ?", (photo_id,)).fetchone()
                label = db.execute("SELECT class_id FROM labels WHERE photo_id = ?", (photo_id,)).fetchone()
            except sqlite3.DatabaseError:
                continue
            if path and label and label[0] in names:
                readable[path[0]] = names[label[0]]
    finally:
        db.close()
    return readable


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "catalog.sqlite")
    for path, kind in ((tmp_path / "catalog.sqlite", "a named pipe (FIFO)"), (Path(os.devnull), "a device")):
        for command in (("status",), ("add", tmp_path), ("check",), ("recover",)):
            finished = run_lakeview("catalog", "--catalog", path, *command, timeout=60)
            assert_refused(finished, "is not a LakeView catalog", f"it is {kind}")


@pytest.mark.parametrize("damage", ["negative version", "version behind its tables", "a table gone"])
def test_a_catalog_whose_tables_do_not_match_its_version_is_a_sentence(tmp_path, damage):
    catalog, photos, _ = labelled_catalog(tmp_path, photos=5)
    db = sqlite3.connect(catalog, isolation_level=None)
    db.execute({"negative version": "PRAGMA user_version = -1", "version behind its tables": "PRAGMA user_version = 1",
                "a table gone": "DROP TABLE corrections"}[damage])
    db.close()
    before = file_hash(catalog)
    for name, finished in run_all(catalog, tmp_path, photos):
        if name == "check":
            assert finished.assert_clean().code == 2 and "is damaged" in finished.err
            if damage == "a table gone":
                assert f"the corrections table of schema version {LATEST} is missing" in finished.out
            continue
        if damage == "a table gone" and name in ("status", "add", "rescan", "export", "models"):
            continue  # these never read the corrections
        assert_refused(finished, str(catalog))
        assert ("is damaged" in finished.err) if damage != "a table gone" else ("no such table" in finished.err)
    assert file_hash(catalog) == before or damage == "a table gone"


def test_a_catalog_that_is_a_link_to_nowhere_names_the_folder_that_is_missing(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    for target, folder, why in ((tmp_path / "gone" / "catalog.sqlite", tmp_path / "gone", "it does not exist"),
                                (tmp_path / "a_file" / "catalog.sqlite", tmp_path / "a_file",
                                 "it is a file, where a folder is needed")):
        link = tmp_path / "link.sqlite"
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        for command in (("status",), ("add", tmp_path)):
            finished = run_lakeview("catalog", "--catalog", link, *command, timeout=60)
            assert_refused(finished, f"cannot write in the folder {folder} ({why})")
        assert not (tmp_path / "gone").exists() and link.is_symlink()


def test_a_write_ahead_log_from_another_database_is_named_and_both_files_are_left_alone(tmp_path):
    catalog, photos, _ = labelled_catalog(tmp_path, photos=5)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("CREATE TABLE notes (x)")
    db.executemany("INSERT INTO notes VALUES (?)", [(i,) for i in range(200)])
    shutil.copy(f"{other}-wal", f"{catalog}-wal")  # copied while the other database still has it open
    db.close()
    before = {p: file_hash(p) for p in (catalog, Path(f"{catalog}-wal"))}
    for name, finished in run_all(catalog, tmp_path, photos):
        assert_refused(finished, f"{catalog}-wal, is the write-ahead log of another database",
                       "move catalog.sqlite-wal out of that folder")
    assert {p: file_hash(p) for p in before} == before
