"""Similar-photo groups and Find similar: grouping features, storing the grouping, labelling a group, the library's
features computed once, and a real backbone putting a photo and its altered copy in one group."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

from lakeview.core.catalog import Catalog, CatalogError
from lakeview.core.jobs import Stopped
from lakeview.core.models.weights import WeightsUnavailable
from lakeview.core.similarity import grouping as grouping_module
from lakeview.core.similarity.grouping import group_vectors
from lakeview.core.similarity.library_features import library_features
from lakeview.core.similarity.library_groups import GroupingStep, group_library
from lakeview.core.similarity.similar_index import SimilarIndex

from photo_tools import COLOURS, HYMENOPTERA, MOBILENET_WEIGHTS, make_photo, requires_shared
from tiny_network import TINY

SIZES = (6, 4, 3, 2)


def clustered(sizes=SIZES, singletons: int = 3, dimension: int = 64, seed: int = 0, spread: float = 0.05):
    """Non-negative vectors (as pooled ReLU features are) in runs around far-apart centres: the run each row comes
    from (-1 for the singletons), and the rows."""
    rng = np.random.default_rng(seed)
    counts = list(sizes) + [1] * singletons
    centres = np.abs(rng.normal(size=(len(counts), dimension))) * (rng.random((len(counts), dimension)) < 0.3)
    runs = np.repeat(np.arange(len(counts)), counts)
    vectors = centres[runs] + spread * np.abs(rng.normal(size=(len(runs), dimension)))
    runs[runs >= len(sizes)] = -1
    return runs, vectors.astype(np.float32)


def test_known_runs_come_back_as_groups_biggest_first():
    runs, vectors = clustered()
    ids = np.arange(100, 100 + len(runs))
    grouping = group_vectors(ids, vectors)
    assert [sorted(g) for g in grouping.groups] == [sorted(ids[runs == r].tolist()) for r in range(len(SIZES))]
    assert grouping.ungrouped == ids[runs == -1].tolist()
    assert grouping.group_of[int(ids[0])] == 1 and grouping.group_of[int(ids[-4])] == len(SIZES)


def test_grouping_is_deterministic_whatever_the_order():
    runs, vectors = clustered(sizes=(5, 5, 3, 3, 2), seed=3)
    ids = np.arange(len(runs)) * 7 + 1
    first = group_vectors(ids, vectors)
    shuffled = np.random.default_rng(1).permutation(len(ids))
    assert group_vectors(ids[shuffled], vectors[shuffled]) == first
    assert group_vectors(ids, vectors) == first
    assert [len(g) for g in first.groups] == [5, 5, 3, 3, 2]
    assert first.groups[0][0] < first.groups[1][0]  # equal sizes: numbered by their most central photo's id


def test_no_photos_one_photo_and_two_alike():
    assert group_vectors([], np.zeros((0, 8))).groups == []
    assert group_vectors([7], np.ones((1, 8))).ungrouped == [7]
    assert group_vectors([7, 3], np.ones((2, 8))).groups == [[3, 7]]


def test_smaller_clusters_than_the_minimum_are_in_no_group():
    runs, vectors = clustered()
    grouping = group_vectors(np.arange(len(runs)), vectors, min_size=4)
    assert [len(g) for g in grouping.groups] == [6, 4]
    assert grouping.ungrouped == sorted(np.flatnonzero((runs < 0) | (runs >= 2)).tolist())


def test_a_group_lists_its_most_central_photo_first():
    rng = np.random.default_rng(0)
    centre = np.abs(rng.normal(size=32))
    around = [centre + 0.2 * d for d in np.eye(32)[:4]]
    grouping = group_vectors([10, 11, 12, 13, 14], np.array([*around, centre]))
    assert grouping.groups[0][0] == 14 and sorted(grouping.groups[0]) == [10, 11, 12, 13, 14]


def test_the_groups_are_scikit_learns_average_linkage_over_the_full_distance_matrix():
    from sklearn.cluster import AgglomerativeClustering

    sizes = [1 + i % 7 for i in range(60)]
    runs, vectors = clustered(sizes=sizes, singletons=0, dimension=48, seed=2, spread=0.4)
    grouping = group_vectors(np.arange(len(runs)), vectors, min_size=1)
    exact = AgglomerativeClustering(n_clusters=None, distance_threshold=grouping.distance, metric="cosine",
                                    linkage="average").fit_predict(vectors)
    assert sorted(map(sorted, grouping.groups)) == sorted(np.flatnonzero(exact == c).tolist() for c in set(exact))
    assert len(grouping.groups) < len(runs)  # the check has merges to get right


def test_a_part_too_big_for_one_matrix_is_cut_into_pieces_that_keep_the_runs(monkeypatch):
    monkeypatch.setattr(grouping_module, "PACKED_PHOTOS", 40)
    # 30 runs of 4 photos along an arc, 0.01 radians apart in a run and 0.03 between runs: the runs' ends are
    # within the distance, so all 120 photos form one part, but no two runs are on average.
    angles = np.array([run * 0.06 + shot * 0.01 for run in range(30) for shot in range(4)])
    vectors = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    runs = np.repeat(np.arange(30), 4)
    grouping = group_vectors(np.arange(120), vectors, distance=1 - np.cos(0.035))
    assert all(len(set(runs[g])) == 1 for g in grouping.groups)
    assert sum(sorted(g) == np.flatnonzero(runs == runs[g[0]]).tolist() for g in grouping.groups) >= 27


def test_grouping_stops_when_asked(library):
    catalog, _, weights = library
    with pytest.raises(Stopped):
        group_library(catalog, arch="tiny", weights=weights, should_stop=lambda: True)
    assert catalog.grouping_record() is None


def test_many_photos_are_grouped_through_the_projected_neighbour_search(monkeypatch):
    monkeypatch.setattr(grouping_module, "CANDIDATES_EXACT", 200)
    sizes = [3 + i % 5 for i in range(100)]
    runs, vectors = clustered(sizes=sizes, singletons=50, dimension=256, seed=5)
    grouping = group_vectors(np.arange(len(runs)), vectors)
    assert sorted(sorted(g) for g in grouping.groups) == sorted(np.flatnonzero(runs == r).tolist()
                                                              for r in range(len(sizes)))


def test_find_similar_answers_nearest_first_without_the_photo_itself():
    rng = np.random.default_rng(0)
    base = np.abs(rng.normal(size=16))
    vectors = np.array([base + step * np.eye(16)[0] for step in (0.0, 0.3, 0.1, 0.9, 0.5)])
    index = SimilarIndex([5, 6, 7, 8, 9], vectors * np.array([[1], [3], [0.5], [2], [1]]))  # scale does not count
    found = index.nearest(5, k=3)
    assert [photo for photo, _ in found] == [7, 6, 9]
    assert all(a[1] >= b[1] for a, b in zip(found, found[1:])) and 0.9 < found[0][1] <= 1.0
    assert [p for p, _ in index.nearest(8, k=10)] == [9, 6, 7, 5]
    assert index.nearest(42, k=3) == []


@pytest.fixture
def library(tmp_path):
    """A catalog of 5 red, 4 blue and 3 green photos, and a tiny backbone's weights file."""
    folder = tmp_path / "photos"
    for name, count in (("red", 5), ("blue", 4), ("green", 3)):
        for i in range(count):
            make_photo(folder / f"{name}_{i}.jpg", COLOURS[name], seed=10 * i + len(name))
    torch.manual_seed(0)
    weights = tmp_path / "tiny.pth"
    torch.save(TINY.build().state_dict(), weights)
    catalog = Catalog(tmp_path / "lib" / "catalog.sqlite")
    catalog.add_folder(folder)
    yield catalog, folder, weights
    catalog.close()


def test_features_are_computed_once_and_an_unreadable_photo_is_skipped_with_its_reason(library):
    catalog, folder, weights = library
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    catalog.add_folder(folder)
    counts = []
    first = library_features(catalog, arch="tiny", weights=weights, progress=lambda d, t: counts.append((d, t)))
    assert len(first) == 12 and first.computed == 13 and counts[-1] == (13, 13)
    assert [(p.name, bool(why)) for p, why in first.skipped] == [("broken.jpg", True)]
    second = library_features(catalog, arch="tiny", weights=weights)
    assert second.computed == 1  # only the unreadable photo is tried again
    assert np.array_equal(second.photo_ids, first.photo_ids) and np.allclose(second.vectors, first.vectors)


def test_without_a_model_or_weights_the_error_says_what_to_do(library):
    catalog, _, _ = library
    with pytest.raises(WeightsUnavailable, match="--weights"):
        library_features(catalog, arch="resnet18")


def test_grouping_a_library_stores_it_and_a_group_is_labelled_as_one_undo_step(library):
    catalog, _, weights = library
    steps = []
    result = group_library(catalog, arch="tiny", weights=weights, on_step=steps.append)
    assert steps == [GroupingStep.FEATURES, GroupingStep.GROUPING]
    assert result.grouping.groups, result.describe()
    record = catalog.grouping_record()
    assert (record.body_id, record.photo_count, record.group_count) == (
        result.features.body_id, 12, len(result.grouping.groups))
    assert catalog.photo_groups() == result.grouping.group_of
    assert [catalog.group_photo_ids(n) for n in range(1, record.group_count + 1)] == result.grouping.groups
    catalog.ensure_classes(["lake"])
    before = {row.id: row.label for row in catalog.query()}
    action = catalog.label_group(1, "lake")
    labelled = {row.id for row in catalog.query() if row.label == "lake"}
    assert action is not None and labelled == set(result.grouping.groups[0])
    catalog.undo()
    assert {row.id: row.label for row in catalog.query()} == before
    with pytest.raises(CatalogError, match=f"no group 99: the latest grouping has groups 1 to {record.group_count}"):
        catalog.label_group(99, "lake")


def test_a_new_grouping_replaces_the_stored_one(library):
    catalog, _, _ = library
    ids = [row.id for row in catalog.query()]
    catalog.store_grouping([ids[:3], ids[3:5]], "body-a", 0.2, 2, 12)
    catalog.store_grouping([ids[5:7]], "body-b", 0.3, 2, 7)
    assert catalog.photo_groups() == {ids[5]: 1, ids[6]: 1}
    assert catalog.grouping_record().body_id == "body-b" and catalog.group_photo_ids(2) == []


@pytest.mark.realdata
@requires_shared
def test_a_real_photo_and_its_altered_copy_land_in_one_group(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    sources = sorted((HYMENOPTERA / "train" / "ants").glob("*.jpg"))[:4] + sorted(
        (HYMENOPTERA / "train" / "bees").glob("*.jpg"))[:4]
    for source in sources:
        (folder / source.name).write_bytes(source.read_bytes())
    with Image.open(sources[0]) as image:
        image = image.convert("RGB")
        width, height = image.size
        shifted = image.crop((width // 20, height // 20, width, height)).resize((width, height))
        ImageEnhance.Color(shifted).enhance(1.2).save(folder / "copy.jpg", quality=70)
    with Catalog(tmp_path / "lib" / "catalog.sqlite") as catalog:
        catalog.add_folder(folder)
        result = group_library(catalog, arch="mobilenet_v2", weights=MOBILENET_WEIGHTS)
        group_of = result.grouping.group_of
        original, copy = catalog.photo_id(folder / sources[0].name), catalog.photo_id(folder / "copy.jpg")
    assert group_of.get(original) is not None and group_of.get(original) == group_of.get(copy), result.describe()
