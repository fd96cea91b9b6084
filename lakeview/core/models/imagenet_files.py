"""Where the ImageNet weights of each architecture are kept in the cache, known without importing torch.

The app asks at start whether the starting weights are there; torchvision knows each file's name, but importing
it takes seconds. These are torchvision's names and sizes (`tests/test_imagenet_files.py` checks they agree).
"""

from __future__ import annotations

from pathlib import Path

from lakeview.core.models.architectures import Architecture
from lakeview.core.paths import cache_dir

KNOWN_FILES: dict[str, tuple[str, float]] = {
    "ResNet34_Weights.IMAGENET1K_V1": ("resnet34-b627a593.pth", 83.275),
    "ResNet18_Weights.IMAGENET1K_V1": ("resnet18-f37072fd.pth", 44.661),
    "ResNet50_Weights.IMAGENET1K_V2": ("resnet50-11ad3fa6.pth", 97.79),
    "MobileNet_V2_Weights.IMAGENET1K_V1": ("mobilenet_v2-b0353104.pth", 13.555),
}
"""torchvision weights name -> (file name, size in MB)."""


def weights_folder() -> Path:
    return cache_dir() / "weights"


def known_imagenet_file(arch: Architecture) -> tuple[Path, float] | None:
    """(where `arch`'s ImageNet weights are kept, size in MB), or None when only torchvision knows."""
    known = KNOWN_FILES.get(arch.imagenet_weights or "")
    return (weights_folder() / known[0], known[1]) if known else None
