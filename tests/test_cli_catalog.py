"""`lakeview catalog ...` end to end: import, status, a correction and its undo, retrain, versions, export."""

from __future__ import annotations

import csv
import io

import torch

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog

from tiny_network import TINY


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
    assert "now active" in capsys.readouterr().err
    assert main([*catalog, "models"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 1 and listing[0].startswith("*")
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
