"""classify_library: a model version's predictions for the catalog's photos, stored a batch at a time (no Qt)."""

from __future__ import annotations

import pytest

from lakeview.core.catalog import Catalog
from lakeview.core.models.classify_library import NoModel, classify_library

from model_tools import add_model
from photo_tools import COLOURS, make_photo


@pytest.fixture
def library(tmp_path):
    """A catalog of 7 red and blue photos in banff/ (one broken, one deleted since it was added) and 2 in jasper/."""
    banff, jasper = tmp_path / "banff", tmp_path / "jasper"
    for i in range(3):
        make_photo(banff / f"red_{i}.jpg", COLOURS["red"], seed=i)
        make_photo(banff / f"blue_{i}.jpg", COLOURS["blue"], seed=10 + i)
    (banff / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    make_photo(jasper / "red_9.jpg", COLOURS["red"], seed=9)
    make_photo(jasper / "blue_9.jpg", COLOURS["blue"], seed=19)
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite")
    catalog.add_folder(banff)
    catalog.add_folder(jasper)
    (banff / "blue_2.jpg").unlink()
    yield catalog
    catalog.close()


def test_a_folder_is_classified_and_stored_in_batches(library, tmp_path):
    version = add_model(library, tmp_path / "tiny.lvmodel")
    banff = tmp_path / "banff"
    batches, progress = [], []

    summary = classify_library(library, folder=banff, batch_size=2, on_batch=batches.append,
                               progress=lambda done, total: progress.append((done, total)))

    readable = [banff / n for n in ("blue_0.jpg", "blue_1.jpg", "red_0.jpg", "red_1.jpg", "red_2.jpg")]
    assert summary.model_version == version and not summary.stopped
    assert summary.classified == 5
    assert [path for path, _ in summary.unreadable] == [banff / "broken.jpg"]
    assert summary.missing == [(banff / "blue_2.jpg", "file not found")]
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(path for batch in batches for path, _ in batch) == readable
    assert progress[-1] == (6, 6)
    for path in readable:
        stored_version, top = library.prediction_of(path)
        assert stored_version == version and top[0][0] in ("blue", "red")
    assert library.prediction_of(tmp_path / "jasper" / "red_9.jpg") is None


def test_without_a_folder_every_photo_of_the_library_is_classified(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    summary = classify_library(library)
    assert summary.classified == 7 and len(summary.unreadable) == 1 and len(summary.missing) == 1


def test_given_paths_and_a_version_that_is_not_the_active_one(library, tmp_path):
    older = add_model(library, tmp_path / "older.lvmodel")
    add_model(library, tmp_path / "newer.lvmodel")
    photo = tmp_path / "jasper" / "red_9.jpg"
    summary = classify_library(library, paths=[photo], version=older)
    assert summary.classified == 1 and summary.model_version == older
    assert library.prediction_of(photo)[0] == older


def test_a_stop_keeps_the_batches_stored_before_it(library, tmp_path):
    add_model(library, tmp_path / "tiny.lvmodel")
    batches = []
    summary = classify_library(library, batch_size=2, on_batch=batches.append, should_stop=lambda: bool(batches))
    assert summary.stopped
    assert summary.classified == sum(map(len, batches)) and 0 < summary.classified < 7
    assert sum(library.prediction_of(path) is not None for batch in batches for path, _ in batch) == summary.classified


def test_without_a_model_nothing_runs(library):
    with pytest.raises(NoModel):
        classify_library(library)
