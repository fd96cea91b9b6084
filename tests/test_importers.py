"""The fast.ai lesson-1 import forms: folders, CSV, file-name regex, label function, plain lists."""

from __future__ import annotations

import io
import os
import re
import struct
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from photo_tools import make_class_folders, make_photo
from lakeview.core.datasets.dataset import DatasetError, LabelledPhotos, Photo, SkippedFile
from lakeview.core.photos.files import iter_image_files
from lakeview.core.datasets.csv_importer import from_csv
from lakeview.core.datasets.importers import from_folder, from_lists, from_name_func, from_name_re
from lakeview.core.datasets.labelled_pairs import split_by_pct
from lakeview.core.jobs import Stopped

SMALL = (16, 12)


def photos(folder: Path, names) -> list[Path]:
    return [make_photo(folder / name, size=SMALL, seed=i) for i, name in enumerate(names)]


def class_folders(root: Path, per_class: dict[str, int]) -> Path:
    for label, count in per_class.items():
        photos(root / label, [f"{label}_{i}.jpg" for i in range(count)])
    return root


def counts(data: LabelledPhotos) -> dict[str, dict[str, int]]:
    """Counts without the empty entries, for compact comparisons."""
    return {split: {k: v for k, v in per.items() if v} for split, per in data.counts().items()}


def names(photo_list: list[Photo]) -> set[str]:
    return {p.path.name for p in photo_list}


def reasons(data: LabelledPhotos) -> dict[str, str]:
    """Skipped entries keyed by file name (or CSV row)."""
    return {Path(s.where).name if "line" not in s.where else s.where: s.reason for s in data.skipped}


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims another size (a decompression bomb, made cheaply)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def write_csv(folder: Path, text: str | bytes, name: str = "labels.csv") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


# ---------------------------------------------------------------- 1. train/ valid/ [test/]


def test_train_and_valid_folders(colour_folders):
    data = from_folder(colour_folders)
    assert data.classes == ["blue", "red"]
    assert counts(data) == {"train": {"blue": 12, "red": 12}, "valid": {"blue": 4, "red": 4}, "test": {}}
    assert data.skipped == [] and data.notes == [] and data.root == colour_folders
    assert all(p.path.parent.name == p.label for p in data.train + data.valid)
    assert all(p.path.parts[-3] == "valid" for p in data.valid)
    assert from_folder(str(colour_folders)).counts() == data.counts()


def test_val_is_accepted_for_valid(tmp_path):
    make_class_folders(tmp_path / "train", 3, size=SMALL)
    make_class_folders(tmp_path / "val", 2, size=SMALL)
    data = from_folder(tmp_path)
    assert counts(data) == {"train": {"blue": 3, "red": 3}, "valid": {"blue": 2, "red": 2}, "test": {}}


def test_custom_folder_names(tmp_path):
    make_class_folders(tmp_path / "training", 3, size=SMALL)
    make_class_folders(tmp_path / "checking", 1, size=SMALL)
    make_class_folders(tmp_path / "holdout", 2, size=SMALL)
    data = from_folder(tmp_path, train="training", valid="checking", test="holdout")
    assert [len(data.train), len(data.valid), len(data.test)] == [6, 2, 4]


def test_labelled_and_unlabelled_test_folder(colour_folders):
    make_class_folders(colour_folders / "test", 2, size=SMALL)
    photos(colour_folders / "test", ["loose_a.jpg", "loose_b.png"])
    (colour_folders / "test" / "README.txt").write_text("photos to try")
    data = from_folder(colour_folders)
    assert counts(data)["test"] == {"blue": 2, "red": 2, "(unlabelled)": 2}
    assert {p.path.name: p.label for p in data.test if p.label is None} == {"loose_a.jpg": None, "loose_b.png": None}
    # The loose photos are used, so they are not also reported as skipped; the text file is.
    assert reasons(data) == {"README.txt": "not an image file (extension '.txt')"}
    assert "(unlabelled)" in data.summary()


def test_without_a_valid_folder_train_is_split(tmp_path):
    make_class_folders(tmp_path / "train", 12, size=SMALL)
    data = from_folder(tmp_path, valid_pct=0.25, seed=1)
    assert counts(data) == {"train": {"blue": 9, "red": 9}, "valid": {"blue": 3, "red": 3}, "test": {}}
    assert names(data.train).isdisjoint(names(data.valid))


def test_a_valid_class_missing_from_train_is_noted(tmp_path):
    make_class_folders(tmp_path / "train", 2, size=SMALL)
    make_class_folders(tmp_path / "valid", 1, classes=("red", "green"), size=SMALL)
    data = from_folder(tmp_path)
    assert data.classes == ["blue", "red"]
    assert "validation classes with no training photos: green" in data.notes


# ---------------------------------------------------------------- 2. class folders only, split by valid_pct


def test_class_folders_only_are_split_by_valid_pct(tmp_path):
    class_folders(tmp_path, {"lake": 10, "forest": 10, "city": 5})
    data = from_folder(tmp_path, valid_pct=0.2, seed=7)
    assert data.classes == ["city", "forest", "lake"]
    assert counts(data) == {"train": {"city": 4, "forest": 8, "lake": 8},
                            "valid": {"city": 1, "forest": 2, "lake": 2}, "test": {}}
    everything = {p.path for p in data.train + data.valid}
    assert len(everything) == 25
    assert {p.path for p in data.train}.isdisjoint({p.path for p in data.valid})


def test_the_split_is_reproducible_and_depends_on_the_seed(tmp_path):
    class_folders(tmp_path, {"a": 20, "b": 20})
    first = from_folder(tmp_path, seed=3)
    again = from_folder(tmp_path, seed=3)
    other = from_folder(tmp_path, seed=4)
    assert names(first.valid) == names(again.valid)
    assert names(first.valid) != names(other.valid)
    assert len(other.valid) == len(first.valid) == 8


def test_valid_pct_zero_keeps_everything_for_training(tmp_path):
    class_folders(tmp_path, {"a": 4, "b": 3})
    data = from_folder(tmp_path, valid_pct=0)
    assert (len(data.train), len(data.valid)) == (7, 0)


@pytest.mark.parametrize("bad", [1, 1.5, -0.1, float("nan")])
def test_valid_pct_out_of_range(tmp_path, bad):
    class_folders(tmp_path, {"a": 2, "b": 2})
    with pytest.raises(DatasetError, match="valid_pct"):
        from_folder(tmp_path, valid_pct=bad)


def test_classes_are_sorted(tmp_path):
    class_folders(tmp_path, {"zebra": 2, "Moraine Lake": 2, "apple": 2, "Lake Louise": 2})
    data = from_folder(tmp_path)
    assert data.classes == ["Lake Louise", "Moraine Lake", "apple", "zebra"]


def test_a_single_class_is_noted(tmp_path):
    class_folders(tmp_path, {"only": 3})
    data = from_folder(tmp_path)
    assert data.classes == ["only"]
    assert any("only one class" in note for note in data.notes)


def test_photos_in_nested_folders_belong_to_the_top_class_folder(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2})
    photos(tmp_path / "a" / "2019" / "summer", ["deep.jpg"])
    data = from_folder(tmp_path, valid_pct=0)
    assert {p.path.name: p.label for p in data.train}["deep.jpg"] == "a"
    assert counts(data)["train"] == {"a": 3, "b": 2}


def test_a_folder_named_like_a_photo_is_a_folder(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2})
    photos(tmp_path / "a" / "IMG_0001.jpg", ["inside.jpg"])
    data = from_folder(tmp_path, valid_pct=0)
    assert counts(data)["train"] == {"a": 3, "b": 2}
    assert "inside.jpg" in names(data.train) and "IMG_0001.jpg" not in names(data.train)
    assert data.skipped == []


def test_reserved_folder_names_are_not_classes_in_the_class_only_form(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2, "val": 2})
    assert from_folder(tmp_path).classes == ["a", "b"]


# ---------------------------------------------------------------- skipped files, bad input


def test_non_image_loose_and_hidden_files(tmp_path):
    class_folders(tmp_path, {"a": 3, "b": 3})
    (tmp_path / "a" / "notes.txt").write_text("shot on a tripod")
    (tmp_path / "a" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "a" / "._a_0.jpg").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    (tmp_path / ".hidden_class").mkdir()
    photos(tmp_path / ".hidden_class", ["h.jpg"])
    photos(tmp_path, ["stray.jpg"])
    (tmp_path / "b" / "IMG_0002.CR2").write_bytes(b"II*\x00raw")
    data = from_folder(tmp_path, valid_pct=0)
    assert data.classes == ["a", "b"]
    assert counts(data)["train"] == {"a": 3, "b": 3}
    assert reasons(data) == {
        "stray.jpg": "not inside a class folder",
        "notes.txt": "not an image file (extension '.txt')",
        "IMG_0002.CR2": "not an image file (extension '.CR2')",
    }
    assert "3 file(s) skipped" in data.summary()


def test_a_corrupt_file_among_good_ones_is_skipped_with_its_reason(colour_folders):
    (colour_folders / "train" / "red" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (colour_folders / "train" / "red" / "empty.jpg").write_bytes(b"")
    (colour_folders / "valid" / "blue" / "text.png").write_text("hello")
    data = from_folder(colour_folders)
    assert counts(data) == {"train": {"blue": 12, "red": 12}, "valid": {"blue": 4, "red": 4}, "test": {}}
    found = reasons(data)
    assert set(found) == {"broken.jpg", "empty.jpg", "text.png"}
    assert found["empty.jpg"] == "empty file (0 bytes)"
    assert found["broken.jpg"].startswith("not an image") or "corrupt" in found["broken.jpg"]
    assert found["text.png"].startswith("not an image")
    assert all(isinstance(s, SkippedFile) and str(s) == f"{s.where}: {s.reason}" for s in data.skipped)


def test_a_decompression_bomb_is_skipped_at_import(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "a" / "bomb.png").write_bytes(png_claiming(60000, 60000))
    data = from_folder(tmp_path, valid_pct=0)
    assert "bomb.png" not in names(data.train)
    assert reasons(data)["bomb.png"].startswith("image too large: 60000x60000 px")


def test_check_images_false_only_checks_the_file_exists(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "a" / "broken.jpg").write_bytes(b"junk")
    data = from_folder(tmp_path, valid_pct=0, check_images=False)
    assert "broken.jpg" in names(data.train) and data.skipped == []


def test_a_png_named_jpg_is_imported(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2})
    make_photo(tmp_path / "a" / "misnamed.jpg", size=SMALL, fmt="PNG")
    assert "misnamed.jpg" in names(from_folder(tmp_path, valid_pct=0).train)


def test_a_link_back_up_the_tree_does_not_repeat_photos(tmp_path):
    class_folders(tmp_path, {"a": 2, "b": 2})
    symlink_or_skip("..", tmp_path / "a" / "loop")
    data = from_folder(tmp_path, valid_pct=0)
    assert counts(data)["train"] == {"a": 2, "b": 2}
    assert len({p.path.resolve() for p in data.train}) == 4
    assert [(Path(s.where).name, s.reason) for s in data.skipped] == [
        ("loop", f"a link to a folder already included (as {tmp_path / 'a'})")]


def symlink_or_skip(target: str, link: Path) -> None:
    try:
        os.symlink(target, link, target_is_directory=True)
    except (OSError, NotImplementedError) as exc:
        pytest.skip(f"cannot make symbolic links here: {exc}")


def test_iter_image_files_order_hidden_and_recursion(tmp_path):
    photos(tmp_path, ["b.jpg", "a.PNG", ".hidden.jpg", "sub/c.jpg", ".cache/d.jpg", "sub/deeper/e.webp"])
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "folder.jpg").mkdir()
    flat = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path)]
    deep = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path, recursive=True)]
    assert flat == ["a.PNG", "b.jpg"]
    assert deep == ["a.PNG", "b.jpg", "sub/c.jpg", "sub/deeper/e.webp"]


def test_iter_image_files_survives_links_between_folders(tmp_path):
    photos(tmp_path, ["a/1.jpg", "b/2.jpg"])
    symlink_or_skip("../b", tmp_path / "a" / "to_b")
    symlink_or_skip("../a", tmp_path / "b" / "to_a")
    errors: list = []
    found = list(iter_image_files(tmp_path, recursive=True, errors=errors))
    assert sorted(p.name for p in found) == ["1.jpg", "2.jpg"]
    assert len(errors) == 2 and all("a link to a folder already included" in reason for _, reason in errors)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="runs as root (or on Windows), where chmod 000 does not stop reading")
def test_unreadable_files_and_folders_are_skipped(tmp_path):
    class_folders(tmp_path, {"a": 3, "b": 2})
    locked_file, locked_dir = tmp_path / "a" / "a_0.jpg", tmp_path / "b" / "private"
    photos(locked_dir, ["p.jpg"])
    locked_file.chmod(0)
    locked_dir.chmod(0)
    try:
        data = from_folder(tmp_path, valid_pct=0)
    finally:
        locked_file.chmod(0o644)
        locked_dir.chmod(0o755)
    assert counts(data)["train"] == {"a": 2, "b": 2}
    found = reasons(data)
    assert found["a_0.jpg"] == "permission denied"
    assert found["private"].startswith("cannot read folder")


def test_unreadable_files_and_folders_are_skipped_when_emulated(tmp_path, monkeypatch):
    # The same case as above for root, who reads through chmod 000: the OS answers as it would for a user.
    class_folders(tmp_path, {"a": 3, "b": 2})
    locked_file, locked_dir = tmp_path / "a" / "a_0.jpg", tmp_path / "b" / "private"
    photos(locked_dir, ["p.jpg"])
    real_access, real_scandir = os.access, os.scandir

    def access(path, mode, *args, **kwargs):
        return False if Path(path) == locked_file else real_access(path, mode, *args, **kwargs)

    def scandir(path="."):
        if Path(path) == locked_dir:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "scandir", scandir)
    data = from_folder(tmp_path, valid_pct=0)
    assert counts(data)["train"] == {"a": 2, "b": 2}
    assert reasons(data) == {"a_0.jpg": "permission denied", "private": "cannot read folder: Permission denied"}


@pytest.mark.parametrize("layout", ["empty", "only_text", "empty_class_folders", "train_without_classes"])
def test_nothing_usable_is_a_dataset_error(tmp_path, layout):
    if layout == "only_text":
        (tmp_path / "a").mkdir()
        (tmp_path / "a" / "notes.txt").write_text("x")
    elif layout == "empty_class_folders":
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
    elif layout == "train_without_classes":
        photos(tmp_path / "train", ["p.jpg"])
    with pytest.raises(DatasetError, match="no labelled training photos"):
        from_folder(tmp_path)


def test_the_error_names_a_few_skipped_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bad.jpg").write_bytes(b"junk")
    with pytest.raises(DatasetError, match=r"1 skipped, e\.g\. .*bad\.jpg: not an image"):
        from_folder(tmp_path)


def test_missing_folder_or_a_file_instead_of_a_folder(tmp_path):
    with pytest.raises(DatasetError, match="folder not found"):
        from_folder(tmp_path / "nowhere")
    make_photo(tmp_path / "p.jpg", size=SMALL)
    with pytest.raises(DatasetError, match="not a folder"):
        from_folder(tmp_path / "p.jpg")


def test_progress_is_reported_and_stop_is_honoured(tmp_path):
    class_folders(tmp_path, {"a": 20, "b": 20})
    seen = []
    from_folder(tmp_path, progress=lambda done, total: seen.append((done, total)), split_by_similarity=False)
    assert seen == [(32, 40), (40, 40)]  # the photos checked (with no hash pass)
    calls = []

    def stop_after_five() -> bool:
        calls.append(1)
        return len(calls) > 5

    with pytest.raises(Stopped):
        from_folder(tmp_path, should_stop=stop_after_five)


# ---------------------------------------------------------------- counts and summary


def test_counts_and_summary(colour_folders):
    make_photo(colour_folders / "test" / "mystery.jpg", size=SMALL)
    (colour_folders / "train" / "red" / "broken.jpg").write_bytes(b"junk")
    data = from_folder(colour_folders)
    assert data.counts() == {
        "train": {"blue": 12, "red": 12},
        "valid": {"blue": 4, "red": 4},
        "test": {"blue": 0, "red": 0, "(unlabelled)": 1},
    }
    lines = data.summary().splitlines()
    assert lines[0].split() == ["class", "train", "valid", "test"]
    assert lines[2].split() == ["blue", "12", "4", "0"]
    assert lines[3].split() == ["red", "12", "4", "0"]
    assert lines[4].split() == ["(unlabelled)", "0", "0", "1"]
    assert lines[5].split() == ["total", "24", "8", "1"]
    assert lines[6] == "1 file(s) skipped (see the list)"


def test_split_by_name(colour_folders):
    data = from_folder(colour_folders)
    assert data.split("valid") is data.valid
    with pytest.raises(ValueError, match="unknown split 'holdout'"):
        data.split("holdout")


# ---------------------------------------------------------------- split_by_pct


def pairs_for(per_class: dict[str, int]) -> list[tuple[Path, str]]:
    return [(Path(f"/photos/{label}/{i:03d}.jpg"), label) for label, n in per_class.items() for i in range(n)]


def test_split_by_pct_is_stratified():
    train, valid = split_by_pct(pairs_for({"a": 50, "b": 10, "c": 2, "d": 1}), 0.2, seed=0)
    assert Counter(label for _, label in valid) == {"a": 10, "b": 2, "c": 1}
    assert Counter(label for _, label in train) == {"a": 40, "b": 8, "c": 1, "d": 1}


def test_split_by_pct_does_not_depend_on_input_order():
    pairs = pairs_for({"a": 30, "b": 30})
    forward = split_by_pct(pairs, 0.3, seed=11)
    backward = split_by_pct(list(reversed(pairs)), 0.3, seed=11)
    assert sorted(forward[1]) == sorted(backward[1])
    assert sorted(split_by_pct(pairs, 0.3, seed=12)[1]) != sorted(forward[1])


def test_split_by_pct_keeps_every_pair_exactly_once():
    pairs = pairs_for({"a": 17, "b": 9})
    train, valid = split_by_pct(pairs, 0.35, seed=None)
    assert sorted(train + valid) == sorted(pairs)


# ---------------------------------------------------------------- 3. CSV


@pytest.fixture
def csv_folder(tmp_path) -> Path:
    """`images/` holding lake_0..5.jpg and city_0..3.jpg."""
    photos(tmp_path / "images", [f"lake_{i}.jpg" for i in range(6)] + [f"city_{i}.jpg" for i in range(4)])
    return tmp_path


def csv_lines(n_lake: int = 6, n_city: int = 4, suffix: str = ".jpg", prefix: str = "images/") -> str:
    rows = [f"{prefix}lake_{i}{suffix},lake" for i in range(n_lake)] + [f"{prefix}city_{i}{suffix},city"
                                                                          for i in range(n_city)]
    return "\n".join(rows) + "\n"


def test_csv_without_header(csv_folder):
    write_csv(csv_folder, csv_lines())
    data = from_csv(csv_folder, valid_pct=0.25, seed=2)
    assert data.classes == ["city", "lake"]
    assert counts(data) == {"train": {"city": 3, "lake": 4}, "valid": {"city": 1, "lake": 2}, "test": {}}
    assert data.skipped == [] and data.notes == []
    assert data.root == csv_folder


@pytest.mark.parametrize("header", ["name,label", "filename,class", "fname,labels", "Image , Category", "path,tag"])
def test_csv_with_a_header(csv_folder, header):
    write_csv(csv_folder, header + "\n" + csv_lines())
    data = from_csv(csv_folder, valid_pct=0)
    assert counts(data)["train"] == {"city": 4, "lake": 6}
    assert data.skipped == []


def test_csv_header_with_columns_in_another_order(csv_folder):
    write_csv(csv_folder, "label,name\nlake,images/lake_0.jpg\ncity,images/city_0.jpg\n")
    data = from_csv(csv_folder, valid_pct=0)
    assert {p.path.name: p.label for p in data.train} == {"lake_0.jpg": "lake", "city_0.jpg": "city"}


def test_csv_with_a_byte_order_mark_and_windows_line_ends(csv_folder):
    text = ("name,label\r\n" + csv_lines().replace("\n", "\r\n")).encode("utf-8-sig")
    write_csv(csv_folder, text)
    data = from_csv(csv_folder, valid_pct=0)
    assert counts(data)["train"] == {"city": 4, "lake": 6}


def test_csv_header_flag_overrides_the_guess(csv_folder):
    write_csv(csv_folder, "picture,kind\n" + csv_lines())
    assert len(from_csv(csv_folder, header=True, valid_pct=0).train) == 10
    guessed = from_csv(csv_folder, valid_pct=0)  # 'picture,kind' is not a known header: read as a row
    assert len(guessed.train) == 10 and reasons(guessed) == {"picture": "file not found"}


def test_csv_with_folder_and_suffix(csv_folder):
    write_csv(csv_folder, "name,label\n" + csv_lines(suffix="", prefix=""), name="meta/labels.csv")
    data = from_csv(csv_folder, "meta/labels.csv", folder="images", suffix=".jpg", valid_pct=0)
    assert counts(data)["train"] == {"city": 4, "lake": 6}
    assert all(p.path.parent == csv_folder / "images" for p in data.train)


def test_csv_file_given_by_absolute_path_elsewhere(csv_folder, tmp_path_factory):
    elsewhere = write_csv(tmp_path_factory.mktemp("other"), csv_lines())
    assert len(from_csv(csv_folder, elsewhere, valid_pct=0).train) == 10
    assert len(from_csv(csv_folder, elsewhere, valid_pct=0).train) == 10


def test_csv_is_valid_column(csv_folder):
    rows = ["name,label,is_valid"]
    rows += [f"images/lake_{i}.jpg,lake,{v}" for i, v in enumerate(["1", "0", "true", "False", "yes", "no"])]
    rows += [f"images/city_{i}.jpg,city,{v}" for i, v in enumerate(["TRUE", " f ", "", "valid"])]
    write_csv(csv_folder, "\n".join(rows) + "\n")
    data = from_csv(csv_folder)
    assert names(data.valid) == {"lake_0.jpg", "lake_2.jpg", "lake_4.jpg", "city_0.jpg", "city_3.jpg"}
    assert counts(data) == {"train": {"city": 2, "lake": 3}, "valid": {"city": 2, "lake": 3}, "test": {}}


def test_csv_bad_is_valid_values_skip_their_rows(csv_folder):
    write_csv(csv_folder, "name,label,is_valid\nimages/lake_0.jpg,lake,maybe\nimages/lake_1.jpg,lake,2\n"
                          "images/city_0.jpg,city,0\nimages/lake_2.jpg,lake,1\nimages/lake_3.jpg,lake\n")
    data = from_csv(csv_folder)
    assert reasons(data) == {"labels.csv line 2": "is_valid value 'maybe' is not true/false",
                             "labels.csv line 3": "is_valid value '2' is not true/false"}
    assert names(data.train) == {"city_0.jpg", "lake_3.jpg"} and names(data.valid) == {"lake_2.jpg"}


def test_csv_malformed_rows_are_skipped_one_by_one(csv_folder):
    write_csv(csv_folder, "\n".join([
        "name,label",
        "images/lake_0.jpg,lake",
        "images/lake_1.jpg",                 # too few columns
        "images/lake_2.jpg,  ",              # empty label
        " ,city",                            # empty name
        "",                                  # blank line: ignored
        "images/lake_0.jpg,lake",            # duplicate
        "./images/lake_0.jpg,city",          # the same file again, another spelling
        "images/missing.jpg,lake",           # no such file
        "images/city_0.jpg,city,extra,cols",  # extra columns are fine
        "images/city_1.jpg,city",
    ]) + "\n")
    data = from_csv(csv_folder, valid_pct=0)
    assert names(data.train) == {"lake_0.jpg", "city_0.jpg", "city_1.jpg"}
    assert reasons(data) == {
        "labels.csv line 3": "expected at least 2 columns (name,label), found 1",
        "labels.csv line 4": "'images/lake_2.jpg' has an empty label",
        "labels.csv line 5": "empty file name",
        "labels.csv line 7": "'images/lake_0.jpg' is listed twice; the first row is kept",
        "labels.csv line 8": "'./images/lake_0.jpg' is listed twice; the first row is kept",
        "missing.jpg": "file not found",
    }


@pytest.mark.parametrize("name", ["../../etc/passwd", "../outside.jpg", "images/../../outside.jpg", "ABSOLUTE"])
def test_csv_rows_outside_the_dataset_folder_are_refused(csv_folder, name):
    outside = make_photo(csv_folder.parent / "outside.jpg", size=SMALL)
    name = str(outside) if name == "ABSOLUTE" else name
    write_csv(csv_folder, f"{name},lake\n" + csv_lines())
    data = from_csv(csv_folder, valid_pct=0)
    assert len(data.train) == 10 and outside not in {p.path.resolve() for p in data.train}
    [skipped] = data.skipped
    assert skipped.where == "labels.csv line 1"
    assert "points outside the dataset folder" in skipped.reason and "refused" in skipped.reason


def test_csv_absolute_path_inside_the_dataset_folder_is_fine(csv_folder):
    write_csv(csv_folder, f"{csv_folder / 'images' / 'lake_0.jpg'},lake\nimages/city_0.jpg,city\n")
    assert counts(from_csv(csv_folder, valid_pct=0))["train"] == {"city": 1, "lake": 1}


def test_csv_with_a_nul_byte_skips_that_row(csv_folder):
    write_csv(csv_folder, csv_lines().encode() + b"images/lake_\x000.jpg,lake\n")
    data = from_csv(csv_folder, valid_pct=0)
    assert len(data.train) == 10
    [skipped] = data.skipped
    assert skipped.where == "labels.csv line 11" and "not a usable file name" in skipped.reason


def test_csv_that_is_not_utf8(csv_folder):
    write_csv(csv_folder, "name,label\nimages/lake_0.jpg,Lac Léman\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"not UTF-8 text \(byte \d+\); save it as UTF-8 CSV"):
        from_csv(csv_folder)


def test_csv_utf8_labels(csv_folder):
    write_csv(csv_folder, "images/lake_0.jpg,Lac Léman\nimages/city_0.jpg,Zürich\n")
    assert from_csv(csv_folder, valid_pct=0).classes == ["Lac Léman", "Zürich"]


@pytest.mark.parametrize("content, message", [
    ("", "holds no rows"),
    ("\n\n", "no labelled training photos"),
    ("name,label\n", "no labelled training photos"),
    ("label\nimages/lake_0.jpg\n", "cannot tell the file column from the label column"),
    ('"unterminated,lake\n' + "x" * 140_000 + "\n", "not a readable CSV"),
])
def test_csv_that_cannot_make_a_dataset(csv_folder, content, message):
    write_csv(csv_folder, content)
    with pytest.raises(DatasetError, match=message):
        from_csv(csv_folder)


def test_csv_missing_and_dataset_folder_missing(csv_folder):
    with pytest.raises(DatasetError, match="CSV file not found"):
        from_csv(csv_folder, "nope.csv")
    with pytest.raises(DatasetError, match="folder not found"):
        from_csv(csv_folder / "nope")


def test_csv_other_delimiter(csv_folder):
    write_csv(csv_folder, csv_lines().replace(",", ";"))
    assert len(from_csv(csv_folder, delimiter=";", valid_pct=0).train) == 10


@pytest.mark.parametrize("labels, example", [
    (["lake;city", "lake", "city"], "'lake;city'"),
    (["lake|city", "lake", "city"], "'lake|city'"),
    (["cat dog", "cat", "dog"], "'cat dog'"),
])
def test_csv_multi_label_is_refused(csv_folder, labels, example):
    rows = [f"images/lake_{i}.jpg,{label}" for i, label in enumerate(labels)]
    write_csv(csv_folder, "\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match="multi-label") as caught:
        from_csv(csv_folder)
    assert example in str(caught.value) and "one label per photo" in str(caught.value)


def test_labels_with_spaces_are_single_labels(csv_folder):
    write_csv(csv_folder, "images/lake_0.jpg,Lake Louise\nimages/lake_1.jpg,Moraine Lake\n"
                          "images/lake_2.jpg,Lake Louise\nimages/city_0.jpg,Banff\n")
    data = from_csv(csv_folder, valid_pct=0)
    assert data.classes == ["Banff", "Lake Louise", "Moraine Lake"]
    assert counts(data)["train"] == {"Banff": 1, "Lake Louise": 2, "Moraine Lake": 1}


@pytest.mark.parametrize("labels", [["0.5", "1.25", "3"], ["1e3", "2", "7"], ["-0.1", "2.0"]])
def test_float_labels_are_refused_as_regression(csv_folder, labels):
    rows = [f"images/lake_{i}.jpg,{label}" for i, label in enumerate(labels)]
    write_csv(csv_folder, "\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match="regression"):
        from_csv(csv_folder)


def test_integer_labels_are_class_names_with_a_note(csv_folder):
    write_csv(csv_folder, "\n".join(f"images/lake_{i}.jpg,{i % 3}" for i in range(6)) + "\n")
    data = from_csv(csv_folder, valid_pct=0)
    assert data.classes == ["0", "1", "2"]
    assert any("whole numbers" in note for note in data.notes)


def test_many_distinct_integers_look_like_a_regression_target(tmp_path):
    paths = photos(tmp_path, [f"p{i}.jpg" for i in range(30)])
    with pytest.raises(DatasetError, match="regression"):
        from_lists(paths, [str(100 + i) for i in range(30)])


def test_a_corrupt_photo_in_a_csv_is_skipped(csv_folder):
    (csv_folder / "images" / "lake_5.jpg").write_bytes(b"junk")
    write_csv(csv_folder, csv_lines())
    data = from_csv(csv_folder, valid_pct=0)
    assert counts(data)["train"] == {"city": 4, "lake": 5}
    assert reasons(data)["lake_5.jpg"].startswith("not an image")


# ---------------------------------------------------------------- 4. file-name regex, label function


@pytest.fixture
def pets(tmp_path) -> Path:
    """One flat folder, the label in each name, as in the Oxford pets lesson."""
    folder = tmp_path / "pets"
    photos(folder, [f"Abyssinian_{i}.jpg" for i in range(5)] + [f"great_pyrenees_{i}.jpg" for i in range(5)])
    return folder


PETS_RE = r"/([^/]+)_\d+\.jpg$"


def test_name_re_on_a_folder(pets):
    data = from_name_re(pets, PETS_RE, valid_pct=0.2, seed=0)
    assert data.classes == ["Abyssinian", "great_pyrenees"]
    assert counts(data) == {"train": {"Abyssinian": 4, "great_pyrenees": 4},
                            "valid": {"Abyssinian": 1, "great_pyrenees": 1}, "test": {}}
    assert data.root == pets and data.skipped == []
    assert from_name_re(pets, re.compile(PETS_RE)).counts() == data.counts()


def test_name_re_skips_names_that_do_not_match_and_non_images(pets):
    photos(pets, ["README.jpg", "sub/Abyssinian_99.jpg"])
    (pets / "annotations.mat").write_bytes(b"MATLAB")
    data = from_name_re(pets, PETS_RE, valid_pct=0)
    assert counts(data)["train"] == {"Abyssinian": 6, "great_pyrenees": 5}
    found = reasons(data)
    assert set(found) == {"README.jpg", "annotations.mat"}
    assert found["README.jpg"].startswith("no label: does not match the pattern")
    assert found["annotations.mat"] == "not an image file (extension '.mat')"


def test_name_re_on_a_list_of_paths(pets):
    paths = sorted(pets.iterdir())[:7]
    data = from_name_re([str(p) for p in paths], PETS_RE, valid_pct=0)
    assert counts(data)["train"] == {"Abyssinian": 5, "great_pyrenees": 2}
    assert data.root is None


def test_name_re_needs_a_group(pets):
    with pytest.raises(DatasetError, match="needs a group"):
        from_name_re(pets, r"\.jpg$")


def test_name_re_empty_group_is_no_label(pets):
    photos(pets, ["_1.jpg"])
    data = from_name_re(pets, r"/([^/]*)_\d+\.jpg$", valid_pct=0)
    assert reasons(data)["_1.jpg"].startswith("no label")


def test_name_func(colour_folders):
    data = from_name_func(colour_folders / "train", lambda p: p.parent.name, valid_pct=0.25, seed=0)
    assert counts(data) == {"train": {"blue": 9, "red": 9}, "valid": {"blue": 3, "red": 3}, "test": {}}


def test_name_func_failures_are_skipped_per_file(tmp_path):
    photos(tmp_path, ["a_1.jpg", "b_1.jpg", "boom.jpg", "none.jpg", "blank.jpg", "a_2.jpg", "b_2.jpg"])

    def label(path: Path):
        stem = path.stem
        if stem == "boom":
            raise KeyError("no entry for boom")
        return {"none": None, "blank": "  "}.get(stem, stem.split("_")[0])

    data = from_name_func(tmp_path, label, valid_pct=0)
    assert counts(data)["train"] == {"a": 2, "b": 2}
    assert reasons(data) == {
        "boom.jpg": "no label: 'no entry for boom'",
        "none.jpg": "no label: the function returned nothing",
        "blank.jpg": "no label: the function returned nothing",
    }


def test_name_func_on_a_list_with_a_repeated_file(tmp_path):
    paths = photos(tmp_path, ["a_1.jpg", "a_2.jpg", "b_1.jpg", "b_2.jpg"])
    data = from_name_func(paths + [paths[0]], lambda p: p.stem[0], valid_pct=0.5, seed=0)
    assert len(data.train) + len(data.valid) == 4
    assert [s.reason for s in data.skipped] == ["listed twice; the first entry is kept"]


def test_name_func_multi_label_is_refused(tmp_path):
    paths = photos(tmp_path, ["1.jpg", "2.jpg", "3.jpg"])
    labels = {"1": "cat", "2": "dog", "3": "cat dog"}
    with pytest.raises(DatasetError, match="multi-label"):
        from_name_func(paths, lambda p: labels[p.stem])


def test_name_func_on_a_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="folder not found"):
        from_name_func(tmp_path / "nope", lambda p: "x")


# ---------------------------------------------------------------- 5. lists


def test_lists(tmp_path):
    paths = photos(tmp_path, [f"{i}.jpg" for i in range(8)])
    labels = ["sea", "sky"] * 4
    data = from_lists(paths, labels, valid_pct=0.25, seed=5)
    assert counts(data) == {"train": {"sea": 3, "sky": 3}, "valid": {"sea": 1, "sky": 1}, "test": {}}
    assert {p.path: p.label for p in data.train + data.valid} == dict(zip(paths, labels))
    again = from_lists([str(p) for p in paths], labels, valid_pct=0.25, seed=5)
    assert again.valid == data.valid


def test_lists_relative_to_a_root(tmp_path):
    photos(tmp_path / "imgs", ["a.jpg", "b.jpg"])
    data = from_lists(["imgs/a.jpg", tmp_path / "imgs" / "b.jpg"], ["x", "y"], root=tmp_path, valid_pct=0)
    assert {p.path for p in data.train} == {tmp_path / "imgs" / "a.jpg", tmp_path / "imgs" / "b.jpg"}
    assert data.root == tmp_path


def test_lists_of_different_lengths(tmp_path):
    with pytest.raises(DatasetError, match="3 paths but 2 labels"):
        from_lists(["a", "b", "c"], ["x", "y"])


def test_lists_skip_bad_entries_and_keep_the_rest(tmp_path):
    good = photos(tmp_path, ["a1.jpg", "a2.jpg", "b1.jpg", "b2.jpg", "c.jpg", "d.jpg"])
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    folder = tmp_path / "IMG_9.jpg"
    folder.mkdir()
    paths = good + [good[0], notes, folder, tmp_path / "gone.jpg", tmp_path / "nul\x00.jpg"]
    labels = ["a", "a", "b", "b", "", None, "a", "a", "a", "a", "a"]
    data = from_lists(paths, labels, valid_pct=0)
    assert counts(data)["train"] == {"a": 2, "b": 2}
    found = {Path(s.where).name: s.reason for s in data.skipped}
    assert len(data.skipped) == len(found) == 7
    assert found == {
        "c.jpg": "empty label",
        "d.jpg": "empty label",
        "a1.jpg": "listed twice; the first entry is kept",
        "notes.txt": "not an image, or a format LakeView cannot read (named '.txt')",
        "IMG_9.jpg": "not a regular file",
        "gone.jpg": "file not found",
        "nul\x00.jpg": "not a usable file name (embedded null byte)",
    }


def test_lists_labels_are_text_and_trimmed(tmp_path):
    paths = photos(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    data = from_lists(paths, [" Lake Louise ", 7, "Lake Louise"], valid_pct=0)
    assert data.classes == ["7", "Lake Louise"]
    assert counts(data)["train"] == {"7": 1, "Lake Louise": 2}


def test_lists_that_are_empty(tmp_path):
    with pytest.raises(DatasetError, match="no labelled training photos"):
        from_lists([], [])



@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_from_a_spreadsheet_with_another_separator(csv_folder, delimiter):
    write_csv(csv_folder, ("name,label\n" + csv_lines()).replace(",", delimiter))
    assert counts(from_csv(csv_folder, valid_pct=0))["train"] == {"city": 4, "lake": 6}


def test_csv_commas_win_when_the_first_line_has_two_columns(csv_folder):
    photos(csv_folder / "images", ["a;b.jpg"])
    write_csv(csv_folder, "name,label\nimages/a;b.jpg,lake\n" + csv_lines())
    data = from_csv(csv_folder, valid_pct=0)
    assert counts(data)["train"] == {"city": 4, "lake": 7} and data.skipped == []


@pytest.mark.parametrize("delimiter, named", [(";", "';'"), ("\t", "a tab")])
def test_csv_with_the_wrong_separator_says_which_one_it_seems_to_use(csv_folder, delimiter, named):
    write_csv(csv_folder, "name,label\n" + csv_lines().replace(",", delimiter))
    with pytest.raises(DatasetError) as caught:
        from_csv(csv_folder, delimiter=",", valid_pct=0)
    assert f"found 1; the file seems to use {named} between columns" in str(caught.value)


def test_csv_names_as_lakeview_writes_them_read_back(csv_folder):
    """Escaped bytes (names that are not UTF-8) and the quote before a formula-like cell: see core/csv_cells."""
    raw = os.fsdecode(b"DSC_\xff\xfe.jpg")
    photos(csv_folder / "images", [raw, "=1+1.jpg", "'=quoted.jpg", " spaced.jpg"])
    write_csv(csv_folder, "name,label\nDSC_\\xff\\xfe.jpg,lake\n'=1+1.jpg,'-city\n'=quoted.jpg,city\n spaced.jpg,lake\n")
    data = from_csv(csv_folder, folder="images", valid_pct=0)
    assert sorted((p.path.name, p.label) for p in data.train) == [
        (" spaced.jpg", "lake"), ("'=quoted.jpg", "city"), ("=1+1.jpg", "-city"), (raw, "lake")]
