"""The catalog: schema and migrations, labels and their history, undo/redo across restarts, moved photos."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from lakeview.core.catalog import NONE_OF_THESE, Catalog, CatalogError
from lakeview.core.catalog.grid_queries import REVIEW_QUEUE
from lakeview.core.catalog.schema import LATEST, MIGRATIONS

from photo_tools import make_photo


@pytest.fixture
def photos(tmp_path):
    return [make_photo(tmp_path / "photos" / f"IMG_{i:02}.jpg", seed=i) for i in range(6)]


@pytest.fixture
def catalog(tmp_path, photos):
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as cat:
        cat.add_photos(photos)
        cat.ensure_classes(["louise", "moraine"])
        yield cat


def test_a_new_catalog_is_at_the_latest_schema_in_wal_mode(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as cat:
        assert cat.schema_version == LATEST == 7
        assert cat._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.integrity_check() == ["ok"]


def test_a_version_1_database_is_migrated_keeping_its_labels(tmp_path, photos):
    path = tmp_path / "old.sqlite"
    with Catalog(path, migrate_to=1) as old:
        assert old.schema_version == 1
        db = old._db
        db.execute("INSERT INTO photos (path, size, mtime_ns, fingerprint, added) VALUES (?, 1, 1, 'ab', 'then')",
                   (str(photos[0]),))
        db.execute("INSERT INTO classes (name, colour, position) VALUES ('louise', '#fff', 0)")
        db.execute("INSERT INTO labels (photo_id, class_id, source, time) VALUES (1, 1, 'user', 'then')")
        assert "missing" not in [r[1] for r in db.execute("PRAGMA table_info(photos)")]

    with Catalog(path) as new:
        assert new.schema_version == LATEST
        assert new.label_of(photos[0]).label == "louise"
        assert new.training_runs() == []
        assert len(new.photos_on_disk()) == 1


def test_a_catalog_from_a_newer_lakeview_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {max(MIGRATIONS) + 5}")
    connection.close()
    with pytest.raises(CatalogError, match="newer LakeView"):
        Catalog(path)


def test_labels_undo_and_redo_survive_a_restart(tmp_path, photos, catalog):
    catalog.set_labels(photos[:3], "louise")
    catalog.set_labels(photos[1:2], "moraine")
    catalog.set_labels(photos[4:5], NONE_OF_THESE)
    catalog.close()

    with Catalog(catalog.path) as reopened:
        assert reopened.label_of(photos[4]).label == NONE_OF_THESE
        assert reopened.undo() == [photos[4]]
        assert reopened.label_of(photos[4]) is None
        assert reopened.undo() == [photos[1]]
        assert reopened.label_of(photos[1]).label == "louise"

    with Catalog(catalog.path) as again:
        assert again.can_redo()
        assert again.redo() == [photos[1]]
        assert again.label_of(photos[1]).label == "moraine"
        again.set_labels(photos[5:6], "moraine")
        assert not again.can_redo(), "a new action discards what was undone"
        assert [a.label for a in map(again.label_of, photos[:3])] == ["louise", "moraine", "louise"]
        assert again.undo() == [photos[5]]
        assert again.undo() == [photos[1]]
        assert again.undo() == photos[:3][::-1]
        assert all(again.label_of(p) is None for p in photos)
        assert again.undo() == []


def test_sources_and_counts(photos, catalog):
    catalog.set_labels(photos[:2], "louise", source="imported")
    catalog.set_labels(photos[2:3], "moraine", source="accepted")
    catalog.set_labels(photos[1:2], "moraine")
    assert catalog.label_counts() == {("louise", "imported"): 1, ("moraine", "accepted"): 1, ("moraine", "user"): 1}
    assert catalog.label_of(photos[1]).source == "user"
    assert catalog.set_labels(photos[1:2], "moraine") is None, "no change, no action"


def test_classes_add_rename_remove(photos, catalog):
    catalog.add_class("emerald", "#123456")
    assert [(c.name, c.position) for c in catalog.classes()] == [("louise", 0), ("moraine", 1), ("emerald", 2)]
    catalog.set_labels(photos[:1], "emerald")
    catalog.rename_class("emerald", "Emerald Lake")
    assert catalog.label_of(photos[0]).label == "Emerald Lake"
    with pytest.raises(CatalogError, match="relabel them"):
        catalog.remove_class("Emerald Lake")
    with pytest.raises(CatalogError, match="already a class"):
        catalog.add_class("louise")
    with pytest.raises(CatalogError, match="no class named 'grassi'"):
        catalog.set_labels(photos[:1], "grassi")
    catalog.remove_class("moraine")
    assert catalog.class_names() == ["louise", "Emerald Lake"]


def test_undo_and_redo_stop_at_a_removed_class(photos, catalog):
    catalog.set_labels(photos[:1], "louise")
    catalog.set_labels(photos[1:2], "moraine")
    catalog.set_labels(photos[1:2], "louise")
    catalog.set_labels(photos[2:3], "louise")
    catalog.remove_class("moraine")

    assert catalog.undo() == [photos[2]]
    assert catalog.undo() == [], "undoing the relabel would bring back a removed class as 'none of these'"
    assert catalog.label_of(photos[1]).label == "louise"

    catalog.add_class("moraine")
    catalog.set_labels(photos[3:4], "moraine")
    catalog.undo()
    catalog.remove_class("moraine")
    assert not catalog.can_redo()
    assert catalog.redo() == [] and catalog.label_of(photos[3]) is None


def test_missing_photos_are_flagged_not_deleted_and_moved_ones_reattached(tmp_path, photos, catalog):
    catalog.set_labels(photos[:2], "louise")
    moved_to = tmp_path / "photos" / "sorted" / "renamed.jpg"
    moved_to.parent.mkdir()
    shutil.move(photos[0], moved_to)
    photos[1].unlink()

    report = catalog.rescan()

    assert report.reattached == [(photos[0], moved_to)]
    assert report.missing == [photos[1]]
    assert catalog.label_of(moved_to).label == "louise"
    assert catalog.label_of(photos[1]).label == "louise", "the label of a missing photo is kept"
    missing = [r for r in catalog.query() if r.missing]
    assert [r.path for r in missing] == [photos[1]]

    make_photo(photos[1], seed=1)
    assert catalog.rescan().found_again == [photos[1]]


def test_grid_queries_filter_and_sort(photos, catalog):
    catalog.set_labels(photos[:2], "louise", source="imported")
    catalog.set_labels(photos[2:3], "moraine")
    catalog.store_predictions("v1", [(photos[0], [("louise", 0.9)]), (photos[1], [("moraine", 0.6)]),
                                     (photos[3], [("moraine", 0.55)]), (photos[4], [("louise", 0.99)])])
    names = lambda rows: [r.path.name for r in rows]  # noqa: E731
    assert names(catalog.query(unlabelled=True)) == ["IMG_03.jpg", "IMG_04.jpg", "IMG_05.jpg"]
    assert names(catalog.query(order="confidence"))[:4] == ["IMG_03.jpg", "IMG_01.jpg", "IMG_00.jpg", "IMG_04.jpg"]
    assert names(catalog.query(predicted="moraine")) == ["IMG_01.jpg", "IMG_03.jpg"]
    assert names(catalog.query(assigned="louise")) == ["IMG_00.jpg", "IMG_01.jpg"]
    assert names(catalog.query(disagreements=True)) == ["IMG_01.jpg"]
    assert names(catalog.query(corrected=True)) == ["IMG_02.jpg"]
    assert names(catalog.query(search="IMG_0_")) == []
    assert names(catalog.query(search="G_05")) == ["IMG_05.jpg"]
    assert names(catalog.query(paths=[photos[4], photos[1], "/not/in/the/catalog.jpg"])) == ["IMG_01.jpg", "IMG_04.jpg"]
    assert names(catalog.query(paths=photos[:3], unlabelled=True)) == []
    row = catalog.query(search="IMG_01")[0]
    assert (row.label, row.label_source, row.predicted, row.confidence) == ("louise", "imported", "moraine", 0.6)
    assert catalog.prediction_of(photos[1]) == ("v1", [("moraine", 0.6)])


def test_the_review_queue_lists_unlabelled_predicted_photos_least_confident_first(photos, catalog):
    catalog.store_predictions("v1", [(photos[i], [("louise", confidence)])
                                     for i, confidence in enumerate([0.9, 0.6, 0.55, 0.99, 0.6])])
    catalog.set_labels(photos[1:2], "moraine", source="imported")
    names = lambda: [r.path.name for r in catalog.query(**REVIEW_QUEUE)]  # noqa: E731
    assert names() == ["IMG_02.jpg", "IMG_04.jpg", "IMG_00.jpg", "IMG_03.jpg"]

    catalog.set_labels(photos[4:5], "louise")
    assert names() == ["IMG_02.jpg", "IMG_00.jpg", "IMG_03.jpg"], "a photo that gets a label leaves"
    catalog.undo()
    assert names() == ["IMG_02.jpg", "IMG_04.jpg", "IMG_00.jpg", "IMG_03.jpg"]


def test_model_versions_and_the_active_one(tmp_path, catalog):
    catalog.add_model("a1", tmp_path / "a.lvmodel", "resnet34", ["x", "y"], None, {"error_rate": 0.2}, "t1", "quick",
                      active=True)
    catalog.add_model("b2", tmp_path / "b.lvmodel", "resnet34", ["x", "y"], "a1", {"error_rate": 0.3}, "t2", "quick")
    assert catalog.active_model().id == "a1"
    catalog.set_active("b2")
    assert [(m.id, m.active) for m in catalog.models()] == [("a1", False), ("b2", True)]
    with pytest.raises(CatalogError):
        catalog.set_active("zz")
    run = catalog.start_training_run("quick", {"epochs": 8})
    catalog.finish_training_run(run, "promoted", [{"epoch": 1, "train_loss": 0.5}], "b2")
    assert catalog.training_runs()[0]["epochs"] == [{"epoch": 1, "train_loss": 0.5}]


def test_grid_query_by_folder(tmp_path, catalog, photos):
    inner = make_photo(tmp_path / "photos" / "day2" / "IMG_99.jpg", seed=99)
    outside = make_photo(tmp_path / "photos-other" / "IMG_00.jpg", seed=98)
    catalog.add_photos([inner, outside])
    folder = tmp_path / "photos"
    assert [r.path for r in catalog.query(folder=folder)] == sorted(photos + [inner])
    assert [r.path for r in catalog.query(folder=folder, recursive=False)] == photos
    assert catalog.query_ids(folder=tmp_path / "photos-other") == [catalog.photo_id(outside)]


def test_moves_made_by_lakeview_take_their_rows_along(tmp_path, catalog, photos):
    catalog.set_labels(photos[:1], "louise")
    catalog.store_predictions("v1", [(photos[0], [("louise", 0.9)])])
    moved = tmp_path / "sorted" / "louise" / photos[0].name
    moved.parent.mkdir(parents=True)
    photos[0].rename(moved)
    taken = photos[1]

    assert catalog.record_moves([(photos[0], moved), (photos[2], taken)]) == 1

    assert catalog.label_of(moved).label == "louise" and catalog.prediction_of(moved) == ("v1", [("louise", 0.9)])
    assert catalog.photo_id(photos[0]) is None
    assert catalog.photo_id(photos[2]) is not None, "a path the catalog already knows is not taken over"


def test_accepting_predictions_leaves_user_and_imported_labels_alone(photos, catalog):
    catalog.store_predictions("m1", [(p, [("louise", 0.9), ("moraine", 0.1)]) for p in photos[:4]]
                              + [(photos[4], [("gone", 0.8)])])
    catalog.set_labels(photos[:1], "moraine")
    catalog.set_labels(photos[1:2], "moraine", source="imported")

    outcome = catalog.accept_predictions(photos)

    assert (outcome.accepted, outcome.already_labelled, outcome.without_prediction) == (2, 2, 2)
    assert outcome.describe() == "2 accepted, 2 already labelled, 2 without a prediction"
    assert [catalog.label_of(p).source for p in photos[:4]] == ["user", "imported", "accepted", "accepted"]
    assert catalog.label_of(photos[0]).label == "moraine", "the user's correction is not overwritten"
    assert catalog.next_undo().action == outcome.action
    again = catalog.accept_predictions(photos[2:4])
    assert (again.accepted, again.already_labelled, again.action) == (0, 2, None)
    assert again.describe() == "0 accepted, 2 already labelled"
    assert outcome and not again, "true when a label changed"


def test_accepting_predictions_of_two_classes_is_one_undo_step(photos, catalog):
    catalog.store_predictions("m1", [(p, [("louise" if i % 2 else "moraine", 0.9)]) for i, p in enumerate(photos[:3])])

    catalog.accept_predictions(photos[:3])
    step = catalog.next_undo()

    assert sorted(step.paths) == photos[:3]
    assert step.describe() == "3 photos labelled (2 moraine, 1 louise)"
    assert sorted(catalog.undo(step.action)) == photos[:3]
    assert all(catalog.label_of(p) is None for p in photos[:3])
    assert not catalog.can_undo()
    assert catalog.next_redo().describe() == step.describe()
    assert sorted(catalog.redo()) == photos[:3]


def test_a_history_step_says_what_it_changed_and_undo_checks_it_is_still_the_latest(photos, catalog):
    catalog.set_labels(photos[:2], "louise")
    first = catalog.next_undo()
    assert first.describe() == "2 photos labelled louise"
    catalog.set_labels(photos[:1], None)
    assert catalog.next_undo().describe() == "1 photo unlabelled"
    assert [(c.before, c.after) for c in catalog.next_undo().changes] == [("louise", None)]

    assert catalog.undo(first.action) == [], "another action came since: nothing is undone"
    assert catalog.label_of(photos[0]) is None
    catalog.set_labels(photos[2:3], NONE_OF_THESE)
    assert catalog.next_undo().describe() == f"1 photo labelled {NONE_OF_THESE}"
    assert catalog.next_redo() is None


def test_a_large_history_step_is_described_from_its_summary_and_names_its_folder(tmp_path):
    """A step of more than STEP_DETAIL photos lists no rows: its counts and folder come from the actions table
    (schema 5), and a class renamed since is named as it is now."""
    from lakeview.core.catalog.labels import STEP_DETAIL

    count = STEP_DETAIL + 5
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.ensure_classes(["louise", "moraine"])
        db = catalog._db
        with catalog._transaction():
            db.executemany("INSERT INTO photos (path, size, mtime_ns, fingerprint, added) VALUES (?, 1, 1, ?, 'now')",
                           [(f"/trip/day{i % 3}/IMG_{i:05}.jpg", f"{i:032x}") for i in range(count)])
        ids = [r[0] for r in db.execute("SELECT id FROM photos ORDER BY id")]
        first = catalog.set_labels_of_ids(ids[:count - 2], "louise")
        catalog.set_labels_of_ids(ids, "moraine")
        catalog.rename_class("moraine", "Moraine Lake")

        step = catalog.next_undo()
        assert (step.count, step.changes, step.detailed) == (count, (), False)
        assert step.describe() == f"{count:,} photos labelled Moraine Lake".replace(",", "")
        assert step.folder == Path("/trip")
        assert catalog.undo_ids(step.action)[:2] == [ids[-1], ids[-2]]
        assert catalog.label_of(f"/trip/day0/IMG_{0:05}.jpg").label == "louise"
        assert catalog.next_undo().action == first
        assert catalog.redo_ids() and catalog.label_of(f"/trip/day0/IMG_{0:05}.jpg").label == "Moraine Lake"


def test_adding_a_folder_again_reads_only_the_photos_that_changed(tmp_path, monkeypatch):
    """A photo recorded with the same size and modification time is not read again (a stat, not a read, per photo
    when a catalogued folder of 100,000 is opened); one that changed is read, and a new one is added."""
    import os

    from lakeview.core.catalog import photo_rows
    from photo_tools import red_and_blue_photos

    folder = red_and_blue_photos(tmp_path / "holiday", 3)
    with Catalog(tmp_path / "c.sqlite") as catalog:
        assert catalog.add_folder(folder).added == 6
        read: list[Path] = []
        real = photo_rows.read_photo_file
        monkeypatch.setattr(photo_rows, "read_photo_file", lambda path: read.append(Path(path)) or real(path))
        changed = folder / "red_1.jpg"
        changed.write_bytes(changed.read_bytes() + b"edited")
        os.utime(folder / "blue_2.jpg", ns=(1, 1))  # same bytes, another time: read again, to be sure
        (folder / "new.jpg").write_bytes((folder / "red_0.jpg").read_bytes() + b"x")
        report = catalog.add_folder(folder)
        assert sorted(p.name for p in read) == ["blue_2.jpg", "new.jpg", "red_1.jpg"]
        assert (report.added, report.updated, report.unchanged) == (1, 2, 4)
