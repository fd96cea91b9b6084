"""Near-duplicate groups and the splits that keep them whole: hashing (cache, unreadable photos, capture times),
grouping, the grouped split's stratification and determinism, the importers', the library's and the retrain's
hold-outs, and the command line's report and flag."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from lakeview.cli.main import main
from lakeview.core.catalog import Catalog
from lakeview.core.datasets.grouped_split import place_groups, shared_groups
from lakeview.core.datasets.importers import from_folder
from lakeview.core.datasets.labelled_pairs import split_by_pct
from lakeview.core.datasets.near_duplicates import find_near_duplicates, group_hashes
from lakeview.core.jobs import Stopped
from lakeview.core.photos.perceptual_hash import HashCache, PhotoHash, hash_photos
from lakeview.core.training.library_dataset import in_holdout, library_dataset

from burst_tools import bursts_and_singles, save, scene

TRAIN = ["--arch", "tiny", "--weights", "none", "--size", "32", "--bs", "4", "--epochs", "1",
         "--unfreeze-epochs", "0"]


def side_of(data) -> dict[Path, str]:
    return {p.path: split for split in ("train", "valid") for p in data.split(split)}


# ---------------------------------------------------------------- hashing and grouping


def test_altered_copies_are_grouped_and_unrelated_photos_are_not(tmp_path):
    made = bursts_and_singles(tmp_path, {"a": (5, 20)})
    singles = sorted((tmp_path / "a").glob("s*.jpg"))
    bursts = made["a"]
    found = find_near_duplicates([p for b in bursts for p in b] + singles)
    groups = found.group_of
    burst_groups = [set(groups[4 * b:4 * b + 4]) for b in range(5)]
    assert all(len(g) == 1 for g in burst_groups), "each burst is one group"
    assert len(set().union(*burst_groups)) == 5, "no two bursts merged"
    assert len(set(groups[20:])) == 20 and not set(groups[20:]) & set().union(*burst_groups), "singles stay alone"
    assert shared_groups(groups) == (5, 20)


def test_capture_times_far_apart_keep_lookalikes_apart():
    same = 0xF0F0_1234_5678_9ABC
    close = [PhotoHash(same, 1000.0), PhotoHash(same ^ 0b111, 1003.0)]
    far = [PhotoHash(same, 1000.0), PhotoHash(same ^ 0b111, 1600.0)]
    untimed = [PhotoHash(same, 1000.0), PhotoHash(same ^ 0b111, None)]
    assert len(set(group_hashes(close))) == 1
    assert len(set(group_hashes(far))) == 2
    assert len(set(group_hashes(far, max_seconds=None))) == 1
    assert len(set(group_hashes(untimed))) == 1, "a missing time does not part them"
    assert len(set(group_hashes([PhotoHash(same), PhotoHash(~same & (2**64 - 1))]))) == 2


def test_the_capture_time_is_read_from_exif(tmp_path):
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2024:07:01 10:00:05"}  # the Exif IFD's DateTimeOriginal
    path = save(scene(1), tmp_path / "timed.jpg", exif=exif)
    (hashed,) = hash_photos([path]).hashes
    assert hashed is not None and hashed.taken is not None
    (untimed,) = hash_photos([save(scene(1), tmp_path / "plain.jpg")]).hashes
    assert untimed.taken is None


def test_a_second_pass_decodes_nothing_and_the_hashes_match(tmp_path):
    paths = [save(scene(i), tmp_path / f"{i}.jpg") for i in range(5)]
    with HashCache(tmp_path / "hashes.sqlite") as cache:
        first = hash_photos(paths, cache=cache)
        second = hash_photos(paths, cache=cache)
    assert first.decoded == 5 and second.decoded == 0
    assert first.hashes == second.hashes and all(h is not None for h in first.hashes)
    with HashCache(tmp_path / "signs.sqlite") as cache:
        high = {"fp": PhotoHash(2**64 - 3, 5.0)}
        cache.put_many(high)
        assert cache.get_many(["fp"]) == high


def test_an_unreadable_photo_gets_its_reason_and_the_pass_goes_on(tmp_path):
    good = save(scene(1), tmp_path / "good.jpg")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    missing = tmp_path / "missing.jpg"
    result = hash_photos([broken, good, missing])
    assert result.hashes[0] is None and result.hashes[1] is not None and result.hashes[2] is None
    assert set(result.unreadable) == {str(broken), str(missing)}
    assert all(reason for reason in result.unreadable.values())


def test_hashing_reports_progress_and_stops_when_asked(tmp_path):
    paths = [save(scene(i), tmp_path / f"{i}.jpg") for i in range(20)]
    seen = []
    hash_photos(paths, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 20) and seen[-1] == (20, 20)
    with pytest.raises(Stopped):
        hash_photos([save(scene(i), tmp_path / f"new{i}.jpg") for i in range(20)], should_stop=lambda: True)


# ---------------------------------------------------------------- the grouped split


def grouped_pairs(rng: random.Random, n: int, mixed: bool) -> tuple[list[tuple[Path, str]], list[int]]:
    """n photos in groups of 1 to 5 (mostly 1); a group's photos share a label unless `mixed`."""
    groups, labels, g = [], [], 0
    while len(groups) < n:
        size, label = rng.choice([1, 1, 1, 2, 3, 5]), rng.choice(["ant", "bee", "wasp"])
        groups += [g] * size
        labels += [rng.choice(["ant", "bee", "wasp"]) if mixed else label for _ in range(size)]
        g += 1
    return [(Path(f"/p/{i:03}.jpg"), labels[i]) for i in range(n)], groups[:n]


def sides(train, valid) -> dict[Path, str]:
    return {p: "valid" for p, _ in valid} | {p: "train" for p, _ in train}


@pytest.mark.parametrize("seed", range(8))
def test_a_split_never_separates_a_group_even_of_mixed_labels(seed):
    pairs, groups = grouped_pairs(random.Random(seed), 120, mixed=True)
    side = sides(*split_by_pct(pairs, 0.2, seed, groups))
    assert len(side) == len(pairs)
    for g in set(groups):
        assert len({side[pairs[i][0]] for i in range(len(pairs)) if groups[i] == g}) == 1, f"group {g} split"


@pytest.mark.parametrize("seed", range(8))
def test_each_class_holds_out_its_share_within_one_photo_of_the_ungrouped_split(seed):
    pairs, groups = grouped_pairs(random.Random(seed), 120, mixed=False)
    train, valid = split_by_pct(pairs, 0.2, seed, groups)
    side = sides(train, valid)
    for g in set(groups):
        assert len({side[pairs[i][0]] for i in range(len(pairs)) if groups[i] == g}) == 1, f"group {g} split"
    plain_train, plain_valid = split_by_pct(pairs, 0.2, seed)
    wanted, got = Counter(lab for _, lab in plain_valid), Counter(lab for _, lab in valid)
    for label in ("ant", "bee", "wasp"):
        assert abs(got[label] - wanted[label]) <= 1, (label, got, wanted)


def test_without_groups_the_split_is_the_plain_one():
    pairs = [(Path(f"/p/{i}.jpg"), "ab"[i % 2]) for i in range(30)]
    assert split_by_pct(pairs, 0.2, 7, list(range(30))) == split_by_pct(pairs, 0.2, 7)


def test_a_group_never_takes_a_class_last_training_photos():
    labels = ["a"] * 5 + ["b"] * 10
    groups = [0] * 5 + list(range(1, 11))
    held = place_groups(labels, groups, {"a": list(range(5)), "b": list(range(5, 15))}, 0.5)
    assert held[:5] == [False] * 5
    assert sum(held[5:]) == 5


def test_a_mixed_group_goes_with_its_most_common_label():
    labels = ["a", "a", "b"] + ["a"] * 7 + ["b"] * 9
    groups = [0, 0, 0] + list(range(1, 17))
    orders = {"a": [0, 1] + list(range(3, 10)), "b": [2] + list(range(10, 19))}
    held = place_groups(labels, groups, orders, 0.2)
    assert held[0] == held[1] == held[2] is True, "'a' owns the group and holds it out first"
    assert sum(h for h, lab in zip(held, labels) if lab == "a") == 2
    assert sum(h for h, lab in zip(held, labels) if lab == "b") == 2, "b's share counts the group's b photo"


def test_from_folder_keeps_bursts_together_reports_them_and_is_deterministic(tmp_path):
    made = bursts_and_singles(tmp_path, {"ants": (4, 12), "bees": (3, 14)})
    data = from_folder(tmp_path, valid_pct=0.25, seed=3)
    side = side_of(data)
    for bursts in made.values():
        for burst in bursts:
            assert len({side[p] for p in burst}) == 1
    assert str(data.groups_kept) == "7 near-duplicate groups (28 photos) kept on one side of the split"
    again = from_folder(tmp_path, valid_pct=0.25, seed=3)
    assert (again.train, again.valid) == (data.train, data.valid)
    plain = from_folder(tmp_path, valid_pct=0.25, seed=3, split_by_similarity=False)
    assert plain.groups_kept is None
    for name in ("ants", "bees"):
        assert abs(data.counts()["valid"][name] - plain.counts()["valid"][name]) <= 1


def test_an_unreadable_photo_is_split_alone_and_skipped_with_its_reason(tmp_path):
    bursts_and_singles(tmp_path, {"ants": (2, 6), "bees": (2, 6)})
    (tmp_path / "ants" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    data = from_folder(tmp_path, valid_pct=0.25, seed=1)
    assert data.groups_kept.groups == 4 and data.groups_kept.unhashed == 1
    assert [s.where for s in data.skipped] == [str(tmp_path / "ants" / "broken.jpg")]


# ---------------------------------------------------------------- the library's hold-out


def labelled_library(tmp_path: Path) -> tuple[Path, dict[str, list[list[Path]]]]:
    made = bursts_and_singles(tmp_path / "photos", {"ants": (4, 16), "bees": (4, 16)})
    path = tmp_path / "library" / "catalog.sqlite"
    with Catalog(path) as catalog:
        catalog.add_folder(tmp_path / "photos")
        catalog.ensure_classes(list(made))
        for name in made:
            catalog.set_labels(sorted((tmp_path / "photos" / name).glob("*.jpg")), name)
    return path, made


def test_the_library_hold_out_keeps_bursts_whole_and_singles_on_their_side(tmp_path):
    path, made = labelled_library(tmp_path)
    with Catalog(path) as catalog:
        data, fingerprints = library_dataset(catalog)
        plain, _ = library_dataset(catalog, split_by_similarity=False)
        again, _ = library_dataset(catalog)
    side = side_of(data)
    burst_photos = {p for bursts in made.values() for b in bursts for p in b}
    for bursts in made.values():
        for burst in bursts:
            assert len({side[p] for p in burst}) == 1
    for photo, split in side.items():
        if photo not in burst_photos:
            assert (split == "valid") == in_holdout(fingerprints[str(photo)], 0.2), "a single keeps its side"
    assert str(data.groups_kept) == "8 near-duplicate groups (32 photos) kept on one side of the split"
    assert plain.groups_kept is None and (again.train, again.valid) == (data.train, data.valid)
    for name in ("ants", "bees"):
        share = data.counts()["valid"][name] / 32
        assert abs(share - 0.2) <= 0.2, "the groups fill each class's share around its singles"


# ---------------------------------------------------------------- the command line


def test_lakeview_train_reports_the_groups_and_the_flag_turns_it_off(tmp_path, capsys):
    bursts_and_singles(tmp_path / "data", {"ants": (3, 9), "bees": (3, 9)})
    out = tmp_path / "m.lvmodel"
    assert main(["train", str(tmp_path / "data"), *TRAIN, "--quiet", "--out", str(out)]) == 0
    assert "6 near-duplicate groups (24 photos) kept on one side of the split" in capsys.readouterr().out
    assert main(["train", str(tmp_path / "data"), *TRAIN, "--quiet", "--no-split-by-similarity",
                 "--out", str(out)]) == 0
    assert "near-duplicate" not in capsys.readouterr().out


def test_catalog_retrain_reports_the_groups_of_its_hold_out_and_takes_the_flag(tmp_path, capsys):
    import torch

    from tiny_network import TINY

    path, _ = labelled_library(tmp_path)
    torch.manual_seed(0)
    torch.save(TINY.build().state_dict(), tmp_path / "tiny.pth")
    retrain = ["catalog", "--catalog", str(path), "retrain", "--arch", "tiny", "--weights", str(tmp_path / "tiny.pth")]
    assert main(retrain) == 0
    assert "8 near-duplicate groups (32 photos) kept on one side of the split" in capsys.readouterr().out
    assert main([*retrain, "--no-split-by-similarity"]) == 0
    assert "near-duplicate" not in capsys.readouterr().out
