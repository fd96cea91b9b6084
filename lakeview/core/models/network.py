"""Assembling a classifier: a torchvision body with its weights, and a new head for the user's classes."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn as nn

from lakeview.core.models.architectures import Architecture, get_architecture
from lakeview.core.models.head import DEFAULT_HEAD, DEFAULT_HIDDEN, make_classifier
from lakeview.core.jobs import ProgressFn, ShouldStopFn, never_stop, no_progress
from lakeview.core.models.weights import imagenet_state_dict, load_into, load_state_dict_file

IMAGENET = "imagenet"
NO_WEIGHTS = "none"


class RandomInitWarning(UserWarning):
    """Training from random weights needs far more photos and time than transfer learning."""


def build_network(
    arch: str | Architecture,
    n_classes: int,
    weights: str | Path = IMAGENET,
    head: str = DEFAULT_HEAD,
    hidden: int = DEFAULT_HIDDEN,
    dropout: float | None = None,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
) -> nn.Sequential:
    """`weights`: 'imagenet' (torchvision's, downloaded once), a .pth state_dict of the torchvision model, or 'none'."""
    architecture = arch if isinstance(arch, Architecture) else get_architecture(arch)
    full = architecture.build()
    if str(weights) == IMAGENET:
        load_into(full, imagenet_state_dict(architecture, progress, should_stop),
                  f"the ImageNet weights for {architecture.name}", architecture.name)
    elif str(weights) == NO_WEIGHTS:
        warnings.warn(
            f"{architecture.name} starts from random weights: expect poor accuracy unless you have many photos",
            RandomInitWarning,
            stacklevel=2,
        )
    else:
        load_into(full, load_state_dict_file(weights), str(weights), architecture.name)
    return make_classifier(architecture.body_of(full), architecture.features, n_classes, head, hidden, dropout)


def bare_network(arch: str | Architecture, n_classes: int, head: str = DEFAULT_HEAD, hidden: int = DEFAULT_HIDDEN,
                 dropout: float | None = None) -> nn.Sequential:
    """The same shape with random weights, to load a saved model into."""
    architecture = arch if isinstance(arch, Architecture) else get_architecture(arch)
    return make_classifier(architecture.body_of(architecture.build()), architecture.features, n_classes, head,
                           hidden, dropout)


def memory_format(arch: str | Architecture) -> torch.memory_format:
    """The layout `arch`'s network and its input batches take (channels-last where that was measured faster)."""
    architecture = arch if isinstance(arch, Architecture) else get_architecture(arch)
    return torch.channels_last if architecture.channels_last else torch.contiguous_format


def memory_format_of(network: nn.Module) -> torch.memory_format:
    """The layout a network's convolution weights are in, which its input batches should share."""
    for param in network.parameters():
        if param.dim() == 4 and param.is_contiguous() != param.is_contiguous(memory_format=torch.channels_last):
            return torch.contiguous_format if param.is_contiguous() else torch.channels_last
    return torch.contiguous_format
