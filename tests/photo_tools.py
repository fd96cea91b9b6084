"""Photos made on the fly for the tests (flat colours with noise, learnable in a few steps), and where the real
photos and weights of ../shared are when a checkout has them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared"
HYMENOPTERA = SHARED / "data" / "hymenoptera"
MOBILENET_WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"

requires_shared = pytest.mark.skipif(
    not (HYMENOPTERA.is_dir() and MOBILENET_WEIGHTS.is_file()),
    reason="needs ../shared (real photos and ImageNet weights), which a user's clone does not have",
)

COLOURS = {"red": (200, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 200)}


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


def red_and_blue_photos(folder: Path, count: int, blue_seed: int = 20, digits: int = 1) -> Path:
    """`count` red photos (red_0.jpg, ...; seeds 0, 1, ...) and `count` blue ones (blue_0.jpg, ...; seeds
    `blue_seed`, ...) in `folder`, numbered with at least `digits` digits."""
    for i in range(count):
        make_photo(folder / f"red_{i:0{digits}}.jpg", COLOURS["red"], seed=i)
        make_photo(folder / f"blue_{i:0{digits}}.jpg", COLOURS["blue"], seed=blue_seed + i)
    return folder


def make_class_folders(root: Path, per_class: int = 8, classes=("red", "blue"), size=(80, 60), seed: int = 0) -> Path:
    for c, name in enumerate(classes):
        for i in range(per_class):
            make_photo(root / name / f"{name}_{i}.jpg", COLOURS[name], size, seed=seed + 100 * c + i)
    return root
