"""Shared test set-up: headless Qt, isolated LakeView folders, colour-class folders, the "tiny" network.
Helpers to import are in tests/photo_tools.py and tests/tiny_network.py (a conftest is not a module to import
from: tests/gui has its own); the GUI tests' fixtures (the window, its settings, the thread check) are in
tests/gui/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from lakeview.core.models.architectures import ARCHITECTURES, register
from lakeview.core.torch_import import import_torch
from photo_tools import make_class_folders
from tiny_network import TINY

# A window's first job imports torch in a worker thread (through this lock) while a fixture may import a torch
# module on the main thread: loaded whole here, first, neither can see the other's half-initialised module.
import_torch()


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path_factory, monkeypatch):
    """Caches and data never touch the real user folders; no test reaches a real download server."""
    base = tmp_path_factory.mktemp("lakeview-home")
    monkeypatch.setenv("LAKEVIEW_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("LAKEVIEW_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("LAKEVIEW_WEIGHTS_MIRROR", "http://127.0.0.1:9/unreachable")


@pytest.fixture
def colour_folders(tmp_path) -> Path:
    """`train/` and `valid/` with red and blue class folders: 12 + 4 photos per class."""
    root = tmp_path / "colours"
    make_class_folders(root / "train", 12)
    make_class_folders(root / "valid", 4, seed=1000)
    return root


@pytest.fixture(scope="session", autouse=True)
def tiny_architecture():
    register(TINY)
    yield TINY
    ARCHITECTURES.pop("tiny", None)
