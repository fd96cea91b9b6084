"""The torch-free table of ImageNet weights files agrees with torchvision, for every architecture it names."""

from __future__ import annotations

from torchvision.models import get_weight

from lakeview.core.models.architectures import ARCHITECTURES
from lakeview.core.models.imagenet_files import KNOWN_FILES, known_imagenet_file
from lakeview.core.models.weights import cached_file, imagenet_file_info


def test_the_table_holds_torchvisions_names_and_sizes():
    for weights_name, (file_name, size_mb) in KNOWN_FILES.items():
        weights = get_weight(weights_name)
        assert weights.url.rsplit("/", 1)[-1] == file_name
        assert weights.meta["_file_size"] == size_mb


def test_every_architecture_with_imagenet_weights_is_known_without_torch():
    for arch in ARCHITECTURES.values():
        if arch.imagenet_weights is None:
            continue
        path, size_mb = known_imagenet_file(arch)
        assert path == cached_file(arch) and path.name == imagenet_file_info(arch)[1]
        assert size_mb == imagenet_file_info(arch)[2]
