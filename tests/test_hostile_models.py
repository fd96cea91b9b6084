"""Model and weights files made by someone else: every field checked, bombs refused unread, code never run.

The command-line cases run the real `lakeview` in a child process and measure its peak memory, so that a
`size: 20000` or a zip bomb shows up as gigabytes, not only as a wrong message.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import torch
from hostile_tools import Finished
from memory_tools import PEAK_LIMIT_MB, run_measured

from lakeview.core.models.model_file import ModelFileError, ModelMeta, load_model, read_meta, save_model
from lakeview.core.models.model_schema import MAX_CLASSES
from lakeview.core.models.network import bare_network
from lakeview.core.models.safe_load import UnsafeFile, load_tensors_only
from lakeview.core.models.weights import WeightsUnavailable, load_state_dict_file

BOMB_CLAIMS = 3_500 << 20  # 3.5 GB of zeros in a file of about 3.6 MB


def assert_refused(finished: Finished, *phrases: str) -> str:
    """Exit 2, no traceback, one sentence on stderr that contains every phrase."""
    finished.assert_clean()
    assert finished.code == 2, finished.err
    lines = finished.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lakeview: error: "), finished.err
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert "weights_only" not in lines[0] and "add_safe_globals" not in lines[0]
    return lines[0]


# ------------------------------------------------------------------------------------------- crafted files


@pytest.fixture(scope="module")
def real_model(tmp_path_factory) -> Path:
    """A real model file a child process can load (resnet18, 2 classes, size 64)."""
    path = tmp_path_factory.mktemp("model") / "r18.lvmodel"
    torch.manual_seed(0)
    return save_model(path, bare_network("resnet18", 2), ModelMeta(arch="resnet18", classes=["a", "b"], size=64))


@pytest.fixture(scope="module")
def real_payload(real_model) -> dict:
    return torch.load(real_model, weights_only=True)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    from photo_tools import make_photo

    folder = tmp_path_factory.mktemp("photos")
    for i in range(3):
        make_photo(folder / f"p{i}.jpg", (200, 30, 30), size=(96, 72), seed=i)
    return folder


def craft(path: Path, payload: dict, **changes) -> Path:
    """A copy of `payload` with meta fields changed (a value of DELETE removes the field)."""
    payload = dict(payload)
    payload["meta"] = dict(payload["meta"])
    for key, value in changes.items():
        if value is DELETE:
            payload["meta"].pop(key, None)
        else:
            payload["meta"][key] = value
    torch.save(payload, path)
    return path


DELETE = object()


def small_payload(**changes) -> dict:
    """An in-process model file's payload ('tiny' exists only in this process): meta first, no weights."""
    meta = ModelMeta(arch="tiny", classes=["a", "b"], size=64).to_dict()
    payload = {"format": "lakeview-model", "format_version": 1, "meta": meta, "state_dict": {}}
    for key, value in changes.items():
        if value is DELETE:
            meta.pop(key, None)
        else:
            meta[key] = value
    return payload


def zip_bomb(path: Path, claims: int = BOMB_CLAIMS) -> Path:
    """A genuine torch archive whose one tensor entry is `claims` bytes of zeros deflated to ~1/1000."""
    buffer = io.BytesIO()
    torch.save({"format": "lakeview-model", "format_version": 1, "meta": small_payload()["meta"],
                "state_dict": {"w": torch.zeros(4)}}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    zeros, packer = bytes(1 << 20), zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)  # the same bytes for every MB of zeros
    crc = 0
    for _ in range(claims >> 20):
        crc = zlib.crc32(zeros, crc)
    bomb = chunk * (claims >> 20) + packer.flush(zlib.Z_FINISH)
    out, central = bytearray(), bytearray()
    for name, data in entries:
        raw = name.encode()
        is_bomb = name.endswith("/data/0")
        body, size, method, check = (bomb, claims, 8, crc) if is_bomb else (data, len(data), 0, zlib.crc32(data))
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, check, len(body), size,
                               len(raw), 0, 0, 0, 0, 0, len(out)) + raw
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, check, len(body), size, len(raw),
                           0) + raw + body
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + eocd))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.lvmodel")


class RunsCode:
    """Unpickling this calls os.system, which would create the marker file: the classic pickle exploit."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def code_file(path: Path, marker: Path, writer: str, inside: str = "meta") -> Path:
    payload = small_payload()
    if inside == "meta":
        payload["meta"] = RunsCode(marker)
    else:
        payload = {"state_dict": RunsCode(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    elif writer == "torch legacy":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        with open(path, "wb") as handle:
            pickle.dump(payload, handle, protocol=int(writer[-1]))
    return path


# ------------------------------------------------------------------------------ the schema, in process


def _nested(depth: int) -> list:
    """A list inside a list ... `depth` levels deep: more than Python's stack takes when copied or shown."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _save_deep(payload: object, path: Path) -> None:
    """torch.save recurses once per level, so writing such a file needs a deeper stack than reading it may use."""
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        torch.save(payload, path)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("changes, phrase", [
    ({"size": 20000}, "meta.size is 20000"),
    ({"size": 0}, "meta.size is 0"),
    ({"size": "224"}, "meta.size is '224'"),
    ({"size": 224.0}, "meta.size is 224.0"),
    ({"size": True}, "meta.size is True"),
    ({"hidden": 1e12}, "meta.hidden is 1000000000000.0"),
    ({"hidden": 10**12}, "meta.hidden is 1000000000000"),
    ({"hidden": -1}, "meta.hidden is -1"),
    ({"dropout": "0.2"}, "meta.dropout is '0.2'"),
    ({"dropout": 1.5}, "meta.dropout is 1.5"),
    ({"dropout": math.nan}, "meta.dropout is nan"),
    ({"arch": "resnet9000"}, "meta.arch is 'resnet9000'"),
    ({"arch": DELETE}, "meta.arch is missing"),
    ({"arch": ["resnet18"]}, "meta.arch is ['resnet18']"),
    ({"head": "mlp"}, "meta.head is 'mlp'"),
    ({"head": None}, "meta.head is missing"),
    ({"classes": DELETE}, "meta.classes (the class names) is missing"),
    ({"classes": []}, "meta.classes is []"),
    ({"classes": "ab"}, "meta.classes is 'ab'"),
    ({"classes": [1, 2]}, "meta.classes holds 1"),
    ({"classes": ["a", None]}, "meta.classes holds missing"),
    ({"classes": ["a", ""]}, "meta.classes holds ''"),
    ({"classes": ["a", "a"]}, "names 'a' twice"),
    ({"classes": ["a", "x" * 10_000]}, "a text of 10,000 characters"),
    ({"classes": [f"c{i}" for i in range(MAX_CLASSES + 1)]}, "a list of 10,001 item(s)"),
    ({"mean": [0.5, 0.5]}, "meta.mean is [0.5, 0.5]"),
    ({"mean": [0.5, math.inf, 0.5]}, "meta.mean is [0.5, inf, 0.5]"),
    ({"std": [0.2, 0.0, 0.2]}, "meta.std is [0.2, 0.0, 0.2]"),
    ({"std": ["a", "b", "c"]}, "meta.std is ['a', 'b', 'c']"),
    ({"std": [1e-320, 0.2, 0.2]}, "meta.std is [1e-320, 0.2, 0.2]"),
    ({"mean": [1e300, 0.5, 0.5]}, "meta.mean is [1e+300, 0.5, 0.5]"),
    ({"classes": [_nested(10_000), "b"]}, "nest more than 32 levels deep"),
    ({"mean": _nested(10_000)}, "nest more than 32 levels deep"),
    ({"metrics": {"deep": _nested(10_000)}}, "nest more than 32 levels deep"),
    ({"metrics": {"error_rate": "lots"}}, "meta.metrics.error_rate is 'lots'"),
    ({"metrics": {"error_rate": 7.5}}, "meta.metrics.error_rate is 7.5"),
    ({"metrics": {"weights": torch.zeros(2)}}, "meta.metrics is a Tensor"),
    ({"metrics": {1: 0.5}}, "meta.metrics is 1"),
    ({"history": [{"epoch": {1, 2}}]}, "meta.history is a set"),
    ({"history": [{"deep": _nested(10_000)}]}, "nest more than 32 levels deep"),
    ({"flip": "yes"}, "meta.flip is 'yes'"),
    ({"history": "long"}, "meta.history is 'long'"),
    ({"notes": 5}, "meta.notes is 5"),
])
def test_every_meta_field_is_checked_before_anything_is_built(tmp_path, monkeypatch, changes, phrase):
    path = tmp_path / "crafted.lvmodel"
    _save_deep(small_payload(**changes), path)
    monkeypatch.setattr("lakeview.core.models.model_file.bare_network", _must_not_build)
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = str(caught.value)
    assert phrase in message and str(path) in message
    assert "\n" not in message
    with pytest.raises(ModelFileError):
        read_meta(path)


def _must_not_build(*args, **kwargs):
    raise AssertionError("a network was built from a file that failed its checks")


@pytest.mark.parametrize("payload, phrase", [
    ({"format": "lakeview-model", "format_version": 1, "state_dict": {}}, "it has no meta"),
    ({"format": "lakeview-model", "format_version": 1, "meta": small_payload()["meta"]}, "it has no state_dict"),
    ({"format": "lakeview-model", "format_version": 1, "meta": [], "state_dict": {}}, "its meta is []"),
    ({"format": "lakeview-model", "format_version": 1, "meta": small_payload()["meta"], "state_dict": [1]},
     "its state_dict is [1]"),
    ({"format": "lakeview-model", "format_version": "1", "meta": {}, "state_dict": {}}, "format_version is '1'"),
    ({"format": "lakeview-model", "format_version": 1.0, "meta": {}, "state_dict": {}}, "format_version is 1.0"),
    ({"format": "lakeview-model", "meta": {}, "state_dict": {}}, "format_version is missing"),
    ({"format": "lakeview-model", "format_version": 2, "meta": {}, "state_dict": {}}, "newer LakeView"),
    ({"format": "other", "format_version": 1, "meta": {}, "state_dict": {}}, "not a LakeView model file"),
    ([1, 2, 3], "not a LakeView model file"),
    ({"format": "lakeview-model", "format_version": 1, "meta": small_payload()["meta"],
      "state_dict": {"w": "not a tensor"}}, "state_dict entry 'w' is 'not a tensor'"),
    ({"format": "lakeview-model", "format_version": 1, "meta": small_payload()["meta"],
      "state_dict": {3: torch.zeros(1)}}, "a key 3 that is not a name"),
])
def test_the_parts_of_the_file_are_checked(tmp_path, payload, phrase):
    path = tmp_path / "crafted.lvmodel"
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match=None) as caught:
        load_model(path)
    assert phrase in str(caught.value)


def test_weights_of_another_shape_are_refused_by_name_before_any_is_copied(tmp_path):
    path = save_model(tmp_path / "m.lvmodel", bare_network("tiny", 3), ModelMeta(arch="tiny", classes=["a", "b"]))
    with pytest.raises(ModelFileError, match=r"do not match its own description: 2 of another shape \(e\.g\. head"):
        load_model(path)
    with pytest.raises(ModelFileError, match="do not match its own description"):
        read_meta(path)  # what the app checks when a model file is chosen: the whole file, not only its meta


def _tensor_changes(state: dict, kind: str) -> dict:
    key = next(k for k in state if k.endswith("weight"))
    value = state[key]
    return {**state, key: {"nan": lambda: torch.full_like(value, math.nan),
                           "inf": lambda: torch.full_like(value, -math.inf),
                           "complex": lambda: value.to(torch.complex64),
                           "deep": lambda: _nested(10_000)}[kind]()}


@pytest.mark.parametrize("kind, phrase", [
    ("nan", "hold NaN or infinite values"),
    ("inf", "hold NaN or infinite values"),
    ("complex", "not a tensor of numbers"),
    ("deep", "nest more than 32 levels deep"),
])
def test_weights_that_could_give_no_answer_are_refused(tmp_path, kind, phrase):
    """NaN weights used to load and classify every photo as the first class with confidence 'nan', exit 0."""
    network = bare_network("tiny", 2)
    path = save_model(tmp_path / "m.lvmodel", network, ModelMeta(arch="tiny", classes=["a", "b"]))
    payload = torch.load(path, weights_only=True)
    payload["state_dict"] = _tensor_changes(payload["state_dict"], kind)
    _save_deep(payload, path)
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    assert phrase in str(caught.value) and "\n" not in str(caught.value)
    weights = tmp_path / "w.pth"
    _save_deep(_tensor_changes(bare_network("tiny", 2).state_dict(), kind), weights)
    with pytest.raises(WeightsUnavailable) as caught:
        load_state_dict_file(weights)
    assert (phrase if kind != "deep" else "does not hold a state_dict") in str(caught.value)


def test_a_photo_on_which_the_weights_overflow_is_a_failure_not_a_nan_answer(tmp_path, photos):
    """Finite weights can still overflow to NaN on one photo: that photo is listed, not labelled 'nan'."""
    from lakeview.core.models.inference import NO_ANSWER, Failure, classify_files

    network = bare_network("tiny", 2)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.fill_(3e38)
    path = save_model(tmp_path / "m.lvmodel", network, ModelMeta(arch="tiny", classes=["a", "b"], size=64))
    results = list(classify_files(load_model(path), sorted(photos.iterdir()), device="cpu"))
    assert len(results) == 3 and all(isinstance(r, Failure) and r.reason == NO_ANSWER for r in results)


def test_a_valid_file_still_loads_with_every_field_at_its_limit(tmp_path):
    meta = ModelMeta(arch="tiny", classes=["a", "b"], size=1024, hidden=4096, head="fastai", dropout=0.0,
                     mean=(0.0, 0.0, 0.0), std=(1e-3, 1e-3, 1e-3))
    path = save_model(tmp_path / "m.lvmodel", bare_network("tiny", 2, "fastai", 4096, 0.0), meta)
    assert load_model(path).meta == meta


# ------------------------------------------------------------------------------ bombs and code, in process


def test_a_zip_bomb_is_refused_from_its_directory_alone(bomb, monkeypatch):
    assert bomb.stat().st_size < 4 << 20
    monkeypatch.setattr(torch, "load", _must_not_load)
    with pytest.raises(ModelFileError, match=r"refused to open .*: it would expand from 3\.\d MB to 3,500 MB "
                                             r"\(at most 78 MB is allowed\): it looks like a zip bomb"):
        load_model(bomb)


def _must_not_load(*args, **kwargs):
    raise AssertionError("torch.load was reached")


def test_a_file_larger_than_any_model_is_refused_before_torch_reads_it(tmp_path, monkeypatch, real_model):
    """torch reads every tensor whole into memory; a sparse file can be gigabytes that cost no disk space."""
    from lakeview.core.models.safe_load import MAX_FILE_BYTES

    path = tmp_path / "sparse.lvmodel"
    path.write_bytes(real_model.read_bytes())
    with path.open("r+b") as handle:
        handle.truncate(MAX_FILE_BYTES + (1 << 30))
    monkeypatch.setattr(torch, "load", _must_not_load)
    for load, error in ((load_model, ModelFileError), (load_state_dict_file, WeightsUnavailable)):
        with pytest.raises(error, match=r"refused to open .*: it is 5,120 MB; a model or weights file is at most "
                                        r"4,096 MB"):
            load(path)


def test_an_archive_of_too_many_entries_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "many.lvmodel"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(20_001):
            archive.writestr(f"m/data/{i}", b"")
    monkeypatch.setattr(torch, "load", _must_not_load)
    with pytest.raises(ModelFileError, match="it holds 20,001 entries"):
        load_model(path)


@pytest.mark.parametrize("writer", ["torch.save", "torch legacy", "pickle protocol 2", "pickle protocol 4",
                                    "pickle protocol 5"])
@pytest.mark.parametrize("inside", ["meta", "state_dict"])
def test_a_file_that_would_run_code_says_so_and_runs_nothing(tmp_path, monkeypatch, writer, inside):
    marker = tmp_path / "ran"
    path = code_file(tmp_path / "evil.lvmodel", marker, writer, inside)
    monkeypatch.setattr(torch, "load", _must_not_load)
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = str(caught.value)
    assert f"refused to open {path}: it contains code (it names {os.system.__module__}.system)" in message
    assert "LakeView ran none of it" in message and "weights_only" not in message
    with pytest.raises(WeightsUnavailable, match="it contains code"):
        load_state_dict_file(path)
    assert not marker.exists()


@pytest.mark.parametrize("data", [
    b"\x80\x04\x8d" + struct.pack("<Q", 2**62) + b"abc",  # an 8-byte string length: a MemoryError before
    b"\x80\x02X" + struct.pack("<I", 2**31) + b"abc",
    b"\x80\x02c" + b"x" * 200_000,  # a GLOBAL whose name never ends
])
def test_a_pickle_whose_lengths_lie_is_damaged_not_a_crash(tmp_path, monkeypatch, data):
    path = tmp_path / "liar.lvmodel"
    path.write_bytes(data)
    monkeypatch.setattr(torch, "load", _must_not_load)
    with pytest.raises(ModelFileError, match="is damaged or not a model file \\(not a readable pickle"):
        load_model(path)


def test_the_check_names_what_a_file_asks_for_without_matching_torchs_words(tmp_path, monkeypatch):
    path = code_file(tmp_path / "evil.pth", tmp_path / "ran", "torch.save")
    # Whatever torch's own loader would say, the refusal comes from reading the pickle's opcodes.
    monkeypatch.setattr(torch, "load", _must_not_load)
    with pytest.raises(UnsafeFile) as caught:
        load_tensors_only(path)
    assert caught.value.names == [f"{os.system.__module__}.system"]


def test_a_tar_archive_is_damaged_without_torchs_advice_to_run_it(tmp_path, monkeypatch):
    """torch refuses its old .tar format under weights_only with advice to load it without: never repeated."""
    import tarfile

    monkeypatch.chdir(tmp_path)
    Path("base.lvmodel").write_bytes(b"not a model")  # the member's name opens the archive, and reads as a pickle
    with tarfile.open(tmp_path / "old.lvmodel", "w") as archive:
        archive.add("base.lvmodel")
    for load, error in ((load_model, ModelFileError), (load_state_dict_file, WeightsUnavailable)):
        with pytest.raises(error) as caught:
            load(tmp_path / "old.lvmodel")
        message = str(caught.value)
        assert "old .tar format" in message
        assert "weights_only" not in message and "Re-running" not in message and "\n" not in message


def test_genuine_files_pass_the_checks(tmp_path, real_model):
    legacy = tmp_path / "legacy.pth"
    torch.save({"fc.weight": torch.ones(2, 2)}, legacy, _use_new_zipfile_serialization=False)
    assert torch.equal(load_state_dict_file(legacy)["fc.weight"], torch.ones(2, 2))
    assert read_meta(real_model).classes == ["a", "b"]


@pytest.mark.parametrize("kind, phrase", [
    ("folder", "is a folder, not a model file"),
    ("fifo", "is a named pipe (FIFO), not a model file"),
    ("device", "is a device, not a model file"),
    ("empty", "is empty (0 bytes), not a model file"),
    ("dangling link", "is a link to a missing file"),
    ("missing", "model file not found"),
])
def test_what_is_not_a_model_file_says_what_it_is(tmp_path, kind, phrase):
    path = _not_a_file(tmp_path, kind)
    with pytest.raises(ModelFileError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        load_model(path)
    with pytest.raises(WeightsUnavailable, match=phrase.replace("model file", "weights file")
                       .replace("(", r"\(").replace(")", r"\)")):
        load_state_dict_file(path)


def _not_a_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "model.lvmodel"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        return Path(os.devnull)
    elif kind == "empty":
        path.touch()
    elif kind == "dangling link":
        path.symlink_to(tmp_path / "gone.lvmodel")
    return path


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_model_file_says_permission_denied(tmp_path, real_model):
    path = tmp_path / "locked.lvmodel"
    path.write_bytes(real_model.read_bytes())
    path.chmod(0)
    with pytest.raises(ModelFileError, match="permission denied"):
        load_model(path)


# ----------------------------------------------------------------------- the real command, memory measured


@pytest.mark.slow  # a child process that imports torch
def test_classify_refuses_size_20000_with_a_sentence_and_little_memory(tmp_path, real_payload, photos):
    path = craft(tmp_path / "huge.lvmodel", real_payload, size=20000)
    finished, peak_mb = run_measured("classify", photos, "--model", path)
    assert_refused(finished, str(path), "meta.size is 20000; it must be a whole number from 16 to 1,024")
    assert peak_mb < PEAK_LIMIT_MB


@pytest.mark.slow  # a child process that imports torch
def test_classify_refuses_a_zip_bomb_fast_and_with_little_memory(bomb, photos):
    finished, peak_mb = run_measured("classify", photos, "--model", bomb)
    assert_refused(finished, "it looks like a zip bomb")
    assert peak_mb < PEAK_LIMIT_MB


@pytest.mark.slow  # a child process that imports torch
@pytest.mark.parametrize("changes, phrase", [
    ({"hidden": 1e12}, "meta.hidden is 1000000000000.0"),
    ({"classes": [0, 1]}, "meta.classes holds 0"),
    ({"arch": "resnet9000"}, "meta.arch is 'resnet9000'"),
    ({"head": "mlp"}, "meta.head is 'mlp'"),
])
def test_classify_exits_2_with_the_field_named(tmp_path, real_payload, photos, changes, phrase):
    finished, _ = run_measured("classify", photos, "--model", craft(tmp_path / "m.lvmodel", real_payload, **changes))
    assert_refused(finished, phrase)


@pytest.mark.slow  # a child process that imports torch
def test_evaluate_refuses_a_file_without_state_dict(tmp_path, real_payload, colour_folders):
    path = tmp_path / "m.lvmodel"
    torch.save({k: v for k, v in real_payload.items() if k != "state_dict"}, path)
    finished, _ = run_measured("evaluate", colour_folders, "--model", path, "--quiet")
    assert_refused(finished, "it has no state_dict")


@pytest.mark.slow  # a child process that imports torch
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_classify_names_a_fifo_or_a_folder_and_does_not_hang(tmp_path, photos, kind):
    finished, _ = run_measured("classify", photos, "--model", _not_a_file(tmp_path, kind), timeout=60)
    line = assert_refused(finished, "not a model file")
    assert "not found" not in line


@pytest.mark.slow  # a child process that imports torch
def test_classify_says_a_code_running_model_contains_code_and_runs_none(tmp_path, photos):
    marker = tmp_path / "ran"
    path = code_file(tmp_path / "evil.lvmodel", marker, "torch.save")
    finished, _ = run_measured("classify", photos, "--model", path)
    assert_refused(finished, "it contains code", "LakeView ran none of it")
    assert not marker.exists()


@pytest.mark.slow  # a child process that imports torch
@pytest.mark.parametrize("kind", ["code", "bomb", "folder"])
def test_train_refuses_a_bad_weights_file_with_a_sentence(tmp_path, colour_folders, bomb, kind):
    marker = tmp_path / "ran"
    weights = {"code": lambda: code_file(tmp_path / "evil.pth", marker, "torch.save", "state_dict"),
               "bomb": lambda: bomb, "folder": lambda: _not_a_file(tmp_path, "folder")}[kind]()
    finished, peak_mb = run_measured("train", colour_folders, "--arch", "resnet18", "--weights", weights,
                                     "--out", tmp_path / "out.lvmodel", "--epochs", "1", "--unfreeze-epochs", "0",
                                     "--quiet", "--device", "cpu")
    assert_refused(finished, {"code": "it contains code", "bomb": "zip bomb", "folder": "is a folder"}[kind])
    assert not marker.exists() and not (tmp_path / "out.lvmodel").exists()
    assert peak_mb < PEAK_LIMIT_MB


def test_catalog_promote_of_a_version_whose_file_is_a_bomb_exits_2(tmp_path, bomb, capsys):
    """`catalog promote` (and `retrain`) load the active version's file: a bad one is a sentence too."""
    from lakeview.cli.main import main
    from lakeview.core.catalog import Catalog

    catalog_file = tmp_path / "lib" / "catalog.sqlite"
    with Catalog(catalog_file) as catalog:
        catalog.add_model("v1", bomb, "resnet18", ["a", "b"], None, {}, "t1", "quick", active=True)
    assert main(["catalog", "--catalog", str(catalog_file), "promote", "v1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lakeview: error: refused to open") and "zip bomb" in err and "Traceback" not in err


def test_a_model_whose_training_diverged_still_loads(tmp_path):
    """A NaN loss is what a diverged run honestly records: the plain-data check of history and metrics allows it."""
    meta = ModelMeta(arch="tiny", classes=["a", "b"], metrics={"error_rate": 0.5, "valid_loss": math.nan},
                     history=[{"epoch": 1, "train_loss": math.nan, "error_rate": None, "phase": ("frozen", 1)}])
    path = save_model(tmp_path / "m.lvmodel", bare_network("tiny", 2), meta)
    assert math.isnan(load_model(path).meta.metrics["valid_loss"])


def test_a_lakeview_model_given_as_weights_says_what_it_is(tmp_path):
    """It said '122 missing; 122 unexpected ... Pick the matching --arch', which no --arch could fix."""
    path = save_model(tmp_path / "m.lvmodel", bare_network("tiny", 2), ModelMeta(arch="tiny", classes=["a", "b"]))
    with pytest.raises(WeightsUnavailable, match=r"m\.lvmodel is a LakeView model file, not torchvision weights"):
        load_state_dict_file(path)
