"""Hostile names and files for the catalog: names that are not UTF-8, FIFOs, devices, folders and non-images
named like photos, a missing folder, Ctrl+C in the middle of an import, and a library of identical files."""

from __future__ import annotations

import io
import os
import re
import select
import signal
import sqlite3
import subprocess
import struct
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog, CatalogError
from lakeview.core.datasets.dataset import LabelledPhotos, Photo
from lakeview.core.datasets.importers import from_folder, from_lists, from_name_func, from_name_re
from lakeview.core.photos.file_names import path_from_db, path_to_db, readable_name
from lakeview.core.photos.files import NotAPhoto, iter_image_files
from lakeview.core.photos.fingerprint import fingerprint, read_photo_file
from lakeview.core.jobs import Stopped
from lakeview.core.training.library_dataset import import_labelled

from photo_tools import COLOURS, make_photo
from hostile_tools import RAW_NAMES, REPO, as_a_terminal_job, file_hash, raw_name, run_lakeview, tree_hashes

ODD_FOLDER = raw_name(b"Sommer_\xe9t\xe9_\xff")  # a class folder whose name is not UTF-8
ODD_CLASS = "Sommer_\\xe9t\\xe9_\\xff"  # ... and the class it makes: each undecodable byte written as \xNN


def odd_tree(root: Path, per_class: int = 3) -> dict[str, list[Path]]:
    """`root/good/` and `root/<odd bytes>/`, each with photos named by raw bytes and ordinary names."""
    names = [raw_name(raw) for raw in RAW_NAMES] + [f"plain_{i}.jpg" for i in range(per_class)]
    tree: dict[str, list[Path]] = {}
    for c, (folder, colour) in enumerate((("good", COLOURS["red"]), (ODD_FOLDER, COLOURS["blue"]))):
        tree[folder] = [make_photo(root / folder / name, colour, size=(24, 16), seed=10 * c + i)
                        for i, name in enumerate(names)]
    return tree


def catalog_rows(path: Path) -> list[tuple[bytes, str | None]]:
    """(exact path bytes, label) of every photo, read with plain sqlite3."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT p.path, c.name FROM photos p LEFT JOIN labels l ON l.photo_id = p.id "
                          "LEFT JOIN classes c ON c.id = l.class_id").fetchall()
    return sorted((os.fsencode(path_from_db(p)), label) for p, label in rows)


# --- names that are not UTF-8 ------------------------------------------------------------------------------
def test_the_db_form_of_a_path_is_text_when_it_can_be_and_exact_bytes_otherwise():
    for raw in RAW_NAMES + (b"ordinary.jpg", "Zürich.jpg".encode()):
        path = Path("/photos") / raw_name(raw)
        value = path_to_db(path)
        assert isinstance(value, str) == (raw in (b"ordinary.jpg", "Zürich.jpg".encode()))
        assert os.fsencode(path_from_db(value)) == b"/photos/" + raw
    assert readable_name(raw_name(b"DSC_\xff\xfe.jpg")) == "DSC_\\xff\\xfe.jpg"
    assert readable_name(raw_name(b"\xe9t\xe9")) != readable_name(raw_name(b"\xe8t\xe8"))


def test_every_catalog_query_keeps_the_exact_bytes_of_odd_names(tmp_path):
    tree = odd_tree(tmp_path / "photos")
    everything = [p for paths in tree.values() for p in paths]
    with Catalog(tmp_path / "c.sqlite") as catalog:
        report = catalog.add_folder(tmp_path / "photos")
        assert (report.added, report.failed) == (len(everything), [])

        def shown(**filters) -> set[bytes]:
            return {os.fsencode(row.path) for row in catalog.query(**filters)}

        # Odd names inside an ordinary folder, and ordinary names inside an odd folder, recursive or not.
        assert shown(folder=tmp_path / "photos") == {os.fsencode(p) for p in everything}
        for folder, paths in tree.items():
            assert shown(folder=tmp_path / "photos" / folder) == {os.fsencode(p) for p in paths}
            assert shown(folder=tmp_path / "photos" / folder, recursive=False) == {os.fsencode(p) for p in paths}
        assert shown(folder=tmp_path / "photos", recursive=False) == set()
        assert shown(paths=everything[::2]) == {os.fsencode(p) for p in everything[::2]}
        assert len(catalog.query_ids(folder=tmp_path / "photos" / ODD_FOLDER)) == len(tree[ODD_FOLDER])

        catalog.ensure_classes(["good", ODD_FOLDER])
        assert catalog.class_names() == ["good", ODD_CLASS]
        odd_photo = tree[ODD_FOLDER][0]
        catalog.set_labels([odd_photo], ODD_FOLDER)
        assert catalog.label_of(odd_photo).label == ODD_CLASS
        assert [os.fsencode(p) for p, *_ in catalog.labelled_photos()] == [os.fsencode(odd_photo)]
        assert [os.fsencode(p) for p in catalog.undo()] == [os.fsencode(odd_photo)]
        assert catalog.photo_id(odd_photo) is not None
        assert {os.fsencode(p) for p, _ in catalog.photos_on_disk()} == {os.fsencode(p) for p in everything}

        assert catalog.store_predictions("v1", [(p, [("good", 0.9)]) for p in everything]) == len(everything)
        assert catalog.prediction_of(odd_photo) == ("v1", [("good", 0.9)])

        # LakeView moves one (its row follows), the user moves another (a rescan reattaches it by content).
        moved_by_us = odd_photo.with_name(raw_name(b"moved_\xfe.jpg"))
        odd_photo.rename(moved_by_us)
        assert catalog.record_moves([(odd_photo, moved_by_us)]) == 1
        moved_by_hand = tree["good"][0]
        elsewhere = tmp_path / "photos" / ODD_FOLDER / raw_name(b"from_good_\x80.jpg")
        moved_by_hand.rename(elsewhere)
        rescan = catalog.rescan()
        assert [(os.fsencode(a), os.fsencode(b)) for a, b in rescan.reattached] == \
            [(os.fsencode(moved_by_hand), os.fsencode(elsewhere))]
        assert rescan.missing == [] and rescan.added == 0
        assert catalog.photo_id(elsewhere) is not None and catalog.photo_id(moved_by_us) is not None


def test_catalog_add_import_label_and_export_from_the_command_line_keep_every_odd_name(tmp_path):
    tree = odd_tree(tmp_path / "photos")
    before = tree_hashes(tmp_path / "photos")
    catalog = tmp_path / "lib" / "catalog.sqlite"

    added = run_lakeview("catalog", "--catalog", catalog, "add", tmp_path / "photos").assert_clean()
    assert added.code == 0 and "added 12," in added.err
    imported = run_lakeview("catalog", "--catalog", catalog, "import", tmp_path / "photos").assert_clean()
    assert imported.code == 0 and "imported 12 labelled photo(s) in 2 class(es)" in imported.err
    rows = catalog_rows(catalog)
    assert [path for path, _ in rows] == sorted(os.fsencode(p) for paths in tree.values() for p in paths)
    assert {label for _, label in rows} == {"good", ODD_CLASS}
    status = run_lakeview("catalog", "--catalog", catalog, "status").assert_clean()
    assert ODD_CLASS in status.out

    odd_photo = tree["good"][0]
    labelled = run_lakeview("catalog", "--catalog", catalog, "label", odd_photo, "--as", ODD_CLASS).assert_clean()
    assert labelled.code == 0
    assert dict(catalog_rows(catalog))[os.fsencode(odd_photo)] == ODD_CLASS

    exported = run_lakeview("catalog", "--catalog", catalog, "export", "--into", tmp_path / "tree").assert_clean()
    assert exported.code == 0
    copies = [p for p in (tmp_path / "tree").rglob("*") if p.is_file() and p.suffix == ".jpg"]
    assert sorted(map(file_hash, copies)) == sorted(before.values())
    assert set(RAW_NAMES) <= {os.fsencode(p.name) for p in copies}
    assert tree_hashes(tmp_path / "photos") == before


def test_one_odd_name_never_costs_the_rest_of_a_batch(tmp_path):
    folder = tmp_path / "photos"
    photos = [make_photo(folder / f"p{i:03}.jpg", seed=i, size=(8, 8)) for i in range(40)]
    odd = make_photo(folder / raw_name(b"z_\xff.jpg"), seed=99, size=(8, 8))
    impossible = folder / "lone_\ud800.jpg"  # a str no file system produces: refused alone
    with Catalog(tmp_path / "c.sqlite") as catalog:
        report = catalog.add_photos([*photos, odd, impossible])
        assert report.added == 41 and [p for p, _ in report.failed] == [impossible]
        assert catalog.photo_count() == 41


def test_labels_made_from_odd_names_are_text_in_every_dataset_form(tmp_path):
    tree = odd_tree(tmp_path / "photos")
    forms = [from_folder(tmp_path / "photos"),
             from_name_func(tmp_path / "photos", lambda path: path.parent.name),
             from_name_re(tmp_path / "photos", r"/([^/]+)/[^/]+$"),
             from_lists(tree[ODD_FOLDER] + tree["good"], [ODD_FOLDER] * 6 + ["good"] * 6),
             LabelledPhotos([ODD_FOLDER], [Photo(tree[ODD_FOLDER][0], ODD_FOLDER)], [])]
    for data in forms:
        assert ODD_CLASS in data.classes and ODD_FOLDER not in data.classes
        photos = data.train + data.valid
        assert {p.label for p in photos} <= {ODD_CLASS, "good"}
        assert {os.fsencode(p.path) for p in photos} <= {os.fsencode(p) for paths in tree.values() for p in paths}


def test_an_odd_class_folder_whose_readable_name_is_another_folders_name_stays_its_own_class(tmp_path):
    root = tmp_path / "photos"
    latin1, literal = raw_name(b"caf\xe9"), "caf\\xe9"  # the readable form of the first is the second's real name
    folders = ((latin1, COLOURS["red"]), (literal, COLOURS["blue"]), ("plain", COLOURS["red"]))
    for c, (folder, colour) in enumerate(folders):
        for i in range(3):
            make_photo(root / folder / f"p{i}.jpg", colour, size=(8, 8), seed=10 * c + i)
    data = from_folder(root)
    assert sorted(data.classes) == sorted([literal, "caf\\xe9 (2)", "plain"])
    by_folder = {p.path.parent.name: p.label for p in data.train + data.valid}
    assert by_folder == {literal: literal, latin1: "caf\\xe9 (2)", "plain": "plain"}

    catalog = tmp_path / "c.sqlite"
    run_lakeview("catalog", "--catalog", catalog, "import", root).assert_clean()
    labels = {os.fsencode(path).split(b"/")[-2]: label for path, label in catalog_rows(catalog)}
    assert labels == {b"caf\xe9": "caf\\xe9 (2)", b"caf\\xe9": literal, b"plain": "plain"}


def test_training_on_an_odd_class_folder_then_classifying_and_importing_it(tmp_path, capsys):
    from lakeview.core.models.inference import Prediction, classify_files
    from lakeview.core.models.model_file import load_model, read_meta

    tree = odd_tree(tmp_path / "photos", per_class=5)
    model_path = tmp_path / "odd.lvmodel"
    assert main(["train", str(tmp_path / "photos"), "--arch", "tiny", "--weights", "none", "--size", "32",
                 "--bs", "4", "--epochs", "1", "--unfreeze-epochs", "0", "--out", str(model_path), "--quiet"]) == 0
    assert "random weights" in capsys.readouterr().err
    assert read_meta(model_path).classes == [ODD_CLASS, "good"]

    model = load_model(model_path)
    odd_photos = tree[ODD_FOLDER]
    results = list(classify_files(model, odd_photos, batch_size=4))
    assert [os.fsencode(r.path) for r in results] == [os.fsencode(p) for p in odd_photos]
    assert all(isinstance(r, Prediction) and r.top[0][0] in (ODD_CLASS, "good") for r in results)

    catalog_path = tmp_path / "lib" / "catalog.sqlite"
    assert main(["catalog", "--catalog", str(catalog_path), "import", str(tmp_path / "photos")]) == 0
    with Catalog(catalog_path) as catalog:
        catalog.ensure_classes(model.meta.classes)
        assert catalog.class_names() == [ODD_CLASS, "good"]
        assert catalog.store_predictions("odd", [(r.path, r.top) for r in results]) == len(odd_photos)
        assert {p: label for p, label, _, _ in catalog.labelled_photos()}[odd_photos[0]] == ODD_CLASS


# --- only regular image files ------------------------------------------------------------------------------
@pytest.fixture
def not_photos(tmp_path) -> dict[str, Path]:
    """Things named like photos that are not photos, beside one real photo."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs or device links on this system")
    folder = tmp_path / "odd"
    real = make_photo(folder / "real.jpg")
    os.mkfifo(folder / "pipe.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    (folder / "album.jpg").mkdir()
    (folder / "passwd.jpg").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "broken.jpg").symlink_to(folder / "nowhere.jpg")
    return {"real": real, "fifo": folder / "pipe.jpg", "device": folder / "zero.jpg", "folder": folder / "album.jpg",
            "text": folder / "passwd.jpg", "empty": folder / "empty.jpg", "broken link": folder / "broken.jpg"}


REASONS = {"fifo": "a named pipe (FIFO), not a photo", "device": "a link to a device, not a photo",
           "folder": "a folder, not a photo", "text": "not an image file", "empty": "empty file (0 bytes)",
           "broken link": "a broken link"}


@pytest.mark.timeout(30)
def test_fingerprinting_never_opens_a_fifo_or_a_device_and_refuses_non_images(not_photos):
    assert fingerprint(not_photos["real"]) == read_photo_file(not_photos["real"]).fingerprint
    for kind in ("fifo", "device", "folder", "text", "empty"):
        with pytest.raises(NotAPhoto) as refused:
            read_photo_file(not_photos[kind])
        assert REASONS[kind] in refused.value.reason
    for kind in ("fifo", "device", "folder"):
        with pytest.raises(NotAPhoto):
            fingerprint(not_photos[kind])


@pytest.mark.timeout(30)
def test_listing_a_folder_names_what_is_not_a_file(not_photos):
    folder = not_photos["real"].parent
    errors: list[tuple[Path, str]] = []
    assert list(iter_image_files(folder, recursive=False, errors=errors)) == sorted(
        not_photos[k] for k in ("real", "text", "empty"))
    reasons = {path.name: reason for path, reason in errors}
    assert reasons["pipe.jpg"] == REASONS["fifo"] and reasons["zero.jpg"] == REASONS["device"]
    assert reasons["album.jpg"] == REASONS["folder"] and reasons["broken.jpg"].startswith(REASONS["broken link"])


def test_catalog_add_records_only_the_photo_and_lists_the_rest_with_reasons(not_photos, tmp_path):
    catalog = tmp_path / "c.sqlite"
    result = run_lakeview("catalog", "--catalog", catalog, "add", not_photos["real"].parent, "--no-recursive",
                          timeout=60).assert_clean()
    assert result.code == 1 and "added 1," in result.err
    for kind, path in not_photos.items():
        if kind != "real":
            assert f"{path.name}: {REASONS[kind]}" in result.err
    assert catalog_rows(catalog) == [(os.fsencode(not_photos["real"]), None)]


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "text", "broken link"])
def test_catalog_label_says_what_a_non_photo_is(not_photos, tmp_path, kind):
    catalog = tmp_path / "c.sqlite"
    result = run_lakeview("catalog", "--catalog", catalog, "label", not_photos[kind], "--as", "none",
                          timeout=60).assert_clean()
    assert result.code == 2 and REASONS[kind] in result.err and "not in the catalog" not in result.err
    assert result.err.startswith("lakeview: error:") and catalog_rows(catalog) == []

    mixed = run_lakeview("catalog", "--catalog", catalog, "label", not_photos["real"], not_photos[kind], "--as",
                         "none", timeout=60).assert_clean()
    assert mixed.code == 1 and REASONS[kind] in mixed.err and "labelled 1 photo(s)" in mixed.err
    assert catalog_rows(catalog) == [(os.fsencode(not_photos["real"]), None)]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads a chmod 000 file")
def test_catalog_label_says_an_unreadable_file_cannot_be_read(tmp_path):
    photo = make_photo(tmp_path / "secret.jpg")
    photo.chmod(0)
    result = run_lakeview("catalog", "--catalog", tmp_path / "c.sqlite", "label", photo, "--as", "none").assert_clean()
    assert result.code == 2 and "permission denied" in result.err.lower() and "not in the catalog" not in result.err


@pytest.mark.parametrize("action", ["add", "import"])
def test_a_missing_folder_is_a_usage_error(tmp_path, action):
    result = run_lakeview("catalog", "--catalog", tmp_path / "c.sqlite", action, tmp_path / "nonexistent")
    result.assert_clean()
    assert result.code == 2 and f"folder not found: {tmp_path / 'nonexistent'}" in result.err


# --- Ctrl+C and all-or-nothing imports ---------------------------------------------------------------------
def tiny_photo_files(folder: Path, count: int, classes: int = 3) -> None:
    """`count` distinct tiny JPEGs in class folders, fast: one encoded picture, made unique after its end."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 150)).save(buffer, format="JPEG")
    picture = buffer.getvalue()
    for c in range(classes):
        (folder / f"class_{c}").mkdir(parents=True)
    for i in range(count):
        (folder / f"class_{i % classes}" / f"p{i:05}.jpg").write_bytes(picture + i.to_bytes(4, "big"))


def unlabelled_and_total(catalog: Path) -> tuple[int, int]:
    if not catalog.exists():
        return 0, 0
    with sqlite3.connect(catalog) as db:
        total = db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        bare = db.execute("SELECT COUNT(*) FROM photos WHERE id NOT IN (SELECT photo_id FROM labels)").fetchone()[0]
    return bare, total


def progress_passed(printed: bytes, bar: str, count: int) -> bool:
    """Whether a tqdm bar named `bar` ('checking photos:  45%|████▌  | 1800/4000 [...]') has shown `count`."""
    return any(int(n) >= count for n in re.findall(rb"%s:[^\r\n]*?\| *(\d+)/" % re.escape(bar.encode()), printed))


def interrupt(command: list[str], catalog: Path, when: str | None) -> tuple[int, str]:
    """Run `lakeview COMMAND` with its stderr on a terminal (so its progress bars show, as a user sees them) and
    press Ctrl+C (SIGINT to its process group, as a terminal does): once its `when` bar has passed 1,000 photos,
    or, with `when` None, as soon as it has opened the catalog. Returns the exit code and everything it printed
    on stderr."""
    import fcntl
    import pty
    import termios

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    terminal, child_end = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # no width: no progress bar
    child = subprocess.Popen([sys.executable, "-m", "lakeview", *command], env=env, stdout=subprocess.DEVNULL,
                             stderr=child_end, start_new_session=True, preexec_fn=as_a_terminal_job)
    os.close(child_end)
    err, sent = b"", False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not sent and (progress_passed(err, when, 1000) if when else catalog.exists()):
                os.killpg(child.pid, signal.SIGINT)
                sent = True
            if select.select([terminal], [], [], 0.01)[0]:
                try:
                    chunk = os.read(terminal, 65536)
                except OSError:  # the child has gone and closed the terminal
                    chunk = b""
                if not chunk:
                    break
                err += chunk
        child.wait(timeout=60)
    finally:
        os.close(terminal)
        if child.poll() is None:
            child.kill()
    assert sent, err
    return child.returncode, err.decode("utf-8", "backslashreplace")


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("many") / "photos"
    tiny_photo_files(folder, 4000)
    return folder


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("when", [None, "checking photos", "recording"])
def test_ctrl_c_during_catalog_import_stops_cleanly_and_imports_all_or_nothing(many_photos, tmp_path, when):
    catalog = tmp_path / "lib" / "catalog.sqlite"
    code, err = interrupt(["catalog", "--catalog", str(catalog), "import", str(many_photos)], catalog, when)
    assert code == 130, err
    assert "Traceback" not in err and "stopped: nothing was imported" in err
    assert unlabelled_and_total(catalog) == (0, 0)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_ctrl_c_during_catalog_add_stops_cleanly(many_photos, tmp_path):
    catalog = tmp_path / "lib" / "catalog.sqlite"
    code, err = interrupt(["catalog", "--catalog", str(catalog), "add", str(many_photos)], catalog, "adding")
    assert code == 130, err
    assert "Traceback" not in err and "stopped:" in err and "stay in the catalog" in err
    assert 0 < unlabelled_and_total(catalog)[1] < 4000


@pytest.mark.parametrize("stop_at", ["reading", "recording", "labelling"])
def test_an_import_stopped_at_any_point_leaves_the_catalog_as_it_was(tmp_path, stop_at):
    tiny_photo_files(tmp_path / "photos", 1200)
    data = from_folder(tmp_path / "photos", check_images=False)
    catalog_path = tmp_path / "c.sqlite"
    with Catalog(catalog_path) as catalog:
        catalog.ensure_classes(["kept"])
        calls = {"n": 0}

        def should_stop() -> bool:
            # Reading checks once per photo; recording once per batch of 500; labelling once per class.
            calls["n"] += 1
            return calls["n"] >= limit

        limit = {"reading": 600, "recording": 1202, "labelling": 1205}[stop_at]
        with pytest.raises(Stopped):
            import_labelled(catalog, data, should_stop=should_stop)
        assert calls["n"] == limit
        assert catalog.photo_count() == 0 and catalog.class_names() == ["kept"]
        report, written = import_labelled(catalog, data)
        assert written == catalog.photo_count() == 1200
    assert unlabelled_and_total(catalog_path) == (0, 1200)


def test_an_import_that_fails_half_way_writes_nothing(tmp_path, monkeypatch):
    tiny_photo_files(tmp_path / "photos", 30)
    data = from_folder(tmp_path / "photos", check_images=False)
    with Catalog(tmp_path / "c.sqlite") as catalog:
        real, calls = catalog.set_labels, []

        def fails_the_second_time(paths, label, **kwargs):
            calls.append(label)
            if len(calls) == 2:
                raise CatalogError("disk gone")
            return real(paths, label, **kwargs)

        monkeypatch.setattr(catalog, "set_labels", fails_the_second_time)
        with pytest.raises(CatalogError, match="disk gone"):
            import_labelled(catalog, data)
        assert catalog.photo_count() == 0 and catalog.class_names() == []


# --- a library of identical files --------------------------------------------------------------------------
def test_identical_files_and_moved_photos_are_told_apart(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    folder = tmp_path / "copies"
    folder.mkdir()
    copies = []
    for i in range(1100):  # more than two batches, all with one fingerprint
        copies.append(folder / f"copy_{i:04}.jpg")
        copies[-1].write_bytes(buffer.getvalue())
    with Catalog(tmp_path / "c.sqlite") as catalog:
        assert catalog.add_photos(copies).added == 1100
        for gone in copies[:3]:
            gone.unlink()
        assert len(catalog.rescan().missing) == 3
        newcomers = [folder / f"new_{i}.jpg" for i in range(5)]
        for path in newcomers:
            path.write_bytes(buffer.getvalue())
        report = catalog.add_photos([copies[10], *newcomers, newcomers[0]])
        assert len(report.reattached) == 3 and report.added == 2 and report.updated == 2
        assert catalog.photo_count() == 1102 and len(catalog.photos_on_disk()) == 1102
        plan = " ".join(str(r[-1]) for r in catalog._db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM photos WHERE missing = 1 AND fingerprint = 'x'"))
        assert "photos_missing_fingerprint" in plan


def test_an_odd_name_in_a_message_is_one_readable_line(tmp_path):
    folder = tmp_path / "photos"
    make_photo(folder / raw_name(b"ok_\xff.jpg"), seed=1)
    os.mkfifo(folder / raw_name(b"pipe_\xe9\nnext line.jpg"))
    catalog = tmp_path / "c.sqlite"
    added = run_lakeview("catalog", "--catalog", catalog, "add", folder).assert_clean()
    assert added.code == 1
    assert "pipe_\\xe9\\nnext line.jpg: a named pipe (FIFO), not a photo" in added.err
    assert "\\udc" not in added.err and "next line" not in added.err.replace("\\nnext line", "")

    moved = folder / raw_name(b"moved_\xfa\n.jpg")
    (folder / raw_name(b"ok_\xff.jpg")).rename(moved)
    rescanned = run_lakeview("catalog", "--catalog", catalog, "rescan").assert_clean()
    assert rescanned.code == 0
    assert "ok_\\xff.jpg -> " in rescanned.err and rescanned.err.rstrip().endswith("moved_\\xfa\\n.jpg")


def test_identical_photos_moved_or_renamed_each_keep_their_own_label(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    old_folder, renamed_folder = tmp_path / raw_name(b"Reise_\xe9"), tmp_path / raw_name(b"Reise_\xfa")
    names = [raw_name(b"z_%02d_\xff.jpg" % i) for i in range(12)]  # identical files, listed in another order
    for name in names:
        (old_folder / "sub").mkdir(parents=True, exist_ok=True)
        (old_folder / "sub" / name).write_bytes(buffer.getvalue())
    (old_folder / "alone.jpg").write_bytes(buffer.getvalue())
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.add_folder(old_folder)
        catalog.ensure_classes(["even", "odd", "alone"])
        for i, name in enumerate(names):
            catalog.set_labels([old_folder / "sub" / name], "even" if i % 2 == 0 else "odd", source="user")
        catalog.set_labels([old_folder / "alone.jpg"], "alone", source="user")
        old_folder.rename(renamed_folder)
        (renamed_folder / "alone.jpg").rename(renamed_folder / raw_name(b"renamed_\xfe.jpg"))
        (renamed_folder / "sub" / names[0]).unlink()  # one copy deleted: the others must not shift by one
        report = catalog.rescan([renamed_folder])
        assert report.added == 0 and report.missing == [old_folder / "sub" / names[0]]
        assert len(report.reattached) == 12
        for i, name in enumerate(names[1:], 1):
            assert catalog.label_of(renamed_folder / "sub" / name).label == ("even" if i % 2 == 0 else "odd")
        assert catalog.label_of(renamed_folder / raw_name(b"renamed_\xfe.jpg")).label == "alone"


def test_a_path_qt_gave_back_without_its_odd_bytes_is_found_again_only_when_it_is_unambiguous(tmp_path):
    from lakeview.core.photos.file_names import path_from_setting, path_to_setting, resolve_lossy_path

    odd = tmp_path / raw_name(b"Urlaub_\xfc") / raw_name(b"Tag_\xff1")
    odd.mkdir(parents=True)
    assert os.fsencode(resolve_lossy_path(tmp_path / "Urlaub_" / "Tag_1")) == os.fsencode(odd)
    assert resolve_lossy_path(tmp_path / "Urlaub_\ufffd") == odd.parent  # Qt's other form: U+FFFD
    (tmp_path / raw_name(b"Urlaub_\xe4")).mkdir()  # now two folders read 'Urlaub_': no guessing
    assert resolve_lossy_path(tmp_path / "Urlaub_" / "Tag_1") == tmp_path / "Urlaub_" / "Tag_1"
    for path in (odd, tmp_path / "plain", Path("relative")):
        assert os.fsencode(path_from_setting(path_to_setting(path))) == os.fsencode(path)
        assert path_to_setting(path).encode("utf-8")


def test_labelling_with_an_unknown_class_names_the_classes_and_how_to_make_one(tmp_path):
    tree = odd_tree(tmp_path / "photos", per_class=1)
    catalog = tmp_path / "c.sqlite"
    run_lakeview("catalog", "--catalog", catalog, "import", tmp_path / "photos").assert_clean()
    finished = run_lakeview("catalog", "--catalog", catalog, "label", tree["good"][0], "--as", "louise").assert_clean()
    assert finished.code == 2
    assert f"no class named 'louise' (the classes are '{ODD_CLASS}', 'good')" in finished.err
    assert "add it in the app's Classes panel, or import a folder" in finished.err
    assert "add it first" not in finished.err


def test_a_path_with_dot_dot_or_doubled_slashes_is_the_same_photo_not_a_second_row(tmp_path):
    tree = odd_tree(tmp_path / "photos", per_class=1)
    catalog = tmp_path / "c.sqlite"
    run_lakeview("catalog", "--catalog", catalog, "import", tmp_path / "photos").assert_clean()
    odd = tree[ODD_FOLDER][0]
    (tmp_path / "link").symlink_to(tmp_path / "photos")
    spellings = [f"{odd.parent}/../{ODD_FOLDER}/{odd.name}", f"{tmp_path}/link/../photos//good/{tree['good'][0].name}"]
    labelled = run_lakeview("catalog", "--catalog", catalog, "label", *spellings, "--as", "good").assert_clean()
    assert labelled.code == 0 and "labelled 2 photo(s)" in labelled.err
    rows = catalog_rows(catalog)
    assert len(rows) == 8 and dict(rows)[os.fsencode(odd)] == "good"
    with Catalog(catalog) as opened:
        assert opened.photo_id(spellings[0]) == opened.photo_id(odd) is not None


def test_class_folders_with_spaces_around_their_names_are_imported_as_distinct_trimmed_classes(tmp_path):
    root = tmp_path / "photos"
    folders = ["x", " x", " spaced ", "   "]
    for c, folder in enumerate(folders):
        for i in range(2):
            make_photo(root / folder / f"p{i}.jpg", size=(8, 8), seed=10 * c + i)
    catalog = tmp_path / "c.sqlite"
    imported = run_lakeview("catalog", "--catalog", catalog, "import", root).assert_clean()
    assert imported.code == 0 and "imported 8 labelled photo(s) in 4 class(es)" in imported.err
    labels = {os.fsencode(path).split(b"/")[-2]: label for path, label in catalog_rows(catalog)}
    assert labels == {b"x": "x", b" x": "x (2)", b" spaced ": "spaced", b"   ": "\\x20\\x20\\x20"}
