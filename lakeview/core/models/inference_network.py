"""The network as classifying runs it: a copy with each BatchNorm folded into the convolution before it, laid out
channels_last. The copy only ever classifies; a model file is always written from the network it was made from."""

from __future__ import annotations

import copy
import warnings

import torch
import torch.nn as nn


def inference_network(network: nn.Module, device: torch.device) -> nn.Module:
    """A copy of `network` for inference on `device`; `network` itself is left as it is.

    Folding removes one pass over every activation map per convolution. A network torch.fx cannot trace is
    copied unfolded: it gives the same answers, a little slower.
    """
    folded = fold_batchnorm(network)
    return folded.to(device, memory_format=torch.channels_last).eval()


def fold_batchnorm(network: nn.Module) -> nn.Module:
    """A copy of `network` in eval mode with every Conv -> BatchNorm pair replaced by one convolution."""
    from torch.fx.experimental.optimization import fuse

    network = copy.deepcopy(network).eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fuse(network, inplace=True)
    except Exception:  # torch.fx cannot trace every network (data-dependent control flow): run it unfolded
        return network
