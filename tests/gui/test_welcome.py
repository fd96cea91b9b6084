"""The first-run welcome: steps as signals, "don't show again", and the weights: downloaded (a local server),
cancelled, offline, or taken from a file."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import time
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings, Qt

from lakeview.core.models import weights
from lakeview.core.models.architectures import get_architecture
from lakeview.gui.welcome import WeightsState, WelcomeDialog, should_show_welcome

RESNET34_FILE = "resnet34-b627a593.pth"


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def open_welcome(qtbot, settings, arch: str = "resnet34") -> WelcomeDialog:
    dialog = WelcomeDialog(settings, arch=arch)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.state is not WeightsState.CHECKING, timeout=30_000)
    return dialog


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    """8 MB, sent 64 KB every 50 ms: slow enough to cancel."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(8 << 20))
        self.end_headers()
        try:
            for _ in range(128):
                self.wfile.write(b"\0" * (64 << 10))
                time.sleep(0.05)
        except OSError:  # the client hung up: what Cancel does
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """serve(handler) -> base URL of a server on 127.0.0.1, set as the weights mirror."""
    servers = []

    def start(handler):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        base = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", base)
        return base

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


def test_it_shows_until_dont_show_again_is_ticked(qtbot, settings):
    assert should_show_welcome(settings)
    dialog = open_welcome(qtbot, settings)
    dialog.dont_show.setChecked(True)
    assert not should_show_welcome(settings)
    assert open_welcome(qtbot, settings).dont_show.isChecked()
    dialog.dont_show.setChecked(False)
    assert should_show_welcome(settings)


@pytest.mark.parametrize("step, signal", [(0, "open_photos_requested"), (1, "import_labelled_requested"),
                                          (2, "train_requested")])
def test_each_step_button_asks_the_window_and_closes_the_welcome(qtbot, settings, step, signal):
    dialog = open_welcome(qtbot, settings)
    with qtbot.waitSignal(getattr(dialog, signal), timeout=1_000):
        dialog.step_buttons[step].click()
    assert not dialog.isVisible()


def test_the_offer_says_how_big_the_download_is(qtbot, settings):
    dialog = open_welcome(qtbot, settings)
    assert dialog.state is WeightsState.MISSING and dialog.cached.name == RESNET34_FILE
    assert dialog.download_button.text() == "Download (83 MB)"
    assert "83 MB" in dialog.weights_label.text()
    assert dialog.file_button.isVisible() and not dialog.progress.isVisible()


def test_download_from_a_local_server_with_progress(qtbot, settings, tmp_path, serve, monkeypatch):
    torch.manual_seed(0)
    torch.save(get_architecture("resnet18").build().state_dict(), tmp_path / "served.pth")
    data = (tmp_path / "served.pth").read_bytes()
    # The real name's checksum is of the real file; this one is checked against its own.
    monkeypatch.setattr(weights, "_hash_prefix", lambda name: hashlib.sha256(data).hexdigest()[:8])
    served = tmp_path / "served"
    served.mkdir()
    (served / RESNET34_FILE).write_bytes(data)
    serve(functools.partial(_Handler, directory=str(served)))
    dialog = open_welcome(qtbot, settings)
    seen = []
    dialog.progress.valueChanged.connect(seen.append)

    with qtbot.waitSignal(dialog.weights_ready, timeout=60_000) as ready:
        dialog.download_button.click()
        assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()

    assert ready.args[0].endswith(RESNET34_FILE)
    assert Path(ready.args[0]).read_bytes() == data
    assert seen and seen[-1] == len(data) and dialog.progress.format().endswith(f"of {len(data) / 1e6:.1f} MB")
    assert dialog.state is WeightsState.READY and "ready" in dialog.weights_label.text()
    assert not dialog.download_button.isVisible() and not dialog.progress.isVisible()


def test_cancel_stops_the_download_and_keeps_nothing(qtbot, settings, serve, monkeypatch):
    serve(_SlowHandler)
    dialog = open_welcome(qtbot, settings)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.state is WeightsState.MISSING, timeout=30_000)
    kept = weights.cached_file(get_architecture("resnet34")).parent
    assert not kept.exists() or not any(kept.iterdir())


def test_offline_says_so_and_offers_the_file(qtbot, settings, monkeypatch):
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9")  # nothing listens on port 9
    dialog = open_welcome(qtbot, settings)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.state is WeightsState.FAILED, timeout=60_000)
    text = dialog.weights_label.text()
    assert text.startswith("You seem to be offline") and RESNET34_FILE in text
    assert "--weights" not in text
    assert dialog.download_button.text() == "Try again (83 MB)" and dialog.file_button.isVisible()


def test_a_server_without_the_file_is_not_called_offline(qtbot, settings, tmp_path, serve):
    (tmp_path / "empty").mkdir()
    serve(functools.partial(_Handler, directory=str(tmp_path / "empty")))
    dialog = open_welcome(qtbot, settings)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.state is WeightsState.FAILED, timeout=60_000)
    text = dialog.weights_label.text()
    assert "the server answered 404" in text and "offline" not in text


def test_a_weights_file_is_checked_then_copied_into_the_cache(qtbot, settings, tmp_path, monkeypatch):
    torch.manual_seed(0)
    state = get_architecture("resnet18").build().state_dict()
    torch.save(state, tmp_path / "my-resnet18.pth")
    monkeypatch.setattr(WelcomeDialog, "ask_weights_file", classmethod(lambda cls, parent: tmp_path / "my-resnet18.pth"))
    dialog = open_welcome(qtbot, settings, arch="resnet18")

    with qtbot.waitSignal(dialog.weights_ready, timeout=60_000) as ready:
        dialog.file_button.click()

    target = weights.cached_file(get_architecture("resnet18"))
    assert ready.args[0] == str(target)
    assert target.read_bytes() == (tmp_path / "my-resnet18.pth").read_bytes()
    assert torch.equal(weights.imagenet_state_dict(get_architecture("resnet18"))["fc.weight"], state["fc.weight"])
    reopened = open_welcome(qtbot, settings, arch="resnet18")
    assert reopened.state is WeightsState.READY


def test_a_file_of_another_network_is_refused_and_not_copied(qtbot, settings, tmp_path, monkeypatch):
    torch.save({"conv.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    monkeypatch.setattr(WelcomeDialog, "ask_weights_file", classmethod(lambda cls, parent: tmp_path / "other.pth"))
    dialog = open_welcome(qtbot, settings, arch="resnet18")
    dialog.file_button.click()
    qtbot.waitUntil(lambda: dialog.state is WeightsState.FAILED, timeout=60_000)
    assert "does not fit torchvision's resnet18" in dialog.weights_label.text()
    assert "--arch" not in dialog.weights_label.text()
    assert not weights.cached_file(get_architecture("resnet18")).exists()


def test_the_check_looks_at_the_cache_without_waiting_for_torch(qtbot, settings):
    dialog = WelcomeDialog(settings, arch="resnet34")
    qtbot.addWidget(dialog)
    assert dialog.state is WeightsState.MISSING and dialog.cached.name == RESNET34_FILE  # at once, no job
    dialog.cached.parent.mkdir(parents=True)
    dialog.cached.write_bytes(b"")
    assert WelcomeDialog(settings, arch="resnet34").state is WeightsState.READY


def test_the_user_picks_the_network_and_training_hears_of_it(qtbot, settings):
    dialog = open_welcome(qtbot, settings)
    names = [dialog.arch_box.itemData(row) for row in range(dialog.arch_box.count())]
    assert {"resnet18", "resnet34", "resnet50", "mobilenet_v2"} <= set(names)
    dialog.arch_box.setFocus()
    with qtbot.waitSignal(dialog.architecture_chosen, timeout=1_000) as chosen:
        dialog.arch_box.setCurrentIndex(names.index("mobilenet_v2"))
        dialog.arch_box.activated.emit(names.index("mobilenet_v2"))
    assert chosen.args == ["mobilenet_v2"]
    assert dialog.state is WeightsState.MISSING and dialog.cached.name.startswith("mobilenet_v2-")
    assert "MobileNetV2" in dialog.weights_label.text() and dialog.download_button.text() == "Download (14 MB)"


def test_a_file_of_another_known_network_switches_to_it(qtbot, settings, tmp_path, monkeypatch):
    torch.manual_seed(0)
    torch.save(get_architecture("mobilenet_v2").build().state_dict(), tmp_path / "mobilenet.pth")
    monkeypatch.setattr(WelcomeDialog, "ask_weights_file", classmethod(lambda cls, parent: tmp_path / "mobilenet.pth"))
    dialog = open_welcome(qtbot, settings, arch="resnet34")
    chosen = []
    dialog.architecture_chosen.connect(chosen.append)
    with qtbot.waitSignal(dialog.weights_ready, timeout=60_000) as ready:
        qtbot.mouseClick(dialog.file_button, Qt.MouseButton.LeftButton)
    target = weights.cached_file(get_architecture("mobilenet_v2"))
    assert ready.args == [str(target)] and target.read_bytes() == (tmp_path / "mobilenet.pth").read_bytes()
    assert chosen == ["mobilenet_v2"] and dialog.arch_box.currentData() == "mobilenet_v2"
    assert dialog.state is WeightsState.READY and "MobileNetV2" in dialog.weights_label.text()
    assert not weights.cached_file(get_architecture("resnet34")).exists()


def test_the_welcome_grows_to_show_a_long_failure_whole(qtbot, settings, monkeypatch):
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9/" + "a-long-mirror-path/" * 12)
    dialog = open_welcome(qtbot, settings)
    before = dialog.height()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.state is WeightsState.FAILED, timeout=60_000)
    label = dialog.weights_label
    assert dialog.height() > before
    assert label.height() >= label.heightForWidth(label.width())  # every line of the message shows
    assert dialog.height() <= dialog.screen().availableGeometry().height()
