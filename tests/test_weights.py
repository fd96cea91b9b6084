"""Pretrained weights: the real download path against a local HTTP server, local files, clear failures."""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import http.server
import os
import shutil
import threading

import pytest
import torch

from lakeview.core.models.architectures import get_architecture
from lakeview.core.jobs import Stopped
from lakeview.core.models.network import RandomInitWarning, build_network
from lakeview.core.models.weights import (WeightsFileError, WeightsUnavailable, adopt_file, cached_file, download,
                                          imagenet_file_info, imagenet_state_dict, load_state_dict_file)

from tiny_network import TINY


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_folder(tmp_path):
    """Serve a folder on 127.0.0.1 (a random free port); yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _tiny_state_bytes(tmp_path):
    source = tmp_path / "state.pth"
    torch.manual_seed(1)
    torch.save(TINY.build().state_dict(), source)
    data = source.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def test_download_verifies_the_checksum_reports_progress_and_caches(tmp_path, http_folder):
    folder, base = http_folder
    data, digest = _tiny_state_bytes(tmp_path)
    name = f"tiny-{digest[:8]}.pth"
    (folder / name).write_bytes(data)
    calls = []

    target = download(f"{base}/{name}", tmp_path / "cache" / name, progress=lambda d, t: calls.append((d, t)))

    assert target.read_bytes() == data
    assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert sorted(p.name for p in target.parent.iterdir()) == [name]


def test_a_damaged_download_is_not_kept(tmp_path, http_folder):
    folder, base = http_folder
    data, _ = _tiny_state_bytes(tmp_path)
    name = "tiny-00000000.pth"
    (folder / name).write_bytes(data)
    cache = tmp_path / "cache"

    with pytest.raises(WeightsUnavailable, match="damaged"):
        download(f"{base}/{name}", cache / name)
    assert list(cache.iterdir()) == []


def test_imagenet_weights_come_through_the_mirror_and_are_checked(monkeypatch, http_folder):
    folder, base = http_folder
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", base)
    url, name, size_mb = imagenet_file_info(get_architecture("resnet34"))
    assert url == f"{base}/resnet34-b627a593.pth" and size_mb == pytest.approx(83.3, abs=1)
    (folder / name).write_bytes(b"not the real weights")

    with pytest.raises(WeightsUnavailable, match="damaged"):
        imagenet_state_dict(get_architecture("resnet34"))


def test_offline_gives_a_message_with_what_to_do(monkeypatch):
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9")
    with pytest.raises(WeightsUnavailable) as caught:
        build_network("resnet18", 2, "imagenet")
    message = str(caught.value)
    assert "Are you offline?" in message
    assert "resnet18-f37072fd.pth" in message and "--weights FILE" in message and "--weights none" in message
    assert "Are you offline?" in caught.value.reason and "--weights" not in caught.value.reason
    assert "--weights FILE" in caught.value.cli_advice and "offline" not in caught.value.cli_advice


def test_missing_file_on_the_server_is_reported(monkeypatch, http_folder):
    _, base = http_folder
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", base)
    with pytest.raises(WeightsUnavailable, match="404"):
        imagenet_state_dict(get_architecture("resnet18"))


def test_a_cancelled_download_leaves_nothing(tmp_path, http_folder):
    folder, base = http_folder
    (folder / "big-12345678.pth").write_bytes(b"x" * (1 << 20))
    with pytest.raises(Stopped):
        download(f"{base}/big-12345678.pth", tmp_path / "c" / "big-12345678.pth", should_stop=lambda: True)
    assert list((tmp_path / "c").iterdir()) == []


def test_cached_weights_are_used_without_the_network(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("LAKEVIEW_CACHE_DIR", str(cache))
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9")
    _, name, _ = imagenet_file_info(get_architecture("resnet18"))
    torch.manual_seed(3)
    reference = get_architecture("resnet18").build().state_dict()
    (cache / "weights").mkdir(parents=True)
    torch.save(reference, cache / "weights" / name)

    network = build_network("resnet18", 4, "imagenet")

    assert torch.equal(network.body[0].weight, reference["conv1.weight"])
    assert network.head[-1].out_features == 4


def test_a_local_state_dict_file_is_loaded_into_the_body(tmp_path):
    torch.manual_seed(2)
    full = TINY.build()
    torch.save(full.state_dict(), tmp_path / "tiny.pth")
    network = build_network("tiny", 3, tmp_path / "tiny.pth")
    assert torch.equal(network.body.conv1.weight, full.features.conv1.weight)


def test_a_state_dict_of_another_architecture_is_explained(tmp_path):
    torch.save(TINY.build().state_dict(), tmp_path / "tiny.pth")
    with pytest.raises(WeightsUnavailable, match="does not fit torchvision's resnet18.*missing.*It holds tiny weights"
                                                 r"\. Use --arch tiny\."):
        build_network("resnet18", 2, tmp_path / "tiny.pth")
    torch.save({"conv.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    with pytest.raises(WeightsUnavailable, match="does not fit torchvision's resnet18.*Pick the matching --arch"):
        build_network("resnet18", 2, tmp_path / "other.pth")


def test_wrapped_and_bad_weight_files(tmp_path):
    state = TINY.build().state_dict()
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "wrapped.pth")
    assert set(load_state_dict_file(tmp_path / "wrapped.pth")) == set(state)

    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(WeightsUnavailable, match="does not hold a state_dict"):
        load_state_dict_file(tmp_path / "list.pth")
    with pytest.raises(WeightsUnavailable, match="not found"):
        load_state_dict_file(tmp_path / "nope.pth")


def test_random_weights_warn():
    with pytest.warns(RandomInitWarning, match="random weights"):
        build_network("tiny", 2, "none")


# ---------------------------------------------------------------- a weights file the user already has

TINY_AS_RESNET18 = dataclasses.replace(TINY, imagenet_weights="ResNet18_Weights.IMAGENET1K_V1")
"""The tiny network, kept in the cache under resnet18's ImageNet file name: adopting a file takes no 45 MB."""


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9")  # nothing listens on port 9


def test_the_cached_file_is_named_as_torchvision_names_it():
    target = cached_file(get_architecture("resnet18"))
    assert target.name == "resnet18-f37072fd.pth" and not target.exists()


def test_an_adopted_file_is_copied_into_the_cache_and_used_from_there(tmp_path, offline):
    torch.manual_seed(4)
    state = TINY.build().state_dict()
    torch.save(state, tmp_path / "from-another-computer.pth")

    target = adopt_file(TINY_AS_RESNET18, tmp_path / "from-another-computer.pth")

    assert target == cached_file(TINY_AS_RESNET18)
    assert target.read_bytes() == (tmp_path / "from-another-computer.pth").read_bytes()
    assert torch.equal(imagenet_state_dict(TINY_AS_RESNET18)["features.conv1.weight"], state["features.conv1.weight"])


def test_a_file_of_another_network_is_refused_and_not_copied(tmp_path):
    torch.save({"conv.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    with pytest.raises(WeightsFileError, match="does not fit torchvision's tiny") as caught:
        adopt_file(TINY_AS_RESNET18, tmp_path / "other.pth")
    assert "--arch" not in caught.value.reason and "--arch" in caught.value.cli_advice
    assert not cached_file(TINY_AS_RESNET18).parent.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.pth")
    with pytest.raises(WeightsFileError, match="named pipe"):
        adopt_file(TINY_AS_RESNET18, tmp_path / "pipe.pth")
    assert not cached_file(TINY_AS_RESNET18).parent.exists()


def test_a_full_disk_leaves_no_partial_file(tmp_path, monkeypatch):
    torch.save(TINY.build().state_dict(), tmp_path / "tiny.pth")

    def fill_the_disk(source, out, length=0):
        out.write(source.read(1000))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfileobj", fill_the_disk)
    with pytest.raises(WeightsUnavailable, match=os.strerror(errno.ENOSPC)):
        adopt_file(TINY_AS_RESNET18, tmp_path / "tiny.pth")
    assert list(cached_file(TINY_AS_RESNET18).parent.iterdir()) == []
