"""Where a similar-photo group was taken, named for its header: the middle of its photos' GPS positions, on the
sphere, named offline; no name for a group without positions or spread over a wide area."""

from __future__ import annotations

import pytest

from lakeview.core.catalog import Catalog
from lakeview.core.location.group_places import SPREAD_M, group_place_names, middle

from gps_tools import MORAINE_LAKE, moved, photo_at
from photo_tools import make_photo


def test_the_middle_of_positions_either_side_of_the_date_line_is_on_it():
    latitude, longitude, spread = middle([(10.0, 179.5), (10.0, -179.5)])
    assert latitude == pytest.approx(10.0, abs=0.01) and abs(longitude) == pytest.approx(180.0, abs=0.01)
    assert spread == pytest.approx(54_800, rel=0.01)  # half a degree of longitude at 10° N


def test_a_group_is_named_by_its_photos_positions_and_not_without_them_or_when_spread_wide(tmp_path):
    folder = tmp_path / "holiday"
    photo_at(folder / "a.jpg", *MORAINE_LAKE, seed=1)
    photo_at(folder / "b.jpg", *moved(MORAINE_LAKE, 300, 200), seed=2)
    make_photo(folder / "c.jpg", (200, 40, 40), seed=3)
    photo_at(folder / "d.jpg", *moved(MORAINE_LAKE, 2 * SPREAD_M + 10_000), seed=4)
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as catalog:
        catalog.add_folder(folder)
        ids = {source.path.name: source.id for source in catalog.photo_sources()}
        positions = catalog.positions_of_ids(ids.values())
        assert set(positions) == {ids["a.jpg"], ids["b.jpg"], ids["d.jpg"]}
        assert positions[ids["a.jpg"]] == pytest.approx(MORAINE_LAKE, abs=1e-5)

        named = group_place_names([[ids["a.jpg"], ids["b.jpg"], ids["c.jpg"]], [ids["c.jpg"]],
                                   [ids["a.jpg"], ids["d.jpg"]]], positions)

    assert named[0].startswith("near ") and named[0].endswith(", Alberta, CA")
    assert named[1] == ""  # no photo of it has a position
    assert named[2] == ""  # half its photos 50 km from the other half: taken in no one place


def test_loading_the_place_names_leaves_the_csv_field_limit_as_it_was():
    import csv
    import subprocess
    import sys

    script = ("import csv; before = csv.field_size_limit(); "
              "from lakeview.core.location.place_names import place_name; place_name(51.32, -116.19); "
              "print(before, csv.field_size_limit())")
    before, after = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                   check=True).stdout.split()
    assert before == after == str(csv.field_size_limit())
