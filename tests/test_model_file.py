"""Model files: one file with weights and metadata, written atomically, never executing code on load."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from lakeview.core.models.model_file import ModelFileError, ModelMeta, load_model, read_meta, save_model
from lakeview.core.models.network import bare_network


def _network():
    torch.manual_seed(0)
    return bare_network("tiny", 3).eval()


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    network = _network()
    meta = ModelMeta(arch="tiny", classes=["emerald", "louise", "moraine"], size=48, flip=False,
                     history=[{"epoch": 1, "train_loss": 0.5}], metrics={"error_rate": 0.1}, parent="abc")
    path = save_model(tmp_path / "lakes.lvmodel", network, meta)

    loaded = load_model(path)

    assert loaded.meta == meta
    assert read_meta(path).classes == ["emerald", "louise", "moraine"]
    for key, value in network.state_dict().items():
        assert torch.equal(loaded.network.state_dict()[key], value), key
    x = torch.rand(2, 3, 48, 48)
    with torch.inference_mode():
        assert torch.allclose(loaded.network(x), network(x))


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.lvmodel"
    save_model(path, _network(), ModelMeta(arch="tiny", classes=["a", "b", "c"]))
    before = path.read_bytes()

    def broken_save(obj, handle):
        handle.write(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_model(path, _network(), ModelMeta(arch="tiny", classes=["x", "y", "z"]))

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.lvmodel"]


class _Payload:
    """Unpickling this object would create a marker file: the classic pickle exploit."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle protocol 2", "pickle protocol 5"])
def test_a_model_file_that_would_run_code_is_refused(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.lvmodel"
    payload = {"format": "lakeview-model", "format_version": 1, "meta": _Payload(marker), "state_dict": {}}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        with open(path, "wb") as handle:
            pickle.dump(payload, handle, protocol=int(writer[-1]))

    # Every protocol is read opcode by opcode before torch sees it: the name io.open gives it away.
    with pytest.raises(ModelFileError, match=r"refused to open .*: it contains code \(it names io\.open\)") as caught:
        load_model(path)
    assert "weights_only" not in str(caught.value)
    assert not marker.exists()


def test_other_files_get_clear_messages(tmp_path):
    junk = tmp_path / "junk.lvmodel"
    junk.write_bytes(os.urandom(256))
    with pytest.raises(ModelFileError, match="damaged or not a model file"):
        load_model(junk)

    foreign = tmp_path / "weights.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, foreign)
    with pytest.raises(ModelFileError, match="not a LakeView model file"):
        load_model(foreign)

    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "missing.lvmodel")

    newer = tmp_path / "newer.lvmodel"
    torch.save({"format": "lakeview-model", "format_version": 99, "meta": {}, "state_dict": {}}, newer)
    with pytest.raises(ModelFileError, match="newer LakeView"):
        load_model(newer)


def test_weights_that_contradict_the_metadata_are_reported(tmp_path):
    path = tmp_path / "m.lvmodel"
    save_model(path, bare_network("tiny", 3), ModelMeta(arch="tiny", classes=["a", "b"]))
    with pytest.raises(ModelFileError, match="do not match"):
        load_model(path)


def test_junk_that_begins_like_a_pickle_naming_code_is_damaged_not_a_threat(tmp_path):
    """One random file in fifty begins with a copyreg-extension opcode; `\\x82\\xff.` is even a whole pickle."""
    import random

    junk = tmp_path / "junk.lvmodel"
    rng = random.Random(12)
    for prefix in [b"\x82\xff.", b"\x84\x0b\xefR", b""] + [b""] * 200:
        junk.write_bytes(prefix + rng.randbytes(256))
        with pytest.raises(ModelFileError, match="damaged or not a model file"):
            load_model(junk)
