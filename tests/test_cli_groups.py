"""`lakeview catalog groups` and `lakeview catalog label --group`: the CSV of groups, and labelling exactly the group
the last grouping numbered, as one undoable step."""

from __future__ import annotations

import csv

import pytest
import torch

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog

from photo_tools import COLOURS, make_photo
from tiny_network import TINY


@pytest.fixture
def library(tmp_path):
    """A catalog of red, blue and green photos (and one that cannot be read), with a tiny backbone's weights."""
    folder = tmp_path / "photos"
    for name, count in (("red", 5), ("blue", 4), ("green", 3)):
        for i in range(count):
            make_photo(folder / name / f"{name}_{i}.jpg", COLOURS[name], seed=10 * i + len(name))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    torch.manual_seed(0)
    torch.save(TINY.build().state_dict(), tmp_path / "tiny.pth")
    path = tmp_path / "lib" / "catalog.sqlite"
    catalog = ["catalog", "--catalog", str(path)]
    assert main([*catalog, "add", str(folder)]) == 0
    with Catalog(path) as cat:
        cat.ensure_classes(["lake", "forest"])
    return catalog, path, folder, ["--arch", "tiny", "--weights", str(tmp_path / "tiny.pth")]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_groups_writes_one_row_per_photo_and_label_group_labels_that_group(library, tmp_path, capsys):
    catalog, path, folder, backbone = library
    assert main([*catalog, "groups", *backbone, "--csv", str(tmp_path / "groups.csv")]) == 1  # one photo skipped
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "features of 13 photo(s) computed" in err
    rows = read_rows(tmp_path / "groups.csv")
    assert len(rows) == 13 and {"red/red_0.jpg", "broken.jpg"} <= {r["file"] for r in rows}
    assert next(r for r in rows if r["file"] == "broken.jpg")["group"] == ""
    group_one = {r["file"] for r in rows if r["group"] == "1"}
    assert len(group_one) >= 2
    with Catalog(path) as cat:
        assert {p.relative_to(folder).as_posix() for p in (cat.rows_of_ids(cat.group_photo_ids(1))[i].path
                                                          for i in cat.group_photo_ids(1))} == group_one

    assert main([*catalog, "label", "--group", "1", "--as", "lake"]) == 0
    with Catalog(path) as cat:
        labelled = {row.path.relative_to(folder).as_posix() for row in cat.query() if row.label == "lake"}
    assert labelled == group_one
    assert main([*catalog, "undo"]) == 0
    with Catalog(path) as cat:
        assert not [row for row in cat.query() if row.label is not None]


def test_a_second_grouping_computes_no_features(library, tmp_path, capsys):
    catalog, _, _, backbone = library
    main([*catalog, "groups", *backbone, "--csv", str(tmp_path / "a.csv")])
    capsys.readouterr()
    main([*catalog, "groups", *backbone, "--min-size", "3", "--csv", str(tmp_path / "b.csv")])
    assert "features of 1 photo(s) computed" in capsys.readouterr().err  # the unreadable one, tried again
    assert all(int(r["group"]) >= 1 for r in read_rows(tmp_path / "b.csv") if r["group"])


def test_label_group_says_what_is_wrong(library, tmp_path, capsys):
    catalog, _, folder, backbone = library
    assert main([*catalog, "label", "--group", "1", "--as", "lake"]) == 2
    assert "no group 1: there is no grouping yet" in capsys.readouterr().err
    main([*catalog, "groups", *backbone, "--csv", str(tmp_path / "groups.csv")])
    capsys.readouterr()
    assert main([*catalog, "label", "--group", "99", "--as", "lake"]) == 2
    assert "no group 99: the latest grouping has groups 1 to" in capsys.readouterr().err
    assert main([*catalog, "label", "--group", "1", "--as", "sea"]) == 2
    assert "no class named 'sea'" in capsys.readouterr().err
    assert main([*catalog, "label", str(folder / "red" / "red_0.jpg"), "--group", "1", "--as", "lake"]) == 2
    assert "not both" in capsys.readouterr().err


def test_groups_without_a_model_or_weights_says_what_to_do(library, tmp_path, capsys):
    catalog, *_ = library
    assert main([*catalog, "groups", "--arch", "resnet18", "--csv", str(tmp_path / "groups.csv")]) == 2
    assert "--weights FILE.pth" in capsys.readouterr().err and not (tmp_path / "groups.csv").exists()


def test_groups_are_cut_at_the_apps_distance_unless_told_and_a_distance_out_of_range_is_refused(library, tmp_path,
                                                                                              capsys):
    from lakeview.core.similarity.grouping import DEFAULT_DISTANCE

    catalog, path, _, backbone = library
    main([*catalog, "groups", *backbone, "--csv", str(tmp_path / "a.csv")])
    with Catalog(path) as cat:
        assert cat.grouping_record().distance == pytest.approx(DEFAULT_DISTANCE)
    main([*catalog, "groups", *backbone, "--distance", "0.1", "--csv", str(tmp_path / "b.csv")])
    with Catalog(path) as cat:
        assert cat.grouping_record().distance == pytest.approx(0.1)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([*catalog, "groups", *backbone, "--distance", "2.5", "--csv", str(tmp_path / "c.csv")])
    assert "must be above 0 and at most 2" in capsys.readouterr().err
