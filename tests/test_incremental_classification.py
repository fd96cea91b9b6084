"""Classifying again does only what is left: photos without a prediction from the model version used, or whose
content changed since (by fingerprint); everything on request; a promoted version scores what it has not (no Qt)."""

from __future__ import annotations

import sqlite3

import pytest

from lakeview.core.catalog import Catalog
from lakeview.core.catalog.schema import LATEST
from lakeview.core.catalog.classification_plan import ClassificationPlan
from lakeview.core.models.classify_library import classify_library, plan_library

from model_tools import add_model
from photo_tools import COLOURS, make_photo


@pytest.fixture
def library(tmp_path):
    """A catalog of 6 photos in lakes/ and 2 in hills/."""
    for i in range(3):
        make_photo(tmp_path / "lakes" / f"red_{i}.jpg", COLOURS["red"], seed=i)
        make_photo(tmp_path / "lakes" / f"blue_{i}.jpg", COLOURS["blue"], seed=10 + i)
    make_photo(tmp_path / "hills" / "red_9.jpg", COLOURS["red"], seed=9)
    make_photo(tmp_path / "hills" / "blue_9.jpg", COLOURS["blue"], seed=19)
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite")
    catalog.add_folder(tmp_path)
    yield catalog
    catalog.close()


def test_classifying_again_leaves_alone_what_the_model_has_classified(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    first = classify_library(library, folder=tmp_path / "lakes")
    assert first.classified == 6 and first.plan.describe() == "6 of 6 photos to classify"

    again = classify_library(library)

    assert again.plan.total == 8 and again.plan.skipped == 6 and again.classified == 2
    assert sorted(p.name for p in again.plan.paths) == ["blue_9.jpg", "red_9.jpg"]
    assert again.plan.describe() == "2 of 8 photos to classify"
    assert again.plan.describe_skipped() == "6 photos already classified by this model were left alone"
    last = classify_library(library)
    assert last.classified == 0 and last.plan.describe() == "0 of 8 photos to classify"
    assert last.plan.describe_skipped() == "all 8 photos already classified by this model were left alone"


def test_a_photo_whose_content_changed_is_classified_again(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    classify_library(library)
    changed = make_photo(tmp_path / "lakes" / "red_1.jpg", COLOURS["green"], seed=99)
    assert plan_library(library).to_classify == 0, "the catalog has not seen the change yet"

    library.add_photos([changed])  # what opening the folder again, or `catalog add`, does

    plan = plan_library(library)
    assert plan.paths == [changed] and plan.skipped == 7
    assert classify_library(library, plan=plan).classified == 1
    assert plan_library(library).to_classify == 0


def test_everything_classifies_every_photo_again(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    classify_library(library)
    summary = classify_library(library, folder=tmp_path / "hills", everything=True)
    assert summary.classified == 2 and summary.plan.skipped == 0 and summary.plan.everything


def test_another_version_classifies_every_photo_and_an_older_one_only_what_it_no_longer_has(library, tmp_path):
    older = add_model(library, tmp_path / "older.lvmodel", seed=0)
    classify_library(library)
    newer = add_model(library, tmp_path / "newer.lvmodel", seed=1)
    assert classify_library(library, folder=tmp_path / "hills").classified == 2

    assert plan_library(library, version=older).to_classify == 2, "its predictions on hills/ were replaced"
    assert plan_library(library, version=newer).to_classify == 6
    library.set_active(older)
    assert classify_library(library).classified == 2
    assert {library.prediction_of(p)[0] for p in (tmp_path / "hills").iterdir()} == {older}


def test_the_plan_follows_the_grid_filters_and_given_paths(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    plan = plan_library(library, folder=tmp_path / "lakes", filters={"search": "blue_"})
    assert isinstance(plan, ClassificationPlan) and plan.total == 3 and plan.to_classify == 3
    classify_library(library, plan=plan)
    chosen = [tmp_path / "lakes" / "blue_0.jpg", tmp_path / "lakes" / "red_0.jpg", tmp_path / "not_in_catalog.jpg"]
    plan = plan_library(library, paths=chosen)
    assert plan.total == 2 and plan.paths == [tmp_path / "lakes" / "red_0.jpg"]


def test_predictions_record_the_fingerprint_they_were_made_on(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    classify_library(library)
    with sqlite3.connect(library.path) as db:
        stale = db.execute("SELECT COUNT(*) FROM predictions pr JOIN photos p ON p.id = pr.photo_id "
                           "WHERE pr.fingerprint IS NOT p.fingerprint").fetchone()[0]
        assert stale == 0 and db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 8


def test_a_version_3_catalog_keeps_its_predictions_as_made_on_the_photos_it_knows(tmp_path):
    path = tmp_path / "old.sqlite"
    with Catalog(path, migrate_to=3) as old:
        old._db.executescript(
            "INSERT INTO photos (path, size, mtime_ns, fingerprint, added) VALUES ('/a.jpg', 1, 1, 'ab', 'then');"
            "INSERT INTO models (id, file, arch, classes, parent, metrics, created, kind, active) "
            "VALUES ('v1', 'f', 'tiny', '[]', NULL, '{}', 'then', 'imported', 1);"
            "INSERT INTO predictions (photo_id, model_id, class_id, confidence, top, time) "
            "VALUES (1, 'v1', NULL, 0.9, '[[\"x\", 0.9]]', 'then');")
    with Catalog(path) as new:
        assert new.schema_version == LATEST
        assert new._db.execute("SELECT fingerprint FROM predictions").fetchone()[0] == "ab"
        assert new.classification_plan("v1").to_classify == 0
        assert new.classification_plan("v2").to_classify == 1
