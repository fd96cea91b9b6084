"""Location hints: EXIF GPS read (and every malformed field refused), stored when photos enter the catalog (and
read for photos catalogued before version 6), hints from the labelled photos nearby, the combined guess, place
names offline, and `lakeview catalog hints`."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational as R

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog
from lakeview.core.catalog import photo_rows
from lakeview.core.catalog import NONE_OF_THESE
from lakeview.core.catalog.gps_rows import PlacedPhoto
from lakeview.core.catalog.schema import LATEST
from lakeview.core.location.fusion import (best, combine, disagreement, fit_place_weight, pixel_probabilities,
                                           place_probabilities)
from lakeview.core.location.hints import PlaceHint
from lakeview.core.location.library_hints import hints_for, library_hints
from lakeview.core.location.place_names import place_name
from lakeview.core.photos.exif import read_header
from lakeview.core.photos.fingerprint import read_photo_file
from lakeview.core.photos.gps import GpsPosition, gps_of, read_gps

from gps_tools import MORAINE_LAKE, dms, exif_with_latitude, gps_ifd, moved, photo_at, photo_with_gps_ifd
from photo_tools import make_photo

GOOD = dms(51.4254)


# --- reading EXIF GPS ----------------------------------------------------------------------------------------

def test_a_position_written_by_pil_is_read_back_with_its_hemispheres_and_altitude(tmp_path):
    north_east = read_gps(photo_at(tmp_path / "ne.jpg", 51.4254, 7.25, altitude=1750.5))
    assert north_east.latitude == pytest.approx(51.4254, abs=1e-6)
    assert north_east.longitude == pytest.approx(7.25, abs=1e-6) and north_east.altitude == pytest.approx(1750.5)
    south_west = read_gps(photo_at(tmp_path / "sw.jpg", -33.8568, -70.6483, altitude=-12.0))
    assert (south_west.latitude, south_west.longitude) == (pytest.approx(-33.8568, abs=1e-6),
                                                           pytest.approx(-70.6483, abs=1e-6))
    assert south_west.altitude == pytest.approx(-12.0)
    facts = dict(read_header(tmp_path / "ne.jpg").facts)
    assert facts["Position"] == "51.4254° N, 7.2500° E, 1,750 m"
    assert read_gps(make_photo(tmp_path / "none.jpg")) is None
    assert "Position" not in dict(read_header(tmp_path / "none.jpg").facts)


MALFORMED = {
    "no latitude reference": {2: GOOD, 3: "W", 4: GOOD},
    "a reference that is no hemisphere": {1: "Q", 2: GOOD, 3: "W", 4: GOOD},
    "a zero denominator": {1: "N", 2: (R(51, 0), R(25, 1), R(0, 1)), 3: "W", 4: GOOD},
    "0/0 (NaN)": {1: "N", 2: GOOD, 3: "W", 4: (R(0, 0), R(25, 1), R(0, 1))},
    "95 degrees north": {1: "N", 2: (R(95, 1), R(0, 1), R(0, 1)), 3: "W", 4: GOOD},
    "190 degrees west": {1: "N", 2: GOOD, 3: "W", 4: (R(190, 1), R(0, 1), R(0, 1))},
    "75 minutes": {1: "N", 2: (R(51, 1), R(75, 1), R(0, 1)), 3: "W", 4: GOOD},
    "two numbers instead of three": {1: "N", 2: (R(51, 1), R(25, 1)), 3: "W", 4: GOOD},
    "one number instead of three": {1: "N", 2: R(51, 1), 3: "W", 4: GOOD},
    "no longitude": {1: "N", 2: GOOD, 3: "W"},
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_gps_field_written_in_a_photo_gives_no_position(tmp_path, case):
    path = photo_with_gps_ifd(tmp_path / "bad.jpg", MALFORMED[case])
    assert read_gps(path) is None
    assert "Position" not in dict(read_header(path).facts)
    assert read_header(path).size == (80, 60)


def test_a_latitude_written_as_text_gives_no_position(tmp_path):
    for text, expected in ((None, GpsPosition(51.0, 7.0)), (b"51.4254\x00", None)):
        path = make_photo(tmp_path / "text.jpg")
        with Image.open(path) as im:
            im.load()
            im.save(path, "JPEG", exif=exif_with_latitude(text))
        assert read_gps(path) == expected


class _Exif:
    """What Image.getexif gives, for values no file can carry through PIL (a float NaN, a string rational)."""

    def __init__(self, ifd) -> None:
        self.ifd = ifd

    def get_ifd(self, tag):
        if isinstance(self.ifd, Exception):
            raise self.ifd
        return self.ifd


@pytest.mark.parametrize("ifd", [
    {1: "N", 2: (float("nan"), 0, 0), 3: "E", 4: GOOD},
    {1: "N", 2: (math.inf, 0, 0), 3: "E", 4: GOOD},
    {1: "N", 2: ("51", "25", "3"), 3: "E", 4: GOOD},
    {1: "N", 2: ((51, 0), (25, 1), (0, 1)), 3: "E", 4: GOOD},
    {1: "N", 2: (-51, 0, 0), 3: "E", 4: GOOD},
    {1: b"N", 2: (51, 0, 0, 0), 3: "E", 4: GOOD},
    {1: None, 2: GOOD, 3: "E", 4: GOOD},
    {1: 7, 2: GOOD, 3: "E", 4: GOOD},
    "not a dict",
    {},
    KeyError("damaged"),
], ids=repr)
def test_malformed_values_no_file_can_carry_give_no_position(ifd):
    assert gps_of(_Exif(ifd)) is None


def test_a_bad_altitude_keeps_the_position_without_it():
    for altitude in ({5: b"\x07", 6: R(100, 1)}, {5: b"\x00", 6: R(100, 0)}, {5: b"\x00", 6: "high"},
                     {5: b"\x00", 6: R(10 ** 9, 1)}):
        position = gps_of(_Exif({1: "N", 2: GOOD, 3: "E", 4: GOOD, **altitude}))
        assert position.latitude == pytest.approx(51.4254, abs=1e-6) and position.altitude is None
    assert gps_of(_Exif({1: "N\x00", 2: GOOD, 3: "E", 4: GOOD, 5: 1, 6: (250, 2)})).altitude == -125.0


# --- the catalog -----------------------------------------------------------------------------------------------

def holiday(folder: Path) -> dict[str, Path]:
    """Three bee photos at Moraine Lake, one unlabelled photo 100 m away, one 50 km away, one without GPS."""
    photos = {f"bee{i}": photo_at(folder / f"bee{i}.jpg", *moved(MORAINE_LAKE, -10 * i), seed=i)
              for i in range(3)}
    photos["near"] = photo_at(folder / "near.jpg", *moved(MORAINE_LAKE, 100), seed=7)
    photos["far"] = photo_at(folder / "far.jpg", *moved(MORAINE_LAKE, 50_000), seed=8)
    photos["nowhere"] = make_photo(folder / "nowhere.jpg", seed=9)
    return photos


def test_a_photo_100_m_from_labelled_ones_gets_their_hint_and_one_50_km_away_none(tmp_path):
    photos = holiday(tmp_path / "trip")
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.add_folder(tmp_path / "trip")
        assert catalog.gps_of(photos["near"]).latitude == pytest.approx(MORAINE_LAKE[0] + 100 / 111_195, abs=1e-6)
        assert catalog.gps_of(photos["nowhere"]) is None
        catalog.ensure_classes(["ants", "bees"])
        catalog.set_labels([photos[f"bee{i}"] for i in range(3)], "bees")
        catalog.store_predictions("m1", [(photos["near"], [("ants", 0.7), ("bees", 0.3)])])
        hints = library_hints(catalog)
        near, far = hints.of(catalog.photo_id(photos["near"])), hints.of(catalog.photo_id(photos["far"]))
        assert hints.of(catalog.photo_id(photos["nowhere"])) is None and len(hints) == 5
    assert near.hint.top == "bees" and near.hint.neighbours == 3 and near.hint.counts == {"bees": 3}
    assert 95 < near.hint.distance_m < 105
    assert near.hint.text() == "Taken 100 m from 3 photos labelled bees"
    assert far.hint is None and far.pixels is None and far.disagreement is None
    # pixels 70/30 ants; place about (3 + 1)/(3 + 2) = 80% bees (three neighbours 100 to 120 m away are worth
    # nearly three equal ones); combined: bees, about 0.3 * 0.8 against 0.7 * 0.2
    n = near.hint.effective
    assert 2.99 < n < 3
    assert near.pixels == pytest.approx({"ants": 0.7, "bees": 0.3})
    assert near.place == pytest.approx({"ants": 1 / (n + 2), "bees": (n + 1) / (n + 2)})
    ants, bees = 0.7 / (n + 2), 0.3 * (n + 1) / (n + 2)
    assert near.combined == pytest.approx({"ants": ants / (ants + bees), "bees": bees / (ants + bees)})
    assert near.disagreement == pytest.approx(0.5, abs=1e-3)
    # a labelled photo's hint is what the others say, not its own label
    bee = hints.of(min(hints.ids()))
    assert bee.hint.neighbours == 2


def test_the_radius_and_k_are_kept(tmp_path):
    photos = holiday(tmp_path / "trip")
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.add_folder(tmp_path / "trip")
        catalog.ensure_classes(["bees"])
        catalog.set_labels([photos["bee0"]], "bees")
        near = catalog.photo_id(photos["near"])
        assert library_hints(catalog, radius_km=0.05).of(near).hint is None
        assert library_hints(catalog, radius_km=0.2).of(near).hint.neighbours == 1
        far = catalog.photo_id(photos["far"])
        assert library_hints(catalog, radius_km=60).of(far).hint.top == "bees"
        with pytest.raises(ValueError):
            library_hints(catalog, radius_km=0)


def placed(photo_id: int, north_m: float, label: str | None, top=()) -> PlacedPhoto:
    return PlacedPhoto(photo_id, Path(f"/p{photo_id}.jpg"), *moved(MORAINE_LAKE, north_m), label, list(top))


def test_closer_neighbours_weigh_more_and_none_of_these_is_no_place():
    photos = [placed(1, 0, "ants"), placed(2, 900, "bees"), placed(3, 950, "bees"), placed(4, 10, NONE_OF_THESE),
              placed(5, 20, None, [("bees", 0.9), ("ants", 0.1)])]
    hint = hints_for(photos, ["ants", "bees"]).of(5).hint
    assert hint.counts == {"ants": 1, "bees": 2} and hint.top == "ants"  # 20 m away against 900 m
    assert hint.classes["ants"] == pytest.approx((1 / 70) / (1 / 70 + 1 / 930 + 1 / 980))
    assert hints_for(photos, ["ants", "bees"], k=1).of(5).hint.counts == {"ants": 1}
    assert 1 < hint.effective < 1.4  # one neighbour next door, two far off: worth little more than one


def test_the_product_of_experts_never_lets_the_place_zero_a_class():
    hint = PlaceHint({"bees": 1.0}, 15, 30.0, {"bees": 15}, 15.0)
    place = place_probabilities(hint, ["ants", "bees"])
    assert place == pytest.approx({"ants": 1 / 17, "bees": 16 / 17})
    pixels = pixel_probabilities([("ants", 0.99)], ["ants", "bees"])
    assert pixels == pytest.approx({"ants": 0.99, "bees": 0.01})
    assert best(combine(pixels, place))[0] == "ants"  # sure pixels outvote the place
    assert combine(pixels, place_probabilities(None, ["ants", "bees"])) == pytest.approx(pixels)
    assert disagreement(pixels, pixels) == 0
    assert pixel_probabilities([("bees", 0.6)], ["ants", "bees", "wasps"]) == pytest.approx(
        {"ants": 0.2, "bees": 0.6, "wasps": 0.2})


def test_the_review_order_puts_pixels_against_place_first():
    photos = [placed(1, 0, "bees"), placed(2, 5, "bees"),
              placed(10, 20, None, [("bees", 0.9), ("ants", 0.1)]),   # agrees
              placed(11, 30, None, [("ants", 0.95), ("bees", 0.05)]),  # disagrees most
              placed(12, 40, None, [("ants", 0.6), ("bees", 0.4)]),
              placed(13, 9_000, None, [("ants", 0.6), ("bees", 0.4)])]  # no hint
    hints = hints_for(photos, ["ants", "bees"])
    assert hints.by_disagreement([99, 13, 10, 12, 11]) == [11, 12, 10, 99, 13]


def test_a_version_5_catalog_reads_the_gps_of_its_photos_at_the_next_add(tmp_path, monkeypatch):
    photos = holiday(tmp_path / "trip")
    path = tmp_path / "catalog.sqlite"
    with Catalog(path, migrate_to=5) as old:
        for photo in photos.values():
            info = read_photo_file(photo)
            old._db.execute("INSERT INTO photos (path, size, mtime_ns, fingerprint, added) VALUES (?, ?, ?, ?, 'then')",
                            (str(photo), info.size, info.mtime_ns, info.fingerprint))
    with Catalog(path) as catalog:
        assert catalog.schema_version == LATEST
        assert catalog.gps_unread_count() == 6 and catalog.gps_of(photos["near"]) is None
        fingerprinted = []
        real = photo_rows.read_photo_file
        monkeypatch.setattr(photo_rows, "read_photo_file", lambda p: fingerprinted.append(p) or real(p))
        report = catalog.add_folder(tmp_path / "trip")
        assert (report.added, report.updated, report.unchanged) == (0, 0, 6) and fingerprinted == []
        assert catalog.gps_unread_count() == 0
        assert catalog.gps_of(photos["far"]).latitude == pytest.approx(MORAINE_LAKE[0] + 50_000 / 111_195, abs=1e-6)
        assert catalog.gps_of(photos["nowhere"]) is None
        assert len(catalog.placed_photos()) == 5


def test_a_moved_or_changed_photo_takes_its_new_position(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        photo = photo_at(tmp_path / "trip" / "a.jpg", *MORAINE_LAKE)
        catalog.add_folder(tmp_path / "trip")
        photo_with_gps_ifd(photo, gps_ifd(10.0, 20.0), seed=3)
        catalog.add_folder(tmp_path / "trip")
        assert catalog.gps_of(photo) == GpsPosition(pytest.approx(10.0), pytest.approx(20.0), None)


def test_place_names_come_offline():
    name = place_name(*MORAINE_LAKE)
    assert name.startswith("near ") and name.endswith(", Alberta, CA")


# --- the command line ----------------------------------------------------------------------------------------

def test_catalog_hints_writes_a_row_per_photo_with_gps(tmp_path, capsys):
    photos = holiday(tmp_path / "trip")
    catalog = ["catalog", "--catalog", str(tmp_path / "lib" / "catalog.sqlite")]
    assert main([*catalog, "add", str(tmp_path / "trip")]) == 0
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as cat:
        cat.ensure_classes(["ants", "bees"])
        cat.store_predictions("m1", [(photos["near"], [("ants", 0.7), ("bees", 0.3)])])
    assert main([*catalog, "label", *(str(photos[f"bee{i}"]) for i in range(3)), "--as", "bees"]) == 0
    out = tmp_path / "hints.csv"
    assert main([*catalog, "hints", "--csv", str(out)]) == 0
    said = capsys.readouterr().err
    assert "wrote 5 rows" in said and "place counted at 0.5 × (the default: no active model)" in said
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == ["file", "place_hint", "neighbours", "distance_m", "combined"]
    assert set(rows) == {"bee0.jpg", "bee1.jpg", "bee2.jpg", "near.jpg", "far.jpg"}
    assert rows["near.jpg"]["place_hint"] == "bees" and rows["near.jpg"]["neighbours"] == "3"
    # the place (bees 80%) counted at 0.5: 0.7 * 0.2 ** 0.5 for ants against 0.3 * 0.8 ** 0.5 (the plain product:
    # bees)
    assert rows["near.jpg"]["combined"] == "ants"
    assert 95 <= int(rows["near.jpg"]["distance_m"]) <= 105
    assert rows["far.jpg"] == {"file": str(photos["far"]), "place_hint": "", "neighbours": "", "distance_m": "",
                               "combined": ""}
    assert rows["bee0.jpg"]["neighbours"] == "2"

    assert main([*catalog, "hints", "--radius-km", "60", "--csv", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        assert {Path(r["file"]).name: r["place_hint"] for r in csv.DictReader(handle)}["far.jpg"] == "bees"
    with pytest.raises(SystemExit):
        main([*catalog, "hints", "--radius-km", "0", "--csv", str(out)])


def test_a_place_weight_is_fitted_by_log_likelihood():
    pixels_wrong = {"ants": 0.2, "bees": 0.8}
    place_right = {"ants": 0.9, "bees": 0.1}
    pixels_right = {"ants": 0.9, "bees": 0.1}
    experts = [(pixels_wrong, place_right)] * 3 + [(pixels_right, place_right)] * 3
    assert fit_place_weight(experts, ["ants"] * 6) == 3.0  # the place is always right: as much of it as allowed
    misleading = [(pixels_right, {"ants": 0.1, "bees": 0.9})] * 4
    assert fit_place_weight(misleading, ["ants"] * 4) == 0.0
    assert fit_place_weight([], []) == 1.0
    assert combine(pixels_wrong, place_right, 0.0) == pytest.approx(pixels_wrong)


def test_the_library_s_disagreement_scores_are_the_photos_own():
    """The review order scores the library in arrays; each photo's PhotoHint scores it on its own: the same."""
    import numpy as np

    rng = np.random.default_rng(0)
    classes = ["ants", "bees", "wasps", "moths"]
    photos = []
    for i in range(300):
        top = sorted(zip(classes, rng.dirichlet(np.ones(4))), key=lambda item: -item[1])[:int(rng.integers(0, 4))]
        label = str(rng.choice(classes)) if rng.random() < 0.4 else None
        photos.append(placed(i, float(rng.normal(0, 1500)), label, [(name, float(p)) for name, p in top]))
    hints = hints_for(photos, classes[:3], k=7, every=True)  # 'moths' only as a label: a class all the same
    expected = {i: hints.of(i).disagreement for i in hints.ids()}
    assert sum(d is not None for d in expected.values()) > 100
    assert {i: hints._disagreements[n] for n, i in enumerate(hints.ids())} == pytest.approx(
        {i: math.nan if d is None else d for i, d in expected.items()}, nan_ok=True)
    ranked = sorted((i for i in expected if expected[i] is not None), key=lambda i: -expected[i])
    assert hints.by_disagreement(hints.ids()) == ranked + [i for i in hints.ids() if expected[i] is None]
    unlabelled_only = hints_for(photos, classes[:3], k=7)  # what the app's review queue asks for
    for i in hints.ids():
        assert unlabelled_only.hint_of(i) == hints.hint_of(i)
        score = unlabelled_only._disagreements[unlabelled_only.ids().index(i)]
        assert math.isnan(score) if photos[i].label is not None else score == hints._disagreements[i] or (
            math.isnan(score) and math.isnan(hints._disagreements[i]))


@pytest.mark.parametrize("classes", [["blue", "red"], []])
def test_photos_with_gps_and_no_labelled_photo_yet_get_no_hint_and_no_error(classes):
    placed = [PlacedPhoto(1, "/trip/a.jpg", *MORAINE_LAKE, None, '[["blue", 0.7], ["red", 0.3]]'),
              PlacedPhoto(2, "/trip/b.jpg", *moved(MORAINE_LAKE, 100), None, None)]

    hints = hints_for(placed, classes)

    assert len(hints) == 2
    first = hints.of(1)
    assert first.hint is None and first.combined == first.pixels
    assert hints.by_disagreement([1, 2]) == [1, 2]
