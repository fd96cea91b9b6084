"""Training from the app's point of view: a labelled folder or the library's labels, a new active version,
the events the panel draws from, and the offline path."""

from __future__ import annotations

import pytest

from lakeview.core.catalog import Catalog
from lakeview.core.datasets.dataset import DatasetError
from lakeview.core.training.library_dataset import library_dataset
from lakeview.core.training.from_library import (DataReady, NeedsWeights, TrainedVersion, WeightsProgress,
                                                 evaluate_active, find_lr_in_library, train_in_library)
from lakeview.core.training.plan import LabelledFolder
from lakeview.core.training.phases import EpochReport
from lakeview.core.training.plan import TrainingPlan
from lakeview.core.models.weights import WeightsUnavailable

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights")

PLAN = TrainingPlan(arch="tiny", weights="none", size=32, batch_size=4, frozen_epochs=2, unfrozen_epochs=1, lr=1e-2,
                    unfrozen_lr=1e-2)


def test_a_labelled_folder_trains_a_new_active_version_and_joins_the_library(colour_folders, tmp_path):
    catalog_path = tmp_path / "library" / "catalog.sqlite"
    events = []

    result = train_in_library(catalog_path, LabelledFolder(colour_folders), PLAN, events=events.append)

    assert isinstance(result, TrainedVersion)
    data = [e for e in events if isinstance(e, DataReady)]
    assert data and data[0].counts["train"] == {"blue": 12, "red": 12} and data[0].counts["valid"] == {"blue": 4, "red": 4}
    assert [e.done for e in events if isinstance(e, EpochReport)] == [1, 2, 3]
    assert len(result.interpretation.paths) == 8 and result.error_rate == result.interpretation.error_rate
    with Catalog(catalog_path) as catalog:
        assert catalog.active_model().id == result.version_id
        assert catalog.active_model().metrics["error_rate"] == result.error_rate
        assert catalog.label_of(colour_folders / "valid" / "red" / "red_0.jpg").label == "red"
        assert catalog.training_runs()[-1]["outcome"] == "promoted"


def test_the_library_needs_two_labelled_classes(tmp_path):
    with pytest.raises(DatasetError, match="at least two classes"):
        train_in_library(tmp_path / "catalog.sqlite", None, PLAN)


def test_a_stop_saves_nothing(colour_folders, tmp_path):
    catalog_path = tmp_path / "catalog.sqlite"
    epochs = []

    result = train_in_library(catalog_path, LabelledFolder(colour_folders), PLAN, should_stop=lambda: bool(epochs),
                              events=lambda e: epochs.append(e) if isinstance(e, EpochReport) else None)

    assert result is None and len(epochs) == 1
    with Catalog(catalog_path) as catalog:
        assert catalog.active_model() is None


def test_offline_weights_come_back_as_a_choice_for_the_user(colour_folders, tmp_path, monkeypatch):
    def offline(arch, progress, should_stop):
        progress(0, 1000)
        raise WeightsUnavailable("cannot download the ImageNet weights: no network")

    monkeypatch.setattr("lakeview.core.models.network.imagenet_state_dict", offline)
    events = []
    plan = TrainingPlan(**(vars(PLAN) | {"weights": "imagenet"}))

    result = train_in_library(tmp_path / "catalog.sqlite", LabelledFolder(colour_folders), plan, events=events.append)

    assert isinstance(result, NeedsWeights) and "no network" in result.message
    assert WeightsProgress(0, 1000) in events


def test_the_lr_finder_on_a_labelled_folder(colour_folders, tmp_path):
    result = find_lr_in_library(tmp_path / "catalog.sqlite", LabelledFolder(colour_folders), PLAN, iterations=30)
    assert len(result.lrs) == len(result.losses) > 5


def test_the_active_model_is_measured_on_the_held_out_labelled_photos(colour_folders, tmp_path):
    catalog_path = tmp_path / "catalog.sqlite"
    assert evaluate_active(catalog_path) is None
    trained = train_in_library(catalog_path, LabelledFolder(colour_folders), PLAN)

    version, interpretation = evaluate_active(catalog_path)

    assert version == trained.version_id
    with Catalog(catalog_path) as catalog:
        held_out = library_dataset(catalog)[0].valid
    assert sorted(interpretation.paths) == sorted(p.path for p in held_out)
    assert sum(map(sum, interpretation.confusion_matrix())) == len(held_out)
    assert abs(interpretation.probs.sum(1) - 1).max() < 1e-4


def test_library_counts_in_sql_match_the_dataset_counted_photo_by_photo(tmp_path):
    """The Train tab counts the library's labels in SQL; the split is the one training makes (in_holdout)."""
    import random

    from lakeview.core.catalog import NONE_OF_THESE
    from lakeview.core.training.library_dataset import library_counts

    rng = random.Random(3)
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.ensure_classes(["emerald", "louise", "unused"])
        with catalog._transaction() as db:
            db.executemany("INSERT INTO photos (path, size, mtime_ns, fingerprint, added, missing) "
                           "VALUES (?, 1, 1, ?, 'now', ?)",
                           [(f"/p/{i}.jpg", f"{rng.getrandbits(128):032x}", int(i % 17 == 0)) for i in range(600)])
        ids = [r[0] for r in catalog._db.execute("SELECT id FROM photos ORDER BY id")]
        catalog.set_labels_of_ids(ids[:250], "emerald")
        catalog.set_labels_of_ids(ids[250:500], "louise")
        catalog.set_labels_of_ids(ids[500:550], NONE_OF_THESE)
        for pct in (0.0, 0.2, 0.5, 1.0):
            data, _ = library_dataset(catalog, pct)
            assert library_counts(catalog, pct) == (data.classes, data.counts())
