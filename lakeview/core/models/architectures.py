"""The backbones LakeView can train, each with its body/head split and its ImageNet weights.

Importing this module does not import torch, so that listing the choices (`lakeview --help`) stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import torch.nn as nn

HEADS = ("linear", "fastai")
DEFAULT_HEAD = "linear"
DEFAULT_ARCH = "resnet34"


@dataclass(frozen=True)
class Architecture:
    name: str
    build: Callable[[], nn.Module]
    """Builds the full torchvision model (random init), the shape its state_dict files have."""
    body_of: Callable[[nn.Module], nn.Module]
    features: int
    """Channels the body outputs."""
    split_at: int
    """Index of the body child where the second layer group (for discriminative learning rates) starts."""
    imagenet_weights: str | None
    """torchvision weights enum member, e.g. 'ResNet34_Weights.IMAGENET1K_V1'."""
    description: str
    channels_last: bool = True
    """Whether the network runs faster with channels-last tensors on the CPU (benchmarks/train_speed.py)."""


def _resnet_body(model: nn.Module) -> nn.Module:
    import torch.nn as nn

    return nn.Sequential(*list(model.children())[:-2])


def _mobilenet_body(model: nn.Module) -> nn.Module:
    return model.features


def _torchvision(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import torchvision.models

        return getattr(torchvision.models, name)(weights=None)

    return build


ARCHITECTURES: dict[str, Architecture] = {}


def register(arch: Architecture) -> Architecture:
    ARCHITECTURES[arch.name] = arch
    return arch


register(Architecture("resnet34", _torchvision("resnet34"), _resnet_body, 512, 6,
                      "ResNet34_Weights.IMAGENET1K_V1", "ResNet34, the fast.ai lesson-1 default"))
register(Architecture("resnet18", _torchvision("resnet18"), _resnet_body, 512, 6,
                      "ResNet18_Weights.IMAGENET1K_V1", "ResNet18: about twice as fast as ResNet34"))
register(Architecture("resnet50", _torchvision("resnet50"), _resnet_body, 2048, 6,
                      "ResNet50_Weights.IMAGENET1K_V2", "ResNet50: more accurate, about twice as slow"))
register(Architecture("mobilenet_v2", _torchvision("mobilenet_v2"), _mobilenet_body, 1280, 10,
                      "MobileNet_V2_Weights.IMAGENET1K_V1", "MobileNetV2: the fast option for CPUs"))


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"unknown architecture {name!r}; choose one of: {known}") from None
