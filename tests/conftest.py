"""Shared test set-up: headless Qt, isolated LakeView folders, photos made on the fly, a tiny network."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch.nn as nn
from PIL import Image

from lakeview.core.models.architectures import ARCHITECTURES, Architecture, register

SHARED = Path(__file__).resolve().parents[2] / "shared"
HYMENOPTERA = SHARED / "data" / "hymenoptera"
MOBILENET_WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"

requires_shared = pytest.mark.skipif(
    not (HYMENOPTERA.is_dir() and MOBILENET_WEIGHTS.is_file()),
    reason="needs ../shared (real photos and ImageNet weights), which a user's clone does not have",
)

COLOURS = {"red": (200, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 200)}


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path_factory, monkeypatch):
    """Caches and data never touch the real user folders; no test reaches a real download server."""
    base = tmp_path_factory.mktemp("lakeview-home")
    monkeypatch.setenv("LAKEVIEW_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("LAKEVIEW_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9/unreachable")


def make_photo(path: Path, colour=(128, 128, 128), size=(80, 60), seed: int = 0, fmt: str | None = None,
               mode: str = "RGB") -> Path:
    """A noisy flat-colour photo; classes told apart by colour are learnable in a few steps."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.integers(-25, 25, (size[1], size[0], 3)), 0, 255).astype("uint8")
    image = Image.fromarray(pixels)
    if mode != "RGB":
        image = image.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


def make_class_folders(root: Path, per_class: int = 8, classes=("red", "blue"), size=(80, 60), seed: int = 0) -> Path:
    for c, name in enumerate(classes):
        for i in range(per_class):
            make_photo(root / name / f"{name}_{i}.jpg", COLOURS[name], size, seed=seed + 100 * c + i)
    return root


@pytest.fixture
def colour_folders(tmp_path) -> Path:
    """`train/` and `valid/` with red and blue class folders: 12 + 4 photos per class."""
    root = tmp_path / "colours"
    make_class_folders(root / "train", 12)
    make_class_folders(root / "valid", 4, seed=1000)
    return root


class _TinyNet(nn.Module):
    """Same interface as a torchvision classifier: `features` (the body) then `classifier`."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 8, 3, stride=2, padding=1), bn1=nn.BatchNorm2d(8), relu1=nn.ReLU(),
            conv2=nn.Conv2d(8, 16, 3, stride=2, padding=1), bn2=nn.BatchNorm2d(16), relu2=nn.ReLU(),
        ))
        self.classifier = nn.Linear(16, 1000)

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


TINY = Architecture("tiny", _TinyNet, lambda m: m.features, 16, 3, None, "a few conv layers, for tests")


@pytest.fixture(scope="session", autouse=True)
def tiny_architecture():
    register(TINY)
    yield TINY
    ARCHITECTURES.pop("tiny", None)


@pytest.fixture
def app_settings(tmp_path):
    """The window's settings, in a file of the test's own, past the first-run welcome."""
    from PySide6.QtCore import QSettings

    from lakeview.gui.welcome import SHOW_KEY

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SHOW_KEY, False)
    return settings


@pytest.fixture
def window(qtbot, tmp_path, app_settings):
    """The real main window on a library of the test's own, shown (offscreen)."""
    from lakeview.gui.main_window import MainWindow
    from lakeview.gui.session import LibrarySession

    main = MainWindow(LibrarySession(tmp_path / "library" / "catalog.sqlite"), app_settings)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()
