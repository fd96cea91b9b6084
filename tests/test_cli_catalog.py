"""`lakeview catalog ...` end to end: import, status, a correction and its undo, retrain, versions, export, classify."""

from __future__ import annotations

import csv
import re
import io
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import torch

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog

from model_tools import add_model
from photo_tools import COLOURS, make_photo
from tiny_network import TINY
from hostile_tools import as_a_terminal_job


def test_the_catalog_from_the_command_line(colour_folders, tmp_path, capsys):
    catalog = ["catalog", "--catalog", str(tmp_path / "lib" / "catalog.sqlite")]
    torch.manual_seed(0)
    torch.save(TINY.build().state_dict(), tmp_path / "tiny.pth")

    assert main([*catalog, "import", str(colour_folders)]) == 0
    assert main([*catalog, "status"]) == 0
    out = capsys.readouterr().out
    assert "photos: 32 (0 missing on disk), labelled: 32" in out and "active model: none yet" in out

    photo = colour_folders / "valid" / "red" / "red_0.jpg"
    assert main([*catalog, "label", str(photo), "--as", "blue"]) == 0
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as cat:
        assert cat.label_of(photo).label == "blue" and cat.label_of(photo).source == "user"
    assert main([*catalog, "undo"]) == 0
    assert main([*catalog, "redo"]) == 0
    assert main([*catalog, "undo"]) == 0

    assert main([*catalog, "retrain", "--arch", "tiny", "--weights", str(tmp_path / "tiny.pth")]) == 0
    said = capsys.readouterr().err
    assert "now active" in said and re.search(r"\d+\.\d% error on \d+ held-out photos?", said), said
    assert main([*catalog, "models"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 1 and listing[0].startswith("*")
    assert re.search(r"(\d+\.\d% error on \d+ held-out photos?|error not measured)", listing[0]), listing[0]
    assert main([*catalog, "promote", listing[0].split()[1]]) == 0
    assert main([*catalog, "check"]) == 0

    assert main([*catalog, "export", "--csv", str(tmp_path / "labels.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "labels.csv").read_text())))
    assert len(rows) == 32 and {r["label"] for r in rows} == {"red", "blue"}
    assert rows[0]["name"].startswith(("train/", "valid/"))
    assert main([*catalog, "export", "--into", str(tmp_path / "tree"), "--dry-run"]) == 0
    assert not (tmp_path / "tree").exists()


def test_export_move_keeps_the_labels_with_the_moved_photos(colour_folders, tmp_path):
    catalog_path = tmp_path / "lib" / "catalog.sqlite"
    catalog = ["catalog", "--catalog", str(catalog_path)]
    photo = colour_folders / "valid" / "red" / "red_0.jpg"
    assert main([*catalog, "import", str(colour_folders)]) == 0
    assert main([*catalog, "label", str(photo), "--as", "blue"]) == 0

    assert main([*catalog, "export", "--into", str(tmp_path / "tree"), "--move"]) == 0

    with Catalog(catalog_path) as cat:
        moved = tmp_path / "tree" / "blue" / "red_0.jpg"
        assert moved.exists() and not photo.exists()
        assert cat.label_of(moved).label == "blue" and cat.label_of(moved).source == "user"
        assert cat.photo_count() == 32 and not [r for r in cat.query() if r.missing]


def _library_with_a_model(tmp_path, photos: int, with_model: bool = True):
    """A catalog of `photos` photos in banff/ plus a broken one, and (a child process does not know the in-process
    'tiny' architecture) a small resnet18 as its active model."""
    folder = tmp_path / "banff"
    for i in range(photos):
        make_photo(folder / f"p{i:04}.jpg", COLOURS["red" if i % 2 else "blue"], size=(96, 72), seed=i)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    path = tmp_path / "lib" / "catalog.sqlite"
    with Catalog(path) as catalog:
        catalog.add_folder(folder)
        if with_model:
            add_model(catalog, tmp_path / "r18.lvmodel", arch="resnet18", size=64)
    return path, folder


def _catalog_classify(path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakeview", "catalog", "--catalog", str(path), "classify", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=as_a_terminal_job)


def _stored_predictions(path) -> int:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]


def test_catalog_classify_stores_predictions_and_lists_unreadable_photos(tmp_path):
    path, folder = _library_with_a_model(tmp_path, 6)
    (folder / "p0005.jpg").unlink()

    out, err = _catalog_classify(path, str(folder)).communicate(timeout=300)

    assert "classified 5 photo(s)" in err
    assert "2 file(s) skipped" in err and "broken.jpg" in err and "p0005.jpg: file not found" in err
    with Catalog(path) as catalog:
        assert all(catalog.prediction_of(folder / f"p{i:04}.jpg")[1][0][0] in ("blue", "red") for i in range(5))


def test_catalog_classify_exit_codes(tmp_path):
    path, folder = _library_with_a_model(tmp_path, 2)
    process = _catalog_classify(path, str(folder))
    process.communicate(timeout=300)
    assert process.returncode == 1  # the broken photo

    make_photo(folder / "broken.jpg", COLOURS["red"])  # mended
    process = _catalog_classify(path)
    process.communicate(timeout=300)
    assert process.returncode == 0

    process = _catalog_classify(path, str(tmp_path / "elsewhere"))
    _, err = process.communicate(timeout=300)
    assert process.returncode == 2 and "the catalog has no photos in" in err
    assert err.rstrip().endswith(f"add {tmp_path / 'elsewhere'}`")


def test_catalog_classify_without_a_model_says_so_in_one_sentence(tmp_path):
    path, folder = _library_with_a_model(tmp_path, 1, with_model=False)
    process = _catalog_classify(path, str(folder))
    _, err = process.communicate(timeout=300)
    assert process.returncode == 2
    assert err.strip().splitlines() == [f"lakeview: error: the library has no model yet; train one with "
                                        f"`lakeview catalog --catalog {path} retrain`"]


@pytest.mark.slow
def test_ctrl_c_stops_catalog_classify_keeping_the_stored_batches(tmp_path):
    path, _ = _library_with_a_model(tmp_path, 400)
    process = _catalog_classify(path)
    deadline = time.monotonic() + 120
    while _stored_predictions(path) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "prediction(s) stored before the stop stay in the catalog" in err
    assert 0 < _stored_predictions(path) < 400
